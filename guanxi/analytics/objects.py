"""The analysis' business objects: reading customer value (Pareto, ABC) and recomputing it
("update"), and the dashboards."""

from django.utils.translation import gettext_lazy as _

from guanxi.platform import registry

from .models import ValueRun

CUSTOMER_VALUE = "analytics.customer_value"

registry.register(
    registry.BusinessObject(
        key=CUSTOMER_VALUE,
        model=ValueRun,
        label=_("customer value"),
        label_plural=_("customer value"),
    )
)
