from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceConfig(AppConfig):
    name = "guanxi.service"
    label = "service"
    verbose_name = _("Service")

    def ready(self) -> None:
        # Registrations: business objects (roles, audit); then each part's UI (navigation,
        # 360° sections, home panels), its jobs and its hooks into the lower apps.
        from . import (  # noqa: F401
            assignment_ui,
            calls_ui,
            cases_ui,
            channels_ui,
            knowledge_ui,
            objects,
            portal_ui,
            sla_ui,
            surveys_ui,
        )
