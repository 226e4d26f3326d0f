from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "guanxi.analytics"
    label = "analytics"
    verbose_name = _("Analysis")

    def ready(self) -> None:
        from . import dashboards_ui, objects, value_ui  # noqa: F401
