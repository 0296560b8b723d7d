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
    worker = start_worker_thread(app, with_scheduler=False)
    try:
        yield server.server_port
    finally:
        worker.stop()
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


def overflowing(page, limit: int = 3) -> list[str]:
    """What sticks out past the right edge of the viewport: the innermost such
    elements (tag, classes, a little of their text), for a failure message."""
    return page.evaluate("""(limit) => {
      const width = document.documentElement.clientWidth, found = [];
      for (const el of document.body.querySelectorAll('*')) {
        if (el.getBoundingClientRect().right <= width + 0.5) continue;
        if ([...el.children].some(c => c.getBoundingClientRect().right > width + 0.5)) continue;
        // clipped by a scrolling ancestor, unless it is positioned out of that ancestor's reach
        let clipped = false, absolute = getComputedStyle(el).position === 'absolute';
        for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
          const style = getComputedStyle(up);
          if (absolute && style.position === 'static') continue;
          if (style.overflowX !== 'visible') { clipped = true; break; }
          absolute = style.position === 'absolute';
        }
        if (clipped) continue;
        const name = el.tagName.toLowerCase() + [...el.classList].map(c => '.' + c).join('');
        const text = (el.innerText || el.value || '').trim().slice(0, 40);
        found.push(`${name} “${text}” ends at ${Math.round(el.getBoundingClientRect().right)} px`);
        if (found.length >= limit) break;
      }
      return found;
    }""", limit)


def smallest_chart_text(page, selector: str = "figure.chart svg") -> dict:
    """The smallest text in the charts as rendered: its font size times the SVG's scale on screen, and
    the height of its bounding box, in CSS pixels (at 100% zoom)."""
    return page.evaluate("""(selector) => {
      let size = Infinity, height = Infinity, text = '';
      for (const svg of document.querySelectorAll(selector)) {
        for (const t of svg.querySelectorAll('text')) {
          const px = parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a;
          if (px < size) { size = px; text = t.textContent; }
          height = Math.min(height, t.getBoundingClientRect().height);
        }
      }
      return {size, height, text};
    }""", selector)


def staff_sign_in(page, base: str, email: str, password: str | None = None) -> None:
    """Sign a staff member in on the clinic at ``base`` and wait for the home page."""
    from tests.conftest import PASSWORD

    page.goto(f"{base}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password or PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url(f"{base}/")


def portal_sign_in(page, mobile: str, code) -> None:
    """On the portal's sign-in page (zh): the mobile, a code sent to it (``code()`` reads it), sign in."""
    page.get_by_label("手机号").fill(mobile)
    page.get_by_role("button", name="发送验证码").click()
    page.get_by_label("短信中的 6 位验证码").fill(code())
    page.get_by_role("button", name="登录").click()
