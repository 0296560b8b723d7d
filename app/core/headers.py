"""Security headers on every answer.

* Content-Security-Policy: scripts, styles, images, fonts and connections from
  this host only; no inline script or style (htmx is configured to match: no
  eval, no indicator <style> of its own, no script tags run from swapped HTML);
  no framing (frame-ancestors 'none'), no <base>, forms post here only.
* X-Content-Type-Options: nosniff; Referrer-Policy: same-origin;
  X-Frame-Options: DENY for browsers without frame-ancestors.
* Strict-Transport-Security in production (behind TLS).
* Cache-Control: no-store on every answer that is not a static file: pages,
  fragments, downloads and API answers can all hold patient data.
"""
from flask import current_app, request

CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "media-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
HSTS = "max-age=31536000; includeSubDomains"


def _secure(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    if current_app.config.get("CARELOOP_ENV") == "production":
        headers.setdefault("Strict-Transport-Security", HSTS)
    if request.endpoint != "static":
        headers["Cache-Control"] = "no-store"
        headers.pop("Expires", None)
    return response


def register(app) -> None:
    app.after_request(_secure)
