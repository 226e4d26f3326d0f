"""Webhooks the providers call: /hooks/sms/<key>/ and /hooks/telephony/<key>/ (no login;
each request is checked against the workspace's provider secret)."""

from django.urls import path

from . import sms_views, telephony_views

app_name = "hooks"

urlpatterns: list = [
    path("sms/<str:public_key>/", sms_views.sms_inbound, name="sms_inbound"),
    path("telephony/<str:public_key>/", telephony_views.telephony_event, name="telephony_event"),
]
