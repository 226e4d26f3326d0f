"""The service's calls pages."""

from django.urls import path

from . import calls_views as views

urlpatterns = [
    path("calls/", views.call_list, name="call_list"),
    path("calls/settings/", views.call_settings, name="call_settings"),
    path("calls/settings/provider/", views.provider_save, name="call_provider_save"),
    path("calls/settings/secret/", views.secret_rotate, name="call_secret_rotate"),
    path("calls/settings/simulate/", views.simulate, name="call_simulate"),
    path("calls/new-caller/", views.new_caller, name="call_new_caller"),
    path("calls/choose/", views.choose, name="call_choose"),
    path("calls/dial/", views.dial, name="call_dial"),
    path("calls/pops/stream/", views.pop_stream, name="call_pop_stream"),
    path("calls/pops/next/", views.pop_next, name="call_pop_next"),
    path("calls/pops/<int:pk>/claim/", views.pop_claim, name="call_pop_claim"),
    path("calls/widget/", views.widget, name="call_widget"),
    path("calls/<int:pk>/", views.call_detail, name="call_detail"),
]
