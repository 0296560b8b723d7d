"""questionnaires: clinic questionnaires, published versions, responses, intake-form history proposals

Revision ID: d3f5a7c9e1b2
Revises: 9d1f3b5c7e2a
Create Date: 2026-12-06 01:30:00
"""
from alembic import op
import sqlalchemy as sa

from tenants import rls

revision = 'd3f5a7c9e1b2'
down_revision = '9d1f3b5c7e2a'
branch_labels = None
depends_on = None

TABLES = ('questionnaires', 'questionnaire_versions', 'questionnaire_responses', 'questionnaire_proposals')


def _tenant_fk(table):
    return sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f(f'fk_{table}_tenant_id_tenants'))


def _fk(table, column, target, ondelete=None):
    return sa.ForeignKeyConstraint(['tenant_id', column], [f'{target}.tenant_id', f'{target}.id'],
                                   name=op.f(f'fk_{table}_tenant_id_{column}_{target}'), ondelete=ondelete)


def _key(table):
    return (sa.Column('tenant_id', sa.BigInteger(), nullable=False), sa.Column('id', sa.BigInteger(), nullable=False),
            _tenant_fk(table), sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f(f'pk_{table}')))


def upgrade():
    op.create_table(
        'questionnaires', *_key('questionnaires'),
        sa.Column('key', sa.String(length=40), nullable=False),
        sa.Column('kind', sa.String(length=12), nullable=False),
        sa.Column('title_zh', sa.String(length=120), nullable=False),
        sa.Column('title_en', sa.String(length=120), nullable=False),
        sa.Column('pack_key', sa.String(length=40), nullable=False),
        sa.Column('current_version', sa.Integer(), nullable=False),
        sa.Column('draft', sa.JSON(), nullable=True),
        sa.Column('archived', sa.Boolean(), nullable=False),
        sa.Column('created_by', sa.BigInteger(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint('tenant_id', 'key', name=op.f('uq_questionnaires_tenant_id_key')),
    )
    op.create_table(
        'questionnaire_versions', *_key('questionnaire_versions'),
        sa.Column('questionnaire_id', sa.BigInteger(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('definition', sa.JSON(), nullable=False),
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.Column('published_by', sa.BigInteger(), nullable=True),
        sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
        _fk('questionnaire_versions', 'questionnaire_id', 'questionnaires', 'CASCADE'),
        sa.UniqueConstraint('tenant_id', 'questionnaire_id', 'version',
                            name=op.f('uq_questionnaire_versions_tenant_id_questionnaire_id_version')),
    )
    op.create_table(
        'questionnaire_responses', *_key('questionnaire_responses'),
        sa.Column('questionnaire_id', sa.BigInteger(), nullable=False),
        sa.Column('version_id', sa.BigInteger(), nullable=False),
        sa.Column('patient_id', sa.BigInteger(), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('channel', sa.String(length=8), nullable=False),
        sa.Column('answers', sa.LargeBinary(), nullable=True),
        sa.Column('scores', sa.JSON(), nullable=False),
        sa.Column('flags', sa.JSON(), nullable=False),
        sa.Column('link_nonce', sa.String(length=32), nullable=False),
        sa.Column('requested_by', sa.BigInteger(), nullable=True),
        sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('context', sa.JSON(), nullable=False),
        _fk('questionnaire_responses', 'questionnaire_id', 'questionnaires', 'CASCADE'),
        _fk('questionnaire_responses', 'version_id', 'questionnaire_versions'),
        _fk('questionnaire_responses', 'patient_id', 'patients', 'CASCADE'),
    )
    op.create_index('ix_questionnaire_responses_tenant_patient', 'questionnaire_responses',
                    ['tenant_id', 'patient_id', 'submitted_at'])
    op.create_index('ix_questionnaire_responses_tenant_questionnaire', 'questionnaire_responses',
                    ['tenant_id', 'questionnaire_id', 'status'])
    op.create_table(
        'questionnaire_proposals', *_key('questionnaire_proposals'),
        sa.Column('response_id', sa.BigInteger(), nullable=False),
        sa.Column('patient_id', sa.BigInteger(), nullable=False),
        sa.Column('field', sa.String(length=40), nullable=False),
        sa.Column('value', sa.LargeBinary(), nullable=False),
        sa.Column('question', sa.String(length=40), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('decided_by', sa.BigInteger(), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        _fk('questionnaire_proposals', 'response_id', 'questionnaire_responses', 'CASCADE'),
        _fk('questionnaire_proposals', 'patient_id', 'patients', 'CASCADE'),
    )
    op.create_index('ix_questionnaire_proposals_tenant_patient', 'questionnaire_proposals',
                    ['tenant_id', 'patient_id', 'status'])
    for table in TABLES:
        rls.enable(op, table)
        rls.grant_app_role(op, table)


def downgrade():
    for table in reversed(TABLES):
        op.drop_table(table)
