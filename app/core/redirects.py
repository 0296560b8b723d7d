"""Where a redirect may go when the request names it (``next``, the referrer, a form field):
a path on this host, never another site.

``safe_target`` is the one gate for every such redirect. A target passes only as
a relative path ("/patients?q=1"); anything a browser could read as another host
or a script is replaced by the default: "//evil", "/\\evil" (browsers treat "\\"
as "/"), "https://evil", "javascript:...", control characters and whitespace
(browsers drop tabs and newlines, turning "/\\t/evil" into "//evil"), and the same
spelled with percent escapes, however often they are nested.
"""
from urllib.parse import unquote, urlsplit

_MAX_LENGTH = 2048


def _looks_safe(target: str, *, raw: bool) -> bool:
    if raw and any(ord(c) < 33 or ord(c) == 127 for c in target):
        return False
    target = target.replace("\t", "").replace("\n", "").replace("\r", "")  # as browsers drop them
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def safe_target(target: str | None, default: str) -> str:
    """``target`` when it is a path on this host, else ``default``."""
    if not target or not isinstance(target, str) or len(target) > _MAX_LENGTH:
        return default
    seen = target
    for attempt in range(5):  # "%252F%252Fevil" -> "%2F%2Fevil" -> "//evil": every spelling must be safe
        if not _looks_safe(seen, raw=attempt == 0):
            return default
        decoded = unquote(seen)
        if decoded == seen:
            return target
        seen = decoded
    return default


def back_to_referrer(referrer: str | None, host: str, default: str = "/") -> str:
    """The page the request came from, as a path on this host (the language switch's way back)."""
    if not referrer:
        return default
    parts = urlsplit(referrer)
    if parts.scheme not in ("http", "https", "") or (parts.netloc and parts.netloc != host):
        return default
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return safe_target(path, default)
