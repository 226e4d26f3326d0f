"""The service's assignment pages."""

urlpatterns: list = []
