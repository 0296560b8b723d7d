"""The migrations build exactly the schema the models declare."""
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tenants.db import db

pytestmark = pytest.mark.postgres


def test_the_migrated_database_matches_the_models(app):
    engine = sa.create_engine(app.config["DATABASE_OWNER_URL"])
    try:
        with engine.connect() as conn:
            differences = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}),
                                           db.metadata)
    finally:
        engine.dispose()
    assert differences == []
