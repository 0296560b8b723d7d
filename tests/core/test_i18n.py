"""Chinese by default, English on request, and every catalogue entry translated."""
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]


def test_chinese_by_default_english_on_request(make_tenant, client_for):
    tenant = make_tenant()
    client = client_for(tenant)
    page = client.get("/login").get_data(as_text=True)
    assert "员工登录" in page and 'lang="zh-CN"' in page
    client.submit("/lang/en")
    page = client.get("/login").get_data(as_text=True)
    assert "Staff sign-in" in page and 'lang="en"' in page
    client.submit("/lang/zh_CN")
    assert "员工登录" in client.get("/login").get_data(as_text=True)


def test_unknown_language_is_404(make_tenant, client_for):
    client = client_for(make_tenant())
    assert client.submit("/lang/xx").status_code == 404


def test_zh_catalogue_is_complete():
    template = read_po((ROOT / "app/translations/messages.pot").open("rb"))
    catalogue = read_po((ROOT / "app/translations/zh_Hans_CN/LC_MESSAGES/messages.po").open("rb"))
    missing = [m.id for m in template if m.id and (not catalogue.get(m.id) or not catalogue.get(m.id).string
                                                   or catalogue.get(m.id).fuzzy)]
    assert missing == []
