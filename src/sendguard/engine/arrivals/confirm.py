"""The arrivals thread: keeps each arrival with its evidence in the journal, and asks the sync
client's own state about downloads, off the hold path.

A download is recognised at once by the client's temporary name; its state (Syncthing's API,
Nextcloud's journal) records it a second or two later. When the state then says that this
device made the change — the name was forged, or a program of this user's mimics it — the
arrival is a share after all and goes back to the engine to be held.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from sendguard.engine.arrivals.classifier import ArrivalClassifier
from sendguard.engine.arrivals.model import Arrival, Evidence, Kind, Strength
from sendguard.store.journal import Journal, JournalError

#: How often the client's state is asked again while a download waits for confirmation.
_POLL = 0.5
#: Arrivals are written to the journal together, at most this often (one commit each time).
_FLUSH = 0.5


@dataclass
class _Unconfirmed:
    arrival: Arrival
    group: Any
    outbox: bool
    deadline: float


class ArrivalLog:
    def __init__(
        self,
        classifier: ArrivalClassifier,
        journal: Journal,
        *,
        confirm_seconds: float,
        contradicted: Callable[[Arrival, Any, bool], None],
        resolved: Callable[[Arrival, Any], None],
        problem: Callable[[str], None],
    ) -> None:
        self.classifier = classifier
        self.journal = journal
        self.confirm_seconds = confirm_seconds
        self._contradicted = contradicted
        self._resolved = resolved
        self._problem = problem
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._thread: threading.Thread | None = None

    def can_confirm(self, arrival: Arrival) -> bool:
        """Whether the client that wrote `arrival` keeps a state to ask about it."""
        if self.confirm_seconds <= 0:
            return False
        return any(
            c.name == arrival.client and c.keeps_state_of(arrival.path)
            for c in self.classifier.clients
        )

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="sendguard-arrivals", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(("stop", None))
            self._thread.join(timeout=30)
            self._thread = None

    def record(self, arrival: Arrival) -> None:
        """Keep the arrival (downloads waiting for confirmation are kept once confirmed).
        This user's shares are the journal's holds, and SendGuard's own moves its releases:
        neither is written twice (a burst of shares then costs the journal nothing more)."""
        if arrival.kind is Kind.OWN or (arrival.kind is Kind.SHARE and arrival.may_move):
            return
        self._queue.put(("record", arrival))

    def confirm(self, arrival: Arrival, group: Any, outbox: bool) -> None:
        self._queue.put(("confirm", (arrival, group, outbox)))

    def _loop(self) -> None:
        unconfirmed: list[_Unconfirmed] = []
        rows: list[Arrival] = []
        next_flush = time.monotonic() + _FLUSH
        next_poll = time.monotonic() + _POLL
        stopping = False
        while not stopping:
            # Idle, it sleeps until the next arrival: no wake-ups when nothing happens.
            timeout = None
            if rows or unconfirmed:
                timeout = max(0.0, min(next_flush, next_poll) - time.monotonic())
            try:
                kind, payload = self._queue.get(timeout=timeout)
            except queue.Empty:
                kind, payload = "tick", None
            if kind == "stop":
                stopping = True
            elif kind == "record":
                rows.append(payload)
            elif kind == "confirm":
                arrival, group, outbox = payload
                deadline = time.monotonic() + self.confirm_seconds
                unconfirmed.append(_Unconfirmed(arrival, group, outbox, deadline))
            now = time.monotonic()
            if now >= next_poll or stopping:
                next_poll = now + _POLL
                unconfirmed = self._poll(unconfirmed, rows, final=stopping)
            if now >= next_flush or stopping:
                next_flush = now + _FLUSH
                self._flush(rows)

    def _poll(
        self, unconfirmed: list[_Unconfirmed], rows: list[Arrival], *, final: bool
    ) -> list[_Unconfirmed]:
        waiting = []
        now = time.monotonic()
        for item in unconfirmed:
            try:
                confirmed = self.classifier.confirm(item.arrival)
            except Exception as exc:  # a client's state reader must not stop the others
                self._problem(f"could not ask the sync client about {item.arrival.path}: {exc}")
                confirmed = None
            if confirmed is not None:
                rows.append(confirmed)
                if confirmed.kind is Kind.SHARE and not item.arrival.may_move:
                    self._contradicted(confirmed, item.group, item.outbox)
                else:
                    self._resolved(confirmed, item.group)
            elif final or now >= item.deadline:
                waited = Evidence(
                    item.arrival.client or "sync client",
                    f"its own state did not confirm within {self.confirm_seconds:g} s",
                    Strength.DEFAULT,
                )
                as_named = replace(item.arrival, evidence=(*item.arrival.evidence, waited))
                rows.append(as_named)
                if not final:
                    self._resolved(as_named, item.group)
            else:
                waiting.append(item)
        return waiting

    def _flush(self, rows: list[Arrival]) -> None:
        if not rows:
            return
        try:
            self.journal.record_arrivals(rows)
        except JournalError as exc:
            self._problem(f"could not keep {len(rows)} arrival(s) in the journal: {exc}")
        rows.clear()
