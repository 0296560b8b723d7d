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
    from app.questionnaires import intake, kiosk_views, labels, link_views, portal_views, settings_views, views
    from app.questionnaires.cli import questionnaires_cli
    from app.questionnaires.library import text

    intake.listen()
    app.register_blueprint(views.bp)
    app.register_blueprint(link_views.bp)
    app.register_blueprint(portal_views.bp)
    app.register_blueprint(kiosk_views.bp)
    app.register_blueprint(settings_views.bp)
    app.cli.add_command(questionnaires_cli)
    app.jinja_env.globals["intake_missing"] = intake.missing
    register_labels(app, "questionnaires", labels)
    app.jinja_env.filters["qtext"] = lambda value: text(value, str(get_locale()))
