"""The value part's REST endpoints."""

from ninja import Router

router = Router()
