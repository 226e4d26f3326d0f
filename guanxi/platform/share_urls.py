"""Routes of the share panel; included under the ``platform`` namespace."""

from django.urls import path

from . import share_views

urlpatterns = [
    path(
        "shares/<str:object_key>/<int:object_id>/",
        share_views.share_panel,
        name="share_panel",
    ),
    path(
        "shares/<str:object_key>/<int:object_id>/<int:share_id>/remove/",
        share_views.share_remove,
        name="share_remove",
    ),
]
