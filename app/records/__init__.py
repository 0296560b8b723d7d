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
    from app.records import (  # noqa: F401  (views register their routes on import)
        admin_views,
        api,
        export_views,
        labels,
        mapping_views,
        merging,
        release_views,
        views,
    )
    from app.records.cli import records_cli
    from app.records.models import AlertContact, ExamReport

    merging.listen()
    keys.register(ExamReport, typed=("pending", "patient_hint"))
    keys.register(AlertContact, typed=("mobile",))
    app.register_blueprint(views.bp)
    app.register_blueprint(admin_views.bp)
    app.register_blueprint(admin_views.tokens_bp)
    app.register_blueprint(mapping_views.bp)
    app.register_blueprint(api.bp)
    answer_errors_in(app, "/api/", api.error_answer)
    app.cli.add_command(records_cli)
    app.jinja_env.globals.update(alert_count=views.alert_count, critical_alerts=views.critical_alerts)
    register_labels(app, "records", labels)
    _register_filters(app, labels)


def _register_filters(app, labels) -> None:
    """Results as people read them, in every template: ``{{ indicator.unit|unit }}`` (mmHg, μmol/L, 次/分),
    ``{{ observation|result_value(indicator.decimals) }}`` (rounded to the indicator's decimals, or the text
    as reported), ``{{ observation.flag|flag_words }}`` (偏高, 危急偏低) and ``{{ alert.summary|alert_words }}``;
    templates/records/_flags.html has the flag badge macro."""
    from app.core.i18n import select_locale
    from app.records import units

    def result_value(observation, decimals: int | None = None) -> str:
        if observation is None:
            return ""
        if observation.value is None:
            return observation.value_text
        return units.number(observation.value, decimals)

    app.jinja_env.filters["unit"] = lambda code: units.display(code, select_locale())
    app.jinja_env.filters["result_value"] = result_value
    app.jinja_env.filters["flag_words"] = labels.flag_words
    app.jinja_env.filters["alert_words"] = labels.alert_summary
