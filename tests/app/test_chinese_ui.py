"""Issue 13: the whole app in Simplified Chinese — the dialog in each of its situations, the
tray menu, the window shown where there is no tray, every window, the notifications and the
"needs attention" state. Every text a user sees (or a screen reader says) is collected and
what is data is taken out: file, group and folder names, level names and markings, the
policy's own error text (English by design, for the administrator who fixes the file),
versions and hashes. What remains must hold no English word: a string shown without
translate(), or one lupdate marks unfinished, fails here.

The real controller, engine, watchdog, journal and audit trail on tmp_path, real widgets
(offscreen), with the shipped zh_CN catalogue installed before the app starts.
"""

from __future__ import annotations

import platform
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest
from PySide6 import __version__ as pyside_version
from PySide6.QtCore import QCoreApplication, Qt, qVersion
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractButton,
    QLabel,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QWidget,
)
from pytestqt.qtbot import QtBot

from sendguard import __version__
from sendguard.app import i18n
from sendguard.app.controller import Controller, TrayState
from sendguard.app.shell import Shell
from tests.engine.test_forwarded_reason import forward_a_resized_photo
from tests.engine.test_forwarding import NEWSROOM
from tests.engine.test_forwarding import POLICY as FORWARDING_POLICY

from .conftest import CLEAN, POLICY, TLP_RED, AppWorld

#: TLP:AMBER is CONFIDENTIAL: one level above "Editors' Desk" (INTERNAL), so a click shares.
TLP_AMBER = b"TLP:AMBER\nThe budget for next quarter.\n"
#: The conftest policy, with the ladder's top step blocking: TLP:RED may not go to "Family".
BLOCKING_POLICY = POLICY + '\n[actions]\nabove_3 = "block"\n'
#: The engine's forwarding policy, with the work group called "Work", as the app runs it.
FORWARDED_POLICY = "[ui]\nallow_pause = {allow_pause}\n" + FORWARDING_POLICY.replace(
    NEWSROOM, "Work"
)

#: Data shown as it is in every language: names and markings the tests put in the files and
#: the policy, and the level names of the policy's ladder.
GROUPS = ("Editors' Desk", "Family", "Work")
LEVELS = ("TOP SECRET", "SECRET", "CONFIDENTIAL", "INTERNAL", "PUBLIC")
MARKINGS = ("TLP:RED", "TLP:AMBER")

#: Texts that may stay English in the Chinese UI, each with its reason. Keep it short and
#: exact: an entry hides that text wherever it appears, so a whole phrase where one will do.
ALLOWED = {
    "SendGuard": "the product's name",
    "Not shared": (
        "the folder's name on disk (paths.NOT_SHARED_DIR), shown as “Not shared”（未分享）"
        " so the user finds it in the file manager"
    ),
    "English": "the language menu names each language in itself: 简体中文, English",
    "语言 / Language": "the language menu, found by whoever chose a language they cannot read",
    "GNOME": "the no-tray window: the desktop's name",
    "AppIndicator": "the no-tray window: the name of the GNOME extension that adds a tray",
    "SHA-256": "the hash's name (groups window, Diagnostics)",
    "Python": "a product's name (Diagnostics)",
    "Qt / PySide6": "products' names (Diagnostics)",
}

LATIN_WORD = re.compile(r"[A-Za-z]{3,}")
HASH = re.compile(r"\b[0-9a-f]{64}\b")


@pytest.fixture
def chinese(qapp) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """The shipped catalogue, installed before the app is made (strings are translated as
    widgets are built), removed after so the other tests see English."""
    translators = i18n.install(qapp, "zh_CN")
    assert translators, "the zh_CN catalogue did not load"
    yield
    for translator in translators:
        QCoreApplication.removeTranslator(translator)


# --- collecting what is shown --------------------------------------------------------------


def action_texts(actions: Iterable[QAction]) -> list[str]:
    texts = []
    for action in actions:
        if action.isSeparator() or not action.isVisible():
            continue
        text, tip = action.text(), action.toolTip()
        if tip != text and text.rstrip("…") in tip:
            text = ""  # a part of a status line wrapped to the menu's width: the tooltip has all
        texts += [text, tip]
        menu = action.menu()
        if isinstance(menu, QMenu):
            texts += [menu.title(), *action_texts(menu.actions())]
    return texts


def tree_texts(item: QTreeWidgetItem) -> list[str]:
    texts = []
    for column in range(item.columnCount()):
        texts += [item.text(column), item.toolTip(column)]
    for index in range(item.childCount()):
        child = item.child(index)
        if child is not None:
            texts += tree_texts(child)
    return texts


