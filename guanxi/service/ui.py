"""The service's section of the side navigation; each part adds its entries from its own
``*_ui.py`` with this label."""

from django.utils.translation import gettext_lazy as _

SERVICE = _("Service")
