"""The clinic's advice library: the pack's items installed for each clinic,
the clinic's own edits and items, each save a new version."""
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from app.core import audit
from app.core.errors import FieldErrors
from app.interventions import advice_personal
from app.interventions.advice_models import CATEGORIES, AdviceItem, AdviceItemVersion
from tenants import packs
from tenants.db import db
from tenants.models import utcnow

MAX_TITLE, MAX_BODY, MAX_SOURCE = 120, 4000, 1000


@dataclass
class ItemData:
    category: str
    title_zh: str
    title_en: str
    body_zh: str
    body_en: str
    source: str
    conditions: dict


def install_pack() -> int:
    """Add the pack's items this clinic does not have yet (by pack key); returns how many."""
    have = set(db.session.scalars(select(AdviceItem.pack_key).where(AdviceItem.pack_key != "")))
    added = 0
    for spec in packs.load("advice")["items"]:
        if spec["key"] in have:
            continue
        item = AdviceItem(key=spec["key"], category=spec["category"], current_version=1, pack_key=spec["key"])
        db.session.add(item)
        db.session.flush()
        db.session.add(AdviceItemVersion(
            item_id=item.id, version=1, category=spec["category"], title_zh=spec["title"]["zh"],
            title_en=spec["title"]["en"], body_zh=spec["body"]["zh"], body_en=spec["body"]["en"],
            conditions=spec["conditions"], source=spec["source"]))
        added += 1
    db.session.flush()
    return added


def ensure_pack() -> None:
    """Clinics opened before the library existed get the pack the first time it is needed."""
    if db.session.scalar(select(AdviceItem.id).limit(1)) is None:
        install_pack()


def get(item_id: int) -> AdviceItem | None:
    return db.session.scalar(select(AdviceItem).where(AdviceItem.id == item_id))


def version_of(item: AdviceItem, version: int | None = None) -> AdviceItemVersion:
    return db.session.scalars(select(AdviceItemVersion).where(
        AdviceItemVersion.item_id == item.id,
        AdviceItemVersion.version == (version or item.current_version))).one()


def versions(item: AdviceItem) -> list[AdviceItemVersion]:
    return list(db.session.scalars(select(AdviceItemVersion).where(AdviceItemVersion.item_id == item.id)
                                   .order_by(AdviceItemVersion.version.desc())))


def current_items(active_only: bool = False) -> list[tuple[AdviceItem, AdviceItemVersion]]:
    """Each item with its current version, by category and title."""
    query = (select(AdviceItem, AdviceItemVersion)
             .join(AdviceItemVersion, (AdviceItemVersion.item_id == AdviceItem.id)
                   & (AdviceItemVersion.tenant_id == AdviceItem.tenant_id)
                   & (AdviceItemVersion.version == AdviceItem.current_version)))
    if active_only:
        query = query.where(AdviceItem.active)
    rows = [(item, version) for item, version in db.session.execute(query)]
    order = {c: n for n, c in enumerate(CATEGORIES)}
    return sorted(rows, key=lambda r: (order.get(r[0].category, 99), r[1].title_zh))


def _check(data: ItemData) -> None:
    errors: dict[str, str] = {}
    if data.category not in CATEGORIES:
        errors["category"] = _("Choose a category.")
    for name, limit in (("title_zh", MAX_TITLE), ("title_en", MAX_TITLE), ("body_zh", MAX_BODY),
                        ("body_en", MAX_BODY), ("source", MAX_SOURCE)):
        value = getattr(data, name)
        if not value.strip():
            errors[name] = _("Write this; it cannot be empty.")
        elif len(value) > limit:
            errors[name] = _("At most %(n)d characters.", n=limit)
    for name in ("body_zh", "body_en"):
        unknown = advice_personal.unknown_placeholders(getattr(data, name))
        if unknown and name not in errors:
            errors[name] = _("Unknown placeholder: %(names)s. Known: %(known)s.",
                             names=", ".join(f"{{{n}}}" for n in unknown),
                             known=", ".join(f"{{{n}}}" for n in advice_personal.PLACEHOLDERS))
    if errors:
        raise FieldErrors(errors)


def save(item: AdviceItem | None, data: ItemData, *, active: bool = True, actor_id: int | None = None) -> AdviceItem:
    """Save the item as a new version (a new item when ``item`` is None); the caller commits."""
    _check(data)
    if item is None:
        item = AdviceItem(key="", category=data.category, current_version=0)
        db.session.add(item)
        db.session.flush()
        item.key = f"own-{item.id}"
    item.current_version += 1
    item.category, item.active, item.updated_at = data.category, active, utcnow()
    db.session.add(AdviceItemVersion(
        item_id=item.id, version=item.current_version, category=data.category, title_zh=data.title_zh.strip(),
        title_en=data.title_en.strip(), body_zh=data.body_zh.strip(), body_en=data.body_en.strip(),
        conditions=data.conditions, source=data.source.strip(), saved_by=actor_id))
    audit.record("advice_item_saved", item_id=item.id, version=item.current_version)
    db.session.flush()
    return item