def shown_texts(window: QWidget) -> list[str]:
    """Everything `window` shows or names to a screen reader: its title, the visible labels,
    buttons (and their menus), placeholders, read-only text, tables' and trees' headers and
    cells, tooltips and accessible names."""
    texts = [window.windowTitle(), window.accessibleName()]
    for widget in [window, *window.findChildren(QWidget)]:
        if not widget.isVisible():
            continue
        texts += [widget.toolTip(), widget.accessibleName()]
        if isinstance(widget, QLabel):
            texts.append(widget.text())
        elif isinstance(widget, QAbstractButton):
            texts.append(widget.text())
            if isinstance(widget, QPushButton) and widget.menu() is not None:
                texts += action_texts(widget.menu().actions())
        elif isinstance(widget, QLineEdit):
            texts.append(widget.placeholderText())
        elif isinstance(widget, QPlainTextEdit):
            texts.append(widget.placeholderText())
            if widget.isReadOnly():
                texts += widget.toPlainText().splitlines()
        elif isinstance(widget, QTableWidget):
            for column in range(widget.columnCount()):
                header = widget.horizontalHeaderItem(column)
                texts.append(header.text() if header is not None else "")
                for row in range(widget.rowCount()):
                    cell = widget.item(row, column)
                    if cell is not None:
                        texts += [cell.text(), cell.toolTip()]
        elif isinstance(widget, QTreeWidget):
            header = widget.headerItem()
            texts += [header.text(c) for c in range(widget.columnCount())]
            for index in range(widget.topLevelItemCount()):
                item = widget.topLevelItem(index)
                if item is not None:
                    texts += tree_texts(item)
    return [text for text in texts if text.strip()]


def menu_texts(world: AppWorld) -> list[str]:
    world.shell.menu.aboutToShow.emit()  # rebuilt as it opens
    return action_texts(world.shell.menu_actions())


# --- taking the data out -----------------------------------------------------------------


def data_of(world: AppWorld, *more: str) -> list[str]:
    """The data the app shows as it is in every language, longest first."""
    controller = world.controller
    data = [
        *GROUPS,
        *LEVELS,
        *MARKINGS,
        *more,
        __version__,
        sys.version.split()[0],
        f"{qVersion()} / {pyside_version}",
        platform.platform(),
    ]
    if controller.policy.error is not None:
        data.append(str(controller.policy.error))
    if controller.trail is not None:
        data.append(controller.trail.keyring_backend)  # the test's in-memory keyring
    dialog = world.shell.dialog
    if dialog is not None:  # each file's name, and its type as the file says it: txt, jpeg
        data += [row.item.name for row in dialog.rows]
        data += [row.item.findings.format or "" for row in dialog.rows]
    return sorted({item for item in data if item}, key=len, reverse=True)


def without_data(text: str, root: Path, data: list[str]) -> str:
    """`text` with the data and the allowed words taken out, then the paths under the test's
    folder: by then a path has no spaces ("Not shared", "Editors' Desk" are gone), and it ends
    at a space or at Chinese text or punctuation."""
    text = text.replace(str(root), "\0")  # the folder's name is the test's: never a word
    text = HASH.sub("_", text)
    for item in [*data, *sorted(ALLOWED, key=len, reverse=True)]:
        text = text.replace(item.replace(str(root), "\0"), "_")
    return re.sub(r"\0[^\s\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]*", "_", text)


def english_in(texts: Iterable[str], world: AppWorld, *data: str) -> list[str]:
    known = data_of(world, *data)
    return sorted(
        {text for text in texts if LATIN_WORD.search(without_data(text, world.root, known))}
    )


def assert_chinese(texts: Iterable[str], world: AppWorld, *data: str) -> None:
    texts = list(texts)
    assert texts, "nothing was collected"
    english = english_in(texts, world, *data)
    assert not english, "English in the zh_CN UI:\n" + "\n".join(english)


# --- the situations -----------------------------------------------------------------------


@pytest.fixture
def app(chinese: None, make_app: Callable[..., AppWorld]) -> Callable[..., AppWorld]:
    return make_app


def dialog_texts(world: AppWorld) -> list[str]:
    dialog = world.dialog()
    world.wait(lambda: dialog.armed)
    return shown_texts(dialog)


def test_a_file_that_needs_a_click(app: Callable[..., AppWorld]) -> None:
    world = app()
    (world.editors / "budget.txt").write_bytes(TLP_AMBER)
    texts = dialog_texts(world)
    dialog = world.shell.dialog
    assert dialog is not None and not dialog.needs_name
    assert dialog.windowTitle() == "分享给“Editors' Desk”？"
    assert_chinese(texts, world, "budget.txt")


