"""The REST API: django-ninja under /api/v1/. Each app contributes a router.

Authentication is a list, tried in order: a bearer API token first, then the pages'
session (with CSRF on unsafe methods). Every non-2xx answer has one shape,
``{"error": {"code", "message", "fields"}}``; rate limits come from API_RATE_LIMIT.
"""

from ninja import NinjaAPI

from guanxi.activities.api import router as activities_router
from guanxi.analytics.api import router as analytics_router
from guanxi.common.api import ApiRateThrottle, Utf8JSONRenderer, install_error_handlers
from guanxi.customers.api import router as customers_router
from guanxi.platform.api import API_AUTH
from guanxi.platform.api import router as platform_router
from guanxi.sales.api import router as sales_router
from guanxi.service.api import router as service_router

api = NinjaAPI(
    title="guanxi API",
    version="1",
    description=(
        "REST API of guanxi (关系), the self-hosted CRM.\n\n"
        "**Authentication**: `Authorization: Bearer gx_<prefix>_<secret>` (a personal API "
        "token with the scopes read, write, admin), or the session cookie of a signed-in "
        "browser with `X-CSRFToken` on unsafe methods.\n\n"
        "**Errors**: every non-2xx answer is "
        '`{"error": {"code": "...", "message": "...", "fields": {"name": ["..."]}}}`; '
        "messages follow `Accept-Language` (zh-hans, zh-hant, en).\n\n"
        "**Lists** are cursor pages: pass `next_cursor` back as `cursor`; `limit` is 1–200."
    ),
    urls_namespace="api",
    auth=API_AUTH,
    throttle=[ApiRateThrottle()],
    renderer=Utf8JSONRenderer(),
)
install_error_handlers(api)

api.add_router("", platform_router)
api.add_router("", customers_router)
api.add_router("", activities_router)
api.add_router("", sales_router)
api.add_router("", service_router)
api.add_router("/analytics", analytics_router)
