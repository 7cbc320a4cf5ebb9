"""The window shown where there is no tray, measured at one scale.

Run by tests/app/test_fallback_window.py in a subprocess, because the scale (QT_SCALE_FACTOR)
and the screen (QT_QPA_PLATFORM=offscreen:configfile=…) are set once per process:
``python -m tests.app.fallback_window_scaled FOLDER LANGUAGE ALLOW_PAUSE``. The window is
the app's own (a real Controller and Shell on a real policy, no tray), measured as shown,
after a long notification, and made as small as it allows (what a window manager or the
user may do). Prints one line of JSON.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from PySide6.QtCore import QPoint, QRect
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLabel, QPushButton, QWidget

from sendguard.app import i18n
from sendguard.app.controller import Controller
from sendguard.app.shell import Shell
from tests.app.conftest import POLICY

#: As long as the notifications the window shows get (a held file's, with its reason).
LONG_MESSAGE = (
    'Held before sharing with "Editors\' Desk"',
    'quarterly-plan-final-v7-with-comments.docx: Forwarded from "Work — Newsroom" (the same'
    " content as quarterly-plan.docx there). Decide whether it should go there.",
)


def rect(widget: QWidget, window: QWidget) -> list[int]:
    corner = widget.mapTo(window, QPoint(0, 0))
    return [corner.x(), corner.y(), widget.width(), widget.height()]


def box(area: QRect) -> list[int]:
    return [area.x(), area.y(), area.width(), area.height()]


def measure(app: QApplication, window: QWidget) -> dict[str, object]:
    for _ in range(5):
        app.processEvents()
        QTest.qWait(20)
    screen = window.screen()
    buttons = [
        {
            "text": button.text(),
            "rect": rect(button, window),
            "hint": [button.sizeHint().width(), button.sizeHint().height()],
            "text_width": button.fontMetrics().horizontalAdvance(button.text()),
            "visible": button.isVisible(),
        }
        for button in window.findChildren(QPushButton)
    ]
    labels = [
        {
            "text": label.text(),
            "rect": rect(label, window),
            "needed": label.heightForWidth(label.width())
            if label.wordWrap()
            else label.sizeHint().height(),
            "visible": label.isVisible(),
        }
        for label in window.findChildren(QLabel)
        if label.text()
    ]
    return {
        "scale": window.devicePixelRatio(),
        "screen": box(screen.availableGeometry()),
        "frame": box(window.frameGeometry()),
        "size": [window.width(), window.height()],
        "minimum": [window.minimumWidth(), window.minimumHeight()],
        "buttons": buttons,
        "labels": labels,
    }


def main() -> int:
    folder, language, allow_pause = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    app = QApplication([sys.argv[0]])
    if language:
        assert i18n.install(app, language), f"the {language} catalogue did not load"
    policy = folder / "policy.toml"
    policy.write_text(POLICY.format(root=folder, allow_pause=allow_pause), encoding="utf-8")
    controller = Controller(
        policy_path=policy,
        data_dir=folder / "data",
        not_shared=folder / "Not shared",
        home=folder / "home",
    )
    shell = Shell(controller, tray_available=lambda: False)
    shell.show()
    window = shell.main_window
    assert window is not None
    assert QTest.qWaitForWindowExposed(window)
    result: dict[str, object] = {"shown": measure(app, window)}
    window.show_message(*LONG_MESSAGE)
    result["message"] = measure(app, window)
    window.resize(window.minimumSize())
    result["smallest"] = measure(app, window)
    print(json.dumps(result))
    window.quitting = True
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
