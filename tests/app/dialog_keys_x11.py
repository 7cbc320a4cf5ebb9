"""The confirmation dialog on a real X server, keys pressed as a keyboard presses them.

Run by tests/app/test_dialog_keys.py in a subprocess (the test process already has its
offscreen QApplication, and there is one per process): ``python -m tests.app.dialog_keys_x11
FOLDER`` with DISPLAY naming an X server that has the XTEST extension (the test starts an
Xvfb) and QT_QPA_PLATFORM=xcb. It prints one line of JSON: what each scenario did.

Keys and clicks go through XTEST, so the server treats them as a keyboard's and a mouse's:
it sends them to the window with the input focus and repeats a key held down, and Qt's X11
plugin turns them into key events as on a desktop. XTEST is spoken here over the X11
socket directly (a few requests of the core protocol), so no X library is needed.
"""

from __future__ import annotations

import json
import os
import socket
import struct
import sys
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QKeyEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLineEdit, QWidget

from sendguard.app.dialog import ConfirmDialog
from sendguard.engine.decider import Answer, Batch, PromptItem
from sendguard.labels import detect
from sendguard.policy import load_policy
from sendguard.policy.decide import decide
from tests.app.conftest import POLICY, TLP_RED

EDITORS = "Editors' Desk"

# X11 keysyms (X11/keysymdef.h): printable ASCII is its own code.
XK_TAB = 0xFF09
XK_RETURN = 0xFF0D
XK_ESCAPE = 0xFF1B
XK_SHIFT_L = 0xFFE1
XK_F12 = 0xFFC9
XK_RIGHT_QUOTE = 0x1000000 | 0x2019  # ’, as a Unicode keysym
KEYSYMS = {"Return": XK_RETURN, "space": 0x20, "Escape": XK_ESCAPE, "Tab": XK_TAB}

# Core protocol request codes and XTEST's FakeInput event types.
_GET_INPUT_FOCUS = 43
_QUERY_EXTENSION = 98
_CHANGE_KEYBOARD_MAPPING = 100
_GET_KEYBOARD_MAPPING = 101
_XTEST_FAKE_INPUT = 2
_KEY_PRESS, _KEY_RELEASE, _BUTTON_PRESS, _BUTTON_RELEASE, _MOTION = 2, 3, 4, 5, 6


def _pad(length: int) -> int:
    return -length % 4


