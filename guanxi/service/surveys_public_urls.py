"""The public survey page, mounted at ``/s/`` by ``config/urls.py`` (no login)."""

from django.urls import path

from . import surveys_views as views

app_name = "surveys_public"

urlpatterns = [
    path("<str:token>/", views.survey_answer_page, name="answer"),
]
