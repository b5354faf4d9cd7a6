"""Settings for primer_sf, read from the environment (see .env.example for every name)."""

import base64
import hashlib
from pathlib import Path

import dj_database_url
from csp.constants import NONCE

from primer_sf.env import env, envbool, envchoice, envint, envlist, envsecret

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = envbool("DEBUG", False)

# A fixed key for local development only; the system checks refuse it outside DEBUG.
DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-primer-sf-0123456789"
SECRET_KEY = envsecret("SECRET_KEY") or DEV_SECRET_KEY

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "csp",
    "django_q",
    "connections",
    "ingestion",
    "audiences",
    "alerts",
    # ``manage.py demo``: outside the apps above; its command needs requirements-emulator.txt.
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "primer_sf.csp.LoginHostsCSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "primer_sf.urls"
WSGI_APPLICATION = "primer_sf.wsgi.application"
ASGI_APPLICATION = "primer_sf.asgi.application"

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
                "alerts.context_processors.open_alerts",
            ],
        },
    },
]


# --- Database --------------------------------------------------------------------------------
# SQLite is the embedded default (demo, quick tests); PostgreSQL through psycopg 3 when
# DATABASE_URL is set. dj-database-url parses every URL form (sockets, options, ports).
DATABASE_URL = env("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the site read while a worker writes; IMMEDIATE transactions take the write lock
    # up front, so two writers queue on busy_timeout instead of failing with "database is
    # locked" half-way through a transaction.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


# --- Sign-in (django-allauth: email and password) -------------------------------------------
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = env("ACCOUNT_EMAIL_VERIFICATION", "optional")
ACCOUNT_ALLOW_SIGNUP = envbool("ACCOUNT_ALLOW_SIGNUP", True)
ACCOUNT_ADAPTER = "connections.adapters.AccountAdapter"
ACCOUNT_LOGOUT_REDIRECT_URL = "/"
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "connections:index"
EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "primer_sf <noreply@localhost>")
# The site's public address, for links in alert emails (no request to build them from).
SITE_URL = env("SITE_URL", "http://localhost:8000").rstrip("/")
# How often a connection page refreshes its live parts while a sync is queued or running.
CONNECTION_PAGE_REFRESH_SECONDS = envint("CONNECTION_PAGE_REFRESH_SECONDS", 5)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- HTTPS and browser protections ------------------------------------------------------------
# On by default outside DEBUG; each can be turned off for a deployment that must (README
# "Production settings"). Reference: https://docs.djangoproject.com/en/5.2/ref/middleware/#module-django.middleware.security
SESSION_COOKIE_SECURE = envbool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
if envbool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", not DEBUG)
# HSTS: browsers refuse plain http to this host for this many seconds (one year by default).
# Subdomains and preloading commit every subdomain, and the browsers' preload list, to https:
# turn them on once every subdomain serves https. Reference: https://hstspreload.org/
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", False)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded files (audience CSV lists) wait here between upload, column mapping and import.
MEDIA_ROOT = env("MEDIA_ROOT", str(BASE_DIR / "var" / "media"))
MEDIA_URL = "media/"


