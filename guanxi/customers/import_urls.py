"""The import pages (``/customers/import/``)."""

from django.urls import path

from . import import_views as views

urlpatterns = [
    path("import/", views.import_upload, name="import"),
    path("import/<int:pk>/", views.import_detail, name="import_detail"),
    path("import/<int:pk>/report.csv", views.import_report, name="import_report"),
]
