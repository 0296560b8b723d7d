"""Entries of a lab Bundle that another capability files.

A Bundle posted to ``POST /api/v1/fhir`` may carry, next to its
DiagnosticReports and Observations, resources that records does not keep
(QuestionnaireResponse: questionnaires files those). Records imports no other
capability, so the capability that files a resource type registers it here,
through records.services, when the app is set up:

    records.bundle_entries.register("QuestionnaireResponse", scope="fhir:write", file=file_resources)

``file(entries, token)`` takes [(position in the Bundle, resource)], files
each in a savepoint of its own inside the request's transaction (one refused
entry undoes nothing else), and returns (OperationOutcome issues naming each
entry, how many were filed). A token without the registered scope files none
of that type's entries: each is refused by name.
"""
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.records import limits

LAB_TYPES = ("DiagnosticReport", "Observation")


@dataclass(frozen=True)
class _Handler:
    scope: str
    file: Callable[[list[tuple[int, dict]], Any], tuple[list[dict], int]]


_HANDLERS: dict[str, _Handler] = {}


def register(resource_type: str, *, scope: str, file: Callable[[list[tuple[int, dict]], Any],
                                                               tuple[list[dict], int]]) -> None:
    _HANDLERS[resource_type] = _Handler(scope, file)


@dataclass
class HandedOver:
    """What a posted body holds for others: entries by resource type; whether anything is left for the lab
    import; why entries for others could not be taken ("" when they could)."""
    entries: dict[str, list[tuple[int, dict]]] = field(default_factory=dict)
    lab: bool = True
    refusal: str = ""

    @property
    def count(self) -> int:
        return sum(len(found) for found in self.entries.values())


def split(data: bytes) -> HandedOver:
    """The entries of a posted body that registered capabilities file. A body that cannot be read is left whole
    to the lab import, which names what is wrong with it."""
    named = [kind for kind in _HANDLERS if f'"{kind}"'.encode() in data]
    if not named:
        return HandedOver()
    if len(data) > limits.CAPPED_ABOVE:
        return HandedOver(refusal=f"{', '.join(named)} entries are taken from bodies up to "
                                  f"{limits.CAPPED_ABOVE // 1024} KiB only: send them in a smaller Bundle")
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return HandedOver()
    if not isinstance(document, dict):
        return HandedOver()
    kind = document.get("resourceType")
    if isinstance(kind, str) and kind in _HANDLERS:
        return HandedOver({kind: [(1, document)]}, lab=False)
    if kind != "Bundle" or not isinstance(document.get("entry"), list):
        return HandedOver()
    handed = HandedOver(lab=False)
    for position, entry in enumerate(document["entry"], 1):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            continue
        rtype = resource.get("resourceType")
        if isinstance(rtype, str) and rtype in _HANDLERS:
            handed.entries.setdefault(rtype, []).append((position, resource))
        elif rtype in LAB_TYPES:
            handed.lab = True
    handed.lab = handed.lab or not handed.entries
    return handed


def file(handed: HandedOver, token) -> tuple[list[dict], int]:
    """File what was handed over (the caller commits): the issues for its entries and how many were filed."""
    issues: list[dict] = []
    filed = 0
    if handed.refusal:
        issues.append({"severity": "error", "code": "too-costly", "diagnostics": handed.refusal})
    for rtype, entries in handed.entries.items():
        handler = _HANDLERS[rtype]
        if handler.scope not in (token.scopes or []):
            issues += [{"severity": "error", "code": "security",
                        "diagnostics": f"entry {position}: a token with the {handler.scope} scope is required "
                                       f"to file a {rtype}"} for position, _resource in entries]
            continue
        found, count = handler.file(entries, token)
        issues += found
        filed += count
    return issues, filed
