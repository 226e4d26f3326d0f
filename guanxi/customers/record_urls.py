"""Pages of accounts and contacts: lists, forms, the 360° page and its small actions."""

from django.urls import path, re_path

from . import views

KIND = r"(?P<kind>accounts|contacts)"

urlpatterns = [
    path("accounts/", views.account_list, name="account_list"),
    path("accounts/new/", views.account_create, name="account_create"),
    path("accounts/<int:pk>/", views.account_detail, name="account_detail"),
    path("accounts/<int:pk>/edit/", views.account_edit, name="account_edit"),
    path("accounts/<int:pk>/delete/", views.account_delete, name="account_delete"),
    path("accounts/<int:pk>/bank-accounts/", views.bank_account_add, name="bank_account_add"),
    path("contacts/", views.contact_list, name="contact_list"),
    path("contacts/new/", views.contact_create, name="contact_create"),
    path("contacts/<int:pk>/", views.contact_detail, name="contact_detail"),
    path("contacts/<int:pk>/edit/", views.contact_edit, name="contact_edit"),
    path("contacts/<int:pk>/delete/", views.contact_delete, name="contact_delete"),
    path("contacts/<int:pk>/memberships/", views.membership_add, name="membership_add"),
    path(
        "contacts/<int:pk>/memberships/<int:account_pk>/remove/",
        views.membership_remove,
        name="membership_remove",
    ),
    re_path(rf"^{KIND}/(?P<pk>[0-9]+)/stage/$", views.record_stage, name="record_stage"),
    re_path(rf"^{KIND}/(?P<pk>[0-9]+)/tags/$", views.record_tags, name="record_tags"),
    re_path(
        rf"^{KIND}/(?P<pk>[0-9]+)/addresses/$", views.record_address_add, name="record_address_add"
    ),
    re_path(rf"^{KIND}/(?P<pk>[0-9]+)/points/$", views.record_point_add, name="record_point_add"),
    path("addresses/<int:pk>/remove/", views.address_remove, name="address_remove"),
    path("points/<int:pk>/remove/", views.point_remove, name="point_remove"),
    path("bank-accounts/<int:pk>/remove/", views.bank_account_remove, name="bank_account_remove"),
]
