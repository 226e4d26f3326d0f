from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "guanxi.sales"
    label = "sales"
    verbose_name = _("Sales")

    def ready(self) -> None:
        # Registrations: business objects (roles, audit); then each part's UI (navigation,
        # 360° sections, home panels) and hooks into the lower apps (merge, personal data).
        from . import (  # noqa: F401
            catalog_ui,
            deals_ui,
            forecast_ui,
            leads_ui,
            objects,
            orders_ui,
            quotes_ui,
        )
