"""Settings for the test suite: the local defaults, loopback git allowed, mail kept in memory.

DATABASE_URL and REDIS_URL from the environment still apply, so the same
suite runs on SQLite and on Postgres + Redis.
"""

import os
import tempfile

os.environ.setdefault("PREFLIGHT_LOCAL", "1")
os.environ.setdefault("PREFLIGHT_VAR_DIR", tempfile.mkdtemp(prefix="preflight-test-var-"))
os.environ.setdefault("PREFLIGHT_ALLOW_LOOPBACK_GIT", "1")

from dashboard.settings import *  # noqa: F403

EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
