"""Keys that started before the dialog was seen decide nothing, and the typed group name is
compared as a person reads it (issue 13).

Real dialogs for real batches (the real policy loader, label detection and decision on files
in tmp_path). In this process: offscreen widgets driven through Qt's own key delivery
(QTest, and QKeyEvent for what QTest cannot make: a held key's auto-repeats). Then the same
on a real X server: ``dialog_keys_x11.py`` in a subprocess, on an Xvfb started here, with
keys pressed through the server's XTEST extension as a keyboard would.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PySide6.QtCore import QCoreApplication, QEvent, Qt
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from sendguard.app.dialog import KEY_DELAY_MS, ConfirmDialog
from sendguard.engine.decider import Answer, Batch, answer_problem, typed_name_matches
from sendguard.policy import Action, Group, Level

from . import dialog_keys_x11
from .dialog_keys_x11 import EDITORS

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

# --- the typed name ------------------------------------------------------------------------

SAME_NAME = [
    ("Editors' Desk", EDITORS),
    ("editors' desk", EDITORS),
    ("EDITORS' DESK", EDITORS),
    ("  Editors' Desk \t", EDITORS),
    ("Editors'   Desk", EDITORS),
    ("Editors\u00a0' Desk".replace("\u00a0'", "'\u00a0"), EDITORS),  # no-break space
    ("Editors\u2019 Desk", EDITORS),  # ’ what phones and word processors type
    ("Editors\u2018 Desk", EDITORS),  # ‘
    ("Editors\u02bc Desk", EDITORS),  # ʼ modifier letter apostrophe
    ("Editors\uff07 Desk", EDITORS),  # ＇ full-width
    ("Editors` Desk", EDITORS),
    ("Editors\u00b4 Desk", EDITORS),  # ´ (NFKC alone would make it a space and an accent)
    ("Editors\u2032 Desk", EDITORS),  # ′ prime
    ("Editors\u201b Desk", EDITORS),  # ‛
    ("ＥＤＩＴＯＲＳ' ＤＥＳＫ", EDITORS),  # full-width letters
    ("ＥＤＩＴＯＲＳ＇\u3000ＤＥＳＫ", EDITORS),  # and full-width apostrophe and space
    ("ｅｄｉｔｏｒｓ’ｄｅｓｋ".replace("’", "’ "), EDITORS),
    ("Editors'\u200b Desk", EDITORS),  # a zero-width space
    ("\u200eEditors' Desk\u200f", EDITORS),  # bidi marks
    ('The "Night" Desk', "The \u201cNight\u201d Desk"),  # “ ” in the policy
    ("The \u201cNight\u201d Desk", 'The "Night" Desk'),
    ("The ＂Night＂ Desk", 'The "Night" Desk'),
    ("The \u201eNight\u201d Desk", 'The "Night" Desk'),  # „ ” German quotes
    ("Work - Newsroom", "Work \u2014 Newsroom"),  # a hyphen for the em dash
    ("work \u2013 newsroom", "Work \u2014 Newsroom"),
    ("Café", "Cafe\u0301"),  # composed and decomposed é
    ("CAFE\u0301", "Café"),
    ("Straße", "STRASSE"),
    ("编辑部", "编辑部"),
    (" 编辑部 ", "编辑部"),
    ("ＡＢＣ编辑部", "ABC编辑部"),
    ("Abc编辑部", "ABC编辑部"),
    ("“财经”组", '"财经"组'),
    ("编辑部’s Desk", "编辑部's Desk"),
    ("艾哈迈德・买买提", "艾哈迈德·买买提"),  # the middle dot of a transcribed name
    ("艾哈迈德•买买提", "艾哈迈德·买买提"),
    ("ｶﾀｶﾅ", "カタカナ"),  # half-width katakana
]

DIFFERENT_NAME = [
    ("Editors Desk", EDITORS),  # no apostrophe
    ("Editor's Desk", EDITORS),  # the apostrophe moved
    ("Editors'Desk", EDITORS),  # no space
    ("Editors' Desk.", EDITORS),
    ("Editors' Des", EDITORS),
    ("Editors'' Desk", EDITORS),  # two apostrophes
    ('Editors" Desk', EDITORS),  # a double quote is not an apostrophe
    ("Editors\u201d Desk", EDITORS),
    ("", EDITORS),
    ("   ", EDITORS),
    ("Editors' Desk 2", EDITORS),
    ("Family", EDITORS),
    ("Cafe", "Café"),  # accents count
    ("编辑", "编辑部"),
    ("編輯部", "编辑部"),  # traditional characters are other characters
    ("编辑部组", "编辑部"),
    ("Work Newsroom", "Work \u2014 Newsroom"),
    ("艾哈迈德买买提", "艾哈迈德·买买提"),
]


@pytest.mark.parametrize(("typed", "name"), SAME_NAME)
def test_a_typed_name_matches_the_group_however_it_was_typed(typed: str, name: str) -> None:
    assert typed_name_matches(typed, name)
    assert typed_name_matches(name, typed)


@pytest.mark.parametrize(("typed", "name"), DIFFERENT_NAME)
def test_a_different_name_does_not_match(typed: str, name: str) -> None:
    assert not typed_name_matches(typed, name)
    assert not typed_name_matches(name, typed) or not typed.strip()


def test_nothing_typed_is_no_match() -> None:
    assert not typed_name_matches(None, EDITORS)


APOSTROPHES = "'\u2019\u2018\u02bc\uff07`\u00b4\u2032\u201b"
#: Names of letters (any script), digits and spaces.
NAMES = st.text(
    st.characters(codec="utf-8", categories=("L", "N", "Zs")), min_size=1, max_size=20
).filter(lambda text: text.strip())


@given(left=NAMES, right=NAMES, typed_apostrophe=st.sampled_from(APOSTROPHES))
def test_any_apostrophe_typed_is_the_names_apostrophe(
    left: str, right: str, typed_apostrophe: str
) -> None:
    assert typed_name_matches(f"{left}{typed_apostrophe}{right}", f"{left}'{right}")


@given(left=NAMES, right=NAMES)
def test_leaving_the_apostrophe_out_is_another_name(left: str, right: str) -> None:
    assert not typed_name_matches(f"{left}{right}", f"{left}'{right}")


# --- a real dialog for a real batch -------------------------------------------------------


def editors_batch(tmp_path: Path, *names: str) -> Batch:
    """Files labelled TLP:RED for "Editors' Desk" (cleared for INTERNAL): its name must be
    typed to share them, as the app's policy in these tests says."""
    batch = dialog_keys_x11.editors_batch(tmp_path, *names)
    assert batch.strictest is Action.TYPE_GROUP_NAME, batch.strictest
    return batch


