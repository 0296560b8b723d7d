"""Staff accounts, their second factor and password-reset links. A staff
user belongs to exactly one clinic; their sessions are app/core/sessions."""
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.access import role_can
from tenants.db import Model, UTCDateTime
from tenants.models import utcnow
from tenants.scoping import TenantScoped, tenant_fk


class StaffUser(TenantScoped, Model):
    __tablename__ = "staff_users"
    __table_args__ = (UniqueConstraint("tenant_id", "email"),)

    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(60))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # The server-side session this request runs in (set by the user loader;
    # not a column): the cookie holds "<tenant id>.<session token>".
    session_token = ""
    session_id = 0  # its id (0: none)

    # Flask-Login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.tenant_id}.{self.session_token}"

    def can(self, permission: str) -> bool:
        return role_can(self.role, permission)


class TwoFactor(TenantScoped, Model):
    """A staff member's TOTP secret (encrypted), pending until a first code
    confirms it; ``last_step`` refuses a code used before."""

    __tablename__ = "staff_two_factor"
    __table_args__ = (UniqueConstraint("tenant_id", "user_id"), tenant_fk("user_id", "staff_users", ondelete="CASCADE"))

    user_id: Mapped[int] = mapped_column(BigInteger)
    secret_enc: Mapped[bytes] = mapped_column(LargeBinary)
    enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_step: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RecoveryCode(TenantScoped, Model):
    """A single-use recovery code: only its keyed hash is kept."""

    __tablename__ = "staff_recovery_codes"
    __table_args__ = (UniqueConstraint("tenant_id", "code_hash"),
                      tenant_fk("user_id", "staff_users", ondelete="CASCADE"),
                      Index("ix_staff_recovery_codes_tenant_user", "tenant_id", "user_id"))

    user_id: Mapped[int] = mapped_column(BigInteger)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PasswordReset(TenantScoped, Model):
    """An emailed link to set a new password: single use, 30 minutes, only
    the token's hash kept."""

    __tablename__ = "staff_password_resets"
    __table_args__ = (UniqueConstraint("tenant_id", "token_hash"),
                      tenant_fk("user_id", "staff_users", ondelete="CASCADE"),
                      Index("ix_staff_password_resets_tenant_user", "tenant_id", "user_id", "created_at"))

    user_id: Mapped[int] = mapped_column(BigInteger)
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
