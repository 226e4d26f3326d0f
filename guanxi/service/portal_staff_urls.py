"""The staff's pages of the portal, under /service/portal/ (namespace ``service``)."""

from django.urls import path

from . import portal_views as views

urlpatterns = [
    path("portal/deflection/", views.deflection_page, name="portal_deflection"),
    path("portal/settings/", views.settings_page, name="portal_settings"),
]
