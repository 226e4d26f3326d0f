"""The sales' REST endpoints; each part has its own module."""

from ninja import Router

from . import catalog, deals, forecast, leads, orders, quotes

router = Router()
for module in (catalog, leads, deals, quotes, orders, forecast):
    router.add_router("", module.router)
