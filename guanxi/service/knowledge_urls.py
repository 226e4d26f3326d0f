"""The service's knowledge pages."""

urlpatterns: list = []
