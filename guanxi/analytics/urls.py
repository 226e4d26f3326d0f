"""The analysis pages, one URL module per part."""

from django.urls import include, path

app_name = "analytics"

urlpatterns = [
    path("", include("guanxi.analytics.value_urls")),
    path("", include("guanxi.analytics.dashboards_urls")),
]
