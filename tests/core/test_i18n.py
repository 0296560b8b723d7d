"""Chinese by default, English on request, and every catalogue entry translated."""
import re
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


def test_template_catalogue_holds_every_string_in_the_code():
    """messages.pot is extracted from the code as it is now (`make translations`)."""
    from babel.messages.extract import extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg

    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
    found = {message if isinstance(message, str) else message[0]
             for _file, _line, message, _comments, _context in extract_from_dir(
                 str(ROOT), method_map, options_map, keywords=keywords)}
    with (ROOT / "app/translations/messages.pot").open("rb") as pot:
        template = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(pot)}
    assert sorted(found - template) == []


def test_zh_catalogue_is_complete():
    template = read_po((ROOT / "app/translations/messages.pot").open("rb"))
    catalogue = read_po((ROOT / "app/translations/zh_Hans_CN/LC_MESSAGES/messages.po").open("rb"))
    missing = [m.id for m in template if m.id and (not catalogue.get(m.id) or not catalogue.get(m.id).string
                                                   or catalogue.get(m.id).fuzzy)]
    assert missing == []


CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


def _mostly_chinese(text: str) -> bool:
    """Chinese text, not an English sentence quoting a Chinese example ("2024年3月1日")."""
    chinese = len(CJK.findall(text))
    return chinese > 0 and chinese >= len(re.findall(r"[A-Za-z]", text))


def test_mostly_chinese():
    assert _mostly_chinese("全部员工") and _mostly_chinese("请填写%(name)s的姓名")
    assert not _mostly_chinese("write it as 2024年3月1日") and not _mostly_chinese("Everyone")
    assert not _mostly_chinese(", ")


def test_every_source_string_is_english():
    """The code speaks English and the zh catalogue translates it: a Chinese msgid would show
    untranslated to an English reader (the en catalogue stays empty)."""
    template = read_po((ROOT / "app/translations/messages.pot").open("rb"))
    chinese = [m.id for m in template if m.id and _mostly_chinese(m.id if isinstance(m.id, str) else m.id[0])]
    assert chinese == []
    english = read_po((ROOT / "app/translations/en/LC_MESSAGES/messages.po").open("rb"))
    assert [m.id for m in english if m.id and any(m.string if isinstance(m.string, tuple) else (m.string,))] == []


def test_untranslated_script_finds_nothing(capsys):
    """`make messages` ends with scripts/untranslated.py: every message has its zh translation."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("untranslated", ROOT / "scripts/untranslated.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main() == 0, capsys.readouterr().out
