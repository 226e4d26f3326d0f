"""The service's pages, one URL module per part."""

from django.urls import include, path

from . import customer_panels

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
    path(
        "customers/<str:kind>/<int:customer_id>/<str:part>/",
        customer_panels.customer_panel,
        name="customer_panel",
    ),
]
