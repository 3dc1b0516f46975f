"""Settings for every mode, read from the environment (12-factor).

Every variable has a default that makes the embedded mode work with no
configuration at all: SQLite in the project folder, tasks run in process.
Production sets DEBUG=0 and real values; unsafe defaults are then refused.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEV_SECRET_KEY = "django-insecure-development-key-do-not-use-in-production"

DEBUG: bool = env.bool("DEBUG", default=True)
SECRET_KEY: str = env.str("SECRET_KEY", default=DEV_SECRET_KEY)

# With DEBUG on the public development key is allowed, and the system checks (runserver,
# migrate, check) warn about it loudly: erp/checks.py.
if SECRET_KEY == DEV_SECRET_KEY and not DEBUG:
    raise ImproperlyConfigured(
        "SECRET_KEY is not set. With DEBUG off a real secret is required: "
        "generate one with `python -c 'import secrets; print(secrets.token_urlsafe(50))'`."
    )

ALLOWED_HOSTS: list[str] = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# The largest request body read into memory (API requests and webhooks; file uploads are not
# counted): a larger one is refused with 413 before anything is read or stored.
DATA_UPLOAD_MAX_MEMORY_SIZE: int = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=5 * 1024 * 1024)

# Secrets of connections are encrypted at rest with Fernet. A comma-separated
# list rotates keys: the first encrypts, all of them decrypt.
FIELD_ENCRYPTION_KEY: str = env.str("FIELD_ENCRYPTION_KEY", default="")
if not FIELD_ENCRYPTION_KEY and not DEBUG:
    raise ImproperlyConfigured(
        "FIELD_ENCRYPTION_KEY is not set. With DEBUG off it is required: generate one "
        "with `python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`."
    )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "django_filters",
    "django_celery_beat",
    "simple_history",
    "ninja",
    "erp",
    "inventory",
    "sales",
    "procurement",
    "manufacturing",
    "integrations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "erp.actor.ActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "erp.middleware.ApiProblemMiddleware",
]

AUTH_USER_MODEL = "erp.User"
ROOT_URLCONF = "erp.urls"
WSGI_APPLICATION = "erp.wsgi.application"

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
                "erp.context_processors.navigation",
                "erp.notifications.unread_count",
            ],
            # Numbers as people read them, on every page: {{ amount|money:currency }}, {{ q|quantity:unit }}.
            "builtins": ["erp.templatetags.erp_format"],
        },
    }
]

# DATABASE_URL: sqlite:///path or postgres://user@host:port/name.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Tests use an in-memory database unless TEST_DATABASE_NAME names a file, which
    # `make test-fast` does so that --reuse-db can keep it between local runs.
    if test_name := env.str("TEST_DATABASE_NAME", default=""):
        DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / test_name)}
    # WAL and a busy timeout let the dev server and an in-process task share the file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # No JIT compilation: it pays off for long analytic queries, not for these milliseconds-long
    # ones; past its cost threshold it compiled the home's availability statement for 2.5 s (of a
    # 60 ms query). A deployment can still turn it on per role or database in PostgreSQL.
    # Statements run through erp.prepared (server-side binding) are prepared once they have run this
    # many times on a connection; Django's own cursors bind on the client and never are. 0 turns
    # preparing off (PgBouncer in transaction mode before 1.21).
    _prepare = env.int("DATABASE_PREPARE_THRESHOLD", default=5)
    DATABASES["default"]["OPTIONS"] = {
        "options": "-c jit=off",
        "prepare_threshold": _prepare if _prepare > 0 else None,
        **DATABASES["default"].get("OPTIONS", {}),
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# Production hardening: `manage.py check --deploy` is clean with DEBUG off.
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_REFERRER_POLICY = "same-origin"
    X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# Celery. Unset CELERY_BROKER_URL = embedded mode: tasks run in process, eagerly.
# An API key read from the database is reused by its process for this long (erp/apiauth.py): a key
# revoked in another process is refused within it, in the same process at once. 0: read every time.
API_KEY_CACHE_SECONDS: float = env.float("API_KEY_CACHE_SECONDS", default=5.0)

CELERY_BROKER_URL: str = env.str("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {"integrations.*": {"queue": "integrations"}}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = TIME_ZONE
# A request must not hang on a broker that is down: sends after a commit are dropped and left to
# the sweeps (erp/scheduling.py). What bounds one failed send (measured in kombu 5.7 / redis):
# port closed (refused at once): the publish retry policy's sleeps, 0 + 0.1 s here (0.6 s with
# Celery's default policy); broker hung (accepts, never answers) or SYNs dropped: the socket
# timeouts below and the connection timeout (without them a publish waits forever).
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.1,
    "interval_max": 0.2,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 3}
# After a failed send, no send is attempted from that process for this long (a circuit breaker).
CELERY_ENQUEUE_BACKOFF_SECONDS: float = env.float("CELERY_ENQUEUE_BACKOFF_SECONDS", default=5.0)

# Background jobs (erp/jobs.py): imports, MRP, reconciliations, the simulated day. JOBS_INLINE runs
# a job in the request that starts it (the tests); otherwise a Celery task, or without a broker a
# thread of the web process. Progress is written at most every JOBS_PROGRESS_INTERVAL seconds through
# JOBS_PROGRESS_DATABASE: on PostgreSQL the alias "jobs", a second connection to the same database,
# so that it is seen while the job's own transaction is open (SQLite has one writer at a time: the
# default connection there, and the running process's memory). A running job with no progress for
# JOBS_STALE_SECONDS is failed as interrupted; a queued one is sent again after JOBS_REQUEUE_SECONDS.
if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
    DATABASES["jobs"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}
JOBS_PROGRESS_DATABASE: str = "jobs" if "jobs" in DATABASES else "default"
JOBS_INLINE: bool = env.bool("JOBS_INLINE", default=False)
JOBS_PROGRESS_INTERVAL: float = env.float("JOBS_PROGRESS_INTERVAL", default=0.3)
JOBS_STALE_SECONDS: int = env.int("JOBS_STALE_SECONDS", default=600)
JOBS_REQUEUE_SECONDS: int = env.int("JOBS_REQUEUE_SECONDS", default=120)

# Outbox: an event still undispatched this long after it was written is swept.
OUTBOX_SWEEP_GRACE_SECONDS: int = env.int("OUTBOX_SWEEP_GRACE_SECONDS", default=30)
OUTBOX_MAX_ATTEMPTS: int = env.int("OUTBOX_MAX_ATTEMPTS", default=20)
# A process sends its transactions' dispatch tasks at most once per this window: a lone one at once,
# those of a busy window together, as one task (erp.scheduling.Coalesced). 0: one task each.
OUTBOX_DISPATCH_WINDOW_SECONDS: float = env.float("OUTBOX_DISPATCH_WINDOW_SECONDS", default=0.1)
# Dispatched events are the documents' timelines (erp.timeline): kept two years by default, then
# pruned nightly.
OUTBOX_RETENTION_DAYS: int = env.int("OUTBOX_RETENTION_DAYS", default=730)

# API: requests per minute a new API key may make (0 = unlimited; each key can differ), and
# how long an Idempotency-Key is remembered (see erp.ratelimit and erp.idempotency).
API_RATE_LIMIT_PER_MINUTE: int = env.int("API_RATE_LIMIT_PER_MINUTE", default=600)
IDEMPOTENCY_KEY_TTL_HOURS: int = env.int("IDEMPOTENCY_KEY_TTL_HOURS", default=24)

# Notifications (erp.notifications): also mail each one to its recipient (who has an email),
# through Django's mail settings (EMAIL_BACKEND, EMAIL_HOST, DEFAULT_FROM_EMAIL, ...).
NOTIFICATIONS_EMAIL: bool = env.bool("NOTIFICATIONS_EMAIL", default=False)

# Procurement: purchase orders above their currency's threshold need a purchasing manager's
# approval before they are sent (procurement/thresholds.py). PURCHASE_APPROVAL_THRESHOLD is in the
# base currency (ERP_BASE_CURRENCY); PURCHASE_APPROVAL_THRESHOLDS gives other currencies their own
# ("EUR=4500,GBP=4000"). An order in a currency with no threshold always needs approval: there are
# no exchange rates here to compare it with the base currency's. Receipts may exceed the ordered
# quantity by this percentage; a billed price may differ from the ordered one by this percentage.
PURCHASE_APPROVAL_THRESHOLD = Decimal(env.str("PURCHASE_APPROVAL_THRESHOLD", default="5000"))
PURCHASE_APPROVAL_THRESHOLDS: dict[str, Decimal] = {
    code.strip().upper(): Decimal(amount)
    for code, amount in env.dict("PURCHASE_APPROVAL_THRESHOLDS", default={}).items()
}
RECEIPT_OVER_TOLERANCE_PERCENT = Decimal(env.str("RECEIPT_OVER_TOLERANCE_PERCENT", default="5"))
BILL_PRICE_TOLERANCE_PERCENT = Decimal(env.str("BILL_PRICE_TOLERANCE_PERCENT", default="1"))

# The company on printed documents (packing slips, invoices); the currency of costs and stock
# values (amounts that belong to no document).
COMPANY_NAME: str = env.str("COMPANY_NAME", default="ERP")
COMPANY_ADDRESS: str = env.str("COMPANY_ADDRESS", default="")  # lines separated by newlines
ERP_BASE_CURRENCY: str = env.str("ERP_BASE_CURRENCY", default="USD")

# Integration hub (integrations/). Where our webhook endpoints are reachable from outside
# (tools are told to call PUBLIC_BASE_URL/integrations/hooks/<id>/): by default the address
# `make run` serves on (its HOST and PORT).
PUBLIC_BASE_URL: str = env.str(
    "PUBLIC_BASE_URL",
    default=f"http://{env.str('HOST', default='127.0.0.1')}:{env.str('PORT', default='8000')}",
)
# The demo's fake Shopify, served by the app itself (integrations/demo.py): on in DEBUG.
ERP_DEMO_FAKES: bool = env.bool("ERP_DEMO_FAKES", default=DEBUG)
ERP_DEMO_BASE_URL: str = env.str("ERP_DEMO_BASE_URL", default=PUBLIC_BASE_URL)
INTEGRATIONS_HTTP_TIMEOUT: float = env.float("INTEGRATIONS_HTTP_TIMEOUT", default=10.0)
INTEGRATIONS_HTTP_CONNECT_TIMEOUT: float = env.float("INTEGRATIONS_HTTP_CONNECT_TIMEOUT", default=5.0)
INTEGRATIONS_LOG_BODY_BYTES: int = env.int("INTEGRATIONS_LOG_BODY_BYTES", default=2048)
# A 429 without Retry-After waits this long; a wait up to INTEGRATIONS_MAX_INLINE_WAIT_SECONDS is
# slept in the request, a longer one reschedules it; tokens are refreshed this long before expiry.
INTEGRATIONS_DEFAULT_RETRY_AFTER: float = env.float("INTEGRATIONS_DEFAULT_RETRY_AFTER", default=2.0)
INTEGRATIONS_MAX_INLINE_WAIT_SECONDS: float = env.float("INTEGRATIONS_MAX_INLINE_WAIT_SECONDS", default=2.0)
# Every tool's declared rate limits times this (1): the simulated day with real workers runs its
# minutes 60 times faster than the wall clock, its fakes' limits too, and sets 60.
INTEGRATIONS_RATE_SCALE: float = env.float("INTEGRATIONS_RATE_SCALE", default=1.0)
INTEGRATIONS_TOKEN_REFRESH_SKEW_SECONDS: float = env.float(
    "INTEGRATIONS_TOKEN_REFRESH_SKEW_SECONDS", default=60.0
)
# Health warns this many days before a connection's token expires.
INTEGRATIONS_TOKEN_WARNING_DAYS: float = env.float("INTEGRATIONS_TOKEN_WARNING_DAYS", default=7.0)
# Deliveries and inbound events: attempts before a dead letter, and the backoff between them.
INTEGRATIONS_MAX_ATTEMPTS: int = env.int("INTEGRATIONS_MAX_ATTEMPTS", default=8)
INTEGRATIONS_RETRY_BASE_SECONDS: int = env.int("INTEGRATIONS_RETRY_BASE_SECONDS", default=10)
INTEGRATIONS_RETRY_CAP_SECONDS: int = env.int("INTEGRATIONS_RETRY_CAP_SECONDS", default=3600)
# A worker attempting a delivery claims it this long; a connection whose token was refused is
# tried again after INTEGRATIONS_REAUTH_RETRY_SECONDS.
INTEGRATIONS_CLAIM_SECONDS: int = env.int("INTEGRATIONS_CLAIM_SECONDS", default=300)
INTEGRATIONS_REAUTH_RETRY_SECONDS: int = env.int("INTEGRATIONS_REAUTH_RETRY_SECONDS", default=300)
# A push the tool runs as a job (an Amazon feed) is asked about this often until it is done.
INTEGRATIONS_JOB_POLL_SECONDS: float = env.float("INTEGRATIONS_JOB_POLL_SECONDS", default=30.0)
# Rate-limit buckets live in the database ("database") or, with a Redis broker, in Redis ("redis").
# A request slot of a concurrency cap is given back after the lease (unset: four times the HTTP
# timeouts); a token refresh holds its lease as long (unset: twice the timeouts).
INTEGRATIONS_RATE_LIMIT_BACKEND: str = env.str("INTEGRATIONS_RATE_LIMIT_BACKEND", default="database")
INTEGRATIONS_RATE_LIMIT_LEASE_SECONDS: float | None = env.float(
    "INTEGRATIONS_RATE_LIMIT_LEASE_SECONDS", default=None
)
INTEGRATIONS_RATE_LIMIT_REDIS_PREFIX: str = env.str(
    "INTEGRATIONS_RATE_LIMIT_REDIS_PREFIX", default="erp:ratelimit"
)
INTEGRATIONS_TOKEN_REFRESH_LEASE_SECONDS: float | None = env.float(
    "INTEGRATIONS_TOKEN_REFRESH_LEASE_SECONDS", default=None
)
INTEGRATIONS_INBOUND_BACKOFF_SECONDS: int = env.int("INTEGRATIONS_INBOUND_BACKOFF_SECONDS", default=30)
INTEGRATIONS_INBOUND_BACKOFF_MAX_SECONDS: int = env.int(
    "INTEGRATIONS_INBOUND_BACKOFF_MAX_SECONDS", default=21600
)
# Level changes of one SKU within this window become one push (0 in the embedded mode, which has
# no scheduler to come back later).
INTEGRATIONS_COALESCE_SECONDS: float = env.float(
    "INTEGRATIONS_COALESCE_SECONDS", default=2.0 if CELERY_BROKER_URL else 0.0
)
# Polling: how far back the cursor is rewound so that nothing updated "at the same time" is missed.
INTEGRATIONS_POLL_OVERLAP_SECONDS: int = env.int("INTEGRATIONS_POLL_OVERLAP_SECONDS", default=300)
# A first poll looks this far back; one poll reads at most this many pages (the rest next time).
INTEGRATIONS_POLL_INITIAL_LOOKBACK_SECONDS: int = env.int(
    "INTEGRATIONS_POLL_INITIAL_LOOKBACK_SECONDS", default=86400
)
INTEGRATIONS_POLL_MAX_PAGES: int = env.int("INTEGRATIONS_POLL_MAX_PAGES", default=100)
# Inbound events still "received" after this long (paused connection, lost task) are retried.
INTEGRATIONS_INBOUND_STALE_SECONDS: int = env.int("INTEGRATIONS_INBOUND_STALE_SECONDS", default=120)
# Reconciliation compares the orders changed within this window.
INTEGRATIONS_RECONCILE_ORDER_WINDOW_SECONDS: int = env.int(
    "INTEGRATIONS_RECONCILE_ORDER_WINDOW_SECONDS", default=7 * 86400
)
INTEGRATIONS_RECONCILE_AUTO_HEAL: bool = env.bool("INTEGRATIONS_RECONCILE_AUTO_HEAL", default=True)
# Outbound webhooks to private or loopback addresses are refused in production (SSRF).
INTEGRATIONS_WEBHOOK_ALLOW_PRIVATE_URLS: bool = env.bool(
    "INTEGRATIONS_WEBHOOK_ALLOW_PRIVATE_URLS", default=DEBUG
)
# Data kept only as long as needed (integrations/retention.py, daily): the raw body and headers of
# an inbound event this many days after it was processed or skipped (never while it may be
# replayed: received, failed, quarantined, dead); the request log's bodies and headers this many
# days, its rows (method, URL, status, timing: an audit) this many days.
INTEGRATIONS_RETAIN_INBOUND_BODY_DAYS: int = env.int("INTEGRATIONS_RETAIN_INBOUND_BODY_DAYS", default=30)
INTEGRATIONS_RETAIN_REQUEST_LOG_DAYS: int = env.int("INTEGRATIONS_RETAIN_REQUEST_LOG_DAYS", default=14)
INTEGRATIONS_RETAIN_REQUEST_LOG_ROWS_DAYS: int = env.int(
    "INTEGRATIONS_RETAIN_REQUEST_LOG_ROWS_DAYS", default=90
)
INTEGRATIONS_RETENTION_BATCH_SIZE: int = env.int("INTEGRATIONS_RETENTION_BATCH_SIZE", default=500)
# Where ``manage.py simulate_day`` (``make simulate``) writes its report by default; the hub's page
# shows the last one found here (nothing when the file is missing or unreadable).
INTEGRATIONS_SIMULATION_REPORT: Path = Path(
    env.str("INTEGRATIONS_SIMULATION_REPORT", default=str(BASE_DIR / "artifacts" / "simulation.json"))
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "celery.app.trace": {"level": "WARNING"},  # one INFO line per task is noise, even eager
    },
}
