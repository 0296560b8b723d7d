"""PDF rendering with WeasyPrint. Chinese text uses the Noto CJK fonts
installed on the machine (fonts-noto-cjk), found through fontconfig."""
from flask import render_template
from weasyprint import HTML

from app.config import ROOT


def render_pdf(template: str, **context) -> bytes:
    html = render_template(template, **context)
    return HTML(string=html, base_url=str(ROOT / "static")).write_pdf()
