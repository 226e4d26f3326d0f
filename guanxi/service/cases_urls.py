"""The service's cases pages."""

urlpatterns: list = []
