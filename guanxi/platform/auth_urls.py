"""Sign-in and account-security pages. Included at the site root without a namespace, so
Django's own views (password reset) and ``LOGIN_URL = "login"`` find their names."""

from django.urls import path

from . import auth_views

urlpatterns = [
    path("login/", auth_views.login_view, name="login"),
    path("login/verify/", auth_views.two_factor_verify, name="two_factor_verify"),
    path("logout/", auth_views.logout_view, name="logout"),
    path("password-reset/", auth_views.password_reset, name="password_reset"),
    path("password-reset/sent/", auth_views.password_reset_done, name="password_reset_done"),
    path(
        "password-reset/done/", auth_views.password_reset_complete, name="password_reset_complete"
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        auth_views.password_reset_confirm,
        name="password_reset_confirm",
    ),
    path("account/security/", auth_views.account_security, name="account_security"),
    path("account/password/", auth_views.password_change, name="password_change"),
    path("account/two-step/", auth_views.two_factor_setup, name="two_factor_setup"),
    path("account/two-step/off/", auth_views.two_factor_disable, name="two_factor_disable"),
    path(
        "account/sign-out-everywhere/",
        auth_views.sign_out_everywhere,
        name="sign_out_everywhere",
    ),
    path("signup/", auth_views.signup, name="signup"),
    path("invitations/<str:token>/", auth_views.invitation_accept, name="invitation_accept"),
]
