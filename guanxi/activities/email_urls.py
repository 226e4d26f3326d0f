"""E-mail pages: compose, messages and attachments, the triage inbox, templates, mailboxes."""

from django.urls import path

from . import email_views as views

urlpatterns = [
    path("email/compose/", views.compose, name="email_compose"),
    path("email/compose/template/", views.compose_template, name="email_compose_template"),
    path("email/triage/", views.triage, name="email_triage"),
    path("email/<int:pk>/", views.email_detail, name="email_detail"),
    path(
        "email/<int:pk>/attachments/<int:attachment_id>/",
        views.attachment_download,
        name="email_attachment",
    ),
    path("email/<int:pk>/file/", views.email_file, name="email_file"),
    path("email/<int:pk>/file/search/", views.file_search, name="email_file_search"),
    path("email/<int:pk>/dismiss/", views.email_dismiss, name="email_dismiss"),
    path("email/<int:pk>/action/<str:key>/", views.email_action, name="email_action"),
    path("email/panel/<str:kind>/<int:pk>/", views.customer_panel, name="email_panel"),
    path("email/templates/", views.template_list, name="email_templates"),
    path("email/templates/new/", views.template_edit, name="email_template_create"),
    path("email/templates/<int:pk>/edit/", views.template_edit, name="email_template_edit"),
    path("email/templates/<int:pk>/delete/", views.template_delete, name="email_template_delete"),
    path("email/mailboxes/", views.mailbox_list, name="email_mailboxes"),
    path("email/mailboxes/new/", views.mailbox_edit, name="email_mailbox_create"),
    path("email/mailboxes/<int:pk>/edit/", views.mailbox_edit, name="email_mailbox_edit"),
    path("email/mailboxes/<int:pk>/delete/", views.mailbox_delete, name="email_mailbox_delete"),
    path("email/mailboxes/<int:pk>/test/", views.mailbox_test, name="email_mailbox_test"),
    path("email/mailboxes/<int:pk>/fetch/", views.mailbox_fetch, name="email_mailbox_fetch"),
]
