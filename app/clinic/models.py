"""The clinic's own profile: how it is reached and its logo (one row per clinic; no row: nothing recorded)."""
from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from tenants.db import Model, UTCDateTime
from tenants.models import utcnow
from tenants.scoping import TenantOwned


class ClinicProfile(TenantOwned, Model):
    __tablename__ = "clinic_profiles"

    address: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    logo_key: Mapped[str] = mapped_column(String(200), default="")   # under the clinic's storage prefix
    logo_mime: Mapped[str] = mapped_column(String(20), default="")   # image/png | image/jpeg
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
