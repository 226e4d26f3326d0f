"""The duplicate review pages."""

from django.urls import path

from . import dedupe_views

urlpatterns = [
    path("duplicates/", dedupe_views.duplicates, name="duplicates"),
    path("duplicates/<int:pk>/resolve/", dedupe_views.duplicate_resolve, name="duplicate_resolve"),
    path("duplicates/check/", dedupe_views.duplicate_check, name="duplicate_check"),
]
