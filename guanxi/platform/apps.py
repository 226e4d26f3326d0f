from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlatformConfig(AppConfig):
    name = "guanxi.platform"
    label = "platform"
    verbose_name = _("Platform")

    def ready(self) -> None:
        # Registrations: business objects, lists, job handlers, navigation.
        from . import exports, nav, objects, user_lists  # noqa: F401
