"""Settings for the test suite: the real settings with fast hashing and in-memory side effects."""

import os

os.environ.setdefault("DEBUG", "1")  # development defaults (no TLS redirect); pytest runs with DEBUG=False

from partygroup.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
MEDIA_ROOT = BASE_DIR / "var" / "test-media"  # noqa: F405
EXPORT_ROOT = BASE_DIR / "var" / "test-exports"  # noqa: F405
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
# Serve static files from the finders without a collected STATIC_ROOT (pytest runs with DEBUG=False).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
