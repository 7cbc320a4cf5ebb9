"""Photos shared into a group folder: held for OCR (never read in place), released silently
when they show no marking, asked about when they do; small pictures are never held."""

from __future__ import annotations

import io
from collections.abc import Callable

from PIL import Image

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
