"""Pages of the timeline and commitments (htmx panels of the customer 360° page)."""

from django.urls import path, re_path

from . import timeline_views as views

KIND = r"(?P<kind>accounts|contacts)"

urlpatterns = [
    re_path(rf"^timeline/{KIND}/(?P<pk>[0-9]+)/$", views.timeline_rows, name="timeline_rows"),
    re_path(rf"^timeline/{KIND}/(?P<pk>[0-9]+)/log/$", views.timeline_log, name="timeline_log"),
    re_path(
        rf"^commitments/{KIND}/(?P<pk>[0-9]+)/$",
        views.commitment_panel,
        name="commitment_panel",
    ),
    re_path(
        rf"^commitments/{KIND}/(?P<pk>[0-9]+)/new/$",
        views.commitment_create,
        name="commitment_create",
    ),
    path("commitments/<int:pk>/close/", views.commitment_close, name="commitment_close"),
]
