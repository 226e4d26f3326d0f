"""The SLA part's pages (under /service/, names in the ``service:`` namespace)."""

from django.urls import path

from . import sla_views as views

urlpatterns = [
    path("sla/", views.sla_dashboard, name="sla_dashboard"),
    path("sla/policies/", views.sla_policies, name="sla_policies"),
    path("sla/policies/<int:pk>/", views.sla_policy, name="sla_policy"),
    path("sla/calendars/", views.sla_calendars, name="sla_calendars"),
    path("sla/calendars/<int:pk>/", views.sla_calendar, name="sla_calendar"),
    path("sla/calendars/<int:pk>/month/", views.sla_calendar_month, name="sla_calendar_month"),
    path(
        "sla/calendars/<int:pk>/days/<int:day_pk>/",
        views.sla_calendar_day,
        name="sla_calendar_day",
    ),
]
