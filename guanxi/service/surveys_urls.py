"""The service's surveys pages."""

urlpatterns: list = []
