"""dashboard: the abnormal-rate figure counts from two narrow indexes (current abnormal results by date; current results by indicator and date) instead of reading every result of the range; the open cards are counted from an index of their own

Revision ID: a4c6e8f0b2d5
Revises: a7c9e1b3d5f7
Create Date: 2026-12-06 05:30:00

The ten indicators with the most abnormal results are found in the small
index of abnormal results, and only their results are then counted, each a
range of the indicator's index: at 200,000 patients a year's figure read
1.25 million index entries before, about a third now. The index of every
current result by date served only this figure and is dropped. The open
cards (the page's headline and the tag prevalence figure's denominator) are
counted from a partial index of them instead of the table. Runs on
PostgreSQL and SQLite (where the partial conditions and INCLUDE are left out).
"""
from alembic import op
import sqlalchemy as sa

revision = 'a4c6e8f0b2d5'
down_revision = 'a7c9e1b3d5f7'
branch_labels = None
depends_on = None

CURRENT = "superseded_by IS NULL"
OPEN = "archived_at IS NULL"
ABNORMAL = "superseded_by IS NULL AND flag IN ('L', 'H', 'LL', 'HH', 'A')"


def upgrade():
    op.create_index('ix_observations_tenant_abnormal_observed', 'observations', ['tenant_id', 'observed_at'],
                    postgresql_where=sa.text(ABNORMAL), postgresql_include=['indicator_id'])
    op.create_index('ix_observations_tenant_indicator_observed', 'observations',
                    ['tenant_id', 'indicator_id', 'observed_at'], postgresql_where=sa.text(CURRENT))
    op.drop_index('ix_observations_tenant_observed', table_name='observations')
    op.create_index('ix_patients_tenant_open', 'patients', ['tenant_id'], postgresql_where=sa.text(OPEN))


def downgrade():
    op.drop_index('ix_patients_tenant_open', table_name='patients')
    op.create_index('ix_observations_tenant_observed', 'observations', ['tenant_id', 'observed_at'],
                    postgresql_where=sa.text(CURRENT), postgresql_include=['indicator_id', 'flag'])
    op.drop_index('ix_observations_tenant_indicator_observed', table_name='observations')
    op.drop_index('ix_observations_tenant_abnormal_observed', table_name='observations')
