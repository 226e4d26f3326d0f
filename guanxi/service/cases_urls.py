"""The service's cases pages (under /service/, names in the ``service:`` namespace)."""

from django.urls import path

from . import cases_views as views

urlpatterns = [
    path("cases/", views.case_list, name="case_list"),
    path("cases/new/", views.case_new, name="case_new"),
    path("cases/customers/", views.case_customer_search, name="case_customer_search"),
    path("cases/<int:pk>/", views.case_detail, name="case_detail"),
    path("cases/<int:pk>/edit/", views.case_edit, name="case_edit"),
    path("cases/<int:pk>/reply/", views.case_reply, name="case_reply"),
    path("cases/<int:pk>/status/", views.case_status, name="case_status"),
    path("cases/<int:pk>/assign/", views.case_assign, name="case_assign"),
    path("case-types/", views.case_types_page, name="case_types"),
    path("case-types/<int:pk>/", views.case_type_edit, name="case_type_edit"),
    path("case-categories/<int:pk>/", views.case_category_edit, name="case_category_edit"),
]
