"""One engine, several listeners: the UI and the audit trail both hear every event."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from sendguard.engine.arrivals import Arrival
from sendguard.engine.guard import EngineListener
from sendguard.policy.decide import Decision
from sendguard.store.journal import HoldRecord

_log = logging.getLogger("sendguard.engine")

#: Told which listener failed, in which call, and how.
OnError = Callable[[EngineListener, str, Exception], None]


def _log_error(listener: EngineListener, call: str, exc: Exception) -> None:
    _log.error("listener %s failed in %s: %s", type(listener).__name__, call, exc, exc_info=exc)


class FanOutListener(EngineListener):
    """Passes each event to every listener in turn. A listener that raises is reported to
    `on_error` (default: the log) and the others, and the engine, carry on."""

    def __init__(self, *listeners: EngineListener, on_error: OnError = _log_error) -> None:
        self._listeners: tuple[EngineListener, ...] = listeners
        self._lock = threading.Lock()
        self.on_error = on_error

    @property
    def listeners(self) -> tuple[EngineListener, ...]:
        return self._listeners

    def add(self, listener: EngineListener) -> None:
        with self._lock:
            self._listeners = (*self._listeners, listener)

    def remove(self, listener: EngineListener) -> None:
        with self._lock:
            self._listeners = tuple(item for item in self._listeners if item is not listener)

    def _each(self, call: str, *args: object) -> None:
        for listener in self._listeners:  # a snapshot: add/remove replace the tuple
            try:
                getattr(listener, call)(*args)
            except Exception as exc:
                try:
                    self.on_error(listener, call, exc)
                except Exception:  # the error reporter itself must not stop the others
                    _log.exception("reporting a listener's failure failed")

    def held(self, record: HoldRecord, decision: Decision) -> None:
        self._each("held", record, decision)

    def released(self, record: HoldRecord, target: Path, confirmed: bool) -> None:
        self._each("released", record, target, confirmed)

    def returned(self, record: HoldRecord, target: Path, reason: str) -> None:
        self._each("returned", record, target, reason)

    def notified(self, path: Path, decision: Decision) -> None:
        self._each("notified", path, decision)

    def problem(self, message: str) -> None:
        self._each("problem", message)

    def arrived(self, arrival: Arrival) -> None:
        self._each("arrived", arrival)

    def kept_in_place(self, arrival: Arrival, decision: Decision, previous: Path | None) -> None:
        self._each("kept_in_place", arrival, decision, previous)

    def put_back(self, path: Path, previous: Path, kept: Path) -> None:
        self._each("put_back", path, previous, kept)
