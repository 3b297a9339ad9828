"""Settings for Cantina Print: one file, driven by environment variables.

Every variable has a development default that works on one machine with nothing installed
(SQLite under var/, in-memory channel layer). A bad value raises ImproperlyConfigured with a
message that names the variable.
"""

import os
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.getenv("CANTINA_VAR_DIR", BASE_DIR / "var"))


def env_str(name, default=""):
    return os.getenv(name, default).strip()


def env_bool(name, default):
    raw = os.getenv(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}.")


def env_int(name, default, minimum=None):
    raw = os.getenv(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}.")
    return value


def env_list(name, default):
    raw = os.getenv(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", True)

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is false.")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "cantina.apps.CantinaConfig",
    "ninja",
    "axes",
    "csp",
    "orders",
    "printing",
    "webhooks",
    "api",
    "accounts",
]

MIDDLEWARE = [
    "cantina.middleware.HealthCheckMiddleware",  # first: /health answers whatever the Host header
    "django.middleware.security.SecurityMiddleware",
    "api.cors.ApiCorsMiddleware",
    "api.middleware.ApiProblemMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "accounts.middleware.NoStoreForSignedInMiddleware",
    "cantina.middleware.DatabaseUnavailableMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

# django-axes first: it refuses a locked-out username+address before the password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "cantina.urls"
ASGI_APPLICATION = "cantina.asgi.application"

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
            ],
        },
    },
]


def database_from_url(url):
    """Read DATABASE_URL (postgres://… or sqlite:////absolute/path) into a DATABASES entry."""
    import dj_database_url

    scheme = urlsplit(url).scheme
    if scheme not in {"postgres", "postgresql", "pgsql", "sqlite"}:
        raise ImproperlyConfigured(f"DATABASE_URL must start with postgres:// or sqlite:///, not {scheme or url!r}.")
    # Without the pool (DATABASE_POOL_SIZE=0), PostgreSQL connections are kept (with a health
    # check) instead of opened per query: a new connection with a password login per database
    # call was most of the two-process cost. SQLite keeps its connections too (see SQLITE_CONN_MAX_AGE).
    try:
        config = dj_database_url.parse(
            url,
            conn_max_age=env_int("DATABASE_CONN_MAX_AGE", SQLITE_CONN_MAX_AGE if scheme == "sqlite" else 60, minimum=0),
            conn_health_checks=True,
        )
    except ValueError as error:
        raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {error}") from None
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config.setdefault("OPTIONS", {}).update(SQLITE_OPTIONS)
    return config


def database_pool(config):
    """PostgreSQL connections come from a bounded pool per process (Django's "pool" option):
    N server processes under full load never exceed PostgreSQL's max_connections. Under ASGI
    every HTTP request runs in a thread of its own, so connections kept without a pool
    (DATABASE_CONN_MAX_AGE) pile up with the request rate until PostgreSQL refuses more."""
    postgres = config["ENGINE"] == "django.db.backends.postgresql"
    pool_size = env_int("DATABASE_POOL_SIZE", 10 if postgres else 0, minimum=0)
    if not pool_size:
        return config
    if not postgres:
        raise ImproperlyConfigured("DATABASE_POOL_SIZE needs a PostgreSQL DATABASE_URL.")
    if os.getenv("DATABASE_CONN_MAX_AGE", "").strip() not in {"", "0"}:
        raise ImproperlyConfigured(
            "DATABASE_CONN_MAX_AGE keeps connections outside the pool: unset it (or set 0), "
            "or set DATABASE_POOL_SIZE=0 to do without the pool."
        )
    config["CONN_MAX_AGE"] = 0
    config.setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": pool_size,
        # A request waits this long for a free connection, then fails (HTTP 500) instead of hanging.
        "timeout": env_int("DATABASE_POOL_TIMEOUT", 10, minimum=1),
    }
    return config


# SQLite connections are kept instead of opened and closed around every database call: that
# open/close was about 20 % of the server's CPU on agent connects (bench.storm profile, perf2).
# Daphne runs each HTTP request in a thread of its own; cantina.db closes that thread's
# connection when the request ends, so kept connections never pile up (tests/test_sqlite_connections.py).
SQLITE_CONN_MAX_AGE = 600

# WAL and a busy timeout let the server, the tests and manage.py share the file; IMMEDIATE
# transactions take the write lock up front instead of failing midway with "database is locked".
SQLITE_OPTIONS = {
    "timeout": 20,
    "transaction_mode": "IMMEDIATE",
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}

DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": database_from_url(DATABASE_URL)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",
            "OPTIONS": SQLITE_OPTIONS,
            "CONN_MAX_AGE": env_int("DATABASE_CONN_MAX_AGE", SQLITE_CONN_MAX_AGE, minimum=0),
            "CONN_HEALTH_CHECKS": True,
        }
    }
database_pool(DATABASES["default"])

# Every channel-layer call (wake-ups, group joins, /health's round trip) gives up after this many
# seconds: a Redis that hangs (stopped, a network that swallows packets) must not hang a request
# that confirms an order, an agent's connection or the sweep. Delivery never depends on it.
CANTINA_CHANNEL_LAYER_TIMEOUT = env_int("CANTINA_CHANNEL_LAYER_TIMEOUT", 3, minimum=1)
# channels-redis long-polls each receive for 5 s (its brpop_timeout): a socket silent for longer
# than that plus the timeout belongs to a Redis that hangs.
_REDIS_CONNECTION = {
    "socket_timeout": 5 + CANTINA_CHANNEL_LAYER_TIMEOUT,
    "socket_connect_timeout": CANTINA_CHANNEL_LAYER_TIMEOUT,
}


def redis_sentinels(raw):
    """Read REDIS_SENTINELS (``host:port,host:port``) into [(host, port), ...]."""
    sentinels = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        host, _, port = item.rpartition(":")
        if not host or not port.isdigit():
            raise ImproperlyConfigured(f"REDIS_SENTINELS must be host:port entries separated by commas, not {item!r}.")
        sentinels.append((host.strip("[]"), int(port)))
    if not sentinels:
        raise ImproperlyConfigured("REDIS_SENTINELS is empty: give host:port entries separated by commas.")
    return sentinels


REDIS_URL = env_str("REDIS_URL")
_redis_hosts: list[dict] | None = None
REDIS_SENTINELS = env_str("REDIS_SENTINELS")
REDIS_SENTINEL_MASTER = env_str("REDIS_SENTINEL_MASTER")
if REDIS_SENTINELS:
    # Redis with Sentinel: channels-redis asks the sentinels for the current primary and follows a
    # failover (a connection to the old primary fails, the next one goes to the new).
    if not REDIS_SENTINEL_MASTER:
        raise ImproperlyConfigured("REDIS_SENTINEL_MASTER must name the monitored primary when REDIS_SENTINELS is set.")
    if REDIS_URL:
        raise ImproperlyConfigured("Set REDIS_URL or REDIS_SENTINELS, not both.")
    _sentinel_timeouts = {
        "socket_timeout": CANTINA_CHANNEL_LAYER_TIMEOUT,
        "socket_connect_timeout": CANTINA_CHANNEL_LAYER_TIMEOUT,
    }
    _redis_hosts = [
        {
            "sentinels": redis_sentinels(REDIS_SENTINELS),
            "master_name": REDIS_SENTINEL_MASTER,
            "sentinel_kwargs": _sentinel_timeouts,
            **_REDIS_CONNECTION,
        }
    ]
elif REDIS_URL:
    if urlsplit(REDIS_URL).scheme not in {"redis", "rediss", "unix"}:
        raise ImproperlyConfigured(f"REDIS_URL must start with redis://, not {REDIS_URL!r}.")
    _redis_hosts = [{"address": REDIS_URL, **_REDIS_CONNECTION}]
if _redis_hosts:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": _redis_hosts, "capacity": 1000, "expiry": 30},
        }
    }