# --- Secrets at rest --------------------------------------------------------------------------
def _dev_encryption_key(secret_key: str) -> str:
    """A Fernet key derived from SECRET_KEY, for DEBUG only (a system check says so)."""
    digest = hashlib.sha256(("field-encryption:" + secret_key).encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


# Comma-separated Fernet keys: the first encrypts, all decrypt (key rotation).
FIELD_ENCRYPTION_KEY = envsecret("FIELD_ENCRYPTION_KEY")
FIELD_ENCRYPTION_KEY_IS_DERIVED = not FIELD_ENCRYPTION_KEY and DEBUG
if FIELD_ENCRYPTION_KEY_IS_DERIVED:
    FIELD_ENCRYPTION_KEY = _dev_encryption_key(SECRET_KEY)


# --- Salesforce ------------------------------------------------------------------------------
# With DEBUG on and nothing set, everything points at the bundled emulator
# (python -m emulator --port 8765), so the demo needs no configuration. Against a real org only
# these values change.
EMULATOR_URL = env("EMULATOR_URL", "http://127.0.0.1:8765")
SALESFORCE_CLIENT_ID = envsecret("SALESFORCE_CLIENT_ID", "emulator-client-id" if DEBUG else "")
SALESFORCE_CLIENT_SECRET = envsecret(
    "SALESFORCE_CLIENT_SECRET", "emulator-client-secret" if DEBUG else ""
)
SALESFORCE_LOGIN_URL = env(
    "SALESFORCE_LOGIN_URL", EMULATOR_URL if DEBUG else "https://login.salesforce.com"
)
SALESFORCE_SANDBOX_LOGIN_URL = env(
    "SALESFORCE_SANDBOX_LOGIN_URL", EMULATOR_URL if DEBUG else "https://test.salesforce.com"
)
# Hosts an instance_url may have: ".example.com" matches any subdomain, a bare host matches
# exactly. Tokens are never sent to any other host.
SALESFORCE_ALLOWED_INSTANCE_HOSTS = envlist(
    "SALESFORCE_ALLOWED_INSTANCE_HOSTS",
    ".salesforce.com,.force.com" + (",127.0.0.1,localhost" if DEBUG else ""),
)
# Plain http and the IP address 127.0.0.1 may receive credentials only here: the bundled
# emulator on loopback (DEBUG, tests). Never on in production (a deploy check says so).
SALESFORCE_INSECURE_LOOPBACK = envbool("SALESFORCE_INSECURE_LOOPBACK", DEBUG)
SALESFORCE_API_VERSION = env("SALESFORCE_API_VERSION", "62.0")
# The OAuth callback URL registered on the connected app; built from the request when blank.
SALESFORCE_CALLBACK_URL = env("SALESFORCE_CALLBACK_URL")
SALESFORCE_REQUEST_TIMEOUT = envint("SALESFORCE_REQUEST_TIMEOUT", 120)
# Transient failures (5xx, timeouts, resets, UNABLE_TO_LOCK_ROW) are retried with exponential
# backoff and jitter, each wait at most this many seconds. How many times: a bound stated once,
# in connections/salesforce/retries.py.
SALESFORCE_RETRY_MAX_WAIT = envint("SALESFORCE_RETRY_MAX_WAIT", 30)


# --- Content-Security-Policy (django-csp) --------------------------------------------------------
# Scripts, styles and images from this site only: no inline style or event handler anywhere
# ('unsafe-inline' is never needed); an inline script runs only with the response's nonce
# (the audience builder's, until it moves to a static file). Forms may also lead to
# Salesforce's login hosts (connecting posts a form that redirects there): My Domains here,
# the configured login hosts added per response by primer_sf.csp.LoginHostsCSPMiddleware.
# Reference: https://django-csp.readthedocs.io/en/latest/configuration.html
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'", "https://*.my.salesforce.com"],
    }
}


# --- Background work (django-q2) --------------------------------------------------------------
REDIS_URL = env("REDIS_URL")


def q_cluster(redis_url: str, workers: int, loads_queue: str = "", loads_workers: int = 0) -> dict:
    """django-q2 settings: Redis when a URL is given, else the ORM broker.

    ``timeout`` (a task's hard limit) stays below ``retry`` (when the broker hands an
    unacknowledged task out again), so a slow task is never run twice at once; sync tasks work
    in bounded slices well inside ``timeout`` and enqueue their own continuation.

    ``loads_queue`` names a second queue (django-q2 calls it a cluster) for long Bulk work:
    ``Q_CLUSTER_NAME=<it> manage.py qcluster`` serves it with ``loads_workers`` workers, the
    settings otherwise the same (``ALT_CLUSTERS``). It is always present, even empty, because
    django-q2 reads it whenever ``Q_CLUSTER_NAME`` is set.
    Reference: https://django-q2.readthedocs.io/en/master/configure.html
    """
    config = {
        "name": "primer_sf",
        "workers": workers,
        "timeout": 600,
        "retry": 900,
        "max_attempts": 2,
        "catch_up": False,
        "save_limit": 1000,
        "ack_failures": True,
        "label": "Background tasks",
        "ALT_CLUSTERS": {loads_queue: {"workers": loads_workers or workers}} if loads_queue else {},
    }
    if redis_url:
        config["redis"] = redis_url
    else:
        config["orm"] = "default"
        config["poll"] = 0.5
    return config