class Shown:
    """A dialog on screen and what it answered (it answers once, when it closes)."""

    def __init__(self, dialog: ConfirmDialog, qtbot: QtBot) -> None:
        self.dialog = dialog
        self.qtbot = qtbot
        self.answers: list[list[Answer]] = []
        dialog.answered.connect(self.answers.append)

    @property
    def decided(self) -> bool:
        return bool(self.answers) or not self.dialog.isVisible()

    def wait_for_keys(self) -> None:
        self.qtbot.waitUntil(lambda: self.dialog.keys_ready, timeout=5000)

    def wait_armed(self) -> None:
        self.qtbot.waitUntil(lambda: self.dialog.armed and self.dialog.keys_ready, timeout=5000)


def show(qtbot: QtBot, batch: Batch, **delays: int) -> Shown:
    """On screen as the app shows it (Shell.show_dialog): shown, raised and activated."""
    dialog = ConfirmDialog(batch, **delays)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.raise_()
    dialog.activateWindow()
    qtbot.waitExposed(dialog)
    return Shown(dialog, qtbot)


@pytest.fixture
def shown(qtbot: QtBot, tmp_path: Path) -> Iterator[Shown]:
    # The real delays: the keys' first moment and the share button's arming.
    on_screen = show(qtbot, editors_batch(tmp_path))
    yield on_screen
    if on_screen.dialog.isVisible():
        on_screen.dialog.dismiss_unanswered()


