"""MediTrack settings: the only settings module. Every value comes from the environment
through ``config.env``; see ``.env.example`` for the list and the README for what each does."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dj_database_url
import orjson
from celery.schedules import crontab
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
# Local state of the embedded default (SQLite file, broker queue, beat schedule). Ignored by git.
VAR_DIR = Path(env_str("MEDITRACK_VAR_DIR") or BASE_DIR / "var")
VAR_DIR.mkdir(parents=True, exist_ok=True)

# --- Core -----------------------------------------------------------------------------------
DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is required when DEBUG is off. Set SECRET_KEY in the environment "
            "(for example: python -c 'import secrets; print(secrets.token_urlsafe(50))'), "
            "or set DEBUG=1 for local development."
        )
    SECRET_KEY = "insecure-development-only-key-never-use-in-production-0123456789"  # noqa: S105 (DEBUG only)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
PUBLIC_URL = env_str("PUBLIC_URL", f"http://127.0.0.1:{env_int('PORT', 8000)}").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "csp",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "core",
    "accounts",
    "medications",
    "symptoms",
    "summaries",  # above symptoms and medications: the reads across both (dashboard, overview, report, digest)
    "notifications",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.ApiNoStoreMiddleware",
    "core.middleware.ApiJsonErrorsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "core.middleware.CSPMiddleware",  # django-csp's, the settings' policy built once per process
    "corsheaders.middleware.CorsMiddleware",
    "core.middleware.ApiOptionalTrailingSlashMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DB_CONN_MAX_AGE", 600, minimum=0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's PostgreSQL backend whose per-request connection health check asks the socket
    # instead of sending SELECT 1 (core/db/base.py).
    DATABASES["default"]["ENGINE"] = "core.db"
    # Fail fast when PostgreSQL is unreachable instead of hanging a request.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env_int("DB_CONNECT_TIMEOUT", 3, minimum=1)
    )
# PostgreSQL: the fixed-shape reads (core/prepared.py) as server-side prepared statements, each
# parsed and planned once per connection (core/db/base.py). Off behind a transaction-mode pooler.
DB_PREPARED_STATEMENTS = env_bool("DB_PREPARED_STATEMENTS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (and rate-limit counters) -------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
# After a Redis error, each process uses its own memory for this many seconds before trying again.
CACHE_FAILOVER_COOLDOWN = env_int("CACHE_FAILOVER_COOLDOWN", 10, minimum=1)
_LOCAL_CACHE = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "meditrack"}
if REDIS_URL:
    # Redis, failing over to this process's memory while Redis is down (core/cache.py).
    CACHES = {
        "default": {
            "BACKEND": "core.cache.FailoverCache",
            "OPTIONS": {"PRIMARY": "redis", "FALLBACK": "local", "COOLDOWN": CACHE_FAILOVER_COOLDOWN},
        },
        "redis": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "meditrack",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
        },
        "local": _LOCAL_CACHE,
    }
else:
    CACHES = {"default": _LOCAL_CACHE}

# What is derived from a patient's data (their data versions, cached reads, AI insights) lives in
# the "reads" alias, which the web processes and the Celery worker share: Redis when REDIS_URL is
# set, else files under VAR_DIR (local memory is per process). See accounts/readcache.py.
if REDIS_URL:
    CACHES["redis-reads"] = {**CACHES["redis"], "KEY_PREFIX": "meditrack-reads"}
    CACHES["local-reads"] = {**_LOCAL_CACHE, "LOCATION": "meditrack-reads"}
    CACHES["reads"] = {
        "BACKEND": "core.cache.FailoverCache",
        "OPTIONS": {"PRIMARY": "redis-reads", "FALLBACK": "local-reads", "COOLDOWN": CACHE_FAILOVER_COOLDOWN},
    }
else:
    CACHES["reads"] = {
        "BACKEND": "core.cache.FileCache",  # Django's file cache, culling once per set_many
        "LOCATION": str(VAR_DIR / "cache" / "reads"),
        "OPTIONS": {"MAX_ENTRIES": 10_000},
    }

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 60, minimum=1)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_DAYS", 7, minimum=1)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": env_str("JWT_SIGNING_KEY") or SECRET_KEY,
    "AUTH_HEADER_TYPES": ("Bearer",),
    # An access token carries a hash of the password it was issued under: changed, refused.
    "CHECK_REVOKE_TOKEN": True,
    # simplejwt's access token, each process remembering the signatures it verified
    # (accounts/authentication.py).
    "AUTH_TOKEN_CLASSES": ("accounts.authentication.AccessToken",),
}

# Seconds a patient's own symptom, mood and dashboard reads stay cached (dropped at once by any
# change to their data; 0 = off). See accounts/readcache.py.
READ_CACHE_SECONDS = env_int("READ_CACHE_SECONDS", 300, minimum=0)

# Rate limits per client IP (per user for exports); django-ratelimit syntax: N/s, N/m, N/h, N/d.
RATE_LIMITS = {
    "register": env_str("RATELIMIT_REGISTER", "5/h"),
    "login": env_str("RATELIMIT_LOGIN", "10/h"),
    # Caregiver invitations, per inviting patient and per invited address (so nobody can make us
    # spam an address, whoever asks).
    "caregiver_invite": env_str("RATELIMIT_CAREGIVER_INVITE", "10/d"),
    "caregiver_invite_address": env_str("RATELIMIT_CAREGIVER_INVITE_ADDRESS", "3/d"),
    "export": env_str("RATELIMIT_EXPORT", "10/h"),  # per user: an export reads every row
    # Per account: changing the profile email (each attempt), so it is no account-existence oracle.
    "email_change": env_str("RATELIMIT_EMAIL_CHANGE", "5/d"),
    # Calendar feed fetches per feed, and per client IP for tokens that open nothing (guessing).
    "calendar": env_str("RATELIMIT_CALENDAR", "60/h"),
    "calendar_miss": env_str("RATELIMIT_CALENDAR_MISS", "30/h"),
    # Fresh (uncached) AI insight generations per user; over it the answer is the built-in analysis.
    "insights": env_str("INSIGHTS_RATE_LIMIT", "10/h"),
}
RATELIMIT_USE_CACHE = "default"
# How many reverse proxies in front of the app append to X-Forwarded-For. 0: trust only the
# socket address, so a forged header can never change who a client is.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)

# --- REST framework and docs ----------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.JWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # orjson, writing what DRF's JSONRenderer writes, faster (core/renderers.py, docs/performance.md).
    "DEFAULT_RENDERER_CLASSES": ["core.renderers.JSONRenderer"],
    # As DRF's JSONRenderer does: UTC datetimes end in "Z"; integer keys (a list field's errors
    # by item index) become strings.
    "ORJSON_RENDERER_OPTIONS": (orjson.OPT_UTC_Z, orjson.OPT_NON_STR_KEYS),
    # orjson with a nesting bound: a deeply nested body is a 400 (core/parsers.py).
    "DEFAULT_PARSER_CLASSES": ["core.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": [
        "core.filters.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "core.filters.StrictOrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.OptionalLimitOffsetPagination",
    # Descriptions only in each operation's own words, never an inherited docstring (core/schema.py).
    "DEFAULT_SCHEMA_CLASS": "core.schema.AutoSchema",
    "EXCEPTION_HANDLER": "core.exceptions.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "MediTrack API",
    "DESCRIPTION": (
        "Personal health and medication-reminder API. Create an account with "
        "`POST /api/auth/register/`, get tokens from `POST /api/auth/login/`, and send the `access` "
        "token on every other call as `Authorization: Bearer <access>`."
    ),
    # Tags in the order a newcomer needs them; operations within a tag in core.schema's order.
    "TAGS": [
        {
            "name": "auth",
            "description": "Accounts and sessions: register, log in (JWT), refresh, log out, "
            "the profile, choosing a doctor, caregivers, and who read my data.",
        },
        {
            "name": "medications",
            "description": "Medications and their schedules, dose reminders and answers, adherence.",
        },
        {"name": "symptoms", "description": "Symptoms (severity 1–10), summaries and AI insights."},
        {"name": "moods", "description": "One mood (1–5) per day, and its trend."},
        {"name": "dashboard", "description": "Chart.js-ready symptom trends and stats."},
        {"name": "reports", "description": "The PDF health report."},
        {"name": "notifications", "description": "Web Push subscriptions for dose reminders."},
        {"name": "health", "description": "Service health and version (no token needed)."},
    ],
    "SORT_OPERATIONS": "core.schema.operation_order",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True, "deepLinking": True},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.schema.add_error_responses",
        "core.schema.add_date_bounds",
    ],
    "ENUM_NAME_OVERRIDES": {
        "HealthStateEnum": ["ok", "error"],
        "StatusEnum": "medications.models.ReminderStatus",
        "CaregiverStatusEnum": "accounts.models.CaregiverStatus",
    },
}

# --- CORS / CSRF ----------------------------------------------------------------------------
CORS_ALLOWED_ORIGINS = env_list("CORS_ORIGINS")
CORS_URLS_REGEX = r"^/api/.*$"
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# --- Security (production) ------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^api/health/?$"]
# X-Forwarded-Proto is believed only from a declared proxy: without one, any client could send
# it and make plain HTTP pass as HTTPS (no redirect, secure cookies over HTTP).
if TRUSTED_PROXY_COUNT > 0:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
if not DEBUG:
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# Content-Security-Policy (django-csp). The docs pages load only the app's own scripts; Swagger
# UI and Redoc style elements inline and Redoc runs a blob: worker.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "worker-src": [SELF, "blob:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- I18N / time ----------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# --- Email ----------------------------------------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
EMAIL_SMTP_CONNECTIONS = env_int("EMAIL_SMTP_CONNECTIONS", 4, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "MediTrack <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Celery ---------------------------------------------------------------------------------
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "socket_connect_timeout": 1,
        "socket_timeout": 5,
        "max_retries": 1,
        "visibility_timeout": 3600,
    }
else:
    # Embedded default: kombu's filesystem transport, so a real worker and beat run with no server.
    _broker_dir = VAR_DIR / "broker"
    (_broker_dir / "queue").mkdir(parents=True, exist_ok=True)
    (_broker_dir / "control").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "control_folder": str(_broker_dir / "control"),
    }
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 240, minimum=1)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 300, minimum=1)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Periodic tasks; each app's tasks are added here as they arrive.
CELERY_BEAT_SCHEDULE: dict[str, dict] = {}
CELERY_BEAT_SCHEDULE["weekly-digests"] = {
    # Finds patients whose local time is Sunday 09:00 (plus a catch-up window) and sends once.
    "task": "summaries.tasks.dispatch_weekly_digests",
    "schedule": timedelta(minutes=15),
}

# --- Retention -------------------------------------------------------------------------------
# Access-log and reminder rows older than this many days are deleted monthly (unset or 0: keep).
DATA_RETENTION_DAYS = env_int("DATA_RETENTION_DAYS", 0, minimum=0)
CELERY_BEAT_SCHEDULE["data-retention"] = {
    "task": "summaries.tasks.apply_data_retention",
    "schedule": crontab(minute=30, hour=3, day_of_month=1),
}

# --- Reminders ------------------------------------------------------------------------------
# How often the reminder sweep runs (seconds). A dose is emailed within one sweep after its time.
# When the interval is whole minutes dividing an hour (60, 300, 600 …) the sweep runs on the
# clock (crontab */N minutes), so a dose at 08:05 goes out at 08:05 rather than up to N later.
REMINDER_SWEEP_SECONDS = env_int("REMINDER_SWEEP_SECONDS", 300, minimum=10)
_sweep_minutes, _sweep_rest = divmod(REMINDER_SWEEP_SECONDS, 60)
CELERY_BEAT_SCHEDULE["medications-send-due-reminders"] = {
    "task": "medications.send_due_reminders",
    "schedule": (
        crontab(minute=f"*/{_sweep_minutes}")
        if _sweep_rest == 0 and _sweep_minutes and 60 % _sweep_minutes == 0
        else float(REMINDER_SWEEP_SECONDS)
    ),
    # A tick still queued when the next one is due is dropped: the next sweep covers it.
    "options": {"expires": float(REMINDER_SWEEP_SECONDS)},
}

# --- AI insights ----------------------------------------------------------------------------
GEMINI_API_KEY = env_str("GEMINI_API_KEY")
GEMINI_MODEL = env_str("GEMINI_MODEL", "gemini-2.5-flash")
GEMINI_BASE_URL = env_str("GEMINI_BASE_URL")
GEMINI_TIMEOUT_SECONDS = env_float("GEMINI_TIMEOUT_SECONDS", 15.0)
if not 0 < GEMINI_TIMEOUT_SECONDS <= 120:
    raise ImproperlyConfigured("GEMINI_TIMEOUT_SECONDS must be between 0 and 120.")
# How long a request waits for a fresh Gemini answer before answering with the built-in
# analysis (the Gemini result still replaces it in the cache when it lands). At most 20 s.
INSIGHTS_WAIT_SECONDS = env_float("INSIGHTS_WAIT_SECONDS", 15.0)
if not 0 < INSIGHTS_WAIT_SECONDS <= 20:
    raise ImproperlyConfigured("INSIGHTS_WAIT_SECONDS must be between 0 and 20.")
INSIGHTS_CACHE_SECONDS = env_int("INSIGHTS_CACHE_SECONDS", 24 * 3600, minimum=60)
# A built-in answer served while Gemini is configured (it failed or was slow) is kept this long,
# so Gemini is asked again soon.
INSIGHTS_FALLBACK_CACHE_SECONDS = env_int("INSIGHTS_FALLBACK_CACHE_SECONDS", 900, minimum=1)
# Fresh (uncached) generations per user: RATE_LIMITS["insights"] (INSIGHTS_RATE_LIMIT).
# Local hour at which the beat task precomputes insights for patients active in the last day.
INSIGHTS_PRECOMPUTE_HOUR = env_int("INSIGHTS_PRECOMPUTE_HOUR", 5, minimum=0)
INSIGHTS_PRECOMPUTE_DAYS = env_int("INSIGHTS_PRECOMPUTE_DAYS", 7, minimum=1)
if INSIGHTS_PRECOMPUTE_HOUR > 23 or INSIGHTS_PRECOMPUTE_DAYS > 90:
    raise ImproperlyConfigured("INSIGHTS_PRECOMPUTE_HOUR must be 0–23 and INSIGHTS_PRECOMPUTE_DAYS 1–90.")
CELERY_IMPORTS = ["symptoms.insights.tasks"]
CELERY_BEAT_SCHEDULE["insights-precompute"] = {
    "task": "symptoms.insights.tasks.precompute_insights",
    "schedule": crontab(minute=7),
}

# --- Live events (Channels, the `ws` process) and Web Push -----------------------------------
# Redis carries events between processes when REDIS_URL is set. On the embedded default each
# process has its own in-memory layer, so events from the web and worker processes reach the ws
# process through a small table that it polls (notifications/live.py).
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # The socket timeout must outlast channels_redis's 5-second blocking pop (redis-py's
                # default is also 5 s: a reader would time out just as an empty pop returns).
                "hosts": [{"address": REDIS_URL, "socket_timeout": 15, "socket_connect_timeout": 2}],
                "prefix": "meditrack-live",
                "expiry": 60,
                "capacity": 200,
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
LIVE_EVENTS_THROUGH_DATABASE = not REDIS_URL
# The WebSocket URL browsers use for live events (the demo page); empty = /ws/events/ on the
# page's own host, i.e. a proxy routes /ws/ to the ws process. `make run` sets it to the ws port.
WEBSOCKET_URL = env_str("WEBSOCKET_URL")
# Seconds a new connection has to send its {"type": "auth"} message before it is closed (4401).
WEBSOCKET_AUTH_TIMEOUT_SECONDS = env_int("WEBSOCKET_AUTH_TIMEOUT_SECONDS", 10, minimum=1)
# Web Push (RFC 8030/8291/8292). Without VAPID_PRIVATE_KEY a key pair is generated on first use
# and kept in the database, so web, worker and manage.py all sign with it.
VAPID_PRIVATE_KEY = env_str("VAPID_PRIVATE_KEY")
VAPID_PUBLIC_KEY = env_str("VAPID_PUBLIC_KEY")
VAPID_SUBJECT = env_str("VAPID_SUBJECT")  # mailto: or https: contact; default mailto:DEFAULT_FROM_EMAIL
# Tests only: accept push endpoints on private/loopback addresses and plain http.
WEBPUSH_ALLOW_PRIVATE_ENDPOINTS = env_bool("WEBPUSH_ALLOW_PRIVATE_ENDPOINTS", False)
WEBPUSH_TIMEOUT_SECONDS = env_int("WEBPUSH_TIMEOUT_SECONDS", 10, minimum=1)
# How long a push service keeps an undelivered message (default: the 4-hour answer window).
WEBPUSH_TTL_SECONDS = env_int("WEBPUSH_TTL_SECONDS", 4 * 3600, minimum=0)

# --- Logging --------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # Django logs the path of every 4xx/5xx response; a confirmation link's path is a credential.
    # A 4xx is already the server's one access line (runserver's django.server, gunicorn's
    # access log); django.request keeps the 5xx (with their tracebacks).
    "filters": {
        "redact_secrets": {"()": "core.logsafe.RedactSecretsFilter"},
        "server_errors_only": {"()": "core.logsafe.ServerErrorsOnly"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's own console handler would print every record a second time: all go to root.
        "django": {"handlers": [], "propagate": True},
        "django.db.backends": {"level": "INFO"},
        "django.request": {"filters": ["redact_secrets", "server_errors_only"]},
        # One line per request under runserver (Django's default sent only 4xx/5xx anywhere).
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False, "filters": ["redact_secrets"]},
    },
}
