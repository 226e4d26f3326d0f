from django.conf import settings
from django.conf.urls.static import static
from django.urls import include, path

from config.api import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("guanxi.platform.auth_urls")),
    path("", include("guanxi.platform.urls")),
    path("customers/", include("guanxi.customers.urls")),
    path("activities/", include("guanxi.activities.urls")),
    path("sales/", include("guanxi.sales.urls")),
    path("f/", include("guanxi.sales.leads_public_urls")),
    path("service/", include("guanxi.service.urls")),
    path("portal/", include("guanxi.service.portal_urls")),
    path("s/", include("guanxi.service.surveys_public_urls")),
    path("hooks/", include("guanxi.integrations.urls")),
    path("analytics/", include("guanxi.analytics.urls")),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