def send_key(widget: QWidget, kind: QEvent.Type, key: Qt.Key, *, repeat: bool = False) -> None:
    """A key event through Qt's delivery (event filters, then the widget, then its parents),
    as a keyboard's reaches the focused widget. QTest cannot mark a press as auto-repeat."""
    text = {Qt.Key.Key_Space: " ", Qt.Key.Key_Return: "\r", Qt.Key.Key_Enter: "\r"}.get(key, "")
    if key == Qt.Key.Key_Escape:
        text = "\x1b"
    event = QKeyEvent(kind, key, Qt.KeyboardModifier.NoModifier, text, repeat)
    QCoreApplication.sendEvent(widget, event)


def hold_down(widget: QWidget, key: Qt.Key, repeats: int = 5, *, release: bool = True) -> None:
    """What a key held down since before the dialog appeared sends it: auto-repeats (X11
    pairs each with a release, also marked auto-repeat) and at last a real release."""
    for _ in range(repeats):
        send_key(widget, QEvent.Type.KeyRelease, key, repeat=True)
        send_key(widget, QEvent.Type.KeyPress, key, repeat=True)
    if release:
        send_key(widget, QEvent.Type.KeyRelease, key)


def type_text(widget: QWidget, text: str) -> None:
    """Typed key by key. QTest types ASCII only; any other character comes as a keyboard
    layout that has it sends it: Qt's key code is the character's code point."""
    for char in text:
        if char.isascii():
            QTest.keyClicks(widget, char)
            continue
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            event = QKeyEvent(kind, ord(char.upper()[0]), Qt.KeyboardModifier.NoModifier, char)
            QCoreApplication.sendEvent(widget, event)


DECIDING_KEYS = [Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space, Qt.Key.Key_Escape]


@pytest.mark.parametrize("key", DECIDING_KEYS, ids=lambda key: key.name)
def test_a_key_held_down_as_the_dialog_appears_decides_nothing(shown: Shown, key: Qt.Key) -> None:
    dialog = shown.dialog
    assert dialog.focusWidget() is dialog.dont_share  # where Enter and Space would land
    hold_down(dialog.dont_share, key, release=False)
    assert not shown.decided
    # Still held long after the first moment: its repeats are not fresh presses, and its
    # release is of a press the dialog never let through.
    shown.wait_for_keys()
    hold_down(dialog.dont_share, key, repeats=30)
    shown.qtbot.wait(50)
    assert not shown.decided
    assert dialog.isVisible() and not dialog.dont_share.isDown()
    # The next press of the same key is a fresh one: it counts.
    QTest.keyClick(dialog.dont_share, key)
    shown.qtbot.waitUntil(lambda: shown.answers != [], timeout=2000)
    assert [answer.share for answer in shown.answers[0]] == [False]
    assert not dialog.isVisible()


@pytest.mark.parametrize("key", DECIDING_KEYS, ids=lambda key: key.name)
def test_a_key_pressed_in_the_first_moment_decides_nothing(shown: Shown, key: Qt.Key) -> None:
    dialog = shown.dialog
    assert not dialog.keys_ready
    QTest.keyClick(dialog.dont_share, key)
    QTest.keyClick(dialog, key)
    assert not shown.decided
    # Pressed in the first moment and released after it: nothing either (Space clicks a
    # button on its release).
    QTest.keyPress(dialog.dont_share, key)
    shown.wait_for_keys()
    send_key(dialog.dont_share, QEvent.Type.KeyPress, key, repeat=True)
    QTest.keyRelease(dialog.dont_share, key)
    shown.qtbot.wait(50)
    assert not shown.decided and not dialog.dont_share.isDown()


