"""The duplicate review pages."""

from django.urls import path

from . import dedupe_views

urlpatterns = [
    path("duplicates/", dedupe_views.duplicates, name="duplicates"),
    path("duplicates/<int:pk>/resolve/", dedupe_views.duplicate_resolve, name="duplicate_resolve"),
    path("duplicates/check/", dedupe_views.duplicate_check, name="duplicate_check"),
    path("duplicates/<int:pk>/", dedupe_views.duplicate_compare, name="duplicate_compare"),
    path(
        "duplicates/of/<str:kind>/<int:pk>/",
        dedupe_views.record_duplicates_panel,
        name="record_duplicates_panel",
    ),
]
