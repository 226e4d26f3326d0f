"""The visit pages: settings, an account's plan panel, generation, plan versus done, the
day's route, check-in and check-out. Included under ``/activities/``."""

from django.urls import path

from . import visit_views as views

urlpatterns = [
    path("visits/settings/", views.visit_settings, name="visit_settings"),
    path("visits/accounts/<int:pk>/plan/", views.visit_plan_panel, name="visit_plan_panel"),
    path("visits/accounts/<int:pk>/plan/edit/", views.visit_plan_edit, name="visit_plan_edit"),
    path("visits/accounts/<int:pk>/plan/reset/", views.visit_plan_reset, name="visit_plan_reset"),
    path("visits/generate/", views.visit_generate, name="visit_generate"),
    path("visits/progress/", views.visit_progress, name="visit_progress"),
    path("visits/progress/<int:user_id>/", views.visit_progress_rep, name="visit_progress_rep"),
    path("visits/route/", views.route_day, name="route_day"),
    path("visits/check-in/", views.checkin_start, name="checkin_start"),
    path("visits/check-ins/<int:pk>/", views.checkin_detail, name="checkin_detail"),
    path("visits/check-ins/<int:pk>/check-out/", views.checkin_checkout, name="checkin_checkout"),
    path(
        "visits/check-ins/<int:pk>/set-location/",
        views.checkin_set_location,
        name="checkin_set_location",
    ),
    path("visits/check-ins/<int:pk>/photo/", views.checkin_photo, name="checkin_photo"),
]
