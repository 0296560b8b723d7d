"""Questionnaires, intake forms and satisfaction surveys: a pack of scored
instruments and the clinic's own, sent to patients as signed links or found
in the portal; scores become observations on the event path."""
from tenants.services import on_tenant_created


@on_tenant_created
def _install_pack(tenant, **_):
    from app.questionnaires.library import sync_pack

    sync_pack()


def register(app) -> None:
    from flask_babel import get_locale

    from app.core.i18n import register_labels
    from app.questionnaires import (
        api,
        builder_views,
        fhir_filing,
        intake,
        kiosk_views,
        labels,
        link_views,
        plan_steps,
        portal_views,
        satisfaction,
        satisfaction_views,
        settings_views,
        views,
    )
    from app.questionnaires.cli import questionnaires_cli
    from app.questionnaires.library import choices, text

    satisfaction.listen()
    plan_steps.listen()
    intake.listen()
    fhir_filing.register()
    app.cli.add_command(questionnaires_cli)
    app.register_blueprint(views.bp)
    app.register_blueprint(satisfaction_views.bp)
    app.register_blueprint(builder_views.bp)
    app.register_blueprint(link_views.bp)
    app.register_blueprint(portal_views.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(kiosk_views.bp)
    app.register_blueprint(settings_views.bp)
    app.jinja_env.globals["intake_missing"] = intake.missing
    register_labels(app, "questionnaires", labels)
    app.jinja_env.filters["qtext"] = lambda value: text(value, str(get_locale()))
    # the questionnaires a follow-up plan's questionnaire step may send (templates/followups/plan_edit.html)
    app.jinja_env.globals["questionnaire_choices"] = lambda: choices(str(get_locale()))
