"""The customers' REST endpoints; each resource has its own module."""

from ninja import Router

from . import accounts, contacts, duplicates, imports, pool, privacy, search

router = Router()
for module in (search, accounts, contacts, pool, privacy, imports, duplicates):
    router.add_router("", module.router)
