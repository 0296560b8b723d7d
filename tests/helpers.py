from datetime import date

from app.core.identity import check_char


def valid_id(born: date, sex: str, area: str = "110101", seq: int = 12) -> str:
    order = seq * 10 + (1 if sex == "M" else 2) - (seq * 10) % 2  # odd for men, even for women
    order = order if (order % 2 == 1) == (sex == "M") else order + 1
    body = f"{area}{born:%Y%m%d}{order % 1000:03d}"
    return body + check_char(body)
