"""``sendguard app``: start the desktop app."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import time
from pathlib import Path

from PySide6.QtCore import QSocketNotifier, QTimer
from PySide6.QtWidgets import QApplication

from sendguard.paths import resolve_paths

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


def quit_on_signals(app: QApplication) -> None:
    """Quit cleanly on Ctrl-C and SIGTERM (logout, `systemctl stop`, a package upgrade).

    Python runs its signal handlers only when the main thread runs Python code, and Qt's loop
    can sit in C++ indefinitely. So the C-level handler writes the signal to a socket, and
    Qt's loop wakes on that socket in the GUI thread."""
    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    signal.set_wakeup_fd(writer.fileno())
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: None)  # the handler that matters is the fd
    notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read, app)

    def woke(*_: object) -> None:
        with contextlib.suppress(OSError):
            reader.recv(64)
        # exit(), not quit(): quit() first asks every window to close, and the no-tray
        # window refuses (it minimises instead), which would cancel the quit.
        app.exit(0)

    notifier.activated.connect(woke)
    _KEEP.append((reader, writer, notifier))


_KEEP: list[object] = []


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
    # The commands resolve their paths from the same options by the same function, so a file
    # `sendguard held return` moves is where the app's menu and Diagnostics say.
    paths = resolve_paths(data_dir, policy=policy, not_shared=not_shared)
    paths.data_dir.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication([sys.argv[0]])
    assert isinstance(app, QApplication)
    app.setApplicationName("SendGuard")
    app.setApplicationDisplayName("SendGuard")
    app.setDesktopFileName("sendguard")
    app.setQuitOnLastWindowClosed(False)
    app.setWindowIcon(app_icon())
    i18n.install(app, i18n.chosen_language(paths.data_dir, language))

    single = SingleInstance(paths.data_dir)
    if single.ask_running_instance():
        print("SendGuard is already running; its window was brought forward.")
        return EXIT_OK
    if not single.listen():
        print(
            f"sendguard app: warning: cannot listen on {single.name}; a second launch will"
            " start a second instance",
            file=sys.stderr,
        )

    # The options as given: the controller resolves them with `resolve_paths` as above.
    controller = Controller(policy_path=policy, data_dir=data_dir, not_shared=not_shared)
    shell = Shell(controller)
    single.activated.connect(shell.bring_forward)
    shell.quit_requested.connect(lambda: app.exit(0))
    shell.show()
    controller.start()

    quit_on_signals(app)

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
