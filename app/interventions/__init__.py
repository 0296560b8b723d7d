"""Interventions: the advice library and patients' advice sheets (饮食, 运动,
心理, 睡眠, 戒烟限酒), and health interventions (健康干预) and TCM conditioning
(健康调养): care plans with goals, targets and dates and the actions that lead
there, started from the pack's templates per condition or from the patient's
TCM constitution, scheduled through the follow-ups and notifications,
followed by the patient in the portal (today's actions, home measurements)
and by staff on a progress chart until they close the plan with its outcome.

Dependencies go one way: interventions -> followups, records,
notifications, patients, risk, questionnaires; none of those imports this
package."""
from tenants.services import on_tenant_created


@on_tenant_created
def _install_advice_pack(tenant, **_):
    from app.interventions.advice_library import install_pack

    install_pack()


def register(app) -> None:
    from app.core.i18n import register_labels
    from app.interventions import (  # noqa: F401  (advice_models: the tables exist before the first query)
        advice_labels,
        advice_library_views,
        advice_models,
        advice_portal_views,
        advice_reading,
        advice_views,
        plan_views,
        portal_plan_views,
    )

    app.register_blueprint(advice_views.bp)
    app.register_blueprint(advice_portal_views.bp)
    app.register_blueprint(advice_library_views.bp)
    register_labels(app, "advice", advice_labels)
    app.jinja_env.filters["advice_reason"] = advice_reading.reason_words
    app.register_blueprint(plan_views.bp)
    app.register_blueprint(portal_plan_views.bp)
    app.jinja_env.globals["care_plan_labels"] = plan_views.labels
