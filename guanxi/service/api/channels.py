"""The service's channels endpoints."""

from ninja import Router

router = Router(tags=["service"])
