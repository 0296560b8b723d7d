"""Screenshots of the main pages of each role and of the patient side on a phone, for the README.

In its own database (careloop_bench_screenshots, dropped and recreated) this script seeds the demo clinic
(`flask seed demo`'s data), serves the app on a loopback port with its job worker, and renders the pages in
the system Chromium (the browser the tests use) into docs/screenshots/. Run it after a change to what these
pages show: `make screenshots`.
"""
import os
import sys
import threading
from pathlib import Path

import benchdb  # scripts/benchdb.py, beside this script
from flask_migrate import upgrade
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from app import create_app

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
APP_URL, OWNER_URL = benchdb.urls("careloop_bench_screenshots")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]
DESK = {"viewport": {"width": 1366, "height": 900}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
SLUG = "demo"
# (file, role, path): the staff pages, each as the role that works there
STAFF_PAGES = [
    ("front-desk-home.png", "frontdesk", "/"),
    ("doctor-home.png", "doctor", "/"),
    ("health-manager-home.png", "healthmanager", "/"),
    ("owner-dashboard.png", "owner", "/"),
    ("settings.png", "admin", "/settings"),
    ("questionnaires.png", "doctor", "/questionnaires"),
]


def seed(app) -> dict:
    from app.patients import services as patients
    from app.questionnaires import library, responses
    from app.seed import CLINICS, seed_clinic
    from tenants.context import tenant_context
    from tenants.db import db
    from tenants.services import tenant_by_slug

    with app.app_context():
        seed_clinic(SLUG, CLINICS[SLUG], 30)
        db.session.commit()
        tenant = tenant_by_slug(SLUG)
        with tenant_context(tenant.id):
            library.sync_pack()
            patient = patients.recent(1)[0]
            response = responses.request(library.by_key("phq9"), patient, channel="link")
            token = responses.make_token(response)
            db.session.commit()
            return {"patient_id": patient.id, "token": token}


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)
    benchdb.recreate(OWNER_URL, APP_URL)
    app = create_app({"CARELOOP_ENV": "development", "SQLALCHEMY_DATABASE_URI": APP_URL,
                      "DATABASE_OWNER_URL": OWNER_URL, "DATA_KEY": "careloop screenshots data key",
                      "SECRET_KEY": "careloop-screenshots-secret-key-0123456789", "REDIS_URL": None})
    with app.app_context():
        upgrade()
    seeded = seed(app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://{SLUG}.localhost:{server.server_port}"
    OUT.mkdir(parents=True, exist_ok=True)
    from app.seed import DEMO_PASSWORD

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        for name, role, path in STAFF_PAGES + [("patient-page.png", "doctor", f"/patients/{seeded['patient_id']}")]:
            context = browser.new_context(**DESK)
            page = context.new_page()
            email = f"owner@{SLUG}.example.cn" if role == "owner" else f"{role}@{SLUG}.example.cn"
            page.goto(f"{base}/login")
            page.fill("input[name=email]", email)
            page.fill("input[name=password]", DEMO_PASSWORD)
            page.click("button[type=submit].primary")
            page.wait_for_url(f"{base}/")
            page.goto(base + path)
            page.wait_for_load_state("networkidle")
            page.screenshot(path=OUT / name, full_page=False)
            print(f"{name}: {role} {path}")
            context.close()
        phone = browser.new_context(**PHONE)
        for name, path in (("phone-questionnaire.png", f"/q/{seeded['token']}"), ("phone-shop.png", "/shop")):
            page = phone.new_page()
            page.goto(base + path)
            page.wait_for_load_state("networkidle")
            page.screenshot(path=OUT / name, full_page=False)
            print(f"{name}: patient {path}")
        browser.close()
    server.shutdown()


if __name__ == "__main__":
    main()
