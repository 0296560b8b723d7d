"""PDF rendering with WeasyPrint. Chinese text uses the Noto CJK fonts
installed on the machine (fonts-noto-cjk), found through fontconfig."""
import re
from dataclasses import dataclass

from flask import render_template
from weasyprint import HTML

from app.config import ROOT

_CSS_UNSAFE = re.compile(r"[^0-9A-Za-z \u0080-\uffff]")


@dataclass
class Rendered:
    data: bytes
    pages: int


def render_pdf(template: str, **context) -> bytes:
    return render_document(template, **context).data


def render_document(template: str, **context) -> Rendered:
    """The PDF and its number of pages (laid out once)."""
    html = render_template(template, **context)
    document = HTML(string=html, base_url=str(ROOT / "static")).render()
    return Rendered(document.write_pdf(), len(document.pages))


def css_string(text: str) -> str:
    """``text`` as the inside of a quoted CSS string: what a page header's ``content`` prints. ASCII
    punctuation is written as a hex escape, so a quote or backslash in a name cannot end the string."""
    return _CSS_UNSAFE.sub(lambda m: f"\\{ord(m.group()):x} ", re.sub(r"\s", " ", str(text)))


def page_counter(words: str) -> str:
    """A translated "Page {page} of {pages}" as CSS ``content``: 第 counter(page) 页，共 counter(pages) 页."""
    parts = re.split(r"(\{page\}|\{pages\})", words)
    css = []
    for part in parts:
        if part == "{page}":
            css.append("counter(page)")
        elif part == "{pages}":
            css.append("counter(pages)")
        elif part:
            css.append(f'"{css_string(part)}"')
    return " ".join(css)
