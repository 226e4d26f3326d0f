from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "guanxi.customers"
    label = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        # Registrations: business objects (roles, custom fields, search), lists, navigation.
        from . import objects, pool_nav  # noqa: F401  (pool_nav: the pool in the side navigation)
        from . import nav  # noqa: F401  (account and contact lists, side navigation)
