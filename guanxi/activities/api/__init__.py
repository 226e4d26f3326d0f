"""The activities' REST endpoints; each resource has its own module."""

from ninja import Router

from . import email, reassign, tasks, timeline, visits

router = Router()
for module in (timeline, tasks, visits, email, reassign):
    router.add_router("", module.router)
