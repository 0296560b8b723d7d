"""Chinese resident ID numbers (GB 11643-1999) and mobile numbers."""
import re
from dataclasses import dataclass
from datetime import date

from app.core import clock

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_ID_RE = re.compile(r"^[1-9]\d{16}[\dX]$")
MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")


@dataclass(frozen=True)
class ResidentId:
    number: str
    birth_date: date
    sex: str  # "M" or "F"


class InvalidId(ValueError):
    pass


def check_char(first17: str) -> str:
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS))
    return _CHECK_CHARS[total % 11]


def normalise_id(raw: str) -> str:
    return (raw or "").strip().upper().replace(" ", "")


def parse_resident_id(raw: str) -> ResidentId:
    """Validate an 18-character ID number; raise InvalidId with the reason."""
    number = normalise_id(raw)
    if not _ID_RE.match(number):
        raise InvalidId("format")
    if check_char(number[:17]) != number[17]:
        raise InvalidId("check_digit")
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError as exc:
        raise InvalidId("birth_date") from exc
    if born > clock.today() or born.year < 1900:
        raise InvalidId("birth_date")
    sex = "M" if int(number[16]) % 2 else "F"
    return ResidentId(number, born, sex)


def normalise_mobile(raw: str) -> str:
    digits = re.sub(r"[\s-]", "", raw or "")
    if digits.startswith("+86"):
        digits = digits[3:]
    return digits


def is_mobile(value: str) -> bool:
    return bool(MOBILE_RE.match(value))


def mask_mobile(mobile: str | None) -> str:
    if not mobile:
        return ""
    return mobile[:3] + "****" + mobile[-4:]


def mask_id(number: str | None) -> str:
    if not number:
        return ""
    return number[:4] + "*" * (len(number) - 8) + number[-4:]
