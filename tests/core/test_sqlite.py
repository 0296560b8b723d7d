"""The embedded SQLite database (`make run` without PostgreSQL): a savepoint
released inside a transaction is undone when that transaction rolls back,
as on PostgreSQL. Runs whatever database the rest of the suite uses."""
from sqlalchemy import text

from app import create_app
from tenants.db import db


def test_a_released_savepoint_is_undone_by_the_rollback(tmp_path):
    url = f"sqlite:///{tmp_path / 'first-run.db'}"
    app = create_app({"TESTING": True, "CARELOOP_ENV": "development", "SQLALCHEMY_DATABASE_URI": url,
                      "DATABASE_OWNER_URL": url})
    with app.app_context():
        with db.engine.connect() as connection:
            connection.execute(text("CREATE TABLE kept (value INTEGER)"))
            connection.commit()
            with connection.begin_nested():  # the first statement of the transaction
                connection.execute(text("INSERT INTO kept VALUES (1)"))
            connection.rollback()
            assert connection.execute(text("SELECT count(*) FROM kept")).scalar() == 0
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        db.engine.dispose()


def test_first_run_database_stores_results_and_starts_plans(tmp_path):
    """Migrations, a clinic, results with a correction, and a plan started in
    a set, on SQLite (the paths that differ from PostgreSQL's)."""
    from datetime import date, datetime, timezone

    from flask_migrate import upgrade

    from app.followups import enrolment, plans
    from app.followups.models import FollowupTask
    from app.patients import services as patients
    from app.records import services as records
    from tenants.context import tenant_context
    from tenants.services import create_tenant

    url = f"sqlite:///{tmp_path / 'first-run.db'}"
    app = create_app({"TESTING": True, "CARELOOP_ENV": "development", "SQLALCHEMY_DATABASE_URI": url,
                      "DATABASE_OWNER_URL": url})
    with app.app_context():
        upgrade()
        tenant = create_tenant("firstrun", "首诊诊所", admin_email="owner@firstrun.example.cn",
                               admin_password="correct-horse-battery")
        with tenant_context(tenant.id):
            people = [patients.enrol(patients.PatientData(name=name, sex="F", birth_date=date(1975, 3, 2),
                                                          mobile=f"1380000000{n}"), consent_version="t")
                      for n, name in enumerate(("周一", "吴二"))]
            weight = records.indicator_by_code("29463-7")
            at = datetime(2026, 11, 2, 1, 0, tzinfo=timezone.utc)
            records.store_many(people[0], [records.Value(weight, "60", "kg", at)])
            corrected = records.store_many(people[0], [records.Value(weight, "61", "kg", at)])
            assert corrected[0].outcome == "new"
            assert [o.value_text for o, _indicator in records.history(people[0].id)] == ["61"]
            plan = next(p for p in plans.list_plans() if p.name == "血压偏高随访")
            started = enrolment.enrol_many(plan, {p.id: "test" for p in people})
            again = enrolment.enrol_many(plan, {p.id: "test" for p in people})
            db.session.commit()
            assert set(started) == {p.id for p in people} and again == {}
            assert db.session.query(FollowupTask).count() == 6
        db.engine.dispose()
