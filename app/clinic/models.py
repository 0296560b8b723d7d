"""The clinic's own profile: the name it shows, how it is reached and its logo (one row per clinic; no row:
nothing recorded). The name registered with the platform (``tenants.name``) is the platform's: the
application may only read that table, so the clinic's own name lives here and is shown where set."""
from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tenants.db import Model, UTCDateTime
from tenants.models import utcnow
from tenants.scoping import TenantOwned


class ClinicProfile(TenantOwned, Model):
    __tablename__ = "clinic_profiles"

    display_name: Mapped[str] = mapped_column(String(120), default="")  # empty: the registered name
    address: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    logo_key: Mapped[str] = mapped_column(String(200), default="")   # under the clinic's storage prefix
    logo_mime: Mapped[str] = mapped_column(String(20), default="")   # image/png | image/jpeg
    logo_width: Mapped[int] = mapped_column(Integer, default=0)      # pixels, read from the image; 0: not known
    logo_height: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
