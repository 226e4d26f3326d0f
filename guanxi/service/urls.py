"""The service's pages, one URL module per part."""

from django.urls import include, path

app_name = "service"

urlpatterns = [
    path("", include("guanxi.service.cases_urls")),
    path("", include("guanxi.service.channels_urls")),
    path("", include("guanxi.service.sla_urls")),
    path("", include("guanxi.service.assignment_urls")),
    path("", include("guanxi.service.surveys_urls")),
    path("", include("guanxi.service.knowledge_urls")),
    path("", include("guanxi.service.calls_urls")),
    path("", include("guanxi.service.portal_staff_urls")),
]
