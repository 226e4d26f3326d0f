"""The service's channels pages."""

from django.urls import path

from . import channels_views as views

urlpatterns = [
    path("channels/", views.channel_settings, name="channel_settings"),
    path("channels/sms-provider/", views.provider_save, name="channel_provider_save"),
    path("channels/sms-secret/", views.secret_rotate, name="channel_secret_rotate"),
    path("channels/sms-test/", views.test_send, name="channel_test_sms"),
    path("channels/inbound/", views.inbound_save, name="channel_inbound_save"),
    path("sms/", views.sms_list, name="sms_list"),
]
