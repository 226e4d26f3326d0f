"""The service's surveys endpoints."""

from ninja import Router

router = Router(tags=["service"])
