"""Tag rules and tags: conditions over a patient's data, evaluated in SQL."""
from app.records import services as _records  # noqa: F401  (its catalogue is installed first for a new clinic)
from tenants.services import on_tenant_created


@on_tenant_created
def _install_rule_pack(tenant, **_):
    from app.tagging.rules import install_pack

    install_pack()


def register(app) -> None:
    from app.tagging import merging, services, views
    from app.tagging.cli import tagging_cli

    services.listen()
    merging.listen()
    app.register_blueprint(views.bp)
    app.cli.add_command(tagging_cli)
    app.jinja_env.globals.update(tag_label=services.tag_label, tag_colours=services.TAG_COLOURS,
                                 tag_class=services.tag_class)
