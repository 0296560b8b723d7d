"""Counting the SQL statements that a block of code, or one test-client
request, runs: a listener on the engine's ``before_cursor_execute``."""
from collections import Counter
from contextlib import contextmanager

from sqlalchemy import event

from tenants.db import db


@contextmanager
def counting(engine=None):
    """Yield a list that collects every statement sent while the block runs."""
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    engine = engine if engine is not None else db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def statements_of(app, client, url: str, **kwargs) -> list[str]:
    """The statements of one GET by ``client``; the request must answer 200."""
    with app.app_context():
        engine = db.engine
    with counting(engine) as seen:
        response = client.get(url, **kwargs)
    assert response.status_code == 200, (url, response.status_code, response.get_data(as_text=True)[:500])
    return seen


def difference(fewer: list[str], more: list[str]) -> str:
    """The statements that ran more often in ``more`` than in ``fewer``, shortened, for a failure message."""
    grown = Counter(more) - Counter(fewer)
    shrunk = Counter(fewer) - Counter(more)
    lines = [f"+{n} {_short(s)}" for s, n in grown.most_common(8)]
    lines += [f"-{n} {_short(s)}" for s, n in shrunk.most_common(8)]
    return "\n".join(lines)


def _short(statement: str) -> str:
    text = " ".join(statement.split())
    return text if len(text) <= 400 else f"{text[:150]} … {text[-250:]}"
