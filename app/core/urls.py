"""Links to a clinic's own address for messages written outside its pages
(a digest, an escalation, an unsubscribe link): the host the clinic's staff
and patients use, ``<slug>.<BASE_DOMAIN>[:PUBLIC_PORT]``."""
from flask import current_app


def clinic_url(slug: str, endpoint: str, **values) -> str:
    config = current_app.config
    port = config.get("PUBLIC_PORT")
    host = f"{slug}.{config['BASE_DOMAIN']}" + (f":{port}" if port else "")
    adapter = current_app.url_map.bind(host, url_scheme=config.get("PREFERRED_URL_SCHEME", "https"))
    return adapter.build(endpoint, values, force_external=True)
