"""Follow-up plans, tasks, follow-up records and call recordings."""
from app.core.i18n import register_labels
from app.tagging import services as _tagging  # noqa: F401  (its tags exist before plans name them)
from tenants.services import on_tenant_created


@on_tenant_created
def _install_plan_pack(tenant, **_):
    from app.followups.plans import install_pack

    install_pack()


def register(app) -> None:
    from app.followups import admin_views, labels, merging, triggers, views
    from app.followups.cli import followups_cli

    triggers.listen()
    merging.listen()
    app.register_blueprint(views.bp)
    app.register_blueprint(admin_views.bp)
    app.cli.add_command(followups_cli)
    app.jinja_env.globals.update(followup_due_count=views.due_count)
    register_labels(app, "followups", labels)