else:
    # Channels' in-memory layer without its O(channels) scan per receive (cantina/channel_layers.py).
    CHANNEL_LAYERS = {"default": {"BACKEND": "cantina.channel_layers.InMemoryChannelLayer"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "pt-br"
# The staff pages, the admin and the receipts speak these; the language switcher offers them by
# their own names. A browser asking for es-MX or zh-CN gets es or zh-hans. Catalogues live in
# locale/<pt_BR|en|es|zh_Hans>/; `python -m cantina.i18n_check` lists what is not translated.
LANGUAGES = [("pt-br", "Português (Brasil)"), ("en", "English"), ("es", "Español"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Number formats that differ from Django's for money (cantina/formats/: Chinese groups thousands
# with commas, as money is written in China, instead of Django's ungrouped default).
FORMAT_MODULE_PATH = ["cantina.formats"]
# The language chosen with the switcher outlives the browser session: a counter tablet keeps it.
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = env_str("CANTINA_TIME_ZONE", "America/Sao_Paulo")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    LANGUAGE_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    # HSTS: one day by default. Browsers renew it on every HTTPS answer, so staff devices that
    # use the site daily stay covered, while a mistake (certificate lapse, moving the site,
    # going back to plain HTTP for a day) locks browsers out for a day, not a year.
    # includeSubDomains and preload bind every subdomain of the school's domain (preload for
    # good, through the browsers' built-in list): the operator's choice, never a default.
    SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 86400, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", False)
    if SECURE_HSTS_PRELOAD and not (SECURE_HSTS_INCLUDE_SUBDOMAINS and SECURE_HSTS_SECONDS >= 31536000):
        raise ImproperlyConfigured(
            "DJANGO_SECURE_HSTS_PRELOAD=true needs DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS=true and "
            "DJANGO_SECURE_HSTS_SECONDS of at least 31536000 (what the browsers' preload list requires)."
        )
    # check --deploy warns about both being off; off is this project's deliberate default.
    SILENCED_SYSTEM_CHECKS = [
        check
        for check, enabled in (
            ("security.W005", SECURE_HSTS_INCLUDE_SUBDOMAINS),
            ("security.W021", SECURE_HSTS_PRELOAD),
        )
        if not enabled
    ]
    # The TLS proxy (deploy/nginx-cantina.conf) sets X-Forwarded-Proto; daphne only listens on
    # loopback behind it, so no client can set the header itself.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_REDIRECT_EXEMPT = [r"^health$"]

# Login throttling (django-axes): after CANTINA_LOGIN_FAILURE_LIMIT wrong passwords for one
# username from one address, that pair is refused for CANTINA_LOGIN_COOLOFF_MINUTES, on the staff
# login and the admin login alike. The address is REMOTE_ADDR: behind a proxy, run daphne with
# --proxy-headers so it is the client's (see README). Agents (tokens) never go through it.
AXES_FAILURE_LIMIT = env_int("CANTINA_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("CANTINA_LOGIN_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_USERNAME_CALLABLE = "accounts.lockout.client_username"
AXES_VERBOSE = False

# Content-Security-Policy (django-csp 4): scripts and style sheets only from this site, no inline
# script anywhere. Style attributes stay allowed (style-src-attr): the receipt preview sizes its
# columns and images with them, and Django's admin uses a few; they cannot run code.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# --- Cantina Print -------------------------------------------------------------------------

CANTINA_SHOP_NAME = env_str("CANTINA_SHOP_NAME", "Cantina Escolar")
CANTINA_SHOP_ADDRESS = env_str("CANTINA_SHOP_ADDRESS", "")
CANTINA_RECEIPT_FOOTER = env_str("CANTINA_RECEIPT_FOOTER", "Obrigado e bom apetite!")
# The shop's currency symbol: prices are in one currency whatever language a page or receipt
# speaks (the language only chooses the separators: "R$ 1.234,50", "R$ 1,234.50").
CANTINA_CURRENCY_SYMBOL = env_str("CANTINA_CURRENCY_SYMBOL", "R$")
# Receipts speak the canteen's language, which need not be one of the staff pages' languages.
CANTINA_RECEIPT_LANGUAGES = ("pt-br", "en", "es", "zh-hans")
CANTINA_RECEIPT_LANGUAGE = env_str("CANTINA_RECEIPT_LANGUAGE", LANGUAGE_CODE).lower()
if CANTINA_RECEIPT_LANGUAGE not in CANTINA_RECEIPT_LANGUAGES:
    raise ImproperlyConfigured(
        f"CANTINA_RECEIPT_LANGUAGE must be one of {', '.join(CANTINA_RECEIPT_LANGUAGES)}, "
        f"not {CANTINA_RECEIPT_LANGUAGE!r}."
    )
# Fonts of raster printing (Chinese on printers without GB18030, raster_only printers, PNG).
CANTINA_FONT_LATIN = env_str("CANTINA_FONT_LATIN", "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf")
CANTINA_FONT_CJK = env_str("CANTINA_FONT_CJK", "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")

# How often each server process sweeps for jobs whose wake-up was lost, revoked tokens and
# replaced connections, and pings its agents (seconds). Delivery rule 3 promises 10 s.
CANTINA_SWEEP_INTERVAL = env_int("CANTINA_SWEEP_INTERVAL", 3, minimum=1)
# Seconds between the maintenance passes that expire jobs past their expires_at (a cheap pass,
# but not needed at every sweep).
CANTINA_EXPIRY_INTERVAL = env_int("CANTINA_EXPIRY_INTERVAL", 60, minimum=1)
# Periodic maintenance (printing.maintenance: missing receipts, expiry, stale printers) runs in a
# thread of every ASGI server process. Turn it off when `manage.py printing_maintenance` runs it
# as a separate worker instead.
CANTINA_MAINTENANCE_IN_PROCESS = env_bool("CANTINA_MAINTENANCE_IN_PROCESS", True)
CANTINA_AGENT_PING_INTERVAL = env_int("CANTINA_AGENT_PING_INTERVAL", 15, minimum=1)
CANTINA_JOB_MAX_RETRIES = env_int("CANTINA_JOB_MAX_RETRIES", 5, minimum=0)
# A printer that auto-prints and has had no agent (or paper out / cover open) this long is an
# alarm: /health degraded (503), red bar on the staff pages (tests shorten it).
CANTINA_PRINTER_ALARM_SECONDS = env_int("CANTINA_PRINTER_ALARM_SECONDS", 30, minimum=1)
CANTINA_JOB_EXPIRY_HOURS = env_int("CANTINA_JOB_EXPIRY_HOURS", 24, minimum=1)
CANTINA_AGENT_MAX_MESSAGE_BYTES = 64 * 1024
CANTINA_AGENT_MAX_MESSAGES_PER_SECOND = env_int("CANTINA_AGENT_MAX_MESSAGES_PER_SECOND", 20, minimum=1)
# Cloud printers (Star CloudPRNT, Epson Server Direct Print): a job handed out and not confirmed
# within CANTINA_CLOUD_CONFIRM_SECONDS fails "interrupted"; a paper/cover problem learnt from an
# Epson job result is retried after CANTINA_CLOUD_RETRY_SECONDS (an Epson poll carries no status).
CANTINA_CLOUD_CONFIRM_SECONDS = env_int("CANTINA_CLOUD_CONFIRM_SECONDS", 600, minimum=10)
CANTINA_CLOUD_RETRY_SECONDS = env_int("CANTINA_CLOUD_RETRY_SECONDS", 30, minimum=1)
CANTINA_CLOUD_MAX_BODY_BYTES = 64 * 1024
# Threads serving cloud printer requests in each server process (each holds a database connection).
CANTINA_CLOUD_THREADS = env_int("CANTINA_CLOUD_THREADS", 4, minimum=1)

# Print API (/api/v1/): each key's token bucket, refilled at this many requests per minute, holds
# at most CANTINA_API_BURST; a key may have its own rate (admin).
CANTINA_API_RATE_PER_MINUTE = env_int("CANTINA_API_RATE_PER_MINUTE", 600, minimum=1)
CANTINA_API_BURST = env_int("CANTINA_API_BURST", 60, minimum=1)
# Webhook deliveries: seconds to wait for the receiver's answer.
CANTINA_WEBHOOK_TIMEOUT = env_int("CANTINA_WEBHOOK_TIMEOUT", 5, minimum=1)

LOG_LEVEL = env_str("CANTINA_LOG_LEVEL", "INFO").upper()
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    raise ImproperlyConfigured(f"CANTINA_LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not {LOG_LEVEL!r}.")
# Several daphne processes must not rotate one file under each other: "{pid}" in the name
# gives each process its own file.
LOG_FILE = env_str("CANTINA_LOG_FILE").replace("{pid}", str(os.getpid()))
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        # ISO 8601 with the UTC offset, so lines from the server and agents line up.
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s", "datefmt": "%Y-%m-%dT%H:%M:%S%z"},
    },
    "filters": {"without_traceback": {"()": "cantina.logfilters.WithoutTraceback"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "cantina": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        # One line per request with a bad Host header (logged at ERROR, with a traceback, by Django).
        "django.security.DisallowedHost": {"filters": ["without_traceback"]},
    },
}
if LOG_FILE:
    LOGGING["handlers"]["file"] = {
        "class": "logging.handlers.RotatingFileHandler",
        "formatter": "plain",
        "filename": LOG_FILE,
        "maxBytes": env_int("CANTINA_LOG_FILE_MAX_BYTES", 5 * 1024 * 1024, minimum=1024),
        "backupCount": env_int("CANTINA_LOG_FILE_BACKUPS", 5, minimum=0),
    }
    # Everything that reaches the console reaches the file: Cantina's lines and Django's errors.
    LOGGING["loggers"]["cantina"]["handlers"].append("file")
    LOGGING["root"]["handlers"].append("file")
    Path(LOG_FILE).parent.mkdir(parents=True, exist_ok=True)

VAR_DIR.mkdir(parents=True, exist_ok=True)
