"""The public web-form page, mounted at ``/f/`` by ``config/urls.py`` (no login)."""

from django.urls import path

from . import leads_views as views

app_name = "leadforms"

urlpatterns = [
    path("<str:public_key>/", views.public_form, name="public_form"),
]
