"""Photos shared into a group folder: held for OCR (never read in place), released silently
when they show no marking, asked about when they do; small pictures are never held."""

from __future__ import annotations

import io
import os
from collections.abc import Callable

import pytest
from PIL import Image

from sendguard.engine import guard
from sendguard.engine.decider import Answer, Batch, ScriptedDecider
from sendguard.engine.guard import Engine
from tests.engine.conftest import Recorder, World, digest, wait
from tests.labels.photos import landscape, page, photograph

Start = Callable[..., tuple[Engine, ScriptedDecider, Recorder]]


def test_photos_are_read_in_the_hold_area(world: World, running: Start) -> None:
    def keep_back(batch: Batch) -> list[Answer]:
        return [Answer(item.hold_id, share=False) for item in batch.items]

    engine, decider, recorder = running(keep_back)
    icon = world.family / "sticker.png"
    Image.new("RGB", (160, 160), (250, 200, 0)).save(icon)
    buffer = io.BytesIO()
    landscape((2400, 1800)).save(buffer, "JPEG", quality=80)
    holiday_bytes = buffer.getvalue()
    holiday = world.family / "holiday.jpg"
    holiday.write_bytes(holiday_bytes)
    notice = world.family / "IMG_5120.jpg"
    photograph(page(top="机密★1年"), frame=(1800, 2400)).save(notice, "JPEG", quality=75)

    wait(lambda: bool(decider.asked), timeout=30)
    wait(lambda: ("released", "holiday.jpg") in recorder.events, timeout=30)
    (item,) = [item for batch in decider.asked for item in batch.items]
    assert item.name == "IMG_5120.jpg"
    assert item.decision.level is not None and item.decision.level.name == "SECRET"
    assert any("(OCR)" in line for line in item.decision.explanation)
    wait(lambda: (world.not_shared / "Family" / "IMG_5120.jpg").exists())
    # The landscape went through the hold area and came back unchanged, without a prompt;
    # the sticker was never held.
    assert digest(holiday.read_bytes()) == digest(holiday_bytes)
    assert ("held", "holiday.jpg") not in recorder.events
    held = [record.origin.name for record in engine.journal.history()]
    assert "holiday.jpg" in held and "sticker.png" not in held
    assert icon.exists()
    assert not [event for event in recorder.events if event[0] == "problem"]
    # OCR ran in the scanning process, which leaves (with its memory) after a quiet spell.
    worker = engine.scan_worker
    assert worker is not None and worker.started == 1
    assert worker.alive and worker.pid != os.getpid()
    worker.idle_seconds = 0
    wait(lambda: not worker.alive, timeout=10)  # the engine's timer stops it


def test_a_photo_whose_reading_overruns_is_held_as_unscannable(
    world: World, running: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fail closed: a picture OCR could not finish reading is never taken for clean."""
    monkeypatch.setattr(guard, "OCR_TIMEOUT", 0.05)
    _engine, decider, _recorder = running(lambda batch: None)
    photo = world.family / "IMG_0001.jpg"
    landscape((2400, 1800)).save(photo, "JPEG", quality=80)
    wait(lambda: bool(decider.asked), timeout=30)
    (item,) = [item for batch in decider.asked for item in batch.items]
    assert item.name == "IMG_0001.jpg"
    reason = item.findings.unscannable_reason or ""
    assert reason.startswith("the picture could not be read: reading it took longer than")
    assert not photo.exists()  # held, waiting for a decision
