"""The customers' self-service portal, under /portal/<workspace slug>/ (no staff login)."""

from django.urls import path  # noqa: F401

app_name = "portal"

urlpatterns: list = []
