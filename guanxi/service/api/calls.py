"""The service's calls endpoints."""

from ninja import Router

router = Router(tags=["service"])
