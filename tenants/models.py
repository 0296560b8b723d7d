"""Platform tables: the only ones without tenant_id."""
from datetime import datetime, timezone

from sqlalchemy import BigInteger, Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tenants.db import Model, UTCDateTime
from tenants.ids import new_id


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Tenant(Model):
    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    card_prefix: Mapped[str] = mapped_column(String(6), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    domains: Mapped[list["Domain"]] = relationship(back_populates="tenant")

    def __repr__(self) -> str:
        return f"<Tenant {self.slug}>"


class Domain(Model):
    """A custom host name (``clinic.example.cn``) that names a tenant."""

    __tablename__ = "domains"

    host: Mapped[str] = mapped_column(String(253), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("tenants.id"), index=True)

    tenant: Mapped[Tenant] = relationship(back_populates="domains")
