"""staff security: server-side sessions for staff and the portal, the clinic's session policy, staff two-factor sign-in and password-reset links; staff accounts lose their lock and session-nonce columns; the app role may only read tenants and domains

Revision ID: cea644e9580e
Revises: e6a8c0d2f4b5
Create Date: 2026-12-08 09:00:00

Runs on PostgreSQL and SQLite. Every earlier staff session ends with this
revision (the sessions were the nonce in a signed cookie; they are now rows
in server_sessions): staff sign in again. Portal sessions end too. Failed
sign-ins are counted in Redis from now on, so the old lock columns go. On
PostgreSQL the application role keeps SELECT on ``tenants`` and ``domains``
and loses every write: clinics are created and suspended as the owner
(``flask tenants create|suspend|resume``).
"""
from alembic import op
import sqlalchemy as sa

from tenants import rls

revision = 'cea644e9580e'
down_revision = 'e6a8c0d2f4b5'
branch_labels = None
depends_on = None

NEW_TABLES = ('server_sessions', 'session_policies', 'staff_two_factor', 'staff_recovery_codes',
              'staff_password_resets')


def _tenant_fk(table):
    return sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f(f'fk_{table}_tenant_id_tenants'))


def _staff_fk(table):
    return sa.ForeignKeyConstraint(['tenant_id', 'user_id'], ['staff_users.tenant_id', 'staff_users.id'],
                                   name=op.f(f'fk_{table}_tenant_id_user_id_staff_users'), ondelete='CASCADE')


def upgrade():
    op.create_table(
        'server_sessions',
        sa.Column('tenant_id', sa.BigInteger(), nullable=False),
        sa.Column('id', sa.BigInteger(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('subject_id', sa.BigInteger(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('end_reason', sa.String(length=20), nullable=False),
        sa.Column('ip', sa.String(length=45), nullable=False),
        sa.Column('user_agent', sa.String(length=200), nullable=False),
        _tenant_fk('server_sessions'),
        sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_server_sessions')),
        sa.UniqueConstraint('tenant_id', 'token_hash', name=op.f('uq_server_sessions_tenant_id_token_hash')),
    )
    with op.batch_alter_table('server_sessions') as batch:
        batch.create_index('ix_server_sessions_tenant_subject', ['tenant_id', 'kind', 'subject_id'], unique=False)
    op.create_table(
        'session_policies',
        sa.Column('tenant_id', sa.BigInteger(), nullable=False),
        sa.Column('staff_idle_minutes', sa.Integer(), nullable=False),
        sa.Column('portal_idle_minutes', sa.Integer(), nullable=False),
        sa.Column('absolute_hours', sa.Integer(), nullable=False),
        sa.Column('two_factor_roles', sa.JSON(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        _tenant_fk('session_policies'),
        sa.PrimaryKeyConstraint('tenant_id', name=op.f('pk_session_policies')),
    )
    op.create_table(
        'staff_two_factor',
        sa.Column('tenant_id', sa.BigInteger(), nullable=False),
        sa.Column('id', sa.BigInteger(), nullable=False),
        sa.Column('user_id', sa.BigInteger(), nullable=False),
        sa.Column('secret_enc', sa.LargeBinary(), nullable=False),
        sa.Column('enabled_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_step', sa.BigInteger(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        _staff_fk('staff_two_factor'),
        _tenant_fk('staff_two_factor'),
        sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_staff_two_factor')),
        sa.UniqueConstraint('tenant_id', 'user_id', name=op.f('uq_staff_two_factor_tenant_id_user_id')),
    )
    op.create_table(
        'staff_recovery_codes',
        sa.Column('tenant_id', sa.BigInteger(), nullable=False),
        sa.Column('id', sa.BigInteger(), nullable=False),
        sa.Column('user_id', sa.BigInteger(), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        _staff_fk('staff_recovery_codes'),
        _tenant_fk('staff_recovery_codes'),
        sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_staff_recovery_codes')),
        sa.UniqueConstraint('tenant_id', 'code_hash', name=op.f('uq_staff_recovery_codes_tenant_id_code_hash')),
    )
    with op.batch_alter_table('staff_recovery_codes') as batch:
        batch.create_index('ix_staff_recovery_codes_tenant_user', ['tenant_id', 'user_id'], unique=False)
    op.create_table(
        'staff_password_resets',
        sa.Column('tenant_id', sa.BigInteger(), nullable=False),
        sa.Column('id', sa.BigInteger(), nullable=False),
        sa.Column('user_id', sa.BigInteger(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        _staff_fk('staff_password_resets'),
        _tenant_fk('staff_password_resets'),
        sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_staff_password_resets')),
        sa.UniqueConstraint('tenant_id', 'token_hash', name=op.f('uq_staff_password_resets_tenant_id_token_hash')),
    )
    with op.batch_alter_table('staff_password_resets') as batch:
        batch.create_index('ix_staff_password_resets_tenant_user', ['tenant_id', 'user_id', 'created_at'],
                           unique=False)
    for table in NEW_TABLES:
        rls.enable(op, table)
        rls.grant_app_role(op, table)

    with op.batch_alter_table('staff_users') as batch:
        batch.drop_column('failed_logins')
        batch.drop_column('locked_until')
        batch.drop_column('session_nonce')

    # The host-to-clinic map has no row-level security: the application only reads it.
    rls.revoke_app_role(op, 'tenants', 'INSERT, UPDATE, DELETE, TRUNCATE')
    rls.revoke_app_role(op, 'domains', 'INSERT, UPDATE, DELETE, TRUNCATE')


def downgrade():
    rls.grant_app_role(op, 'tenants', 'SELECT, INSERT, UPDATE')
    rls.grant_app_role(op, 'domains', 'SELECT, INSERT, UPDATE, DELETE')
    with op.batch_alter_table('staff_users') as batch:
        batch.add_column(sa.Column('failed_logins', sa.Integer(), nullable=False, server_default='0'))
        batch.add_column(sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('session_nonce', sa.String(length=32), nullable=False, server_default=''))
    # every account gets a nonce of its own (the sessions of before are not coming back)
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':  # under FORCE ROW LEVEL SECURITY: clinic by clinic
        for (tenant_id,) in bind.execute(sa.text("SELECT id FROM tenants ORDER BY id")).all():
            bind.execute(sa.text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant_id)})
            bind.execute(sa.text("UPDATE staff_users SET session_nonce = substr(md5(random()::text || id::text), 1, 16)"))
        bind.execute(sa.text("SELECT set_config('app.tenant_id', '', true)"))
    else:
        op.execute("UPDATE staff_users SET session_nonce = lower(hex(randomblob(8)))")
    for table in reversed(NEW_TABLES):
        op.drop_table(table)