def test_a_file_that_needs_the_group_name_typed_and_a_reason(
    app: Callable[..., AppWorld],
) -> None:
    world = app()
    (world.family / "plan.txt").write_bytes(TLP_RED)
    texts = dialog_texts(world)
    dialog = world.shell.dialog
    assert dialog is not None and dialog.needs_name and dialog.needs_reason
    assert_chinese(texts, world, "plan.txt")


def test_a_blocked_file(app: Callable[..., AppWorld]) -> None:
    world = app(policy=BLOCKING_POLICY)
    (world.family / "plan.txt").write_bytes(TLP_RED)
    texts = dialog_texts(world)
    dialog = world.shell.dialog
    assert dialog is not None and all(row.blocked for row in dialog.rows)
    assert_chinese(texts, world, "plan.txt")


def test_several_files_at_once(app: Callable[..., AppWorld]) -> None:
    world = app()
    for n in range(3):
        (world.editors / f"memo-{n}.txt").write_bytes(TLP_RED + bytes([65 + n]))
    world.wait(lambda: len(world.controller.held) == 3)
    dialog = world.dialog()
    world.wait(lambda: len(dialog.rows) == 3)
    world.wait(lambda: dialog.armed)
    assert_chinese(shown_texts(dialog), world, "memo-0.txt", "memo-1.txt", "memo-2.txt")


def test_a_file_forwarded_from_a_work_group(app: Callable[..., AppWorld], tmp_path: Path) -> None:
    for folder in ("Dropbox/Work", "Dropbox/Family", "Telegram Desktop"):
        (tmp_path / folder).mkdir(parents=True)
    world = app(policy=FORWARDED_POLICY)
    engine = world.controller.engine
    assert engine is not None
    forward_a_resized_photo(tmp_path, engine)
    data = ("from work.jpg", "IMG_0412.jpg")
    texts = dialog_texts(world)
    held = world.shell.open_held()
    world.wait(lambda: held.table.rowCount() == 1)
    texts += shown_texts(held)
    world.wait(lambda: any("已暂扣" in title for title, _ in world.shell.notifications))
    texts += [text for notification in world.shell.notifications for text in notification]
    assert_chinese(texts, world, *data)


def test_the_held_files_window_the_menu_and_the_notifications(
    app: Callable[..., AppWorld],
) -> None:
    world = app(tray=True)
    (world.family / "plan.txt").write_bytes(TLP_RED)
    dialog = world.dialog()
    held = world.shell.open_held()
    world.wait(lambda: held.table.rowCount() == 1)
    held.table.selectRow(0)
    texts = shown_texts(held) + menu_texts(world)
    assert world.shell.tray is not None
    texts.append(world.shell.tray.toolTip())
    world.qtbot.keyClick(dialog, Qt.Key.Key_Escape)  # don't share: notified
    world.wait(lambda: any(title == "未分享" for title, _ in world.shell.notifications))
    texts += [text for notification in world.shell.notifications for text in notification]
    assert_chinese(texts, world, "plan.txt")


def test_recent_activity_with_rows(app: Callable[..., AppWorld]) -> None:
    world = app()
    (world.family / "plan.txt").write_bytes(TLP_RED)
    world.qtbot.keyClick(world.dialog(), Qt.Key.Key_Escape)
    world.wait(lambda: not world.controller.held)
    (world.editors / "budget.txt").write_bytes(TLP_AMBER)
    dialog = world.dialog()
    world.wait(lambda: dialog.armed)
    world.qtbot.mouseClick(dialog.share, Qt.MouseButton.LeftButton)
    world.wait(lambda: (world.editors / "budget.txt").exists())
    (world.family / "list.txt").write_bytes(CLEAN)
    activity = world.shell.open_activity()

    def both_decided() -> bool:
        activity.refresh()
        return len(activity.visible_rows()) >= 2

    world.wait(both_decided)
    assert_chinese(shown_texts(activity), world, "plan.txt", "budget.txt", "list.txt")


def test_groups_and_policy_diagnostics_and_first_run(app: Callable[..., AppWorld]) -> None:
    world = app()
    texts = shown_texts(world.shell.open_groups())
    texts += shown_texts(world.shell.open_diagnostics())
    first_run = world.shell.open_first_run()
    texts += shown_texts(first_run)
    first_run.try_it()
    texts += shown_texts(first_run)
    assert_chinese(texts, world, "incident-report.txt")


