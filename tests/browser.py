"""A live server and the system Chromium for browser tests."""
import threading
from contextlib import contextmanager

from werkzeug.serving import make_server

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


@contextmanager
def live_server(app):
    """Serve the app on a free loopback port with a job worker beside it."""
    from app.core.jobs import start_worker_thread

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    stop_worker = start_worker_thread(app, with_scheduler=False)
    try:
        yield server.server_port
    finally:
        stop_worker.set()
        server.shutdown()


@contextmanager
def chromium(executable: str, **context_options):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        context = browser.new_context(accept_downloads=True, **context_options)
        try:
            yield context
        finally:
            context.close()
            browser.close()


def page_width(page) -> int:
    """The page's scroll width once its stylesheets have loaded (measured
    earlier, an unstyled page is wider than the styled one)."""
    page.wait_for_load_state("load")
    return page.evaluate("document.documentElement.scrollWidth")
