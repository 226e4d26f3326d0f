"""The service's knowledge endpoints."""

from ninja import Router

router = Router(tags=["service"])
