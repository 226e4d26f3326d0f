"""Administration pages and the API tokens page. Included by ``guanxi.platform.urls`` at
``settings/`` inside the "platform" namespace: the names are ``platform:<name>``."""

from django.urls import path

from . import admin_views as views

urlpatterns = [
    path("teams/", views.team_list, name="team_list"),
    path("teams/new/", views.team_create, name="team_create"),
    path("teams/<int:pk>/", views.team_detail, name="team_detail"),
    path("teams/<int:pk>/edit/", views.team_edit, name="team_edit"),
    path("teams/<int:pk>/delete/", views.team_delete, name="team_delete"),
    path("roles/", views.role_list, name="role_list"),
    path("roles/new/", views.role_create, name="role_create"),
    path("roles/<int:pk>/", views.role_detail, name="role_detail"),
    path("roles/<int:pk>/delete/", views.role_delete, name="role_delete"),
    path("fields/", views.custom_field_list, name="custom_field_list"),
    path("fields/new/", views.custom_field_create, name="custom_field_create"),
    path("fields/<int:pk>/", views.custom_field_edit, name="custom_field_edit"),
    path("fields/<int:pk>/delete/", views.custom_field_delete, name="custom_field_delete"),
    path("fields/<int:pk>/move/", views.custom_field_move, name="custom_field_move"),
    path("fields/<int:pk>/active/", views.custom_field_toggle, name="custom_field_toggle"),
    path("audit/", views.audit_list, name="audit_list"),
    path("audit/<int:pk>/", views.audit_detail, name="audit_detail"),
    path("tokens/", views.token_list, name="token_list"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
]
