"""The dashboard as its views ask for it: the range a request chooses, the
numbers written large on the page, and each figure of that range, read on its
own (queries.py holds the statements, figures.py how people read them)."""
from app.dashboard import figures, queries
from app.dashboard.figures import KEYS, Figure, title_of  # noqa: F401  (what a view names)
from app.dashboard.queries import Range  # noqa: F401


def choose_range(raw_from: str | None, raw_to: str | None) -> queries.Range:
    return queries.parse_range(raw_from, raw_to)


# the figures whose numbers the headline reads anyway: drawn with the page, the others load on their own
DRAWN = ("patients", "bookings")


def page_context(span: queries.Range) -> dict:
    """What the dashboard page shows for ``span``: the numbers written large above the figures, the figures
    drawn with the page (``drawn``) and every figure's key and title in order (``placeholders``); the figures
    not drawn are each loaded by a request of their own, so the page does not wait for the slowest."""
    board = queries.dashboard(span)
    return {"board": board, "span": span, "headline": figures.headline(board),
            "drawn": {f.key: f for f in figures.figures(board, DRAWN)},
            "placeholders": [(key, title_of(key)) for key in KEYS]}


def figures_of(span: queries.Range, keys: tuple[str, ...] = KEYS) -> list[Figure]:
    """The chosen figures; only their own statements run."""
    return figures.figures(queries.dashboard(span), keys)
