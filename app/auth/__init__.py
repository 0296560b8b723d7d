"""Staff sign-in and roles."""
from flask import g

from app.core.i18n import register_labels


def register(app, login_manager) -> None:
    from app.auth import account_views, labels, services
    from app.auth.views import bp

    login_manager.init_app(app)
    login_manager.session_protection = "strong"
    login_manager.login_view = "auth.login"

    @login_manager.user_loader
    def load_user(session_id: str):
        """The cookie holds "<tenant id>.<session token>"; the session lives on the server."""
        tenant = g.get("tenant")
        try:
            tenant_text, token = session_id.split(".", 1)
            tenant_id = int(tenant_text)
        except ValueError:
            return None
        # A session is valid only on its own clinic's host.
        if tenant is None or tenant.id != tenant_id:
            return None
        return services.load_session_user(token)

    app.register_blueprint(bp)
    app.register_blueprint(account_views.bp)
    register_labels(app, "auth", labels)
