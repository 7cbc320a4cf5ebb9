"""``sendguard app``: start the desktop app."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from sendguard.paths import default_data_dir

from . import i18n
from .controller import Controller
from .icons import app_icon
from .shell import Shell
from .single import SingleInstance

EXIT_OK = 0
EXIT_FAILED = 1


def no_display() -> bool:
    """On Linux and BSD, Qt needs a display server (or an explicit platform plugin)."""
    if sys.platform in ("win32", "darwin") or os.environ.get("QT_QPA_PLATFORM"):
        return False
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def run_app(
    *,
    policy: Path | None = None,
    data_dir: Path | None = None,
    not_shared: Path | None = None,
    language: str | None = None,
    smoke_test: bool = False,
) -> int:
    started = time.perf_counter()
    if no_display():
        print(
            "sendguard app: error: no graphical session (DISPLAY and WAYLAND_DISPLAY are not"
            " set). Start it from your desktop session, or run the engine alone with"
            " `sendguard run --headless`.",
            file=sys.stderr,
        )
        return EXIT_FAILED
    data_dir = data_dir or default_data_dir()
    data_dir.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication([sys.argv[0]])
    assert isinstance(app, QApplication)
    app.setApplicationName("SendGuard")
    app.setApplicationDisplayName("SendGuard")
    app.setDesktopFileName("sendguard")
    app.setQuitOnLastWindowClosed(False)
    app.setWindowIcon(app_icon())
    i18n.install(app, i18n.chosen_language(data_dir, language))

    single = SingleInstance(data_dir)
    if single.ask_running_instance():
        print("SendGuard is already running; its window was brought forward.")
        return EXIT_OK
    if not single.listen():
        print(
            f"sendguard app: warning: cannot listen on {single.name}; a second launch will"
            " start a second instance",
            file=sys.stderr,
        )

    controller = Controller(policy_path=policy, data_dir=data_dir, not_shared=not_shared)
    shell = Shell(controller)
    single.activated.connect(shell.bring_forward)
    shell.quit_requested.connect(app.quit)
    shell.show()
    controller.start()

    # Let Python see Ctrl-C and SIGTERM while Qt's loop runs.
    signal.signal(signal.SIGINT, lambda *_: app.quit())
    signal.signal(signal.SIGTERM, lambda *_: app.quit())
    poke = QTimer()
    poke.start(250)
    poke.timeout.connect(lambda: None)

    if smoke_test:

        def report() -> None:
            shown = (shell.tray is not None and shell.tray.isVisible()) or (
                shell.main_window is not None and shell.main_window.isVisible()
            )
            if shown:
                where = "tray" if shell.tray is not None else "window (no tray)"
                print(f"ready in {(time.perf_counter() - started) * 1000:.0f} ms ({where})")
            else:
                print("sendguard app: error: neither the tray nor the window could be shown")
            sys.stdout.flush()
            app.exit(EXIT_OK if shown else EXIT_FAILED)

        QTimer.singleShot(0, report)

    code = app.exec()
    shell.close_all()
    controller.stop()
    return code
