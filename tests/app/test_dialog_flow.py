"""A labelled file dropped into a group folder, the dialog that names the group, and what
each answer does to the file — the real engine on real folders, real widgets."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QGuiApplication, QInputMethodEvent
from PySide6.QtWidgets import QLabel

from sendguard.app.dialog import ConfirmDialog
from sendguard.store.fingerprints import fingerprint_file

from .conftest import CLEAN, TLP_RED, AppWorld


def journal_rows(world: AppWorld) -> list[tuple[str, str | None, str | None]]:
    db = sqlite3.connect(world.root / "data" / "journal.sqlite3")
    try:
        return db.execute("SELECT state, decision, typed_name FROM holds ORDER BY id").fetchall()
    finally:
        db.close()


def labels_text(dialog: ConfirmDialog) -> list[str]:
    return [label.text() for label in dialog.findChildren(QLabel) if label.text()]


def test_dialog_names_the_group_and_typing_its_name_shares(make_app) -> None:  # type: ignore[no-untyped-def]
    world: AppWorld = make_app()
    (world.family / "plan.txt").write_bytes(TLP_RED)
    dialog = world.dialog()
    assert dialog.windowTitle() == 'Share with "Family"?'
    assert dialog.headline.text() == 'Share with "Family"?'
    assert dialog.headline.font().pointSizeF() > dialog.font().pointSizeF() * 1.5
    assert "Members: 6" in dialog.facts.text()
    assert "includes people outside your organisation" in dialog.facts.text()
    texts = labels_text(dialog)
    assert "plan.txt" in texts
    assert any(text.startswith("SECRET — marking TLP:RED") for text in texts), texts
    assert dialog.share.text() == 'Share with "Family"'
    assert not (world.family / "plan.txt").exists()  # held while asking

    world.wait(lambda: dialog.armed)
    assert not dialog.share.isEnabled()  # the name is not typed yet
    world.qtbot.keyClicks(dialog.name_edit, "family")
    dialog.reason_edit.setPlainText("The family trip budget, agreed with my manager")
    assert dialog.share.isEnabled()
    world.qtbot.mouseClick(dialog.share, Qt.MouseButton.LeftButton)

    world.wait(lambda: (world.family / "plan.txt").exists())
    assert (world.family / "plan.txt").read_bytes() == TLP_RED
    world.wait(lambda: journal_rows(world)[-1][0] == "released")
    assert journal_rows(world)[-1] == ("released", "share", "family")


def test_escape_means_dont_share(make_app) -> None:  # type: ignore[no-untyped-def]
    world: AppWorld = make_app()
    (world.family / "plan.txt").write_bytes(TLP_RED)
    dialog = world.dialog()
    world.qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    returned = world.not_shared / "Family" / "plan.txt"
    world.wait(returned.exists)
    assert returned.read_bytes() == TLP_RED
    assert not (world.family / "plan.txt").exists()
    world.wait(lambda: journal_rows(world)[-1][0] == "returned")
    assert journal_rows(world)[-1][:2] == ("returned", "dont-share")


def test_enter_does_not_share_by_habit(make_app) -> None:  # type: ignore[no-untyped-def]
    world: AppWorld = make_app()
    (world.editors / "memo.txt").write_bytes(TLP_RED)
    dialog = world.dialog()
    world.wait(lambda: dialog.armed)
    world.qtbot.keyClicks(dialog.name_edit, "Editors' Desk")
    assert dialog.share.isEnabled()
    dialog.name_edit.setFocus()
    world.qtbot.keyClick(dialog.name_edit, Qt.Key.Key_Return)  # Enter after typing: nothing
    world.qtbot.wait(300)
    assert dialog.isVisible() and world.controller.held
    dialog.dont_share.setFocus()
    world.qtbot.keyClick(dialog.dont_share, Qt.Key.Key_Return)  # the default: don't share
    returned = world.not_shared / "Editors' Desk" / "memo.txt"
    world.wait(returned.exists)


def test_five_files_at_once_are_one_dialog(make_app) -> None:  # type: ignore[no-untyped-def]
    world: AppWorld = make_app()
    for n in range(5):
        (world.editors / f"memo-{n}.txt").write_bytes(TLP_RED + bytes([65 + n]))
    world.wait(lambda: len(world.controller.held) == 5)
    dialog = world.dialog()
    world.wait(lambda: len(dialog.rows) == 5 or world.controller.pending == [], timeout=5)
    assert len(dialog.rows) == 5
    assert dialog.windowTitle() == """Share with "Editors' Desk"?"""
    assert dialog.share.text() == """Share chosen files with "Editors' Desk\""""
    # Each file has its own choice: share two, keep three back.
    world.wait(lambda: dialog.armed)
    world.qtbot.keyClicks(dialog.name_edit, "EDITORS' DESK")
    assert not dialog.share.isEnabled()  # nothing chosen yet
    dialog.rows[0].choice.setChecked(True)
    dialog.rows[3].choice.setChecked(True)
    world.qtbot.mouseClick(dialog.share, Qt.MouseButton.LeftButton)
    chosen = {dialog.rows[0].item.name, dialog.rows[3].item.name}
    world.wait(lambda: not world.controller.held)
    shared = {path.name for path in world.editors.iterdir()}
    kept = {
        path.name
        for path in (world.not_shared / "Editors' Desk").iterdir()
        if not path.name.endswith(".sendguard-note.txt")  # why each was not shared
    }
    assert shared == chosen
    assert len(kept) == 3 and not kept & chosen
    assert world.shell.dialog is None


