"""The surveys part's staff pages (under /service/, names in the ``service:`` namespace)."""

from django.urls import path

from . import surveys_views as views

urlpatterns = [
    path("surveys/", views.survey_results, name="survey_results"),
    path("surveys/export.csv", views.survey_export, name="survey_export"),
    path("surveys/settings/", views.survey_settings_page, name="survey_settings"),
    path("surveys/case/<int:case_id>/", views.case_survey_panel, name="case_survey_panel"),
    path("trends/", views.trends_page, name="trends"),
]
