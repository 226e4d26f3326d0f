"""Pages for reassigning a departing rep's work."""

from django.urls import path

from . import reassign_views as views

urlpatterns = [
    path("reassign/", views.reassign_home, name="reassign_home"),
    path("reassign/users/<int:user_id>/", views.reassign_user, name="reassign_user"),
    path("reassign/jobs/<int:job_id>/", views.reassign_job, name="reassign_job"),
    path("reassign/jobs/<int:job_id>/retry/", views.reassign_retry, name="reassign_retry"),
]
