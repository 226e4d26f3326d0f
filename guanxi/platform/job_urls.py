"""Routes of background jobs; included under the ``platform`` namespace."""

from django.urls import path

from . import job_views

urlpatterns = [
    path("jobs/<int:job_id>/", job_views.job_detail, name="job_detail"),
    path("jobs/<int:job_id>/progress/", job_views.job_progress, name="job_progress"),
]