# Initial loads, full and object resyncs, reconciliations and data deletions go to this queue
# when it is named, so a qcluster of their own runs them and no connection's initial load holds
# up the others' incremental syncs (README, "Running the worker and schedules"). Empty: one
# queue for everything (development, the demo, the tests).
INGESTION_LOADS_QUEUE = env("INGESTION_LOADS_QUEUE", "")
Q_CLUSTER = q_cluster(
    REDIS_URL, envint("Q_WORKERS", 2), INGESTION_LOADS_QUEUE, envint("Q_LOADS_WORKERS", 0)
)


# --- Audiences -------------------------------------------------------------------------------
# Minimum matched audience size each ad platform serves; platforms change these, so they are
# configuration. Reference: ../shared/reference/research-peers.md §2.3.
AUDIENCE_PLATFORM_MINIMUMS = {"linkedin": 300, "meta": 100, "google": 1000}
AUDIENCE_CSV_MAX_BYTES = envint("AUDIENCE_CSV_MAX_BYTES", 25 * 1024 * 1024)


# --- Logging -----------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django": {"level": env("DJANGO_LOG_LEVEL", "WARNING")}},
}


# --- Ingestion engine --------------------------------------------------------------------------
INGESTION = {
    # Overlap of each incremental window with the last committed one (airbyte#27146).
    "LOOKBACK_SECONDS": envint("INGESTION_LOOKBACK_SECONDS", 600),
    # Incremental windows with at most this many rows are read over REST (no job, no polls).
    "REST_THRESHOLD": envint("INGESTION_REST_THRESHOLD", 2000),
    # "rest" reads every window over REST, never Bulk: the baseline the benchmark compares
    # with (what most open-source connectors do by default), or for orgs without Bulk access.
    "READ_MODE": envchoice("INGESTION_READ_MODE", ("auto", "rest"), "auto"),
    # Bulk query jobs of one connection in flight at once.
    "MAX_BULK_JOBS": envint("INGESTION_MAX_BULK_JOBS", 3),
    # Windows above this many rows are split, so no single job is huge.
    "MAX_WINDOW_RECORDS": envint("INGESTION_MAX_WINDOW_RECORDS", 500_000),
    # maxRecords per Bulk result page: a killed worker loses at most one page.
    "PAGE_MAX_RECORDS": envint("INGESTION_PAGE_MAX_RECORDS", 100_000),
    # Result pages of a completed Bulk job fetched ahead (threads) while one is written, on
    # API 58.0+ (resultPages); 0 reads one page after another. Each waits in a temp file.
    "PAGES_AHEAD": envint("INGESTION_PAGES_AHEAD", 2),
    # COPY streams (connections of their own) a first load or full resync writes each page
    # over: PostgreSQL stores one stream on one core (bench/README.md, "...over two COPY streams").
    "WRITE_LANES": envint("INGESTION_WRITE_LANES", 2),
    # A first load or full resync parses its Bulk pages partly in a helper process (one per
    # worker process, started when needed, gone after 5 idle minutes): the worker's one
    # parsing thread bounded loads where a core stood idle (ingestion/engine/helper_process.py).
    "PARSE_HELPER": envbool("INGESTION_PARSE_HELPER", True),
    # Work per task before it checkpoints and enqueues its continuation (below Q timeout).
    "SLICE_SECONDS": envint("INGESTION_SLICE_SECONDS", 120),
    "POLL_INITIAL_SECONDS": 1.0,
    "POLL_MAX_SECONDS": envint("INGESTION_POLL_MAX_SECONDS", 30),
    # A job still running after this long is aborted and its window split.
    "JOB_DEADLINE_SECONDS": envint("INGESTION_JOB_DEADLINE_SECONDS", 7200),
    # A running sync whose heartbeat is older than this is taken over by the scheduler.
    "STALE_RUN_SECONDS": envint("INGESTION_STALE_RUN_SECONDS", 300),
    # glibc heaps (arenas) a sync worker's threads share; 0 keeps glibc's default (8 per
    # core). One keeps the worker's memory from growing with the org (bench/README.md).
    "MALLOC_ARENAS": envint("INGESTION_MALLOC_ARENAS", 1),
    # Hard deletes, formula fields and new fields are reconciled this often (one Id+formula
    # Bulk job per object).
    "RECONCILE_HOURS": envint("INGESTION_RECONCILE_HOURS", 24),
    # Records deleted per committed batch when a disconnected connection's data is deleted:
    # bounded memory and short row locks, whatever the copy's size.
    "PURGE_BATCH_RECORDS": envint("INGESTION_PURGE_BATCH_RECORDS", 5000),
}