def test_the_window_shown_where_there_is_no_tray(app: Callable[..., AppWorld]) -> None:
    world = app(tray=False)
    window = world.shell.main_window
    assert window is not None
    world.shell.choose_language("zh_CN")  # a notification, shown in the window
    assert_chinese(shown_texts(window), world)


def test_the_attention_state_of_a_policy_broken_while_running(
    app: Callable[..., AppWorld],
) -> None:
    world = app(tray=True)
    policy_file = world.root / "policy.toml"
    policy_file.write_text(
        policy_file.read_text().replace('clearance = "PUBLIC"', "clearance = PUBLIC")
    )
    world.wait(lambda: world.controller.reload_policy() or world.controller.policy.error)
    assert world.controller.state is TrayState.ATTENTION
    assert world.controller.status_line().startswith("需要处理：策略无法使用：")
    (world.family / "list.txt").write_bytes(CLEAN)  # held until the policy is fixed
    world.wait(lambda: world.controller.held)
    texts = menu_texts(world)
    assert world.shell.tray is not None
    texts.append(world.shell.tray.toolTip())
    texts += [text for notification in world.shell.notifications for text in notification]
    texts += shown_texts(world.shell.open_held())
    texts += shown_texts(world.shell.open_groups())
    texts += shown_texts(world.shell.open_diagnostics())
    assert_chinese(texts, world, "list.txt")


def test_the_attention_state_of_a_mistyped_group_folder(app: Callable[..., AppWorld]) -> None:
    world = app(tray=True, policy=POLICY.replace("{root}/groups/family", "{root}/groups/famliy"))
    assert world.controller.state is TrayState.ATTENTION
    (reason,) = world.controller.attention
    assert reason.startswith("群组“Family”的文件夹不存在：")
    texts = menu_texts(world)
    assert world.shell.tray is not None
    texts.append(world.shell.tray.toolTip())
    texts += shown_texts(world.shell.open_diagnostics())
    assert_chinese(texts, world, "policy.toml")


def test_the_demo_groups(chinese: None, qtbot: QtBot, tmp_path: Path) -> None:
    """No policy and no group anywhere: two built-in demo groups, as on a first start."""
    controller = Controller(policy_path=None, data_dir=tmp_path / "data", home=tmp_path / "home")
    assert controller.demo
    shell = Shell(controller, tray_available=lambda: False)
    try:
        shell.show()
        texts = shown_texts(shell.open_groups())
        texts += shown_texts(shell.open_first_run())
        assert shell.main_window is not None
        texts += shown_texts(shell.main_window)
        world = AppWorld(tmp_path, controller, shell, qtbot)
        assert_chinese(texts, world, controller.demo_root.name)  # "Demo groups", on disk
    finally:
        shell.close_all()
        controller.stop()


def test_the_put_back_question(app: Callable[..., AppWorld], tmp_path: Path) -> None:
    """A Syncthing folder's versioner kept notes.txt; this user edits it up to TLP:RED."""
    family = tmp_path / "groups" / "family"
    (family / ".stfolder").mkdir(parents=True)
    (family / ".stversions").mkdir()
    (family / ".stversions" / "notes~20261205-090000.txt").write_bytes(CLEAN)
    notes = family / "notes.txt"
    notes.write_bytes(CLEAN + b"eggs\n")
    world = app()
    notes.write_bytes(TLP_RED)
    world.wait(lambda: world.shell.put_back_box is not None)
    box = world.shell.put_back_box
    assert box is not None
    texts = shown_texts(box)
    texts += [text for notification in world.shell.notifications for text in notification]
    assert_chinese(texts, world, "notes.txt")


def test_the_check_finds_english_and_passes_data() -> None:
    """The check itself: an English word is found, data and the allow-list are not."""
    root = Path("/tmp/pytest-of-someone/test0")
    data = sorted({*GROUPS, *LEVELS, *MARKINGS, "plan.txt"}, key=len, reverse=True)

    def english(text: str) -> bool:
        return bool(LATIN_WORD.search(without_data(text, root, data)))

    assert english("Held files")
    assert english("已暂扣 plan.txt: waiting")
    assert not english("分享给“Editors' Desk”？")
    assert not english(f"{root}/groups/family/plan.txt（位于页面顶部）")
    assert not english(f"打开“Not shared”（未分享）文件夹 {root}/Not shared/Family")
    assert english(f"{root}/data/hold, a private folder")  # English after a path
    assert english("Language")  # the allowed phrase is 语言 / Language, not the word
    assert not english("语言 / Language")
    assert not english("SECRET — 密级标志 TLP:RED（位于开头几行）")
    assert not english("策略哈希（SHA-256）：" + "0" * 64)
