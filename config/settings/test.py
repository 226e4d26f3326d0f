"""The test suite: fast hashing, jobs run in the calling thread unless a test starts a worker."""

from .base import *  # noqa: F403
from .base import HUEY

SECRET_KEY = "test-secret-key-not-for-production-use-0123456789abcdef"
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
HUEY = {**HUEY, "immediate": True}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
AXES_FAILURE_LIMIT = 3
ALLOWED_HOSTS = ["*"]
API_RATE_LIMIT = "100000/m"
