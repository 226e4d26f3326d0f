"""The forecast part's pages, under ``/sales/``."""

from django.urls import path

from . import forecast_views as views

urlpatterns = [
    path("forecast/", views.forecast_page, name="forecast"),
    path("forecast/deals/", views.forecast_deals_page, name="forecast_deals"),
    path("quotas/", views.quotas_page, name="quotas"),
    path("performance/", views.performance_page, name="performance"),
    path(
        "forecast/deals/<int:pk>/suggested-owners/",
        views.deal_suggested_owners,
        name="deal_suggested_owners",
    ),
]
