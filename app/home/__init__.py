"""The staff home page: where each person starts the day."""


def register(app) -> None:
    from app.home.views import bp

    app.register_blueprint(bp)
