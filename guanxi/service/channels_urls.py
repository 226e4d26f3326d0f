"""The service's channels pages."""

urlpatterns: list = []
