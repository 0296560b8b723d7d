"""Reports: the printed health report of one exam (健康体检报告) with the
history before it, rendered by WeasyPrint in an RQ job and kept under the
clinic's storage prefix, released to the patient's portal by a doctor; every
print and download is audited. Stage summaries (健康阶段总结) of a period,
drafted from the data, edited and signed by a doctor, versioned.

Dependencies go one way: reports -> records, risk, interventions, followups,
patients, clinic, notifications; none of those imports this package."""


def register(app) -> None:
    from app.reports import (  # noqa: F401  (models: the tables exist before the first query)
        batch_views,
        models,
        portal_views,
        style_views,
        summary_views,
        views,
    )

    app.register_blueprint(views.bp)
    app.register_blueprint(portal_views.bp)
    app.register_blueprint(summary_views.bp)
    app.register_blueprint(batch_views.bp)
    app.register_blueprint(style_views.bp)
