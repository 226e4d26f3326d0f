"""The REST API: django-ninja under /api/v1/. Each app contributes a router."""

from ninja import NinjaAPI

api = NinjaAPI(
    title="guanxi API",
    version="1",
    description="REST API of guanxi (关系), the self-hosted CRM.",
    urls_namespace="api",
)
