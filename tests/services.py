"""Which real services the suite can use, decided once per run. Each run
has a database and a Redis key space of its own (a random suffix), so two
runs on one machine never meet; both are removed when the run ends."""
import os
import secrets

import psycopg
import redis

REQUIRE = os.environ.get("REQUIRE_SERVICES") == "1"
RUN_ID = secrets.token_hex(4)
DB_NAME = os.environ.get("TEST_DATABASE_NAME", f"careloop_test_{RUN_ID}")
RQ_NAMESPACE = f"careloop-test-{RUN_ID}-"
# TEST_PGBOUNCER_PORT: the application role connects through PgBouncer (transaction pooling) on that port;
# the owner (migrations, the test database itself) connects directly.
PGBOUNCER_PORT = os.environ.get("TEST_PGBOUNCER_PORT", "")
APP_URL = os.environ.get("TEST_DATABASE_URL",
                         f"postgresql://careloop_app:careloop@127.0.0.1:{PGBOUNCER_PORT or 5432}/{DB_NAME}")
OWNER_URL = os.environ.get("TEST_DATABASE_OWNER_URL",
                           f"postgresql://careloop_owner:careloop@127.0.0.1:5432/{DB_NAME}")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")


def _maintenance_url(url: str) -> str:
    return url.rsplit("/", 1)[0] + "/postgres"


def prepare_postgres() -> str | None:
    """Recreate the test database; return why PostgreSQL is unusable, or None."""
    try:
        with psycopg.connect(_maintenance_url(OWNER_URL), autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')
        with psycopg.connect(OWNER_URL, autocommit=True) as conn:
            conn.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")
            conn.execute("GRANT USAGE ON SCHEMA public TO careloop_app")
        with psycopg.connect(APP_URL, connect_timeout=3) as conn:
            row = conn.execute("SELECT rolbypassrls, rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
            if any(row):
                return "the application role may bypass row-level security"
    except psycopg.Error as exc:
        return f"PostgreSQL not usable ({type(exc).__name__}: {str(exc).strip().splitlines()[0]})"
    return None


def drop_database() -> None:
    try:
        with psycopg.connect(_maintenance_url(OWNER_URL), autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    except psycopg.Error:
        pass


def forget_redis_keys() -> None:
    """Remove this run's queues, registries and fixed job ids."""
    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        keys = list(client.scan_iter(match=f"*{RQ_NAMESPACE}*", count=1000))
        for start in range(0, len(keys), 500):
            client.delete(*keys[start:start + 500])
    except redis.RedisError:
        pass


def empty_queues() -> None:
    """Drop the jobs waiting in this run's queues (registries and scheduled jobs stay)."""
    from rq import Queue

    from app.core.jobs import QUEUES

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    for name in QUEUES:
        Queue(RQ_NAMESPACE + name, connection=client).empty()


def redis_problem() -> str | None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        return f"Redis not reachable at {REDIS_URL} ({type(exc).__name__})"
    return None
