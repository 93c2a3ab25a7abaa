"""Preflight's settings: from the environment, with embedded defaults for a first local run.

Local defaults: SQLite in var/, the filesystem Celery broker (no server), a
generated SECRET_KEY kept in a git-ignored file. Production: DATABASE_URL
(Postgres, psycopg 3), REDIS_URL, SECRET_KEY, ALLOWED_HOSTS, and DEBUG off.
"""

from __future__ import annotations

import secrets
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from dashboard.env import envbool, envint, envlist, envsecret, envstr

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(envstr("PREFLIGHT_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = envbool("DEBUG", False)
# Local development: the embedded defaults may stand in for production secrets.
LOCAL = envbool("PREFLIGHT_LOCAL", False) or DEBUG


def _secret_key() -> str:
    key = envsecret("SECRET_KEY")
    if key:
        return key
    if sys.argv[1:2] == ["collectstatic"]:
        # The build step signs nothing and runs before the service's variables exist.
        return secrets.token_urlsafe(50)
    if not LOCAL:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it (or SECRET_KEY_FILE) in production; "
            "for a local run set PREFLIGHT_LOCAL=1 and one is generated for you."
        )
    path = VAR_DIR / "secret-key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if LOCAL else "")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")
SITE_URL = envstr("SITE_URL", "http://localhost:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "dashboard",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "dashboard.middleware.FirstRunMiddleware",
]

ROOT_URLCONF = "dashboard.urls"
WSGI_APPLICATION = "dashboard.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "dashboard.context.teams",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        envstr("DATABASE_URL", f"sqlite:///{VAR_DIR / 'preflight.sqlite3'}"),
        conn_max_age=envint("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Railway (and most PaaS) terminate TLS at their proxy.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", not LOCAL)
SESSION_COOKIE_SECURE = not LOCAL
CSRF_COOKIE_SECURE = not LOCAL
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0 if LOCAL else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not LOCAL
SECURE_HSTS_PRELOAD = not LOCAL
SECURE_REDIRECT_EXEMPT = [r"^healthz/$"]
X_FRAME_OPTIONS = "DENY"

# Secrets of projects (tokens, deploy keys, webhook secrets) are encrypted with
# these keys; the first encrypts, all decrypt, so keys can be rotated.
FERNET_KEYS = envlist("PREFLIGHT_FERNET_KEYS") or [SECRET_KEY]

# -- Celery ------------------------------------------------------------------
REDIS_URL = envstr("REDIS_URL")
CELERY_BROKER_DIR = VAR_DIR / "broker"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
else:
    for folder in ("in", "processed", "control"):
        (CELERY_BROKER_DIR / folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "in"),
        "data_folder_out": str(CELERY_BROKER_DIR / "in"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        # Without it kombu writes its exchange table to ./control of whatever folder it runs in.
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
    }