class XKeyboard:
    """A client of the X server that presses keys and clicks through XTEST."""

    def __init__(self, display: str) -> None:
        number = display.split(":", 1)[1].split(".", 1)[0]
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(f"/tmp/.X11-unix/X{number}")
        # Little-endian, protocol 11.0, no authorisation (the test's Xvfb asks for none).
        self.sock.sendall(struct.pack("<BxHHHHxx", ord("l"), 11, 0, 0, 0))
        head = self._read(8)
        if head[0] != 1:
            reason = self._read(struct.unpack_from("<H", head, 6)[0] * 4)
            raise RuntimeError(f"the X server refused the connection: {reason[: head[1]]!r}")
        setup = self._read(struct.unpack_from("<H", head, 6)[0] * 4)
        vendor_length, _, _, formats = struct.unpack_from("<HHBB", setup, 16)
        self.min_keycode, self.max_keycode = setup[26], setup[27]
        screens = 32 + vendor_length + _pad(vendor_length) + 8 * formats
        self.root = struct.unpack_from("<I", setup, screens)[0]
        present, self.xtest = self._query_extension(b"XTEST")
        if not present:
            raise RuntimeError("the X server has no XTEST extension")
        self.keymap = self._keyboard_mapping()

    # --- the protocol --------------------------------------------------------------------

    def _read(self, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = self.sock.recv(size - len(data))
            if not chunk:
                raise RuntimeError("the X server closed the connection")
            data += chunk
        return data

    def _reply(self) -> bytes:
        """The next reply, past any event (MappingNotify comes to every client)."""
        while True:
            packet = self._read(32)
            if packet[0] == 0:
                raise RuntimeError(f"X error {packet[1]} for request {packet[10]}")
            if packet[0] == 1:
                return packet + self._read(struct.unpack_from("<I", packet, 4)[0] * 4)

    def _query_extension(self, name: bytes) -> tuple[bool, int]:
        body = name + b"\0" * _pad(len(name))
        self.sock.sendall(
            struct.pack("<BxHHxx", _QUERY_EXTENSION, 2 + len(body) // 4, len(name)) + body
        )
        reply = self._reply()
        return bool(reply[8]), reply[9]

    def _keyboard_mapping(self) -> dict[int, list[int]]:
        count = self.max_keycode - self.min_keycode + 1
        self.sock.sendall(
            struct.pack("<BxHBBxx", _GET_KEYBOARD_MAPPING, 2, self.min_keycode, count)
        )
        reply = self._reply()
        per_key = reply[1]
        syms = struct.unpack_from(f"<{count * per_key}I", reply, 32)
        return {
            self.min_keycode + index: list(syms[index * per_key : (index + 1) * per_key])
            for index in range(count)
        }

    def sync(self) -> None:
        """Every request so far is done (a round trip)."""
        self.sock.sendall(struct.pack("<BxH", _GET_INPUT_FOCUS, 1))
        self._reply()

    def _fake(self, kind: int, detail: int, x: int = 0, y: int = 0) -> None:
        root = self.root if kind == _MOTION else 0
        self.sock.sendall(
            struct.pack(
                "<BBHBBxxIIIIhhIHBB",
                self.xtest,
                _XTEST_FAKE_INPUT,
                9,
                kind,
                detail,
                0,  # now
                root,
                0,
                0,
                x,
                y,
                0,
                0,
                0,
                0,  # the core devices
            )
        )
        self.sync()

    # --- keys and clicks -----------------------------------------------------------------

    def give_key(self, keysym: int) -> int:
        """Put `keysym` on the F12 key (a US layout has no ’), before Qt reads the keymap."""
        try:
            return self.keycode(keysym)
        except LookupError:
            keycode = self.keycode(XK_F12)
        per_key = len(self.keymap[keycode])
        syms = [keysym, keysym] + [0] * (per_key - 2)
        self.sock.sendall(
            struct.pack("<BBHBBxx", _CHANGE_KEYBOARD_MAPPING, 1, 2 + per_key, keycode, per_key)
            + struct.pack(f"<{per_key}I", *syms)
        )
        self.sync()
        self.keymap = self._keyboard_mapping()
        return keycode

    def keycode(self, keysym: int) -> int:
        return self.find(keysym)[0]

    def find(self, keysym: int) -> tuple[int, bool]:
        """The key that types `keysym`, and whether Shift is needed."""
        for level in (0, 1):
            for code, syms in self.keymap.items():
                if len(syms) > level and syms[level] == keysym:
                    return code, level == 1
        raise LookupError(f"no key types keysym {keysym:#x}")

    def press(self, keysym: int) -> None:
        self._fake(_KEY_PRESS, self.keycode(keysym))

    def release(self, keysym: int) -> None:
        self._fake(_KEY_RELEASE, self.keycode(keysym))

    def type(self, text: str, wait: Callable[[int], None]) -> None:
        for char in text:
            keysym = XK_RIGHT_QUOTE if char == "\u2019" else ord(char)
            code, shift = self.find(keysym)
            if shift:
                self._fake(_KEY_PRESS, self.keycode(XK_SHIFT_L))
            self._fake(_KEY_PRESS, code)
            self._fake(_KEY_RELEASE, code)
            if shift:
                self._fake(_KEY_RELEASE, self.keycode(XK_SHIFT_L))
            wait(15)

    def click(self, x: int, y: int) -> None:
        self._fake(_MOTION, 0, x, y)
        self._fake(_BUTTON_PRESS, 1)
        self._fake(_BUTTON_RELEASE, 1)


# --- the dialog --------------------------------------------------------------------------


def editors_batch(folder: Path, *names: str) -> Batch:
    """Files labelled TLP:RED for "Editors' Desk" (cleared for INTERNAL): the real policy
    loader, label detection and decision; its name must be typed to share them."""
    folder.mkdir(parents=True, exist_ok=True)
    policy_file = folder / "policy.toml"
    policy_file.write_text(POLICY.format(root=folder, allow_pause="true"), encoding="utf-8")
    policy = load_policy(policy_file, system_required=True, home=folder)
    group = next(group for group in policy.groups if group.name == EDITORS)
    items = []
    for number, name in enumerate(names or ("memo.txt",), start=1):
        path = folder / name
        path.write_bytes(TLP_RED)
        findings = detect(path)
        items.append(PromptItem(number, name, findings, decide(findings, group, policy)))
    return Batch(group, tuple(items))


class KeyCounter(QObject):
    """Counts the key events Qt delivers to a window's widgets (an application filter
    sees each before the widget's own filters do)."""

    def __init__(self, window: QWidget) -> None:
        super().__init__()
        self.window = window
        self.counts = {"press": 0, "repeat": 0, "release": 0}

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            isinstance(event, QKeyEvent)
            and event.type() in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease)
            and isinstance(watched, QWidget)
            and watched.window() is self.window
            and watched is QApplication.focusWidget()  # once, not again at each parent
        ):
            if event.type() == QEvent.Type.KeyRelease:
                self.counts["release"] += 1
            elif event.isAutoRepeat():
                self.counts["repeat"] += 1
            else:
                self.counts["press"] += 1
        return False


