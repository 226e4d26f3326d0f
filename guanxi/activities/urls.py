"""The activities' pages, one URL module per part."""

from django.urls import include, path

app_name = "activities"

urlpatterns = [
    path("", include("guanxi.activities.timeline_urls")),
    path("", include("guanxi.activities.task_urls")),
    path("", include("guanxi.activities.visit_urls")),
    path("", include("guanxi.activities.email_urls")),
    path("", include("guanxi.activities.reassign_urls")),
]
