from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CustomersConfig(AppConfig):
    name = "guanxi.customers"
    label = "customers"
    verbose_name = _("Customers")

    def ready(self) -> None:
        # Registrations: business objects (roles, custom fields, search), the account and
        # contact lists, the side navigation (the pool's entry too).
        from . import nav, objects, pool_nav  # noqa: F401
