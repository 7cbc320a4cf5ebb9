"""Issue 13 in the app: a resized copy of a photo received in the "Work" group's chat, put into
the PUBLIC "Family" folder, is held for being forwarded, and every place that shows the hold
leads with that — the dialog's label line, the held files window, the notification, the
recent events and Recent activity — never with "unknown". The real engine on real folders,
real widgets (offscreen)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from tests.engine.test_forwarded_reason import forward_a_resized_photo
from tests.engine.test_forwarding import NEWSROOM
from tests.engine.test_forwarding import POLICY as FORWARDING_POLICY

from .conftest import AppWorld

#: The engine's forwarding policy, with the work group called "Work", as the app runs it.
POLICY = "[ui]\nallow_pause = {allow_pause}\n" + FORWARDING_POLICY.replace(NEWSROOM, "Work")

HOW = "a resized or re-compressed copy of a picture seen there as IMG_0412.jpg"


def test_a_forwarded_photo_is_shown_as_forwarded_from_work(make_app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for folder in ("Dropbox/Work", "Dropbox/Family", "Telegram Desktop"):
        (tmp_path / folder).mkdir(parents=True)
    world: AppWorld = make_app(policy=POLICY)
    engine = world.controller.engine
    assert engine is not None
    forward_a_resized_photo(tmp_path, engine)
    dialog = world.dialog()
    assert dialog.windowTitle() == 'Share with "Family"?'

    [row] = dialog.rows
    assert row.label_text.text() == f'Forwarded from "Work" ({HOW}) — no label of its own'
    texts = [label.text() for label in dialog.findChildren(QLabel) if label.text()]
    assert 'Content from "Work" is asked about before it goes to "Family" (PUBLIC).' in texts
    assert not any("unknown" in text for text in texts), texts

    held = world.shell.open_held()
    world.wait(lambda: held.table.rowCount() == 1)
    cell = held.table.item(0, 1)
    assert cell is not None
    assert cell.text() == 'Forwarded from "Work" — no label'
    assert cell.toolTip() == f'Forwarded from "Work" ({HOW})'

    [(title, message)] = [n for n in world.shell.notifications if "Held" in n[0]]
    assert title == 'Held before sharing with "Family"'
    assert (
        message
        == f'from work.jpg: Forwarded from "Work" ({HOW}). Decide whether it should go there.'
    )
    [logged] = [a.text for a in world.controller.activity if a.kind == "held"]
    assert logged == f'Held from work.jpg on its way to "Family": Forwarded from "Work" ({HOW})'

    world.qtbot.keyClick(dialog, Qt.Key.Key_Escape)  # don't share
    # The engine says "returned" once the journal says so (the file is moved a moment before).
    world.wait(lambda: any(a.kind == "returned" for a in world.controller.activity))
    assert (world.not_shared / "Family" / "from work.jpg").exists()
    activity = world.shell.open_activity()
    activity.refresh()
    [shown] = [r for r in activity.visible_rows() if r[2] == "from work.jpg"]
    assert shown[5] == 'Forwarded from "Work"'
    assert shown[4] == "not shared"
