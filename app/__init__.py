"""CareLoop: create_app() builds the Flask application."""
import os

import click
from flask import Flask
from htmx_flask import Htmx

from app import config as config_module
from app.core import txn
from app.extensions import babel, csrf, db, login_manager, migrate
from tenants.rls import install_rls_hook
from tenants.scoping import install_guard


def create_app(config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=str(config_module.ROOT / "instance"),
        template_folder=str(config_module.ROOT / "templates"),
        static_folder=str(config_module.ROOT / "static"),
    )
    app.config.update(config_module.DEFAULTS)
    app.config.update(config_module.from_environment(app.instance_path))
    if config:
        app.config.update(config)
    config_module.check_production(app.config)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = config_module.engine_options(app.config)
    os.makedirs(app.instance_path, exist_ok=True)

    if app.config.get("PROXY_HOPS"):  # client address and scheme from the proxy's X-Forwarded-* headers
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["PROXY_HOPS"]
        # Flask's documented way to add WSGI middleware; mypy sees assigning to a method
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    db.init_app(app)
    migrate.init_app(app, db, directory=str(config_module.ROOT / "migrations"))
    Htmx(app)
    install_guard()
    install_rls_hook()
    txn.install()

    from app.core import errors, headers, i18n, ids, inputs, jobs, sqlite, tenancy, warm

    ids.register(app)
    sqlite.register(app)
    i18n.register(app, babel)
    tenancy.register(app)
    csrf.init_app(app)  # after tenancy: an unknown host is a 404 before anything else
    errors.register(app)
    headers.register(app)
    inputs.register(app)  # after tenancy and CSRF: an unknown host or a forged post is refused first
    jobs.register(app)
    warm.register(app)

    from app.audit import register as register_audit
    from app.auth import register as register_auth
    from app.booking import register as register_booking
    from app.clinic import register as register_clinic
    from app.core.views import bp as core_bp
    from app.dashboard import register as register_dashboard
    from app.followups import register as register_followups
    from app.home import register as register_home
    from app.interventions import register as register_interventions
    from app.notifications import register as register_notifications
    from app.patients import register as register_patients
    from app.platform import register as register_platform
    from app.portal import register as register_portal
    from app.questionnaires import register as register_questionnaires
    from app.records import register as register_records
    from app.reports import register as register_reports
    from app.risk import register as register_risk
    from app.tagging import register as register_tagging

    register_auth(app, login_manager)
    register_audit(app)
    register_patients(app)
    register_notifications(app)
    register_records(app)
    register_tagging(app)
    register_booking(app)
    register_followups(app)
    register_portal(app)
    register_questionnaires(app)
    register_risk(app)
    register_interventions(app)
    register_reports(app)
    register_platform(app)
    register_clinic(app)
    register_home(app)
    register_dashboard(app)
    app.register_blueprint(core_bp)

    from app.core.keys import keys_cli
    from app.seed import seed_cli
    from tenants.cli import citus_plan_command, tenants_cli

    app.cli.add_command(tenants_cli)
    migrations_cli = app.cli.commands["db"]  # Flask-Migrate's group: citus-plan sits beside upgrade
    if isinstance(migrations_cli, click.Group):
        migrations_cli.add_command(citus_plan_command)
    app.cli.add_command(seed_cli)
    app.cli.add_command(keys_cli)

    if app.config["EMBEDDED_WORKER"] and not app.config.get("TESTING"):
        jobs.start_embedded_worker(app)
    return app
