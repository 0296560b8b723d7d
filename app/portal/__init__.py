"""The patient-facing side: the exam shop, sign-in with a code, bookings,
the patient's own results and messages."""
from app.core import keys


def register(app) -> None:
    from app.portal import display, health_views, services, session, session_views, shop_views, views
    from app.portal.models import PortalAccount

    services.listen()
    keys.register(PortalAccount, blobs=("mobile_enc",))
    app.register_blueprint(shop_views.bp)
    app.register_blueprint(views.bp)
    app.register_blueprint(session_views.bp)
    app.jinja_env.globals["portal_account"] = session.current_account
    app.jinja_env.globals["portal_unread"] = health_views.unread
    app.jinja_env.globals["portal_page"] = display.portal_page
    app.jinja_env.globals["portal_large_text"] = display.large_text
