"""The service's assignment endpoints."""

from ninja import Router

router = Router(tags=["service"])
