"""The Qt binding itself: a bug there would crash the app far from its cause."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    number = Signal(int)


def test_emitting_signals_does_not_drain_the_bool_reference_count(qapp) -> None:  # type: ignore[no-untyped-def]
    """PySide6 6.12.0's emit() returned True without a reference: after enough emits the
    interpreter aborted ("deallocating True or False"). The app emits on every engine event."""
    emitter = _Emitter()
    received: list[int] = []
    emitter.number.connect(received.append)
    before = sys.getrefcount(True)
    for n in range(500):
        emitter.number.emit(n)
    assert received == list(range(500))
    assert sys.getrefcount(True) >= before - 5
