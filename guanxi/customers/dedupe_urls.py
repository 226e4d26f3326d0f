"""(filled in by its part of the customers module)"""

urlpatterns: list = []
