"""Reports: the printed health report of one exam (健康体检报告) with the
history before it, rendered by WeasyPrint in an RQ job and kept under the
clinic's storage prefix; every print and download is audited.

Dependencies go one way: reports -> records, risk, interventions, patients,
clinic; none of those imports this package."""


def register(app) -> None:
    from app.reports import models, portal_views, views  # noqa: F401  (models: the table exists before a query)

    app.register_blueprint(views.bp)
    app.register_blueprint(portal_views.bp)
