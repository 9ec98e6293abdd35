"""Settings for CNC Copilot: one module, read from the environment only.

Without any environment variable the app runs on a laptop with embedded defaults (SQLite, local
memory cache, in-memory channel layer, Celery on a filesystem broker). DATABASE_URL, REDIS_URL,
CELERY_BROKER_URL and MQTT_URL switch to the real services. DJANGO_ENV=production refuses to start
without SECRET_KEY and ALLOWED_HOSTS and turns on every `check --deploy` hardening.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import django_stubs_ext
import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

# Lets classes such as ModelAdmin[Job] be subscripted at run time, as the type stubs want.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
PRODUCTION = DJANGO_ENV == "production"
TESTING = env.bool("CNC_TESTING", default=False)

if PRODUCTION:
    missing = [name for name in ("SECRET_KEY", "ALLOWED_HOSTS") if not env.str(name, default="")]
    if missing:
        raise ImproperlyConfigured(f"DJANGO_ENV=production needs {', '.join(missing)} set in the environment.")
    SECRET_KEY = env.str("SECRET_KEY")
else:
    SECRET_KEY = env.str("SECRET_KEY", default="dev-only-insecure-key-do-not-use-in-production")

DEBUG = env.bool("DEBUG", default=not PRODUCTION and not TESTING)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "daphne",
    "apps.accounts.admin_config.ShopAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "graphene_django",
    "simple_history",
    "django_htmx",
    "django_guid",
    "channels",
    "django_celery_beat",
    "apps.core",
    "apps.accounts",
    "apps.machines",
    "apps.inventory",
    "apps.routings",
    "apps.scheduling",
    "apps.shopfloor",
    "apps.reports",
    "apps.telemetry",
]

MIDDLEWARE = [
    "django_guid.middleware.guid_middleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "apps.core.middleware.MachineTimeZoneMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "apps.accounts.middleware.TwoFactorRequiredMiddleware",
    "apps.accounts.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "cnc_copilot.urls"
WSGI_APPLICATION = "cnc_copilot.wsgi.application"
ASGI_APPLICATION = "cnc_copilot.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "apps.core.context_processors.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
VAR_DIR.mkdir(exist_ok=True)
DATABASES = {"default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'cnc_copilot.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {})
    if env.bool("DATABASE_POOL", default=not TESTING):
        DATABASES["default"]["OPTIONS"]["pool"] = {"min_size": 1, "max_size": 10}
    else:
        DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server, the Celery worker and the simulator share one file.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, channel layer, Celery -----------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="cnc"),
            "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

CELERY_QUEUE_DIR = VAR_DIR / "celery"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("out", "processed", "control"):
        (CELERY_QUEUE_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_QUEUE_DIR / "out"),
        "data_folder_out": str(CELERY_QUEUE_DIR / "out"),
        "data_folder_processed": str(CELERY_QUEUE_DIR / "processed"),
        "control_folder": str(CELERY_QUEUE_DIR / "control"),
    }
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    "prune-operator-log": {"task": "core.prune_operator_log", "schedule": 24 * 3600, "kwargs": {"keep_days": 90}},
    "machine-states": {"task": "machines.refresh_machine_states", "schedule": 30},
    "telemetry-partitions": {"task": "telemetry.maintain_sample_partitions", "schedule": 3600},
    "telemetry-rollups": {"task": "telemetry.roll_up_hours", "schedule": 600, "kwargs": {"hours": 2}},
    "prune-idempotency-keys": {"task": "shopfloor.prune_idempotent_actions", "schedule": 24 * 3600},
}
# Beat reads its schedule from the database (django-celery-beat): report schedules made on the pages
# become periodic tasks there, and the static entries above are copied into its tables at start-up.
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

MQTT_URL = env.str("MQTT_URL", default="")
# Raw telemetry samples are kept this many days (hourly roll-ups stay); see docs/telemetry-storage.md.
SAMPLE_RETENTION_DAYS = env.int("SAMPLE_RETENTION_DAYS", default=30)
# A machine silent this long counts as offline (docs/machine-state.md).
MACHINE_OFFLINE_AFTER_SECONDS = env.int("MACHINE_OFFLINE_AFTER_SECONDS", default=120)

# --- Shop floor (docs/shop-floor.md) ----------------------------------------------------------
# The address phones reach this server at, printed in traveler QR codes (default: the address the
# traveler was printed from).
SITE_URL = env.str("SITE_URL", default="").rstrip("/")
# The rule that ranks a machine's dispatch list once reality has left the published plan.
SHOPFLOOR_DISPATCH_RULE = env.str("SHOPFLOOR_DISPATCH_RULE", default="EDD")
# Minutes a machine may fall behind its plan before its list is ranked by that rule.
SHOPFLOOR_BEHIND_PLAN_MINUTES = env.int("SHOPFLOOR_BEHIND_PLAN_MINUTES", default=60)
# Seconds between refreshes of the supervisor's floor view (/shop/supervisor/) while it is on screen.
SHOPFLOOR_SUPERVISOR_REFRESH_SECONDS = env.int("SHOPFLOOR_SUPERVISOR_REFRESH_SECONDS", default=15)
# Days the answers to shop-floor actions are kept for replays from devices that were offline.
IDEMPOTENCY_KEY_DAYS = env.int("IDEMPOTENCY_KEY_DAYS", default=30)
# Largest photo an issue report accepts (phones make 5-12 MB pictures; they are shrunk on arrival).
ISSUE_PHOTO_MAX_BYTES = env.int("ISSUE_PHOTO_MAX_BYTES", default=10 * 1024 * 1024)
# Web Push (VAPID). Empty: a key pair is made once under var/vapid/ (fine for one server);
# `manage.py generate_vapid_keys` prints a pair for production's environment.
WEBPUSH_VAPID_PRIVATE_KEY = env.str("WEBPUSH_VAPID_PRIVATE_KEY", default="")
WEBPUSH_VAPID_PUBLIC_KEY = env.str("WEBPUSH_VAPID_PUBLIC_KEY", default="")
WEBPUSH_CONTACT = env.str("WEBPUSH_CONTACT", default="")
TRAVELER_PAGE_SIZE = env.str("TRAVELER_PAGE_SIZE", default="A4")

# --- Reports ----------------------------------------------------------------------------------
# A scheduled report's e-mail is tried again this many times, this many seconds apart, while the
# mail server refuses it; then its deliveries are marked failed with the server's answer.
REPORT_DELIVERY_MAX_RETRIES = env.int("REPORT_DELIVERY_MAX_RETRIES", default=3)
REPORT_DELIVERY_RETRY_SECONDS = env.int("REPORT_DELIVERY_RETRY_SECONDS", default=60)

# --- Authentication, accounts, 2FA, SSO -----------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    # Hashing strength is not under test; a fast hasher keeps persona set-up cheap.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "account_login"

ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
# Accounts are created by managers (admin) or by SSO, never by open sign-up.
ACCOUNT_ADAPTER = "apps.accounts.adapters.ShopAccountAdapter"
SOCIALACCOUNT_ADAPTER = "apps.accounts.adapters.ShopSocialAccountAdapter"
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_PREVENT_ENUMERATION = True
# 10 failed logins a minute from one IP, 5 in 5 minutes for one account: the same limit guards
# the login page, the admin login and the API token endpoint (apps.accounts.services).
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,5/5m/key"}
SOCIALACCOUNT_ONLY = False
SOCIALACCOUNT_LOGIN_ON_GET = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_STORE_TOKENS = False

# OIDC_PROVIDERS: a JSON list of {"provider_id", "name", "client_id", "secret", "server_url"},
# e.g. Microsoft Entra ID, Google, Okta. Roles come from the claim OIDC_ROLE_CLAIM mapped by
# OIDC_ROLE_MAP (JSON object claim value -> role name).
OIDC_PROVIDERS = json.loads(env.str("OIDC_PROVIDERS", default="[]"))
OIDC_ROLE_CLAIM = env.str("OIDC_ROLE_CLAIM", default="groups")
OIDC_ROLE_MAP: dict[str, str] = json.loads(env.str("OIDC_ROLE_MAP", default="{}"))
SOCIALACCOUNT_PROVIDERS = {
    "openid_connect": {
        "OAUTH_PKCE_ENABLED": True,
        "APPS": [
            {
                "provider_id": p["provider_id"],
                "name": p.get("name", p["provider_id"]),
                "client_id": p["client_id"],
                "secret": p.get("secret", ""),
                "settings": {"server_url": p["server_url"], "fetch_userinfo": True},
            }
            for p in OIDC_PROVIDERS
        ],
    }
}

OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="CNC Copilot")
OTP_TOTP_TOLERANCE = 1

SESSION_IDLE_MINUTES = env.int("SESSION_IDLE_MINUTES", default=480)
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
# Saving on every request makes SESSION_COOKIE_AGE an idle timeout, not an absolute one.
SESSION_SAVE_EVERY_REQUEST = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# --- REST, OpenAPI, GraphQL -----------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "apps.accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["apps.core.api.permissions.RolePermission"],
    "DEFAULT_PAGINATION_CLASS": "apps.core.api.pagination.StandardPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
        "rest_framework.filters.SearchFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "apps.core.api.errors.exception_handler",
    "DEFAULT_VERSIONING_CLASS": None,
}
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=env.int("API_TOKEN_TTL_DAYS", default=365)),
    "AUTO_REFRESH": False,
    "TOKEN_PREFIX": "cnc_",
    "TOKEN_LIMIT_PER_USER": None,
}
KNOX_TOKEN_MODEL = "accounts.ApiToken"
# knox's own token table is replaced by accounts.ApiToken; its migrations would still create it
# (they do not mark the model swappable), leaving a foreign key to users that blocks flushes.
MIGRATION_MODULES = {"knox": None}
SPECTACULAR_SETTINGS = {
    "TITLE": "CNC Copilot API",
    "DESCRIPTION": "REST API of CNC Copilot, the MES for CNC and sheet-metal job shops.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Two choice fields are both called `kind`; each gets its own schema name.
    "ENUM_NAME_OVERRIDES": {
        "CalendarExceptionKindEnum": "apps.machines.choices.ExceptionKind",
        "PartFileKindEnum": "apps.routings.choices.PartFileKind",
        "ProductionEventKindEnum": "apps.shopfloor.choices.EventKind",
        "IssueKindEnum": "apps.shopfloor.choices.IssueKind",
        "ReportRunStatusEnum": "apps.reports.choices.RunStatus",
        "ReportDeliveryStatusEnum": "apps.reports.choices.DeliveryStatus",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apps.core.api.schema.add_error_responses",
    ],
}
GRAPHENE = {
    "SCHEMA": "cnc_copilot.schema.schema",
    "ATOMIC_MUTATIONS": True,
}
GRAPHQL_MAX_DEPTH = env.int("GRAPHQL_MAX_DEPTH", default=8)

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("es", _("Spanish"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
# Stored in UTC (USE_TZ); shown in the plant's own time zone, which shift calendars also use.
PLANT_TIME_ZONE = env.str("PLANT_TIME_ZONE", default="America/Chicago")
# The plant's name and logo (an SVG file) on report covers.
PLANT_NAME = env.str("PLANT_NAME", default="Demo sheet-metal plant")
PLANT_LOGO_SVG = env.str("PLANT_LOGO_SVG", default=str(BASE_DIR / "static" / "img" / "logo.svg"))
# Schedule adherence: an operation finished up to this many minutes after its plan is on time.
REPORT_ADHERENCE_TOLERANCE_MINUTES = env.int("REPORT_ADHERENCE_TOLERANCE_MINUTES", default=15)
# OEE dashboards and the OEE API answer the same question from the cache for this many seconds.
OEE_CACHE_SECONDS = env.int("OEE_CACHE_SECONDS", default=60)
# Which metrics are electrical power, as JSON name -> kW per unit; unset: {"power_kw": 1} (apps/reports/energy_inputs).
ENERGY_POWER_METRICS = env.json("ENERGY_POWER_METRICS", default=None)
TIME_ZONE = PLANT_TIME_ZONE

# --- Static and media files -----------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=VAR_DIR / "staticfiles")
Path(STATIC_ROOT).mkdir(parents=True, exist_ok=True)
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION

# --- E-mail ---------------------------------------------------------------------------------
# Without EMAIL_URL (a laptop, `make run`) mail is kept as files under var/mail/, one .log per message in
# MIME form with its attachments, so a scheduled report can be "received" and opened without a mail server.
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="filemail://")
vars().update(EMAIL_CONFIG)
if not env.str("EMAIL_URL", default=""):
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="cnc-copilot@localhost")

# --- Logging: developer (console), technical (JSON lines), operator (plain words in the DB) --
DJANGO_GUID = {"GUID_HEADER_NAME": "X-Request-ID", "RETURN_HEADER": True, "VALIDATE_GUID": False}
LOG_LEVEL = env.str("LOG_LEVEL", default="DEBUG" if DEBUG else "INFO")
LOG_DIR = env.path("LOG_DIR", default=VAR_DIR / "log")
Path(LOG_DIR).mkdir(parents=True, exist_ok=True)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "django_guid.log_filters.CorrelationId"}},
    "formatters": {
        "developer": {"format": "%(asctime)s %(levelname)-7s %(name)s [%(correlation_id)s] %(message)s"},
        "technical": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(correlation_id)s",
            "rename_fields": {
                "asctime": "time",
                "levelname": "level",
                "name": "logger",
                "correlation_id": "request_id",
            },
        },
    },
    "handlers": {
        "developer": {
            "class": "logging.StreamHandler",
            "level": LOG_LEVEL,
            "formatter": "developer",
            "filters": ["request_id"],
        },
        "technical": {
            "class": "logging.handlers.WatchedFileHandler",
            "filename": str(Path(LOG_DIR) / "technical.jsonl"),
            "level": "INFO",
            "formatter": "technical",
            "filters": ["request_id"],
        },
        "operator": {"class": "apps.core.logging.OperatorLogHandler", "level": "WARNING"},
    },
    "root": {"handlers": ["developer", "technical"], "level": "INFO"},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        "django_guid": {"level": "WARNING"},
        "asyncua": {"level": "WARNING"},  # at INFO it logs every request
        "weasyprint": {"level": "WARNING"},  # at INFO it logs every rendering step
        "fontTools": {"level": "WARNING"},
        "cnc": {"level": LOG_LEVEL, "propagate": True},
        "operator": {"handlers": ["operator"], "level": "WARNING", "propagate": True},
    },
}

# --- Security: everything `check --deploy` asks for in production ---------------------------
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # Load balancers probe over plain HTTP inside the network.
    SECURE_REDIRECT_EXEMPT = [r"^health/"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
