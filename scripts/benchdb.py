"""The database part every benchmark shares: each recreates its own database
(the name must contain "bench") owned by the owner role, with the app role
allowed in, as scripts/services.sh sets up for the suite."""
import os
import subprocess
import sys

import psycopg
from sqlalchemy.engine import make_url

from app.config import _normalise_db_url


def libpq(url: str, database: str | None = None) -> str:
    """A SQLAlchemy URL as a plain libpq one, optionally for another database."""
    parsed = make_url(url).set(drivername="postgresql")
    return (parsed.set(database=database) if database else parsed).render_as_string(hide_password=False)


def recreate(owner_url: str, app_url: str) -> None:
    name = make_url(owner_url).database
    if "bench" not in name:
        sys.exit(f"refusing to drop database {name!r}: its name must contain 'bench'")
    with psycopg.connect(libpq(owner_url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(libpq(owner_url), autocommit=True) as conn:
        conn.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")
        conn.execute(f'GRANT USAGE ON SCHEMA public TO "{make_url(app_url).username}"')


def urls(database: str) -> tuple[str, str]:
    """(app role URL, owner URL) of a benchmark's own database, unless
    BENCH_DATABASE_URL and BENCH_DATABASE_OWNER_URL say otherwise."""
    app = os.environ.get("BENCH_DATABASE_URL", f"postgresql+psycopg://careloop_app:careloop@127.0.0.1:5432/{database}")
    owner = os.environ.get("BENCH_DATABASE_OWNER_URL",
                           f"postgresql+psycopg://careloop_owner:careloop@127.0.0.1:5432/{database}")
    return _normalise_db_url(app), _normalise_db_url(owner)


def stop(proc: subprocess.Popen, log) -> None:
    """Stop a server the benchmark started (kill it if it lingers) and close its log."""
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log.close()


def new_clinic(slug: str, password: str = "bench-password-123"):
    """Migrate the benchmark's fresh database and open one clinic (owner ``owner@<slug>.example.cn``);
    returns the tenant, inside an app context the caller has pushed."""
    from flask_migrate import upgrade

    from tenants.services import create_tenant

    upgrade()
    return create_tenant(slug, "Bench clinic", admin_email=f"owner@{slug}.example.cn", admin_password=password)
