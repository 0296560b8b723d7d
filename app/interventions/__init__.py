"""Health interventions (健康干预) and TCM conditioning (健康调养): care plans
with goals, targets and dates and the actions that lead there, started from
the pack's templates per condition or from the patient's TCM constitution,
scheduled through the follow-ups and notifications, followed by the patient
in the portal (today's actions, home measurements) and by staff on a
progress chart until they close the plan with its outcome.

Dependencies go one way: interventions -> followups, records,
notifications, patients; none of those imports this package."""


def register(app) -> None:
    from app.interventions import plan_views, portal_plan_views

    app.register_blueprint(plan_views.bp)
    app.register_blueprint(portal_plan_views.bp)
    app.jinja_env.globals["care_plan_labels"] = plan_views.labels
