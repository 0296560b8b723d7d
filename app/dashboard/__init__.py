"""The clinic dashboard: the clinic's figures over a range of days, as charts,
tables and spreadsheets (owner and admin)."""


def register(app) -> None:
    from app.dashboard.views import bp

    app.register_blueprint(bp)
