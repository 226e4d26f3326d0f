"""The catalogue's pages (``sales:`` namespace, under ``/sales/``)."""

from django.urls import path

from . import catalog_views as views

urlpatterns: list = [
    path("products/", views.product_list, name="product_list"),
    path("products/new/", views.product_create, name="product_create"),
    path("products/picker/", views.product_picker, name="product_picker"),
    path("products/<int:product_id>/", views.product_detail, name="product_detail"),
    path("products/<int:product_id>/edit/", views.product_edit, name="product_edit"),
    path("price-books/", views.price_book_list, name="price_book_list"),
    path("price-books/new/", views.price_book_create, name="price_book_create"),
    path("price-books/<int:price_book_id>/", views.price_book_detail, name="price_book_detail"),
    path("price-books/<int:price_book_id>/edit/", views.price_book_edit, name="price_book_edit"),
    path("price-books/<int:price_book_id>/prices/", views.price_entry_add, name="price_entry_add"),
    path(
        "price-books/<int:price_book_id>/prices/<int:product_id>/",
        views.price_entry_set,
        name="price_entry_set",
    ),
    path(
        "price-books/<int:price_book_id>/prices/<int:product_id>/remove/",
        views.price_entry_remove,
        name="price_entry_remove",
    ),
    path(
        "price-books/<int:price_book_id>/import/", views.price_book_import, name="price_book_import"
    ),
    path("settings/catalogue/", views.catalog_settings, name="catalog_settings"),
    path(
        "customers/<str:kind>/<int:customer_id>/prices/",
        views.customer_prices_panel,
        name="customer_prices_panel",
    ),
]
