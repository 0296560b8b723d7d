"""Patient cards (开卡), demographics and health history."""


def register(app) -> None:
    from app.patients.views import bp

    app.register_blueprint(bp)
