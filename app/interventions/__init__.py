"""Interventions: the advice library and patients' advice sheets (饮食, 运动,
心理, 睡眠, 戒烟限酒), released to the portal."""
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
    )

    app.register_blueprint(advice_views.bp)
    app.register_blueprint(advice_portal_views.bp)
    app.register_blueprint(advice_library_views.bp)
    register_labels(app, "advice", advice_labels)
    app.jinja_env.filters["advice_reason"] = advice_reading.reason_words
