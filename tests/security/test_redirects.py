"""Redirects that take their target from the request go to a path on this host only
(issue 12, item 11): the language switch (the referrer), staff sign-in (``next``),
the patient portal's sign-in (``next``), all through app.core.redirects.safe_target."""
import ast
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from app.core.redirects import back_to_referrer, safe_target
from tests.portal.conftest import _token, last_code  # noqa: F401 (a fixture)

APP = Path(__file__).resolve().parents[2] / "app"
HOSTILE = [
    "//evil.example/", "///evil.example/", "/\\evil.example", "\\\\evil.example", "/\\/evil.example",
    "https://evil.example/", "http:evil.example", "HTTPS://evil.example", "javascript:alert(1)",
    "JavaScript:alert(1)//", "data:text/html,<script>alert(1)</script>", "evil.example", "%2F%2Fevil.example",
    "/%2F%2Fevil.example", "/%2f%5Cevil.example", "/%252F%252Fevil.example", "/%5C%5Cevil.example",
    "/\t/evil.example", "/\n/evil.example", " //evil.example", "/\x00/evil.example", "//evil.example@x/",
    "/%09/evil.example", "/\r\nSet-Cookie:x=1",
]


def _stays_here(location: str) -> bool:
    """A relative path a browser resolves on this host, however it decodes it."""
    if re.search(r"[\x00-\x20\x7f]", location):
        return False
    for seen in (location, unquote(location), unquote(unquote(location))):
        seen = re.sub(r"[\t\r\n]", "", seen)  # as browsers drop them
        if not seen.startswith("/") or seen.startswith("//") or "\\" in seen or urlsplit(seen).netloc:
            return False
    return True


@pytest.mark.parametrize("target", HOSTILE)
def test_the_helper_refuses_every_other_host(target):
    assert safe_target(target, "/home") == "/home"


@pytest.mark.parametrize("target", ["/patients", "/patients?q=%E5%BC%A0&page=2", "/portal/orders/12#x", "/a%20b"])
def test_the_helper_keeps_a_path_on_this_host(target):
    assert safe_target(target, "/home") == target


def test_the_referrer_of_another_host_goes_home():
    assert back_to_referrer("https://evil.example/x", "demo.localhost") == "/"
    assert back_to_referrer("http://demo.localhost//evil.example/", "demo.localhost") == "/"
    assert back_to_referrer("http://demo.localhost/patients?q=1", "demo.localhost") == "/patients?q=1"


@pytest.mark.parametrize("path", ["//evil.example/", "/\\evil.example", "/%2F%2Fevil.example", "/%5Cevil.example",
                                  "/%252F%252Fevil.example", "//evil.example/%2F..", "/\t/evil.example"])
def test_the_language_switch_stays_on_this_host(make_tenant, client_for, path):
    """The page was opened at a hostile path: the switch's referrer carries it."""
    tenant = make_tenant()
    client = client_for(tenant)
    response = client.submit("/lang/en", headers={"Referer": f"http://{tenant.host}{path}"})
    assert response.status_code == 302 and _stays_here(response.headers["Location"]), response.headers["Location"]


@pytest.mark.parametrize("referrer", ["https://evil.example/", "javascript:alert(1)", "//evil.example/",
                                      "http://evil.example@{host}/", "ftp://{host}/x"])
def test_the_language_switch_ignores_a_foreign_referrer(make_tenant, client_for, referrer):
    tenant = make_tenant()
    response = client_for(tenant).submit("/lang/en", headers={"Referer": referrer.format(host=tenant.host)})
    assert response.status_code == 302 and _stays_here(response.headers["Location"]), response.headers["Location"]


@pytest.mark.parametrize("target", HOSTILE)
def test_staff_sign_in_never_follows_next_elsewhere(make_tenant, client_for, target):
    tenant = make_tenant()
    client = client_for(tenant)
    response = client.submit("/login", {"email": tenant.owner_email, "password": "correct-horse-battery"},
                             query_string={"next": target})
    if "\x00" in target:  # refused before any view by the input guard (tests/security/test_no_500.py)
        assert response.status_code == 400 and "Location" not in response.headers
        return
    assert response.status_code == 302 and _stays_here(response.headers["Location"]), response.headers["Location"]


@pytest.mark.parametrize("target", HOSTILE)
def test_the_portal_sign_in_keeps_only_a_path_here(make_tenant, client_for, target):
    tenant = make_tenant()
    client = client_for(tenant)
    if "\x00" in target:  # refused before any view by the input guard
        assert client.get("/portal/sign-in", query_string={"next": target}).status_code == 400
        target = target.replace("\x00", "")
    page = client.get("/portal/sign-in", query_string={"next": target}).get_data(as_text=True)
    kept = re.search(r'name="next"[^>]*value="([^"]*)"|value="([^"]*)"[^>]*name="next"', page)
    value = (kept.group(1) or kept.group(2)) if kept else ""
    assert value == "/portal", value
    answer = client.post("/portal/sign-in/code", data={"mobile": "13800000000", "code": "000000", "next": target,
                                                       "csrf_token": _token(page)})
    assert answer.status_code == 400 and f'value="{target}"' not in answer.get_data(as_text=True)


def test_a_signed_in_patient_is_sent_to_a_path_here(make_tenant, make_patient, client_for, last_code):
    tenant = make_tenant()
    patient = make_patient(tenant)
    client = client_for(tenant)
    token = _token(client.get("/portal/sign-in").get_data(as_text=True))
    client.post("/portal/sign-in", data={"mobile": patient.mobile, "csrf_token": token})
    response = client.post("/portal/sign-in/code", data={"mobile": patient.mobile, "csrf_token": token,
                                                         "code": last_code(tenant, patient.mobile),
                                                         "next": "/%2F%2Fevil.example/"})
    assert response.status_code == 302 and response.headers["Location"] == "/portal"


_GATES = {"safe_target", "safe_next", "_safe_next", "back_to_referrer", "url_for"}


def _gated(node, assigned) -> bool:
    """A redirect target built by url_for or one of the gates (directly or through a local name)."""
    if isinstance(node, ast.Call):
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        return name in _GATES
    if isinstance(node, ast.Name):
        sources = assigned.get(node.id, [])
        return bool(sources) and all(_gated(source, {}) for source in sources)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):  # url_for(...) + "#fragment": still a path here
        return _gated(node.left, assigned)
    if isinstance(node, ast.IfExp):
        return _gated(node.body, assigned) and _gated(node.orelse, assigned)
    return False


def test_every_redirect_in_the_app_goes_through_a_gate():
    """Found in the source, not listed by hand: each redirect(...) and HX redirect=... target."""
    loose = []
    for path in APP.rglob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        for function in [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]:
            assigned: dict[str, list] = {}
            for node in ast.walk(function):
                if isinstance(node, ast.Assign):
                    for target in node.targets:
                        if isinstance(target, ast.Name):
                            assigned.setdefault(target.id, []).append(node.value)
            for node in ast.walk(function):
                if not isinstance(node, ast.Call):
                    continue
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                targets = [node.args[0]] if name == "redirect" and node.args else []
                targets += [k.value for k in node.keywords if k.arg == "redirect"]
                loose += [f"{path.relative_to(APP.parent)}:{t.lineno}" for t in targets if not _gated(t, assigned)]
    assert loose == []
