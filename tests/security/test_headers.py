"""Security headers (issue 12, item 10): a Content-Security-Policy without inline
script or style, frame-ancestors 'none', nosniff, Referrer-Policy same-origin, HSTS
in production, Cache-Control: no-store on every page and file that can hold patient
data; the pages hold no inline script, style or event handler, and still work in
Chromium under the policy with no violation reported."""
import re

import pytest

from tests.browser import chromium, live_server, staff_sign_in
from tests.conftest import CHROMIUM
from tests.test_route_walk import ARG_SAMPLES

INLINE = [(re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
          (re.compile(r"<[a-z][^>]*\sstyle\s*=", re.I), "style attribute"),
          (re.compile(r"<style\b", re.I), "<style> element"),
          (re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I), "event handler attribute"),
          (re.compile(r"\shx-on(?::|-)", re.I), "hx-on (needs eval)"),
          (re.compile(r"javascript:", re.I), "javascript: URL")]


def _policy(response) -> dict[str, str]:
    return {part.split(" ", 1)[0]: part.split(" ", 1)[1] if " " in part else ""
            for part in (p.strip() for p in response.headers.get("Content-Security-Policy", "").split(";")) if part}


def _check(response, where: str) -> list[str]:
    problems = []
    policy = _policy(response)
    if policy.get("script-src") != "'self'" or policy.get("style-src") != "'self'":
        problems.append(f"{where}: script-src/style-src {policy.get('script-src')!r}/{policy.get('style-src')!r}")
    if "unsafe" in response.headers.get("Content-Security-Policy", ""):
        problems.append(f"{where}: an unsafe- source in the policy")
    if policy.get("frame-ancestors") != "'none'" or policy.get("object-src") != "'none'":
        problems.append(f"{where}: frame-ancestors/object-src not 'none'")
    expected = {"X-Content-Type-Options": ("nosniff",), "Cache-Control": ("no-store",),
                "Referrer-Policy": ("same-origin", "no-referrer")}  # no-referrer: stricter (a reset link's page)
    problems += [f"{where}: {name} is {response.headers.get(name)!r}" for name, values in expected.items()
                 if response.headers.get(name) not in values]
    if "html" in response.content_type:
        body = response.get_data(as_text=True)
        problems += [f"{where}: {what}" for pattern, what in INLINE if pattern.search(body)]
    return problems


def _own_ids(app, tenant, make_patient):
    patient = make_patient(tenant)
    return {**ARG_SAMPLES, "patient_id": patient.id}


def test_every_page_carries_the_headers_and_no_inline_code(app, make_tenant, make_patient, client_for):
    from flask import url_for

    tenant = make_tenant()
    ids = _own_ids(app, tenant, make_patient)
    client = client_for(tenant, tenant.owner_email)
    problems, seen = [], 0
    with app.test_request_context(base_url=f"http://{tenant.host}"):
        urls = sorted({url_for(r.endpoint, **{a: ids[a] for a in r.arguments}) for r in app.url_map.iter_rules()
                       if "GET" in r.methods and r.endpoint != "static" and all(a in ids for a in r.arguments)})
    for url in urls:
        response = client.get(url)
        if response.status_code in (200, 400, 403, 404):
            problems += _check(response, url)
            seen += 1
    for url in ("/nothing-here", "/portal", "/shop"):  # error pages and the patient side, signed out
        problems += _check(client_for(tenant).get(url), f"signed out {url}")
    api = client_for(tenant).post("/api/v1/fhir", data=b"{}")
    problems += [f"api: {p}" for p in _check(api, "/api/v1/fhir") if "Cache-Control" in p or "nosniff" in p]
    assert seen > 30 and problems == [], "\n".join(problems)


def test_static_files_may_be_cached_downloads_may_not(app, make_tenant, client_for):
    tenant = make_tenant()
    css = client_for(tenant).get("/static/css/app.css")
    assert css.status_code == 200 and css.headers.get("Cache-Control") != "no-store"
    assert css.headers["X-Content-Type-Options"] == "nosniff"


def test_hsts_in_production_only(app, make_tenant, client_for):
    tenant = make_tenant()
    assert "Strict-Transport-Security" not in client_for(tenant).get("/login").headers
    app.config["CARELOOP_ENV"] = "production"
    try:
        response = client_for(tenant).get("/login")
    finally:
        app.config["CARELOOP_ENV"] = "testing"
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_htmx_is_configured_for_the_policy(make_tenant, client_for):
    page = client_for(make_tenant()).get("/login").get_data(as_text=True)
    config = re.search(r'name="htmx-config" content=\'([^\']+)\'', page).group(1)
    assert '"allowEval":false' in config and '"includeIndicatorStyles":false' in config
    assert '"allowScriptTags":false' in config


@pytest.mark.browser
@pytest.mark.redis
def test_pages_work_in_chromium_with_no_policy_violation(app, make_tenant, make_patient):
    tenant = make_tenant()
    patient = make_patient(tenant, name="欧阳明")
    make_patient(tenant, name="王五")
    paths = ["/", "/patients", f"/patients/{patient.id}", f"/patients/{patient.id}/records", "/records/import",
             "/booking/schedule", "/tagging/rules", "/followups", "/notifications", "/settings/clinic",
             "/alerts", "/audit"]
    with live_server(app) as port, chromium(CHROMIUM) as browser:
        page = browser.new_page()
        violations: list[str] = []
        page.on("console", lambda message: violations.append(f"{page.url}: {message.text}")
                if "Content Security Policy" in message.text or "Refused to" in message.text else None)
        base = f"http://{tenant.slug}.localhost:{port}"
        page.goto(f"{base}/shop")
        page.goto(f"{base}/portal/sign-in")
        staff_sign_in(page, base, tenant.owner_email)
        for path in paths:
            page.goto(base + path)
            page.wait_for_load_state("networkidle")
        page.goto(f"{base}/patients")
        page.locator("#q").press_sequentially("oy", delay=60)  # htmx live search under the policy
        page.wait_for_function("() => !document.querySelector('#results').innerText.includes('王五')")
        assert "欧阳明" in page.inner_text("#results")
        eval_off = page.evaluate("() => typeof htmx !== 'undefined' && htmx.config.allowEval === false")
        page.goto(f"{base}/patients/{patient.id}")
        page.wait_for_load_state("networkidle")
        page.click("button:has-text('English')")
        page.wait_for_load_state("networkidle")
    assert violations == [], "\n".join(violations)
    assert eval_off
