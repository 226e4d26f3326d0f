"""The service's portal endpoints."""

from ninja import Router

router = Router(tags=["service"])