class Run:
    def __init__(self, app: QApplication, keyboard: XKeyboard, folder: Path) -> None:
        self.app = app
        self.keyboard = keyboard
        self.folder = folder
        self.chat = QLineEdit()
        self.chat.setWindowTitle("chat")
        self.chat.setGeometry(40, 40, 400, 40)
        self.dialogs = 0

    def wait(self, ms: int) -> None:
        QTest.qWait(ms)

    def wait_until(self, predicate: Callable[[], bool], timeout_ms: int = 5000) -> bool:
        end = time.monotonic() + timeout_ms / 1000
        while not predicate():
            if time.monotonic() > end:
                return False
            self.wait(10)
        return True

    def focus_chat(self) -> bool:
        self.chat.show()
        self.chat.raise_()
        self.chat.activateWindow()
        return self.wait_until(lambda: self.chat.hasFocus() and self.chat.isActiveWindow())

    def dialog(self) -> tuple[ConfirmDialog, list[list[Answer]], KeyCounter]:
        """Shown as the app shows it (Shell.show_dialog), with the app's own delays."""
        self.dialogs += 1
        dialog = ConfirmDialog(editors_batch(self.folder / str(self.dialogs)))
        answers: list[list[Answer]] = []
        dialog.answered.connect(answers.append)
        counter = KeyCounter(dialog)
        self.app.installEventFilter(counter)
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()
        return dialog, answers, counter

    def held_key(self, name: str) -> dict[str, object]:
        """A key pressed in the chat window and held down as the dialog appears, long
        past its first moment (the server repeats it), then released; then the same key
        pressed afresh."""
        keysym = KEYSYMS[name]
        chat_ready = self.focus_chat()
        self.keyboard.press(keysym)
        self.wait(100)
        dialog, answers, counter = self.dialog()
        active = self.wait_until(dialog.isActiveWindow, 2000)
        self.wait(2000)
        keys_ready_while_held = dialog.keys_ready
        self.keyboard.release(keysym)
        self.wait(300)
        held = {
            "chat_had_focus": chat_ready,
            "dialog_active": active,
            "keys_ready_while_held": keys_ready_while_held,
            "dialog_saw": dict(counter.counts),
            "decided": bool(answers) or not dialog.isVisible(),
        }
        # The same key, pressed and released while the dialog is on screen.
        self.keyboard.press(keysym)
        self.wait(30)
        self.keyboard.release(keysym)
        self.wait_until(lambda: bool(answers), 2000)
        held["fresh_press_answers"] = [[a.share for a in batch] for batch in answers]
        held["closed_after_fresh_press"] = not dialog.isVisible()
        self.app.removeEventFilter(counter)
        dialog.deleteLater()
        return held

    def first_moment(self) -> dict[str, object]:
        """Return and Escape pressed and released in the first moment, and Space pressed in
        it and released after it."""
        self.focus_chat()
        dialog, answers, counter = self.dialog()
        self.wait_until(dialog.isActiveWindow, 2000)
        self.wait(100)
        in_first_moment = not dialog.keys_ready
        for keysym in (XK_RETURN, XK_ESCAPE):
            self.keyboard.press(keysym)
            self.keyboard.release(keysym)
        self.keyboard.press(0x20)
        self.wait_until(lambda: dialog.keys_ready, 3000)
        self.wait(100)
        self.keyboard.release(0x20)
        self.wait(300)
        result = {
            "in_first_moment": in_first_moment,
            "dialog_saw": dict(counter.counts),
            "decided": bool(answers) or not dialog.isVisible(),
        }
        self.app.removeEventFilter(counter)
        dialog.dismiss_unanswered()
        dialog.deleteLater()
        return result

    def typed_name(self) -> dict[str, object]:
        """Tab to the name field and type, on the keyboard; Tab to the share button and
        press Space."""
        self.focus_chat()
        dialog, answers, counter = self.dialog()
        self.wait_until(lambda: dialog.armed and dialog.keys_ready, 5000)
        self.keyboard.press(XK_TAB)
        self.keyboard.release(XK_TAB)
        self.wait_until(dialog.name_edit.hasFocus, 2000)
        result: dict[str, object] = {"name_field_focused": dialog.name_edit.hasFocus()}
        for text in ("Editors Desk", "Editor\u2019s Desk", "editors\u2019 desk"):
            dialog.name_edit.clear()
            self.keyboard.type(text, self.wait)
            self.wait(100)
            result[text] = {
                "typed": dialog.name_edit.text(),
                "share_enabled": dialog.share.isEnabled(),
            }
        self.keyboard.press(XK_TAB)
        self.keyboard.release(XK_TAB)
        self.wait_until(dialog.share.hasFocus, 2000)
        result["share_focused"] = dialog.share.hasFocus()
        self.keyboard.press(0x20)
        self.wait(30)
        self.keyboard.release(0x20)
        self.wait_until(lambda: bool(answers), 2000)
        result["answers"] = [
            [{"share": a.share, "typed_name": a.typed_name} for a in batch] for batch in answers
        ]
        self.app.removeEventFilter(counter)
        dialog.deleteLater()
        return result

    def mouse(self) -> dict[str, object]:
        """A click on "Don't share" at once: the mouse is not held back."""
        self.focus_chat()
        dialog, answers, counter = self.dialog()
        self.wait_until(lambda: dialog.dont_share.isVisible() and dialog.isActiveWindow(), 2000)
        self.wait(50)
        centre = dialog.dont_share.mapToGlobal(dialog.dont_share.rect().center())
        keys_ready = dialog.keys_ready
        self.keyboard.click(centre.x(), centre.y())
        self.wait_until(lambda: bool(answers), 2000)
        self.app.removeEventFilter(counter)
        dialog.deleteLater()
        return {
            "keys_ready_at_click": keys_ready,
            "answers": [[a.share for a in batch] for batch in answers],
            "at": [centre.x(), centre.y()],
        }


def main() -> int:
    folder = Path(sys.argv[1])
    keyboard = XKeyboard(os.environ["DISPLAY"])
    keyboard.give_key(XK_RIGHT_QUOTE)  # before Qt reads the keymap
    app = QApplication([sys.argv[0]])
    assert app.platformName() == "xcb", app.platformName()
    run = Run(app, keyboard, folder)
    results: dict[str, object] = {"platform": app.platformName()}
    results["held"] = {name: run.held_key(name) for name in ("Return", "space", "Escape")}
    results["first_moment"] = run.first_moment()
    results["typed_name"] = run.typed_name()
    results["mouse"] = run.mouse()
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
