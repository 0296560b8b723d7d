"""Staff sign-in and roles."""
from flask import g

from app.core.i18n import register_labels


def register(app, login_manager) -> None:
    from app.auth import labels, services
    from app.auth.views import bp

    login_manager.init_app(app)
    login_manager.session_protection = "strong"
    login_manager.login_view = "auth.login"

    @login_manager.user_loader
    def load_user(session_id: str):
        tenant = g.get("tenant")
        try:
            tenant_text, user_text, nonce = session_id.split(".", 2)
            tenant_id, user_id = int(tenant_text), int(user_text)
        except ValueError:
            return None
        # A session is valid only on its own clinic's host.
        if tenant is None or tenant.id != tenant_id:
            return None
        return services.load_session_user(tenant_id, user_id, nonce)

    app.register_blueprint(bp)
    register_labels(app, "auth", labels)