def test_an_unmarked_repeat_of_a_held_key_decides_nothing(shown: Shown) -> None:
    """X11 sends each repeat of a held key as a release and a press at the same time; Qt
    marks them as a repeat only when it reads both at once, so now and then one pair comes
    unmarked, long after the first moment (seen on Xvfb: see the X11 tests below)."""
    dialog = shown.dialog
    shown.wait_for_keys()
    repeated_at = 5000  # the window system's clock, in ms
    for _ in range(3):
        for kind in (QEvent.Type.KeyRelease, QEvent.Type.KeyPress):
            event = QKeyEvent(kind, Qt.Key.Key_Return, Qt.KeyboardModifier.NoModifier, "\r")
            event.setTimestamp(repeated_at)
            QCoreApplication.sendEvent(dialog.dont_share, event)
        repeated_at += 40
    # And a press never released here: whatever follows is that key still down.
    send_key(dialog.dont_share, QEvent.Type.KeyPress, Qt.Key.Key_Return, repeat=True)
    press = QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_Return, Qt.KeyboardModifier.NoModifier)
    press.setTimestamp(repeated_at + 300)
    QCoreApplication.sendEvent(dialog.dont_share, press)
    shown.qtbot.wait(50)
    assert not shown.decided
    # Released at last; pressed again later: that counts.
    release = QKeyEvent(QEvent.Type.KeyRelease, Qt.Key.Key_Return, Qt.KeyboardModifier.NoModifier)
    release.setTimestamp(repeated_at + 400)
    QCoreApplication.sendEvent(dialog.dont_share, release)
    for kind, at in ((QEvent.Type.KeyPress, 650), (QEvent.Type.KeyRelease, 700)):
        event = QKeyEvent(kind, Qt.Key.Key_Return, Qt.KeyboardModifier.NoModifier, "\r")
        event.setTimestamp(repeated_at + at)
        QCoreApplication.sendEvent(dialog.dont_share, event)
    shown.qtbot.waitUntil(lambda: shown.answers != [], timeout=2000)
    assert [answer.share for answer in shown.answers[0]] == [False]


def test_a_release_whose_press_the_dialog_never_saw_does_nothing(shown: Shown) -> None:
    dialog = shown.dialog
    shown.wait_for_keys()
    for key in DECIDING_KEYS:
        QTest.keyRelease(dialog.dont_share, key)
        QTest.keyRelease(dialog, key)
    shown.qtbot.wait(50)
    assert not shown.decided


@pytest.mark.parametrize("key", DECIDING_KEYS, ids=lambda key: key.name)
def test_a_fresh_key_after_the_first_moment_works(shown: Shown, key: Qt.Key) -> None:
    shown.wait_for_keys()
    # Esc goes to the dialog, Enter and Space to the focused "Don't share".
    QTest.keyClick(shown.dialog.dont_share, key)
    shown.qtbot.waitUntil(lambda: shown.answers != [], timeout=2000)
    assert [answer.share for answer in shown.answers[0]] == [False]
    assert not shown.dialog.isVisible()


def test_mouse_clicks_are_not_held_back(shown: Shown) -> None:
    assert not shown.dialog.keys_ready
    QTest.mouseClick(shown.dialog.dont_share, Qt.MouseButton.LeftButton)
    assert [answer.share for answer in shown.answers[0]] == [False]


def test_the_name_typed_with_a_curly_apostrophe_shares_and_another_name_does_not(
    shown: Shown,
) -> None:
    dialog = shown.dialog
    QTest.keyClicks(dialog.name_edit, "Editors")  # typed in the first moment: dropped
    assert dialog.name_edit.text() == ""
    shown.wait_armed()
    QTest.keyClick(dialog.dont_share, Qt.Key.Key_Tab)  # the keyboard alone
    assert dialog.focusWidget() is dialog.name_edit
    for wrong in ("Editors Desk", "Editor\u2019s Desk", "Editors\u201d Desk"):
        dialog.name_edit.clear()
        type_text(dialog.name_edit, wrong)
        assert dialog.name_edit.text() == wrong
        assert not dialog.name_ok() and not dialog.share.isEnabled(), wrong
    dialog.name_edit.clear()
    type_text(dialog.name_edit, "editors\u2019 desk")
    assert dialog.name_edit.text() == "editors\u2019 desk"
    assert dialog.share.isEnabled()
    QTest.keyClick(dialog.name_edit, Qt.Key.Key_Tab)
    assert dialog.focusWidget() is dialog.share
    QTest.keyClick(dialog.share, Qt.Key.Key_Space)
    shown.qtbot.waitUntil(lambda: shown.answers != [], timeout=2000)
    [answer] = shown.answers[0]
    assert answer.share and answer.typed_name == "editors\u2019 desk"


