"""A daily job runs in every active clinic: one clinic's failure is rolled
back and reported, and the clinics after it still get their work."""
import click
import pytest
from sqlalchemy import select

import tenants.services
from app.core.cli import echo_every_clinic
from app.patients.models import Patient
from tenants.context import require_tenant_id, tenant_context
from tenants.db import db
from tenants.models import Tenant


def test_a_failing_clinic_does_not_stop_the_others(app, make_tenant, make_patient, monkeypatch):
    clinics = [make_tenant(), make_tenant(), make_tenant()]
    patients = {c.id: make_patient(c).id for c in clinics}
    broken = clinics[1].id

    def work():
        patient = db.session.get(Patient, (require_tenant_id(), patients[require_tenant_id()]))
        patient.name = "日常任务已处理"
        db.session.flush()
        if require_tenant_id() == broken:
            raise RuntimeError("lock timeout")
        return 1

    with app.app_context():
        monkeypatch.setattr(tenants.services, "list_tenants",
                            lambda: [db.session.get(Tenant, c.id) for c in clinics])
        run = tenants.services.for_each_active_tenant(work, lock="test work")
        assert run.done == {clinics[0].slug: 1, clinics[2].slug: 1}
        assert run.failed == {clinics[1].slug: "RuntimeError: lock timeout"}
        with pytest.raises(click.ClickException, match=f"failed in {clinics[1].slug}: RuntimeError"):
            echo_every_clinic(run)
    for clinic in clinics:
        with app.app_context(), tenant_context(clinic.id):
            name = db.session.scalar(select(Patient.name).where(Patient.id == patients[clinic.id]))
            assert (name == "日常任务已处理") == (clinic.id != broken)
