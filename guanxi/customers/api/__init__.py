"""The customers' REST endpoints; each resource has its own module."""

from ninja import Router

from . import accounts, contacts, duplicates, imports, pool, privacy

router = Router()
# duplicates before accounts/contacts: its /contacts/merge must win over /contacts/{id}.
for module in (duplicates, accounts, contacts, pool, privacy, imports):
    router.add_router("", module.router)
