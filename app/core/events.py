"""The event path between capabilities: named signals (blinker).

A capability says what happened with a signal it defines in its own
``signals`` module (re-exported by its ``services``) and sends from the
service function that did it, inside that transaction, with ids (never
objects). The clinic rides along as the sender:

    results_stored = events.define("results-stored", "Results were stored for patients: patient_ids.")
    events.send(results_stored, patient_ids=[patient.id])

Other capabilities connect in their package's ``register``:

    records.results_stored.connect(_retag_patients)   # def _retag_patients(tenant_id, *, patient_ids, **_)

A listener runs in the sender's transaction. Work that must wait for the
commit (a job, a message) goes through app.core.txn. The README's layout
section lists every signal with who sends it and who listens; a test
compares that table with ``DEFINED``.
"""
from blinker import NamedSignal, Namespace

from tenants.context import require_tenant_id

_signals = Namespace()
DEFINED: dict[str, str] = {}  # signal name -> what it says


def define(name: str, doc: str) -> NamedSignal:
    DEFINED[name] = doc
    return _signals.signal(name, doc)


def connect(signal: NamedSignal, receiver) -> None:
    """Connect for the process's life (blinker holds receivers weakly by default)."""
    signal.connect(receiver, weak=False)


def send(signal: NamedSignal, **ids) -> None:
    signal.send(require_tenant_id(), **ids)