def test_space_held_on_the_share_button_as_it_arms_shares_nothing(shown: Shown) -> None:
    dialog = shown.dialog
    shown.wait_armed()
    QTest.keyClicks(dialog.name_edit, EDITORS)
    dialog.share.setFocus()
    # The user tabbed here, then the dialog went away and came back (it was raised from the
    # tray) while Space was held down in another window.
    dialog.hide()
    dialog.show()
    dialog.activateWindow()
    dialog.share.setFocus()
    assert not dialog.keys_ready
    hold_down(dialog.share, Qt.Key.Key_Space, repeats=10, release=False)
    shown.wait_for_keys()
    hold_down(dialog.share, Qt.Key.Key_Space, repeats=10)
    shown.qtbot.wait(50)
    assert not shown.answers and dialog.isVisible()


def test_files_joining_the_dialog_make_a_first_moment_again(qtbot: QtBot, tmp_path: Path) -> None:
    both = editors_batch(tmp_path, "first.txt", "second.txt")
    first, second = both.items
    on_screen = show(qtbot, Batch(both.group, (first,)))
    dialog = on_screen.dialog
    on_screen.wait_for_keys()
    dialog.add_items([second])
    assert len(dialog.rows) == 2
    assert not dialog.keys_ready
    QTest.keyClick(dialog, Qt.Key.Key_Escape)
    assert not on_screen.decided
    on_screen.wait_for_keys()
    QTest.keyClick(dialog, Qt.Key.Key_Escape)
    assert [answer.share for answer in on_screen.answers[0]] == [False, False]


