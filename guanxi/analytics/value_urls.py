"""The value part's pages, under /analytics/."""

from django.urls import path

from . import value_views

urlpatterns = [
    path("value/", value_views.value_page, name="value"),
    path("value/rules/", value_views.value_rules, name="value_rules"),
    path("value/recompute/", value_views.value_recompute, name="value_recompute"),
    path(
        "value/<str:kind>/<int:pk>/panel/",
        value_views.value_panel,
        name="value_panel",
    ),
]
