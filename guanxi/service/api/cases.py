"""The service's cases endpoints."""

from ninja import Router

router = Router(tags=["service"])
