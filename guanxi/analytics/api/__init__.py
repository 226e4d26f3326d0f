"""The analysis' REST endpoints, under /api/v1/analytics/."""

from ninja import Router

from . import dashboards, value

router = Router()
for module in (value, dashboards):
    router.add_router("", module.router)
