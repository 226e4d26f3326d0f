"""The leads part's pages (under /sales/, names in the ``sales:`` namespace)."""

from django.urls import path

from . import leads_views as views

urlpatterns = [
    path("leads/", views.lead_list, name="lead_list"),
    path("leads/new/", views.lead_new, name="lead_new"),
    path("leads/import/", views.lead_import_page, name="lead_import"),
    path("leads/<int:pk>/", views.lead_detail, name="lead_detail"),
    path("leads/<int:pk>/edit/", views.lead_edit, name="lead_edit"),
    path("leads/<int:pk>/log/", views.lead_log, name="lead_log"),
    path("leads/<int:pk>/status/", views.lead_status, name="lead_status"),
    path("leads/<int:pk>/assign/", views.lead_assign, name="lead_assign"),
    path("leads/<int:pk>/delete/", views.lead_delete, name="lead_delete"),
    path("leads/<int:pk>/convert/", views.lead_convert, name="lead_convert"),
    path("lead-forms/", views.lead_form_list, name="lead_form_list"),
    path("lead-forms/new/", views.lead_form_edit, name="lead_form_new"),
    path("lead-forms/<int:pk>/", views.lead_form_edit, name="lead_form_edit"),
    path("lead-scoring/", views.lead_scoring_page, name="lead_scoring"),
    path("lead-assignment/", views.lead_assignment_page, name="lead_assignment"),
]
