"""Webhooks the providers call: /hooks/sms/<key>/ and /hooks/telephony/<key>/ (no login;
each request is checked against the workspace's provider secret)."""

app_name = "hooks"

urlpatterns: list = []
