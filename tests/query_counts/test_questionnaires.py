"""The questionnaire list, a questionnaire's results and the service recovery
list run as many statements for 200 rows as for 20."""
import secrets

import pytest

from tenants.context import tenant_context
from tenants.db import db
from tests.query_counts.conftest import add_patients, clinic_now

pytestmark = pytest.mark.postgres


def _scored():
    """A pack questionnaire with banded scores (the pack is synced first)."""
    from app.questionnaires import library

    library.sync_pack()
    for questionnaire in library.all_questionnaires():
        version = library.current_version(questionnaire)
        if version is not None and any(s.get("bands") for s in version.definition.get("scores", [])):
            return questionnaire, version
    raise AssertionError("no pack questionnaire with banded scores")


def add_responses(app, tenant, n: int, *, key: str | None = None, recovery: bool = False) -> None:
    """n new patients with a submitted response each (each band of each score in turn), in one transaction;
    ``recovery``: each with an open service recovery case too."""
    from app.questionnaires import library
    from app.questionnaires.models import QuestionnaireResponse, RecoveryCase

    ids = add_patients(app, tenant, n)
    with app.app_context(), tenant_context(tenant.id):
        questionnaire, version = _scored() if key is None else (library.by_key(key), None)
        version = version or library.current_version(questionnaire)
        specs = [s for s in version.definition.get("scores", []) if s.get("bands")]
        now = clinic_now()
        rows = []
        for i, patient_id in enumerate(ids):
            scores = [{"key": s["key"], "value": i % 10, "band": s["bands"][i % len(s["bands"])]["key"]}
                      for s in specs]
            rows.append(QuestionnaireResponse(
                questionnaire_id=questionnaire.id, version_id=version.id, patient_id=patient_id, status="submitted",
                channel="staff", answers={}, scores=scores, flags=[], link_nonce="", requested_at=now,
                submitted_at=now, context={}))
        db.session.add_all(rows)
        db.session.flush()
        if recovery:
            db.session.add_all([RecoveryCase(response_id=r.id, patient_id=r.patient_id, recommend=3.0,
                                             reason="recommend", comment="等待太久") for r in rows])
        db.session.commit()


def add_questionnaires(app, tenant, n: int) -> None:
    """n published questionnaires, copies of a pack one."""
    from app.questionnaires.models import Questionnaire, QuestionnaireVersion

    with app.app_context(), tenant_context(tenant.id):
        model, version = _scored()
        for i in range(n):
            copy = Questionnaire(key=f"qc{secrets.token_hex(6)}", kind=model.kind, title_zh=f"问卷副本{i:04d}",
                                 title_en=f"Copy {i:04d}", current_version=1)
            db.session.add(copy)
            db.session.flush()
            db.session.add(QuestionnaireVersion(questionnaire_id=copy.id, version=1, definition=version.definition,
                                                fingerprint=version.fingerprint))
        db.session.commit()


def test_questionnaire_list(app, make_tenant, client_for, same_count):
    tenant = make_tenant()
    owner = client_for(tenant, tenant.owner_email)

    def seed(n: int) -> None:  # questionnaires, and responses to count on them
        add_questionnaires(app, tenant, n)
        add_responses(app, tenant, n)

    same_count(owner, "/questionnaires", seed, shows="问卷副本")


def test_questionnaire_results(app, make_tenant, client_for, same_count):
    tenant = make_tenant()
    owner = client_for(tenant, tenant.owner_email)
    with app.app_context(), tenant_context(tenant.id):
        questionnaire_id = _scored()[0].id
        db.session.commit()
    same_count(owner, f"/questionnaires/{questionnaire_id}", lambda n: add_responses(app, tenant, n))


def test_recovery_cases(app, make_tenant, client_for, same_count):
    from app.questionnaires import satisfaction

    tenant = make_tenant()
    owner = client_for(tenant, tenant.owner_email)
    with app.app_context(), tenant_context(tenant.id):
        _scored()
        key = satisfaction.settings().questionnaire_key
        db.session.commit()
    same_count(owner, "/questionnaires/recovery", lambda n: add_responses(app, tenant, n, key=key, recovery=True),
               shows="测试")
    same_count(owner, "/questionnaires/satisfaction", lambda n: add_responses(app, tenant, n, key=key))
