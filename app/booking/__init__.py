"""Exam packages, capacity and orders (体检套餐 / 体检预约 / 订单)."""
from app.core.i18n import register_labels
from tenants.services import on_tenant_created


@on_tenant_created
def _install_defaults(tenant, **_):
    from app.booking.services import install_defaults

    install_defaults()


def register(app) -> None:
    from app.booking import admin_views, export_views, labels, merging, services, views  # noqa: F401
    from app.booking.cli import booking_cli

    merging.listen()
    app.register_blueprint(views.bp)
    app.register_blueprint(admin_views.bp)
    app.cli.add_command(booking_cli)
    app.jinja_env.filters["yuan"] = services.format_fen
    register_labels(app, "booking", labels)
