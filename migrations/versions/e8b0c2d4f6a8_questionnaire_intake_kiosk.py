"""questionnaires: intake forms required by exam packages, the front-desk tablet's staff PIN

Revision ID: e8b0c2d4f6a8
Revises: f5c7e9a1b3d4
Create Date: 2026-12-06 02:10:00
"""
from alembic import op
import sqlalchemy as sa

from tenants import rls

revision = 'e8b0c2d4f6a8'
down_revision = 'f5c7e9a1b3d4'
branch_labels = None
depends_on = None

TABLES = ('package_intake_forms', 'questionnaire_settings')


def upgrade():
    op.create_table(
        'package_intake_forms',
        sa.Column('tenant_id', sa.BigInteger(), nullable=False),
        sa.Column('id', sa.BigInteger(), nullable=False),
        sa.Column('package_id', sa.BigInteger(), nullable=False),
        sa.Column('questionnaire_id', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_package_intake_forms_tenant_id_tenants')),
        sa.ForeignKeyConstraint(['tenant_id', 'package_id'], ['exam_packages.tenant_id', 'exam_packages.id'],
                                name=op.f('fk_package_intake_forms_tenant_id_package_id_exam_packages'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['tenant_id', 'questionnaire_id'], ['questionnaires.tenant_id', 'questionnaires.id'],
                                name=op.f('fk_package_intake_forms_tenant_id_questionnaire_id_questionnaires'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_package_intake_forms')),
        sa.UniqueConstraint('tenant_id', 'package_id', name=op.f('uq_package_intake_forms_tenant_id_package_id')),
    )
    op.create_table(
        'questionnaire_settings',
        sa.Column('tenant_id', sa.BigInteger(), nullable=False),
        sa.Column('kiosk_pin_hash', sa.String(length=200), nullable=False),
        sa.Column('updated_by', sa.BigInteger(), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_questionnaire_settings_tenant_id_tenants')),
        sa.PrimaryKeyConstraint('tenant_id', name=op.f('pk_questionnaire_settings')),
    )
    for table in TABLES:
        rls.enable(op, table)
        rls.grant_app_role(op, table)


def downgrade():
    for table in reversed(TABLES):
        op.drop_table(table)
