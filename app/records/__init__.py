"""Health records: indicator catalogue, observations, report import, trends, alerts."""
from app.core import keys
from app.core.errors import answer_errors_in
from app.core.i18n import register_labels
from tenants.services import on_tenant_created


@on_tenant_created
def _install_catalogue(tenant, **_):
    from app.records.catalogue import install_pack

    install_pack()


def register(app) -> None:
    from app.records import admin_views, api, labels, mapping_views, merging, views
    from app.records.cli import records_cli
    from app.records.models import AlertContact, ExamReport

    merging.listen()
    keys.register(ExamReport, typed=("pending", "patient_hint"))
    keys.register(AlertContact, typed=("mobile",))
    app.register_blueprint(views.bp)
    app.register_blueprint(admin_views.bp)
    app.register_blueprint(mapping_views.bp)
    app.register_blueprint(api.bp)
    answer_errors_in(app, "/api/", api.error_answer)
    app.cli.add_command(records_cli)
    app.jinja_env.globals.update(alert_count=views.alert_count, critical_alerts=views.critical_alerts)
    register_labels(app, "records", labels)
