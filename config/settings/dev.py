"""Development: `make run`. Debug on, a fixed local secret, mail printed to the console."""

from .base import *  # noqa: F403
from .base import env

DEBUG = True
SECRET_KEY = SECRET_KEY or "dev-only-secret-key-not-for-production-use-0123456789"  # noqa: F405
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
INTERNAL_IPS = ["127.0.0.1"]
