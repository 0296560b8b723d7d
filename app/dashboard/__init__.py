"""The clinic dashboard: the clinic's figures over a range of days, as charts,
tables and spreadsheets (owner and admin)."""
from app.dashboard import models as _models  # noqa: F401  (its indexes join the tables' metadata)


def register(app) -> None:
    from app.dashboard.views import bp

    app.register_blueprint(bp)
