"""The quotes part's pages, under ``/sales/``."""

from django.urls import path

from . import quotes_views as views

urlpatterns = [
    path("quotes/", views.quote_list, name="quote_list"),
    path("quotes/new/", views.quote_new, name="quote_new"),
    path("quotes/approvals/", views.approval_inbox, name="quote_approvals"),
    path(
        "quotes/approvals/<int:approval_id>/decide/",
        views.approval_decide,
        name="quote_approval_decide",
    ),
    path("quotes/<int:pk>/", views.quote_detail, name="quote_detail"),
    path("quotes/<int:pk>/header/", views.quote_header, name="quote_header"),
    path("quotes/<int:pk>/lines/add/", views.quote_line_add, name="quote_line_add"),
    path("quotes/<int:pk>/lines/<int:line_id>/", views.quote_line_update, name="quote_line_update"),
    path(
        "quotes/<int:pk>/lines/<int:line_id>/remove/",
        views.quote_line_remove,
        name="quote_line_remove",
    ),
    path("quotes/<int:pk>/submit/", views.quote_submit, name="quote_submit"),
    path("quotes/<int:pk>/decide/", views.quote_decide, name="quote_decide"),
    path("quotes/<int:pk>/send/", views.quote_send, name="quote_send"),
    path("quotes/<int:pk>/accept/", views.quote_accept, name="quote_accept"),
    path("quotes/<int:pk>/decline/", views.quote_decline, name="quote_decline"),
    path("quotes/<int:pk>/version/", views.quote_new_version, name="quote_new_version"),
    path("quotes/<int:pk>/pdf/", views.quote_pdf, name="quote_pdf"),
    path("quotes/<int:pk>/delete/", views.quote_delete, name="quote_delete"),
]
