"""The service's sla pages."""

urlpatterns: list = []
