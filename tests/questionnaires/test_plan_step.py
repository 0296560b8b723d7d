"""A plan step that sends a questionnaire: the link goes out on the due date, once, and the task is done
when the patient submits it."""
import pytest
from sqlalchemy import select

from app.followups import plans
from app.followups.models import FollowupRecord, FollowupTask
from tenants.context import tenant_context
from tenants.db import db

pytestmark = [pytest.mark.postgres, pytest.mark.time_sensitive]


def _plan(channel="form", key="phq9"):
    from app.questionnaires import services as questionnaires

    questionnaires.sync_pack()
    draft = plans.PlanDraft(name="开卡后抑郁筛查", trigger="enrolment", schedule="days", offsets="0",
                            channel=channel, questionnaire_key=key)
    return plans.save(plans.check(draft))


def test_a_questionnaire_step_is_sent_once_and_done_on_submission(app, make_tenant, make_patient):
    from app.notifications.models import Notification
    from app.patients import services as patients
    from app.questionnaires import submission
    from app.questionnaires.models import QuestionnaireResponse
    from app.questionnaires.plan_steps import send_due

    clinic = make_tenant()
    with app.app_context(), tenant_context(clinic.id):
        _plan()
        db.session.commit()
    patient = make_patient(clinic)  # opening the card starts the plan: a step due today
    with app.app_context(), tenant_context(clinic.id):
        task = db.session.scalar(select(FollowupTask).where(FollowupTask.patient_id == patient.id))
        assert task.channel == "form" and task.status == "pending"
        assert send_due() == 1
        db.session.commit()
        assert send_due() == 0  # sent already
        response = db.session.scalar(select(QuestionnaireResponse).where(
            QuestionnaireResponse.patient_id == patient.id))
        assert response.context["task_id"] == task.id
        assert db.session.scalar(select(Notification.id).where(Notification.template_key == "questionnaire_request"))
        submission.submit(response, patients.get(patient.id), {f"q{i}": "0" for i in range(1, 10)},
                          actor_label="test")
        db.session.commit()
        db.session.refresh(task)
        assert task.status == "done" and task.completed_at is not None
        record = db.session.scalar(select(FollowupRecord).where(FollowupRecord.task_id == task.id))
        assert record.result == "reached" and record.staff_id is None


def test_a_questionnaire_step_names_its_questionnaire(app, make_tenant):
    clinic = make_tenant()
    with app.app_context(), tenant_context(clinic.id):
        with pytest.raises(plans.PlanInvalid) as refused:
            _plan(key="")
        assert "questionnaire_key" in refused.value.errors
        with pytest.raises(plans.PlanInvalid):
            _plan(key="Not a key!")
        db.session.rollback()


def test_the_plan_form_offers_the_questionnaires(app, make_tenant, make_staff, client_for):
    clinic = make_tenant()
    admin = make_staff(clinic, "admin")
    with app.app_context(), tenant_context(clinic.id):
        from app.questionnaires import services as questionnaires

        questionnaires.sync_pack()
        db.session.commit()
    page = client_for(clinic, admin.email).get("/followups/plans/new")
    assert page.status_code == 200
    assert 'name="questionnaire_key"' in page.get_data(as_text=True) and 'value="phq9"' in page.get_data(as_text=True)
