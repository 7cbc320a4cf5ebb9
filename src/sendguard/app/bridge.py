"""One small QObject that carries the engine's callbacks into the GUI thread.

The engine calls its listener and its decider from its own threads. Each call here only
emits a signal; Qt queues it to the receivers, which live in the GUI thread, so no widget
is ever touched from an engine thread and the engine never waits on the GUI.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from sendguard.engine.arrivals import Arrival
from sendguard.engine.decider import Batch, Reply
from sendguard.engine.guard import EngineListener
from sendguard.policy.decide import Decision
from sendguard.store.journal import HoldRecord


class EngineBridge(QObject):
    """Implements the engine's `EngineListener` and `Decider` with signals."""

    file_held = Signal(object, object)  # HoldRecord, Decision
    file_released = Signal(object, object, object)  # HoldRecord, Path, confirmed (bool)
    file_returned = Signal(object, object, str)  # HoldRecord, Path, reason
    file_notified = Signal(object, object)  # Path, Decision
    engine_problem = Signal(str)
    file_kept_in_place = Signal(object, object, object)  # Arrival, Decision, Path | None
    batch_asked = Signal(object, object)  # Batch, Reply

    def listener(self) -> EngineListener:
        return _ListenerAdapter(self)

    # --- Decider -----------------------------------------------------------------------
    def ask(self, batch: Batch, reply: Reply) -> None:
        self.batch_asked.emit(batch, reply)


class _ListenerAdapter(EngineListener):
    def __init__(self, bridge: EngineBridge) -> None:
        self._bridge = bridge

    def held(self, record: HoldRecord, decision: Decision) -> None:
        self._bridge.file_held.emit(record, decision)

    def released(self, record: HoldRecord, target: Path, confirmed: bool) -> None:
        self._bridge.file_released.emit(record, target, confirmed)

    def returned(self, record: HoldRecord, target: Path, reason: str) -> None:
        self._bridge.file_returned.emit(record, target, reason)

    def notified(self, path: Path, decision: Decision) -> None:
        self._bridge.file_notified.emit(path, decision)

    def problem(self, message: str) -> None:
        self._bridge.engine_problem.emit(message)

    def kept_in_place(self, arrival: Arrival, decision: Decision, previous: Path | None) -> None:
        self._bridge.file_kept_in_place.emit(arrival, decision, previous)
