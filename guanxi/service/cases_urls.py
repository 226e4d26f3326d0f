"""The service's cases pages (under /service/, names in the ``service:`` namespace)."""

from django.urls import path

from . import cases_views as views

urlpatterns = [
    path("cases/<int:pk>/", views.case_detail, name="case_detail"),
]
