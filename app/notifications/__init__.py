"""Notifications: the outbox, channels, templates, consent and the inbox."""
from app.core import keys
from app.core.i18n import register_labels


def register(app) -> None:
    from app.notifications import labels, merging
    from app.notifications.cli import notifications_cli
    from app.notifications.models import Notification
    from app.notifications.views import bp, inbox_unread

    merging.listen()
    keys.register(Notification, blobs=("address_enc", "secret_enc"))
    app.cli.add_command(notifications_cli)
    app.register_blueprint(bp)
    app.jinja_env.globals.update(inbox_unread=inbox_unread)
    register_labels(app, "notifications", labels)