SCAN_SOFT_TIME_LIMIT = envint("PREFLIGHT_SCAN_SOFT_TIME_LIMIT", 300)
SCAN_TIME_LIMIT = envint("PREFLIGHT_SCAN_TIME_LIMIT", 360)
if REDIS_URL:
    # A message is redelivered once unacknowledged this long: above the longest task.
    CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] = SCAN_TIME_LIMIT * 2
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = "scans"
CELERY_TASK_ROUTES = {"workers.tasks.send_*": {"queue": "email"}, "workers.tasks.deliver_*": {"queue": "email"}}
CELERY_TASK_SOFT_TIME_LIMIT = SCAN_SOFT_TIME_LIMIT
CELERY_TASK_TIME_LIMIT = SCAN_TIME_LIMIT
CELERY_BEAT_SCHEDULE = {
    "dispatch-due-scans": {"task": "workers.tasks.dispatch_due_scans", "schedule": 60.0},
    "recover-stale-scans": {"task": "workers.tasks.recover_stale_scans", "schedule": 120.0},
    "send-readiness-reports": {"task": "workers.tasks.send_readiness_reports", "schedule": 120.0},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# -- Git ---------------------------------------------------------------------
GIT_CACHE_DIR = Path(envstr("PREFLIGHT_GIT_CACHE", str(VAR_DIR / "git-cache")))
GIT_TIMEOUT = envint("PREFLIGHT_GIT_TIMEOUT", 120)
GIT_MAX_MB = envint("PREFLIGHT_GIT_MAX_MB", 200)
# Hosts (or host:port) allowed even when they resolve to private addresses, for
# a self-hosted GitLab on an internal network.
ALLOWED_GIT_HOSTS = envlist("PREFLIGHT_ALLOWED_GIT_HOSTS")
ALLOW_LOOPBACK_GIT = envbool("PREFLIGHT_ALLOW_LOOPBACK_GIT", False)

# -- E-mail -----------------------------------------------------------------
_SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
_SMTP_SCHEMES = {"smtp": 25, "smtp+tls": 587, "smtps": 465, "smtp+ssl": 465}


def _email_from_url(url: str) -> dict:
    """EMAIL_URL: smtp://user:pass@host:port (smtp+tls:// for STARTTLS, smtps:// for TLS), console://, file:///dir."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "console":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if scheme == "file" and parts.path:
        return {"EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend", "EMAIL_FILE_PATH": parts.path}
    try:
        port = parts.port
    except ValueError:
        port = -1
    if scheme not in _SMTP_SCHEMES or not parts.hostname or port == -1:
        raise ImproperlyConfigured(
            "EMAIL_URL must look like smtp://user:password@host:port (or smtp+tls://, smtps://, console://, "
            "file:///folder)"
        )
    return {
        "EMAIL_BACKEND": _SMTP_BACKEND,
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": port or _SMTP_SCHEMES[scheme],
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_TLS": scheme == "smtp+tls",
        "EMAIL_USE_SSL": scheme in ("smtps", "smtp+ssl"),
    }


_EMAIL_URL = envsecret("EMAIL_URL")
_email = (
    _email_from_url(_EMAIL_URL)
    if _EMAIL_URL
    else {
        # The embedded run prints e-mails on the console until a server is configured.
        "EMAIL_BACKEND": envstr("EMAIL_BACKEND", _SMTP_BACKEND if envstr("EMAIL_HOST") else ""),
        "EMAIL_HOST": envstr("EMAIL_HOST", "localhost"),
        "EMAIL_PORT": envint("EMAIL_PORT", 25),
        "EMAIL_HOST_USER": envstr("EMAIL_HOST_USER"),
        "EMAIL_HOST_PASSWORD": envsecret("EMAIL_HOST_PASSWORD") or "",
        "EMAIL_USE_TLS": envbool("EMAIL_USE_TLS", False),
        "EMAIL_USE_SSL": envbool("EMAIL_USE_SSL", False),
        "EMAIL_FILE_PATH": envstr("EMAIL_FILE_PATH"),
    }
)
EMAIL_BACKEND = _email["EMAIL_BACKEND"] or "django.core.mail.backends.console.EmailBackend"
EMAIL_HOST = _email.get("EMAIL_HOST", "localhost")
EMAIL_PORT = _email.get("EMAIL_PORT", 25)
EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
if _email.get("EMAIL_FILE_PATH"):
    EMAIL_FILE_PATH = _email["EMAIL_FILE_PATH"]
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS (STARTTLS) and EMAIL_USE_SSL (TLS) exclude each other: set one")
# Without a timeout a hung SMTP server holds an e-mail worker forever.
EMAIL_TIMEOUT = envint("EMAIL_TIMEOUT", 30)
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "Preflight <preflight@localhost>")
# Retries of an e-mail after an SMTP error: first after about this many seconds, doubling, this many times.
EMAIL_RETRY_BACKOFF = envint("PREFLIGHT_EMAIL_RETRY_BACKOFF", 30)
EMAIL_MAX_RETRIES = envint("PREFLIGHT_EMAIL_MAX_RETRIES", 6)
# Alerts to one address within this many seconds go out together, in one message.
ALERT_COALESCE_SECONDS = envint("PREFLIGHT_ALERT_COALESCE_SECONDS", 300)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
}
