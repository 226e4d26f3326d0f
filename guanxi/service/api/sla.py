"""The service's sla endpoints."""

from ninja import Router

router = Router(tags=["service"])