def test_a_shortcut_waits_for_the_first_moment_too(shown: Shown) -> None:
    dialog = shown.dialog
    fired: list[bool] = []
    shortcut = QShortcut(QKeySequence("Ctrl+D"), dialog)
    shortcut.activated.connect(lambda: fired.append(True))
    QTest.keyClick(dialog.dont_share, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert fired == []
    shown.wait_for_keys()
    QTest.keyClick(dialog.dont_share, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert fired == [True]


def test_keys_count_from_a_moment_after_the_dialog_appears(qtbot: QtBot, tmp_path: Path) -> None:
    started = time.monotonic()
    on_screen = show(qtbot, editors_batch(tmp_path))  # the app's own delays
    on_screen.wait_for_keys()
    waited = time.monotonic() - started
    assert KEY_DELAY_MS / 1000 - 0.05 <= waited < KEY_DELAY_MS / 1000 + 1.0
    assert not on_screen.dialog.armed  # the mouse waits longer: keys are not the slow part
    on_screen.dialog.dismiss_unanswered()


def test_keys_work_no_later_than_the_share_button(qtbot: QtBot, tmp_path: Path) -> None:
    on_screen = show(qtbot, editors_batch(tmp_path), arm_delay_ms=200)
    qtbot.waitUntil(lambda: on_screen.dialog.armed, timeout=5000)
    assert on_screen.dialog.keys_ready
    QTest.keyClick(on_screen.dialog, Qt.Key.Key_Escape)
    assert [answer.share for answer in on_screen.answers[0]] == [False]


# --- on a real X server ------------------------------------------------------------------


@pytest.fixture(scope="module")
def x_display(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An Xvfb of its own, on a display number it picks itself (-displayfd): a free one,
    whatever other X servers run here."""
    binary = shutil.which("Xvfb")
    if binary is None:
        pytest.fail("Xvfb is missing: apt-get install xvfb (.ci/run installs it)")
    log = tmp_path_factory.mktemp("xvfb") / "xvfb.log"
    read, write = os.pipe()
    with log.open("wb") as errors:
        server = subprocess.Popen(
            [binary, "-displayfd", str(write), "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
            pass_fds=(write,),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
    os.close(write)
    try:
        ready, _, _ = select.select([read], [], [], 30)
        number = os.read(read, 32).decode().strip() if ready else ""
        if not number.isdigit():
            pytest.fail(f"Xvfb did not start: {log.read_text(errors='replace')}")
        yield f":{number}"
    finally:
        os.close(read)
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(scope="module")
def on_x11(x_display: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What dialog_keys_x11.py saw, run once for these tests: real dialogs on the Xvfb."""
    env = {key: value for key, value in os.environ.items() if key != "WAYLAND_DISPLAY"}
    env.update(DISPLAY=x_display, QT_QPA_PLATFORM="xcb")
    result = subprocess.run(
        [sys.executable, "-m", "tests.app.dialog_keys_x11", str(tmp_path_factory.mktemp("x11"))],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr
    results: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    assert results["platform"] == "xcb"
    return results


@pytest.mark.parametrize("key", ["Return", "space", "Escape"])
def test_on_x11_a_key_held_down_as_the_dialog_appears_decides_nothing(
    on_x11: dict[str, Any], key: str
) -> None:
    held = on_x11["held"][key]
    # Pressed in the chat window; the dialog then had the keyboard, and the server's
    # repeats of the key went on reaching it after its first moment.
    assert held["chat_had_focus"] and held["dialog_active"]
    assert held["keys_ready_while_held"]
    assert held["dialog_saw"]["repeat"] >= 10, held
    assert held["dialog_saw"]["release"] >= 10, held
    assert not held["decided"], held


@pytest.mark.parametrize("key", ["Return", "space", "Escape"])
def test_on_x11_the_same_key_pressed_afresh_decides(on_x11: dict[str, Any], key: str) -> None:
    held = on_x11["held"][key]
    assert held["fresh_press_answers"] == [[False]]  # "Don't share", the default
    assert held["closed_after_fresh_press"]


def test_on_x11_keys_in_the_first_moment_decide_nothing(on_x11: dict[str, Any]) -> None:
    first = on_x11["first_moment"]
    assert first["in_first_moment"]
    assert first["dialog_saw"]["press"] >= 3 and first["dialog_saw"]["release"] >= 3, first
    assert not first["decided"]


def test_on_x11_the_name_typed_with_a_curly_apostrophe_shares(on_x11: dict[str, Any]) -> None:
    typed = on_x11["typed_name"]
    assert typed["name_field_focused"]
    assert typed["Editors Desk"] == {"typed": "Editors Desk", "share_enabled": False}
    assert typed["Editor\u2019s Desk"] == {"typed": "Editor\u2019s Desk", "share_enabled": False}
    assert typed["editors\u2019 desk"] == {"typed": "editors\u2019 desk", "share_enabled": True}
    assert typed["share_focused"]
    assert typed["answers"] == [[{"share": True, "typed_name": "editors\u2019 desk"}]]


def test_on_x11_a_click_is_not_held_back(on_x11: dict[str, Any]) -> None:
    mouse = on_x11["mouse"]
    assert not mouse["keys_ready_at_click"]
    assert mouse["answers"] == [[False]]


def test_the_engine_accepts_the_name_the_dialog_accepts() -> None:
    """What the dialog lets through is what the engine checks at share time: a name typed
    with ’ must not be refused after the dialog enabled Share."""
    group = Group(name=EDITORS, folders=(), clearance=Level(0, "PUBLIC"))
    typed = Answer(hold_id=1, share=True, typed_name="editors’ desk")
    assert answer_problem(Action.TYPE_GROUP_NAME, typed, group) is None
    wrong = Answer(hold_id=1, share=True, typed_name="Editors Desk")
    assert answer_problem(Action.TYPE_GROUP_NAME, wrong, group) is not None
