"""Key rotation: ``flask --app wsgi keys status | rotate``.

Each capability registers the columns it keeps sealed (``register``). To
rotate: set DATA_INDEX_KEY to the current DATA_KEY (the first time only:
blind indexes keep their key), put the new key in DATA_KEY and the old one
in DATA_KEY_PREVIOUS, restart, run ``keys rotate`` (clinic by clinic, in
batches, each committed, so the app keeps running and a stopped run
resumes), check ``keys status``, then drop DATA_KEY_PREVIOUS.
"""
from dataclasses import dataclass
from typing import Any

import click
from flask.cli import AppGroup
from sqlalchemy import LargeBinary, select, type_coerce
from sqlalchemy.orm.attributes import flag_modified

from app.core import crypto
from app.core.cli import tenant_option
from tenants.context import tenant_context
from tenants.db import db
from tenants.services import list_tenants

BATCH = 500


@dataclass
class Sealed:
    """A model's sealed columns: ``typed`` are EncryptedText/EncryptedJSON
    attributes, ``blobs`` columns holding crypto.encrypt() bytes."""

    model: Any  # a TenantScoped model class
    typed: tuple[str, ...] = ()
    blobs: tuple[str, ...] = ()


REGISTRY: list[Sealed] = []


def register(model, *, typed: tuple[str, ...] = (), blobs: tuple[str, ...] = ()) -> None:
    if all(entry.model is not model for entry in REGISTRY):
        REGISTRY.append(Sealed(model, typed, blobs))


def _stale_ids(entry: Sealed, after: int) -> tuple[list[int], int | None]:
    """Ids of the next batch's rows that hold something sealed with an old key, and the last id read."""
    model = entry.model
    columns = [type_coerce(getattr(model, name), LargeBinary) for name in (*entry.typed, *entry.blobs)]
    rows = db.session.execute(select(model.id, *columns).where(model.id > after)
                              .order_by(model.id).limit(BATCH)).all()
    stale = [row[0] for row in rows if not all(crypto.is_current(blob) for blob in row[1:])]
    return stale, (rows[-1][0] if rows else None)


def _rewrite(entry: Sealed, row, tenant_id: int) -> None:
    for name in entry.typed:
        if getattr(row, name) not in (None, ""):
            flag_modified(row, name)  # written again: sealed with the current key
    for name in entry.blobs:
        plain = crypto.decrypt(getattr(row, name), tenant_id)
        if plain is not None:
            setattr(row, name, crypto.encrypt(plain, tenant_id))


def _stale_batches(tenant_id: int):
    """(entry, ids) of the clinic's rows holding something sealed with an old key, a batch at a time."""
    with tenant_context(tenant_id):
        for entry in REGISTRY:
            after = 0
            while True:
                stale, last = _stale_ids(entry, after)
                if last is None:
                    break
                yield entry, stale
                after = last


def rotate_clinic(tenant_id: int) -> int:
    """Move one clinic's sealed rows to the current key, a committed batch at
    a time; returns how many."""
    moved = 0
    for entry, stale in _stale_batches(tenant_id):
        for row in db.session.scalars(select(entry.model).where(entry.model.id.in_(stale))):
            _rewrite(entry, row, tenant_id)
        db.session.commit()
        moved += len(stale)
    return moved


def stale_count(tenant_id: int) -> int:
    count = sum(len(stale) for _entry, stale in _stale_batches(tenant_id))
    db.session.rollback()
    return count


keys_cli = AppGroup("keys", help="Data-key rotation.")


def _clinics(slug: str | None) -> list[tuple[int, str]]:
    clinics = [(t.id, t.slug) for t in list_tenants() if slug in (None, t.slug)]
    db.session.rollback()
    if slug and not clinics:
        raise click.ClickException(f"no clinic with slug {slug!r}")
    return clinics


@keys_cli.command("status")
@tenant_option(required=False)
def status_command(slug: str | None):
    """Rows per clinic still sealed with a previous key."""
    clinics = _clinics(slug)
    for tenant_id, slug in clinics:
        click.echo(f"{slug}\t{stale_count(tenant_id)} rows on a previous key")


@keys_cli.command("rotate")
@tenant_option(required=False)
def rotate_command(slug: str | None):
    """Re-seal every clinic's rows (or one's) with DATA_KEY (batches of 500, each committed)."""
    clinics = _clinics(slug)
    failed = []
    for tenant_id, slug in clinics:
        try:
            click.echo(f"{slug}\t{rotate_clinic(tenant_id)} rows re-sealed")
        except ValueError as exc:  # a key missing from the configuration: the other clinics still rotate
            db.session.rollback()
            failed.append(f"{slug}: {exc}")
    if failed:
        raise click.ClickException("not rotated: " + "; ".join(failed))
