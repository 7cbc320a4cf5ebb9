"""The tray and its menu, the window where there is no tray, pause, locked settings, the
windows, one instance per user — real widgets on the real engine."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QPushButton, QTreeWidgetItemIterator

from sendguard.app import i18n
from sendguard.app.controller import Controller, TrayState
from sendguard.app.icons import render, render_mask, state_icon
from sendguard.app.shell import Shell
from sendguard.app.single import SingleInstance

from .conftest import CLEAN, TLP_RED, AppWorld


def texts(world: AppWorld) -> list[str]:
    world.shell.menu.aboutToShow.emit()
    return [action.text() for action in world.shell.menu_actions()]


def test_menu_is_rebuilt_with_the_current_status_when_it_opens(make_app) -> None:  # type: ignore[no-untyped-def]
    world: AppWorld = make_app(tray=True)
    assert world.shell.tray is not None and world.shell.main_window is None
    menu = texts(world)
    assert menu[0] == "Watching 2 groups, 2 folders"
    assert not world.shell.menu_actions()[0].isEnabled()  # a status line, not an action
    assert menu[1:] == [
        "Held files: 0…",
        "Recent activity…",
        "Pause for 15 minutes…",
        "Groups and policy…",
        'Open the "Not shared" folder',
        "Diagnostics…",
        "Getting started…",
        "Language",
        "Quit",
    ]
    (world.family / "plan.txt").write_bytes(TLP_RED)
    world.wait(lambda: world.controller.held)
    menu = texts(world)
    assert menu[0] == "Files waiting for you: 1"
    assert menu[1] == "Held files: 1…"
    assert world.controller.state is TrayState.HELD
    assert world.shell.tray.toolTip() == "SendGuard — Files waiting for you: 1"
    world.dialog().reject()


def test_without_a_tray_a_window_with_the_same_actions_says_why(make_app) -> None:  # type: ignore[no-untyped-def]
    world: AppWorld = make_app(tray=False)
    window = world.shell.main_window
    assert window is not None and window.isVisible()
    assert "No system tray was found" in window.reason.text()
    buttons = [button.text() for button in window.findChildren(QPushButton)]
    assert buttons == [
        "Held files…",
        "Recent activity…",
        "Pause for 15 minutes…",
        "Groups and policy…",
        'Open the "Not shared" folder',
        "Diagnostics…",
        "Getting started…",
        "Quit",
        "Language",
    ]
    assert window.status.text() == "Watching 2 groups, 2 folders"
    window.close()  # closing minimises: it never runs invisibly
    assert window.isVisible()
    # Notifications go to the window when there is no tray.
    (world.family / "plan.txt").write_bytes(TLP_RED)
    world.wait(lambda: 'Held before sharing with "Family"' in window.last_message.text())


def test_settings_locked_by_policy_are_greyed_and_say_who_manages_them(make_app) -> None:  # type: ignore[no-untyped-def]
    world: AppWorld = make_app(tray=True, allow_pause=False)
    menu = texts(world)
    pause = next(a for a in world.shell.menu_actions() if a.text().startswith("Pause"))
    assert not pause.isEnabled()
    assert pause.text() == "Pause for 15 minutes… — Managed by your organisation"
    assert menu[-1] == "Quit"
    assert world.controller.pause("I need to", minutes=1) is False
    groups = world.shell.open_groups()
    rows = []
    iterator = QTreeWidgetItemIterator(groups.tree)
    while (item := iterator.value()) is not None:
        rows.append((item.text(0), item.text(3), item.isDisabled()))
        iterator += 1
    # The system policy sets both groups' clearances: greyed, and it says so.
    assert ("Family", "Managed by your organisation", True) in rows
    assert ("Editors' Desk", "Managed by your organisation", True) in rows
    assert any(text.endswith("groups/family") for text, _, _ in rows)


def test_pause_asks_why_stops_guarding_and_resumes_by_itself(make_app) -> None:  # type: ignore[no-untyped-def]
    asked: list[object] = []

    def reason(parent: object) -> str:
        asked.append(parent)
        return "Sending the holiday photos"

    world: AppWorld = make_app(tray=True, ask_reason=reason)
    texts(world)
    pause = next(a for a in world.shell.menu_actions() if a.text().startswith("Pause"))
    pause.trigger()
    assert asked and world.controller.paused
    assert world.controller.state is TrayState.PAUSED
    assert texts(world)[0].startswith("Paused until ")
    assert world.controller.activity[-1].text == (
        "Paused for 15 minutes: Sending the holiday photos"
    )
    diagnostics = world.shell.open_diagnostics().text.toPlainText()
    assert "Paused for 15 minutes: Sending the holiday photos" in diagnostics
    world.wait(lambda: world.controller.engine is None)
    (world.family / "while-paused.txt").write_bytes(TLP_RED)  # not looked at while paused
    world.qtbot.wait(800)
    assert (world.family / "while-paused.txt").exists()
    # It resumes by itself (the test shortens the 15 minutes).
    world.controller._resume_timer.start(100)
    world.wait(lambda: world.controller.engine is not None and world.controller.ready)
    assert not world.controller.paused
    assert world.controller.activity[-1].text == "Guarding again"
    (world.family / "after.txt").write_bytes(TLP_RED)
    world.dialog()
    assert (world.family / "while-paused.txt").exists()  # present at restart: not a share
    world.shell.dialog.reject()  # type: ignore[union-attr]


def test_pause_without_a_reason_does_nothing(make_app) -> None:  # type: ignore[no-untyped-def]
    world: AppWorld = make_app(tray=True, ask_reason=lambda parent: None)
    texts(world)
    next(a for a in world.shell.menu_actions() if a.text().startswith("Pause")).trigger()
    assert not world.controller.paused
    assert world.controller.pause("   ") is False


def test_tray_icons_differ_in_shape_not_only_colour(qapp) -> None:  # type: ignore[no-untyped-def]
    def silhouette(state: TrayState, dark: bool) -> list[bool]:
        image = render(state.value, dark, 32).toImage()
        return [image.pixelColor(x, y).alpha() > 128 for y in range(32) for x in range(32)]

    shapes = {state: silhouette(state, dark=False) for state in TrayState}
    for first in TrayState:
        for second in TrayState:
            if first is not second:
                differing = sum(a != b for a, b in zip(shapes[first], shapes[second], strict=True))
                assert differing > 20, (first, second, differing)
    # Dark panels get light strokes: same shape, other colours.
    light = render("watching", False, 32).toImage()
    dark = render("watching", True, 32).toImage()
    assert silhouette(TrayState.WATCHING, True) == shapes[TrayState.WATCHING]
    assert light.pixelColor(16, 8).lightness() < 100 < dark.pixelColor(16, 8).lightness()
    assert not state_icon(TrayState.HELD).isNull()


def test_the_macos_mask_icons_are_black_and_transparent_with_the_same_shapes(qapp) -> None:  # type: ignore[no-untyped-def]
    """macOS tints template images itself; the cut-outs (tick, bars) stay see-through."""
    icon = state_icon(TrayState.WATCHING, mask=True)
    assert icon.isMask()
    image = render_mask("watching", 32).toImage()
    colours = {
        (image.pixelColor(x, y).red(), image.pixelColor(x, y).green())
        for y in range(32)
        for x in range(32)
        if image.pixelColor(x, y).alpha() > 0
    }
    assert colours == {(0, 0)}
    assert image.pixelColor(16, 6).alpha() > 200  # the shield
    assert image.pixelColor(24, 28).alpha() == 0  # the tick cut out of it
    assert image.pixelColor(1, 1).alpha() == 0  # outside


def test_invalid_policy_needs_attention_and_holds_everything(make_app) -> None:  # type: ignore[no-untyped-def]
    world: AppWorld = make_app(
        tray=True,
        policy=(
            '[[groups]]\nname = "Family"\nfolders = ["{root}/groups/family"]\nclearance = "SECRT"\n'
        ),
    )
    assert world.controller.state is TrayState.ATTENTION
    menu = texts(world)
    assert menu[0].startswith("Needs attention: The policy cannot be used")
    (world.family / "list.txt").write_bytes(CLEAN)  # even a clean file is held
    world.wait(lambda: world.controller.held)
    assert not (world.family / "list.txt").exists()


def test_activity_window_shows_the_journals_decisions_and_searches(make_app) -> None:  # type: ignore[no-untyped-def]
    world: AppWorld = make_app()
    (world.family / "plan.txt").write_bytes(TLP_RED)
    world.qtbot.keyClick(world.dialog(), Qt.Key.Key_Escape)
    world.wait(lambda: not world.controller.held)
    (world.editors / "memo.txt").write_bytes(TLP_RED)
    world.qtbot.keyClick(world.dialog(), Qt.Key.Key_Escape)
    world.wait(lambda: not world.controller.held)
    window = world.shell.open_activity()
    rows = window.visible_rows()
    assert [(row[1], row[2], row[3], row[4]) for row in rows] == [
        ("Editors' Desk", "memo.txt", "SECRET", "not shared"),
        ("Family", "plan.txt", "SECRET", "not shared"),
    ]
    window.search.setText("fam")
    assert [row[2] for row in window.visible_rows()] == ["plan.txt"]
    window.search.setText("nothing like it")
    assert window.visible_rows() == []


def test_diagnostics_tell_what_it_watches_and_copy_to_the_clipboard(make_app) -> None:  # type: ignore[no-untyped-def]
    world: AppWorld = make_app()
    window = world.shell.open_diagnostics()
    text = window.text.toPlainText()
    assert f"Policy hash (SHA-256): {world.controller.policy.sha256}" in text
    assert f"Policy source (system): {world.root / 'policy.toml'} — " in text
    assert "Watched folders: 2" in text
    assert 'Group "Family": ' in text and "cleared for PUBLIC" in text
    assert "Keyring backend: " in text
    assert "System tray: not available" in text
    window.copy()
    assert QApplication.clipboard().text() == text


def test_a_second_launch_brings_the_first_forward(make_app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    world: AppWorld = make_app(tray=False)
    first = SingleInstance(tmp_path / "data")
    assert first.listen()
    first.activated.connect(world.shell.bring_forward)
    world.shell.main_window.showMinimized()  # type: ignore[union-attr]
    with world.qtbot.waitSignal(first.activated, timeout=5000):
        second = SingleInstance(tmp_path / "data")
        assert second.ask_running_instance()
    assert not world.shell.main_window.isMinimized()  # type: ignore[union-attr]
    other = SingleInstance(tmp_path / "other data")
    assert not other.ask_running_instance(timeout_ms=200)
    first.close()


def test_demo_groups_when_there_is_no_policy_and_no_group(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    controller = Controller(policy_path=None, data_dir=tmp_path / "data", home=tmp_path / "home")
    assert controller.demo
    names = [group.name for group in controller.policy.groups]
    assert names == ["Editors' Desk", "Family"]
    demo = tmp_path / "home" / "SendGuard" / "Demo groups"
    assert (demo / "Editors' Desk").is_dir() and (demo / "Family").is_dir()
    shell = Shell(controller, tray_available=lambda: False)
    shell.show()
    groups = shell.open_groups()
    intro = groups.findChildren(QLabel)[0].text()
    assert "two demo group folders" in intro and str(demo) in intro
    shell.close_all()
    controller.stop()


def test_quitting_with_a_dialog_open_keeps_the_file_held_and_asks_again(make_app) -> None:  # type: ignore[no-untyped-def]
    """Quitting is not "don't share": the file stays held and is asked about at the next
    start."""
    world: AppWorld = make_app()
    (world.family / "plan.txt").write_bytes(TLP_RED)
    world.dialog()
    world.shell.close_all()
    world.controller.stop()
    db = sqlite3.connect(world.root / "data" / "journal.sqlite3")
    assert db.execute("SELECT state FROM holds").fetchall() == [("held",)]
    db.close()
    again: AppWorld = make_app()
    dialog = again.dialog()
    assert [row.item.name for row in dialog.rows] == ["plan.txt"]
    held = again.shell.open_held()
    assert held.table.rowCount() == 1
    again.qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    again.wait(lambda: (again.not_shared / "Family" / "plan.txt").exists())


def test_the_language_can_be_chosen_and_is_used_from_the_next_start(make_app) -> None:  # type: ignore[no-untyped-def]
    world: AppWorld = make_app(tray=True)
    data = world.controller.data_dir
    assert i18n.chosen_language(data) in ("en", "zh_CN")  # the system's, nothing saved
    texts(world)
    language = next(a for a in world.shell.menu_actions() if a.text() == "Language").menu()
    assert [a.text() for a in language.actions()] == ["System default", "English", "简体中文"]
    assert language.actions()[0].isChecked()
    language.actions()[2].trigger()
    assert i18n.chosen_language(data) == "zh_CN"
    assert world.shell.notifications[-1] == (
        "Language",
        "The new language is used when SendGuard next starts.",
    )
    texts(world)
    language = next(a for a in world.shell.menu_actions() if a.text() == "Language").menu()
    assert [a.isChecked() for a in language.actions()] == [False, False, True]
    assert i18n.chosen_language(data, override="en") == "en"  # --language wins


def test_without_a_tray_a_locked_pause_is_greyed_from_the_start(make_app) -> None:  # type: ignore[no-untyped-def]
    world: AppWorld = make_app(tray=False, allow_pause=False)
    button = world.shell.pause_button
    assert button is not None
    assert not button.isEnabled()
    assert button.text() == "Pause for 15 minutes… — Managed by your organisation"


def test_activity_shows_who_put_each_file_there_and_hides_downloads_until_asked(make_app) -> None:  # type: ignore[no-untyped-def]
    world: AppWorld = make_app()
    part = world.family / ".syncthing.theirs.txt.tmp"  # Syncthing's download, renamed
    part.write_bytes(TLP_RED)
    os.rename(part, world.family / "theirs.txt")
    (world.family / "notes.txt").write_bytes(b"Shopping list\nmilk\n")
    window = world.shell.open_activity()

    def downloaded() -> bool:
        window.refresh()
        return any(cells[2] == "theirs.txt" for cells, _ in window.rows)

    world.wait(downloaded)
    assert window.visible_rows() == []  # downloads hidden; a clean share is not a decision
    window.show_downloads.setChecked(True)
    [row] = window.visible_rows()
    assert row[1:3] == ["Family", "theirs.txt"]
    assert row[4] == "left in place"
    assert row[6] == "from the group"
    assert "Syncthing: renamed into place from .syncthing.theirs.txt.tmp" in row[5]
    assert (world.family / "theirs.txt").read_bytes() == TLP_RED
    assert not world.controller.held


def test_an_edit_that_raises_the_label_is_told_at_once_and_the_file_stays(  # type: ignore[no-untyped-def]
    make_app, tmp_path: Path
) -> None:
    notes = tmp_path / "groups" / "family" / "notes.txt"  # the group's before SendGuard starts
    notes.parent.mkdir(parents=True)
    notes.write_bytes(b"Shopping list\nmilk\n")
    world: AppWorld = make_app()
    notes.write_bytes(TLP_RED)
    world.wait(lambda: any(n[0] == "Check this file" for n in world.shell.notifications))
    _title, text = next(n for n in world.shell.notifications if n[0] == "Check this file")
    assert text.startswith('notes.txt in "Family" was changed and now carries SECRET')
    assert "It was not moved: the group already has it." in text
    assert notes.read_bytes() == TLP_RED
    assert not world.controller.held


def _raised_edit_question(make_app, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A Syncthing folder whose versioner kept notes.txt as it was; this user then edits it
    up to TLP:RED, and the app asks whether to put the kept version back."""
    family = tmp_path / "groups" / "family"
    (family / ".stfolder").mkdir(parents=True)
    (family / ".stversions").mkdir()
    (family / ".stversions" / "notes~20261205-090000.txt").write_bytes(b"Shopping list\nmilk\n")
    notes = family / "notes.txt"
    notes.write_bytes(b"Shopping list\nmilk\neggs\n")
    world: AppWorld = make_app()
    notes.write_bytes(TLP_RED)
    world.wait(lambda: world.shell.put_back_box is not None)
    box = world.shell.put_back_box
    assert box is not None
    return world, notes, box


def test_the_group_version_can_be_put_back_from_the_question_that_names_it(  # type: ignore[no-untyped-def]
    make_app, tmp_path: Path
) -> None:
    world, notes, box = _raised_edit_question(make_app, tmp_path)
    assert box.windowTitle() == "Put back the group's version?"
    assert "The version the group had is kept in" in box.text()
    assert box.defaultButton().text() == "Keep the changed file"  # a stray Enter keeps it
    put_back = next(b for b in box.buttons() if b.text() == "Put back the group's version")
    put_back.click()
    world.wait(lambda: notes.read_bytes() == b"Shopping list\nmilk\n")
    world.wait(lambda: any(n[0] == "Put back" for n in world.shell.notifications))
    assert (world.not_shared / "Family" / "notes.txt").read_bytes() == TLP_RED
    assert world.shell.put_back_box is None


def test_keeping_the_changed_file_changes_nothing(make_app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    world, notes, box = _raised_edit_question(make_app, tmp_path)
    world.qtbot.keyClick(box, Qt.Key.Key_Escape)
    world.wait(lambda: world.shell.put_back_box is None)
    assert notes.read_bytes() == TLP_RED
    assert not (world.not_shared / "Family").exists()
