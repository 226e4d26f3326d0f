"""The sales' pages, one URL module per part."""

from django.urls import include, path

app_name = "sales"

urlpatterns = [
    path("", include("guanxi.sales.catalog_urls")),
    path("", include("guanxi.sales.deals_urls")),
    path("", include("guanxi.sales.leads_urls")),
    path("", include("guanxi.sales.quotes_urls")),
    path("", include("guanxi.sales.orders_urls")),
    path("", include("guanxi.sales.forecast_urls")),
]
