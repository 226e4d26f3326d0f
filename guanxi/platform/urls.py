from django.urls import include, path

from . import views

app_name = "platform"

urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("language/", views.set_language, name="set_language"),
    path("me/", views.profile, name="profile"),
    path("settings/users/", views.user_list, name="user_list"),
    path("settings/users/new/", views.user_create, name="user_create"),
    path("settings/users/invite/", views.user_invite, name="user_invite"),
    path(
        "settings/invitations/<int:pk>/revoke/", views.invitation_revoke, name="invitation_revoke"
    ),
    path("settings/users/<int:pk>/", views.user_detail, name="user_detail"),
    path("settings/users/<int:pk>/edit/", views.user_edit, name="user_edit"),
    path(
        "settings/users/<int:pk>/sign-out-everywhere/",
        views.user_sign_out_everywhere,
        name="user_sign_out_everywhere",
    ),
    path("exports/<int:job_id>/", views.export_download, name="export_download"),
    path("", include("guanxi.platform.job_urls")),
    path("", include("guanxi.platform.share_urls")),
    path("settings/", include("guanxi.platform.admin_urls")),
]
