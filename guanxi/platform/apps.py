from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlatformConfig(AppConfig):
    name = "guanxi.platform"
    label = "platform"
    verbose_name = _("Platform")

    def ready(self) -> None:
        from . import objects  # noqa: F401  (registers the platform's business objects)
