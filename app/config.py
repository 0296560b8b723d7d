"""Configuration from the environment, with development defaults that
production refuses."""
import base64
import json
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEV_SECRET_KEY = "dev-secret-key-not-for-production"
DEV_DATA_KEY = "dev-data-key-not-for-production"


class ConfigError(RuntimeError):
    pass


def from_environment(instance_path: str) -> dict:
    env = os.environ
    mode = env.get("CARELOOP_ENV", "production")
    default_db = f"sqlite:///{Path(instance_path) / 'careloop.db'}"
    database_url = env.get("DATABASE_URL", default_db)
    config = {
        "CARELOOP_ENV": mode,
        "SECRET_KEY": env.get("SECRET_KEY", DEV_SECRET_KEY),
        "DATA_KEY": env.get("DATA_KEY", DEV_DATA_KEY),
        "DATA_KEY_PREVIOUS": env.get("DATA_KEY_PREVIOUS", ""),
        "DATA_INDEX_KEY": env.get("DATA_INDEX_KEY", ""),
        "SQLALCHEMY_DATABASE_URI": _normalise_db_url(database_url),
        "DATABASE_OWNER_URL": _normalise_db_url(env.get("DATABASE_OWNER_URL", database_url)),
        # behind PgBouncer's transaction pooling (no server-side prepared statements there)
        "DATABASE_TRANSACTION_POOLING": env.get("DATABASE_TRANSACTION_POOLING") == "1",
        "REDIS_URL": env.get("REDIS_URL") or None,
        "RQ_NAMESPACE": env.get("RQ_NAMESPACE", ""),
        "BASE_DOMAIN": env.get("BASE_DOMAIN", "localhost"),
        "STORAGE_URL": env.get("STORAGE_URL", f"file://{Path(instance_path) / 'storage'}"),
        "MAIL_URL": env.get("MAIL_URL", ""),
        "MAIL_FROM": env.get("MAIL_FROM", "noreply@careloop.example.cn"),
        "SMS_URL": env.get("SMS_URL", ""),
        "SMS_TEMPLATE_CODES": json.loads(env.get("SMS_TEMPLATE_CODES", "{}")),
        "PUBLIC_PORT": env.get("PUBLIC_PORT", ""),
        "EMBEDDED_WORKER": env.get("CARELOOP_EMBEDDED_WORKER") == "1",
        "PROXY_HOPS": int(env.get("PROXY_HOPS", "0") or 0),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": mode == "production",
        "PREFERRED_URL_SCHEME": "https" if mode == "production" else "http",
    }
    return config


def check_production(config: dict) -> None:
    """Production refuses to start on development secrets."""
    if config.get("CARELOOP_ENV") != "production" or config.get("TESTING"):
        return
    problems = []
    if config["SECRET_KEY"] in ("", DEV_SECRET_KEY) or len(config["SECRET_KEY"]) < 32:
        problems.append("SECRET_KEY must be set to a random value of at least 32 characters")
    keys = [("DATA_KEY", config["DATA_KEY"]), ("DATA_INDEX_KEY", config.get("DATA_INDEX_KEY") or "")]
    keys += [("DATA_KEY_PREVIOUS", k.strip()) for k in (config.get("DATA_KEY_PREVIOUS") or "").split(",") if k.strip()]
    if config["DATA_KEY"] in ("", DEV_DATA_KEY):
        problems.append("DATA_KEY must be set (32 random bytes, base64; see README)")
    else:
        for name, value in keys:
            if value and not _is_data_key(value):
                problems.append(f"{name} must decode from base64 to exactly 32 random bytes")
    if problems:
        raise ConfigError(
            "refusing to start in production: " + "; ".join(problems)
            + " (for local development set CARELOOP_ENV=development)"
        )


def engine_options(config: dict) -> dict:
    """SQLAlchemy's engine options. Behind a transaction-pooling PgBouncer one client connection is served
    by different server connections, so psycopg must not prepare statements on the server (PgBouncer
    1.18 passes nothing about them on); the tenant setting is already transaction-local (SET LOCAL)."""
    options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if config.get("DATABASE_TRANSACTION_POOLING"):
        options["connect_args"] = {**options.get("connect_args", {}), "prepare_threshold": None}
    return options


def _is_data_key(value: str) -> bool:
    try:
        return len(base64.b64decode(value, validate=True)) == 32
    except (ValueError, TypeError):
        return False


def _normalise_db_url(url: str) -> str:
    # psycopg 3 is the driver; accept the plain scheme people write.
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+psycopg://" + url[len(plain):]
    return url


DEFAULTS = {
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    "BABEL_DEFAULT_LOCALE": "zh_CN",
    "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
    "LANGUAGES": ("zh_CN", "en"),
    "WTF_CSRF_TIME_LIMIT": None,
    "MAX_CONTENT_LENGTH": 20 * 1024 * 1024,
    # Staff sign-in throttling (app/auth/throttle.py): the first failures are free, then each try
    # waits base * 2**n seconds up to the longest delay; failures are forgotten after a quiet spell;
    # a client address may fail so many times per window.
    "LOGIN_FREE_FAILURES": 3,
    "LOGIN_DELAY_BASE_SECONDS": 1,
    "LOGIN_DELAY_MAX_SECONDS": 60,
    "LOGIN_FAILURE_MEMORY_SECONDS": 3600,
    "LOGIN_ADDRESS_MAX_FAILURES": 30,
    "LOGIN_ADDRESS_WINDOW_SECONDS": 900,
    "CONSENT_VERSION": "2026-01",
    "PAGE_SIZE": 20,
    "NOTIFY_BACKOFF_SECONDS": 15,
    "NOTIFY_STUCK_SECONDS": 120,
    "NOTIFY_REQUEUE_GRACE_SECONDS": 20,
}
