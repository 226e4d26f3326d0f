"""The service's REST endpoints; each part has its own module."""

from ninja import Router

from . import assignment, calls, cases, channels, knowledge, portal, sla, surveys

router = Router()
for module in (cases, channels, sla, assignment, surveys, knowledge, portal, calls):
    router.add_router("", module.router)
