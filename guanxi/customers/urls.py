"""The customers' pages. Each part of the module keeps its own URL list."""

from django.urls import include, path

app_name = "customers"

urlpatterns = [
    path("", include("guanxi.customers.record_urls")),
    path("", include("guanxi.customers.pool_urls")),
    path("", include("guanxi.customers.privacy_urls")),
    path("", include("guanxi.customers.import_urls")),
    path("", include("guanxi.customers.dedupe_urls")),
]
