"""The customer pool's pages."""

from django.urls import path

from . import pool_views

urlpatterns = [
    path("pool/", pool_views.pool_list, name="pool"),
    path("pool/claim/", pool_views.claim, name="claim"),
    path("pool/release/", pool_views.release, name="release"),
    path("pool/settings/", pool_views.pool_settings, name="pool_settings"),
    path(
        "<str:kind>/<int:pk>/pool-panel/",
        pool_views.record_pool_panel,
        name="record_pool_panel",
    ),
]
