"""The member card's QR code: the card number, for the desk's scanner (which types it and Enter)."""
import segno
from markupsafe import Markup


def _code(card_no: str) -> segno.QRCode:
    return segno.make(card_no, micro=False, error="m")


def card_svg(card_no: str, title: str) -> Markup:
    """Inline SVG markup (no style attribute: the Content-Security-Policy allows none), named by ``title``."""
    svg = _code(card_no).svg_inline(scale=4, border=2, title=title, svgclass="qr", lineclass=None, omitsize=True)
    return Markup(svg.replace("<svg ", '<svg role="img" ', 1))  # noqa: S704  (segno's markup; title escaped by it)


def card_data_uri(card_no: str) -> str:
    """The same code as an image address, for the printed card (WeasyPrint)."""
    return _code(card_no).svg_data_uri(scale=4, border=2)
