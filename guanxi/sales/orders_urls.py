"""The orders part's pages."""

from django.urls import path

from . import orders_views as views

urlpatterns: list = [
    path("orders/", views.order_list, name="order_list"),
    path("orders/new/", views.order_create, name="order_create"),
    path("orders/credit/", views.credit_banner, name="order_credit_banner"),
    path("orders/import/", views.order_import_page, name="order_import"),
    path("orders/import/<int:import_id>/", views.order_import_detail, name="order_import_detail"),
    path(
        "orders/import/<int:import_id>/errors.csv",
        views.order_import_report,
        name="order_import_report",
    ),
    path("orders/<int:order_id>/", views.order_detail, name="order_detail"),
    path("orders/<int:order_id>/status/", views.order_status, name="order_status"),
    path("orders/<int:order_id>/invoices/", views.invoice_create, name="invoice_create"),
    path("invoices/<int:invoice_id>/void/", views.invoice_void, name="invoice_void"),
    path("invoices/<int:invoice_id>/payments/", views.payment_create, name="payment_create"),
    path("receivables/", views.receivables_page, name="receivables"),
    path(
        "receivables/<str:kind>/<int:customer_id>/",
        views.receivables_customer,
        name="receivables_customer",
    ),
]
