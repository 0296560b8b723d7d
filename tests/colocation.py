"""Every statement the suite runs keeps all the clinic tables it reads on one clinic's rows.

Distributed by tenant_id on Citus, a statement runs on one node when every clinic table in it is tied to
the same clinic: matched tenant_id = tenant_id with another clinic table of the statement (a co-located
join), or filtered by tenant_id = the clinic's id (the ORM's tenant guard adds that filter; different
parameters with the same value count as one clinic). A join matched on other columns alone, between two
tables that nothing ties to one clinic, would have to move rows between nodes.

``watch(engine, clinic_tables)`` reads the SQL of each statement shape at its first execution, as
SQLAlchemy renders it (``FROM t [AS a]``, ``JOIN t [AS a]``, ``a.tenant_id = b.tenant_id``,
``a.tenant_id = %(p)s``), and keeps what it finds in ``violations``; tests/conftest.py fails the test that
ran it. Equalities count wherever they stand (an OR around one is not told apart).
"""
import re

from sqlalchemy import event

violations: list[str] = []
_seen: set[str] = set()

_REFERENCE = re.compile(r"\b(?:FROM|JOIN|UPDATE)\s+(\w+)(?:\s+AS\s+(\w+))?|,\s*(\w+)(?:\s+AS\s+(\w+))?(?=\s*(?:,|WHERE|"
                        r"JOIN|LEFT|GROUP|ORDER|LIMIT|\)|$))", re.IGNORECASE)
_MATCHED = re.compile(r"\b(\w+)\.tenant_id\s*=\s*(\w+)\.tenant_id\b")
_FILTERED = re.compile(r"\b(\w+)\.tenant_id\s*=\s*%\((\w+)\)s|%\((\w+)\)s(?:::\w+)?\s*=\s*(\w+)\.tenant_id\b")
_INSERT_TARGET = re.compile(r"^\s*INSERT\s+INTO\s+(\w+)", re.IGNORECASE)


def problems(sql: str, parameters: dict, clinic_tables: set[str]) -> list[str]:
    inserted = _INSERT_TARGET.match(sql)
    body = sql[inserted.end():] if inserted else sql
    references = set()
    for match in _REFERENCE.finditer(body):
        table, alias = (match.group(1), match.group(2)) if match.group(1) else (match.group(3), match.group(4))
        if table in clinic_tables:
            references.add(alias or table)
    if not references:
        return []
    parent: dict = {}

    def root(node):
        while parent.get(node, node) != node:
            node = parent[node]
        return node

    def tie(a, b):
        parent[root(a)] = root(b)

    for left, right in _MATCHED.findall(body):
        tie(left, right)
    for match in _FILTERED.finditer(body):
        name, key = (match.group(1), match.group(2)) if match.group(1) else (match.group(4), match.group(3))
        tie(name, ("clinic", parameters.get(key)))
    if len({root(r) for r in references}) <= 1:
        return []
    groups: dict = {}
    for reference in sorted(references):
        groups.setdefault(root(reference), []).append(reference)
    return ["clinic tables tied to different clinics or to none: "
            + "; ".join(", ".join(names) for names in groups.values())]


def watch(engine, clinic_tables: set[str]) -> None:
    def check(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement in _seen or engine.dialect.name != "postgresql":
            return
        _seen.add(statement)
        bound = parameters[0] if isinstance(parameters, (list, tuple)) and parameters else parameters
        for problem in problems(statement, bound if isinstance(bound, dict) else {}, clinic_tables):
            violations.append(f"{problem}\n  in: {statement[:3000]}")

    event.listen(engine, "before_cursor_execute", check)
