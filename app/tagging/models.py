"""Tags, tag rules and the tags patients carry.

An automatic tag (``PatientTag``) belongs to the rule that applied it and
goes when the rule stops holding; a manual tag (``ManualTag``) stays until a
person removes it. The two live apart so a set-based evaluation can replace a
rule's rows with one INSERT ... SELECT and one DELETE, keyed by
``(tenant_id, rule_id, patient_id)``, without ids made in Python.
"""
from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.records import services as records
from tenants.db import Model, UTCDateTime
from tenants.models import utcnow
from tenants.scoping import TenantOwned, TenantScoped, tenant_fk

# JSONB on PostgreSQL: comparable (IS DISTINCT FROM) and compact.
EVIDENCE_TYPE = JSON().with_variant(JSONB(), "postgresql")

TAG_COLOURS = ("teal", "blue", "orange", "red", "purple", "grey")



class Tag(TenantScoped, Model):
    """A label. Rules apply it automatically; staff may also apply it by hand."""

    __tablename__ = "tags"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    name: Mapped[str] = mapped_column(String(40))
    name_en: Mapped[str] = mapped_column(String(60), default="")
    colour: Mapped[str] = mapped_column(String(10), default="teal")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TagRule(TenantScoped, Model):
    """A condition over a patient's data (``condition``: a tree of AND/OR
    groups and leaf conditions, see app.tagging.conditions) and the tag it
    applies. ``pack_key`` names the pack entry a rule came from."""

    __tablename__ = "tag_rules"
    __table_args__ = (
        tenant_fk("tag_id", "tags", ondelete="CASCADE"),
        Index("ix_tag_rules_tenant_active", "tenant_id", "active"),
    )

    name: Mapped[str] = mapped_column(String(80))
    tag_id: Mapped[int] = mapped_column(BigInteger)
    condition: Mapped[dict] = mapped_column(JSON, default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    pack_key: Mapped[str] = mapped_column(String(40), default="")
    source: Mapped[str] = mapped_column(Text, default="")           # where its thresholds come from
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    evaluated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    match_count: Mapped[int | None] = mapped_column(Integer)


class PatientTag(TenantOwned, Model):
    """A tag applied by a rule: the values that met it (``evidence``, keyed by
    leaf condition) and since when it has held (``applied_at``)."""

    __tablename__ = "patient_tags"
    __table_args__ = (
        tenant_fk("patient_id", "patients", ondelete="CASCADE"),
        tenant_fk("rule_id", "tag_rules", ondelete="CASCADE"),
        tenant_fk("tag_id", "tags", ondelete="CASCADE"),
        Index("ix_patient_tags_tenant_patient", "tenant_id", "patient_id"),
        Index("ix_patient_tags_tenant_tag_patient", "tenant_id", "tag_id", "patient_id"),
    )

    rule_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    patient_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    tag_id: Mapped[int] = mapped_column(BigInteger)
    rule_version: Mapped[int] = mapped_column(Integer, default=1)
    evidence: Mapped[dict] = mapped_column(EVIDENCE_TYPE, default=dict)
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # evidence last changed


class ManualTag(TenantOwned, Model):
    """A tag a person put on a patient; only a person takes it off."""

    __tablename__ = "patient_manual_tags"
    __table_args__ = (
        tenant_fk("patient_id", "patients", ondelete="CASCADE"),
        tenant_fk("tag_id", "tags", ondelete="CASCADE"),
        Index("ix_patient_manual_tags_tenant_tag_patient", "tenant_id", "tag_id", "patient_id"),
    )

    patient_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    tag_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    note: Mapped[str] = mapped_column(String(200), default="")
    applied_by: Mapped[int | None] = mapped_column(BigInteger)
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# The engine ranks a patient's values of one indicator newest first; this
# index hands them over in that order (PostgreSQL: current rows only, with the
# value and flag in the index). Declared here, on the records table, because
# the tagging engine is what needs it.
_observation = records.Observation
Index("ix_observations_tagging", _observation.tenant_id, _observation.indicator_id, _observation.patient_id,
      _observation.observed_at.desc(), _observation.id.desc(),
      postgresql_where=_observation.superseded_by.is_(None),
      postgresql_include=["value", "flag"])