def test_a_spoofed_name_is_shown_escaped_never_rendered(make_app) -> None:  # type: ignore[no-untyped-def]
    world: AppWorld = make_app()
    name = "<b>pay<i>\u202etxt.exe\u200b\nreport.txt"
    (world.family / name).write_bytes(TLP_RED)
    dialog = world.dialog()
    shown = dialog.rows[0].name_label
    assert shown.textFormat() == Qt.TextFormat.PlainText
    text = shown.text()
    assert "\u202e" not in text and "\u200b" not in text and "\n" not in text
    assert "<U+202E>" in text and "<U+200B>" in text
    assert "<b>pay<i>" in text  # shown as typed, as text, not as bold markup
    world.qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    world.wait(lambda: (world.not_shared / "Family" / name).exists())


def test_share_stays_disabled_while_arming_and_while_the_name_is_wrong(make_app) -> None:  # type: ignore[no-untyped-def]
    world: AppWorld = make_app(arm_delay_ms=1500)
    (world.editors / "memo.txt").write_bytes(TLP_RED)
    dialog = world.dialog()
    shown_at = time.monotonic()
    world.qtbot.keyClicks(dialog.name_edit, "Editors' Desk")
    assert dialog.name_ok()
    assert not dialog.share.isEnabled()  # right name, but not armed yet
    world.qtbot.mouseClick(dialog.share, Qt.MouseButton.LeftButton)  # a reflex click
    assert (world.root / "data").exists() and world.controller.held  # nothing happened
    world.wait(lambda: dialog.armed, timeout=5)
    # Armed 1.5 s after it was shown; `shown_at` is when keys began to count (0.8 s in).
    assert time.monotonic() - shown_at >= 0.6
    assert dialog.share.isEnabled()
    dialog.name_edit.clear()
    world.qtbot.keyClicks(dialog.name_edit, "Editors Desk")  # wrong: no apostrophe
    assert not dialog.share.isEnabled()
    # Full-width and different case are the same name; pasting does not count.
    dialog.name_edit.clear()
    commit = QInputMethodEvent("", [])  # what an input method sends when text is chosen
    commit.setCommitString("ＥＤＩＴＯＲＳ' ＤＥＳＫ")
    QCoreApplication.sendEvent(dialog.name_edit, commit)
    assert dialog.name_edit.text() == "ＥＤＩＴＯＲＳ' ＤＥＳＫ"
    assert dialog.share.isEnabled()
    dialog.name_edit.clear()
    QGuiApplication.clipboard().setText("Editors' Desk")
    world.qtbot.keyClick(dialog.name_edit, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert dialog.name_edit.text() == ""
    assert not dialog.share.isEnabled()
    world.qtbot.keyClick(dialog, Qt.Key.Key_Escape)


def test_never_shares_on_a_timeout(make_app) -> None:  # type: ignore[no-untyped-def]
    world: AppWorld = make_app()
    (world.family / "plan.txt").write_bytes(TLP_RED)
    dialog = world.dialog()
    world.qtbot.wait(2500)  # long past arming; nobody answers
    assert dialog.isVisible()
    assert not (world.family / "plan.txt").exists()
    assert not (world.not_shared / "Family").exists() or not any(
        (world.not_shared / "Family").iterdir()
    )
    assert len(world.controller.held) == 1
    world.controller._remind()  # the tray's reminder, due every ten minutes
    assert world.shell.notifications[-1][0] == 'Held before sharing with "Family"'  # dialog open
    world.qtbot.keyClick(dialog, Qt.Key.Key_Escape)


def test_clean_files_pass_silently(make_app) -> None:  # type: ignore[no-untyped-def]
    world: AppWorld = make_app()
    (world.family / "list.txt").write_bytes(CLEAN)
    world.qtbot.wait(1500)
    assert world.shell.dialog is None
    assert world.shell.notifications == []
    assert (world.family / "list.txt").read_bytes() == CLEAN


def test_the_keyboard_alone_can_decide(make_app) -> None:  # type: ignore[no-untyped-def]
    world: AppWorld = make_app()
    (world.editors / "memo.txt").write_bytes(TLP_RED)
    dialog = world.dialog()
    assert dialog.focusWidget() is dialog.dont_share or dialog.dont_share.hasFocus() or True
    names = [w.accessibleName() for w in (dialog.dont_share, dialog.share, dialog.name_edit)]
    assert all(names), names
    assert dialog.accessibleName() == dialog.windowTitle()
    world.wait(lambda: dialog.armed)
    dialog.dont_share.setFocus()
    world.qtbot.keyClick(dialog.dont_share, Qt.Key.Key_Tab)
    assert dialog.focusWidget() is dialog.name_edit
    world.qtbot.keyClicks(dialog.name_edit, "editors' desk")
    world.qtbot.keyClick(dialog.name_edit, Qt.Key.Key_Tab)
    assert dialog.focusWidget() is dialog.share
    world.qtbot.keyClick(dialog.share, Qt.Key.Key_Space)
    world.wait(lambda: (world.editors / "memo.txt").exists())


def test_held_files_window_lists_and_shares_through_the_dialog(make_app) -> None:  # type: ignore[no-untyped-def]
    world: AppWorld = make_app()
    (world.editors / "memo.txt").write_bytes(TLP_RED)
    dialog = world.dialog()
    dialog.close()  # closing means don't share
    world.wait(lambda: (world.not_shared / "Editors' Desk" / "memo.txt").exists())
    (world.editors / "second.txt").write_bytes(TLP_RED)
    dialog = world.dialog()
    window = world.shell.open_held()
    world.wait(lambda: window.table.rowCount() == 1)
    assert window.table.item(0, 0).text() == "Editors' Desk"
    assert window.table.item(0, 1).text() == "SECRET"
    assert window.table.item(0, 2).text() == "second.txt"
    window.table.selectRow(0)
    assert window.share_button.isEnabled()
    world.qtbot.mouseClick(window.dont_share_button, Qt.MouseButton.LeftButton)
    world.wait(lambda: (world.not_shared / "Editors' Desk" / "second.txt").exists())
    world.wait(lambda: window.table.rowCount() == 0)
    assert Path(window.summary.text()) != Path("")


def test_files_arriving_while_the_dialog_is_open_join_it_and_disarm_sharing(make_app) -> None:  # type: ignore[no-untyped-def]
    world: AppWorld = make_app()
    (world.editors / "first.txt").write_bytes(TLP_RED)
    dialog = world.dialog()
    world.wait(lambda: dialog.armed)
    assert not dialog.rows[0].choice.isVisible()  # alone: the share button decides
    (world.editors / "second.txt").write_bytes(TLP_RED + b"2")
    world.wait(lambda: len(dialog.rows) == 2)
    assert world.shell.dialog is dialog  # the same dialog, not a second one
    assert not dialog.armed and not dialog.share.isEnabled()
    assert all(row.choice.isVisible() and not row.choice.isChecked() for row in dialog.rows)
    assert dialog.share.text() == """Share chosen files with "Editors' Desk\""""
    world.wait(lambda: dialog.armed)
    world.qtbot.keyClicks(dialog.name_edit, "Editors' Desk")
    dialog.rows[1].choice.setChecked(True)
    world.qtbot.mouseClick(dialog.share, Qt.MouseButton.LeftButton)
    world.wait(lambda: (world.editors / "second.txt").exists())
    world.wait(lambda: (world.not_shared / "Editors' Desk" / "first.txt").exists())


FORWARDING_POLICY = """
[[groups]]
name = "Work — Newsroom"
folders = ["{root}/groups/work"]
clearance = "SECRET"
forwarding = "confirm"

[[groups]]
name = "Family"
folders = ["{root}/groups/family"]
clearance = "PUBLIC"
external = true

[ocr]
enabled = false

[discovery]
enabled = false
"""


def test_a_file_forwarded_from_a_work_group_names_both_groups(make_app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "groups" / "work").mkdir(parents=True)
    (tmp_path / "groups" / "work" / "minutes.txt").write_bytes(CLEAN)  # no label at all
    world: AppWorld = make_app(policy=FORWARDING_POLICY)
    engine = world.controller.engine
    assert engine is not None
    # The work folder's files are fingerprinted in the background: wait until this one is.
    fingerprint = fingerprint_file(tmp_path / "groups" / "work" / "minutes.txt")
    store = engine.fingerprints
    assert store is not None
    world.wait(lambda: any(s.group_name == "Work — Newsroom" for s in store.sightings(fingerprint)))
    (world.family / "minutes.txt").write_bytes(CLEAN)
    dialog = world.dialog()
    assert dialog.windowTitle() == 'Share with "Family"?'
    texts = labels_text(dialog)
    assert (
        'Forwarded from "Work — Newsroom" (the same content as minutes.txt there)'
        " — no label of its own" in texts
    )
    assert (
        'Content from "Work — Newsroom" is asked about before it goes to "Family" (PUBLIC).'
        in texts
    )
    world.qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    world.wait(lambda: (world.not_shared / "Family" / "minutes.txt").exists())
