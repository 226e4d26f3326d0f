"""The dashboards part's pages, under /analytics/."""

from django.urls import path

from . import dashboards_views

urlpatterns = [
    path("sales/", dashboards_views.sales_dashboard, name="sales_dashboard"),
]
