from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ActivitiesConfig(AppConfig):
    name = "guanxi.activities"
    label = "activities"
    verbose_name = _("Activities")

    def ready(self) -> None:
        # Registrations: business objects (roles, audit); what a customer merge moves and the
        # customers' event hook (system events on the timeline); what personal-data export
        # and erasure cover; then each part's UI (360° sections, navigation, home panels).
        from . import (  # noqa: F401
            email_ui,
            hooks,
            objects,
            privacy,
            reassign_ui,
            task_ui,
            timeline_ui,
            visit_ui,
        )
