"""The service's calls pages."""

urlpatterns: list = []
