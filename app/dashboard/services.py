"""The dashboard as its views ask for it: the range a request chooses, the
figures of that range (queries.py holds the statements, figures.py how
people read them)."""
from app.dashboard import figures, queries
from app.dashboard.figures import KEYS, Figure  # noqa: F401  (what a view names)
from app.dashboard.queries import Range  # noqa: F401


def choose_range(raw_from: str | None, raw_to: str | None) -> queries.Range:
    return queries.parse_range(raw_from, raw_to)


def page(span: queries.Range) -> tuple[queries.Dashboard, list[Figure], list[tuple[str, str]]]:
    """The dashboard of ``span``, its figures and the numbers written large above them."""
    board = queries.dashboard(span)
    return board, figures.figures(board), figures.headline(board)


def figures_of(span: queries.Range, keys: tuple[str, ...] = KEYS) -> list[Figure]:
    return figures.figures(queries.dashboard(span), keys)
