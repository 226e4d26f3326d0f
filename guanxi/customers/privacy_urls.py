"""Consent and personal-data pages of a contact."""

from django.urls import path

from . import privacy_views

urlpatterns = [
    path(
        "contacts/<int:pk>/consent/",
        privacy_views.contact_consent_panel,
        name="contact_consent_panel",
    ),
    path(
        "contacts/<int:pk>/personal-data/",
        privacy_views.contact_personal_data,
        name="contact_personal_data",
    ),
    path("contacts/<int:pk>/erase/", privacy_views.contact_erase, name="contact_erase"),
]
