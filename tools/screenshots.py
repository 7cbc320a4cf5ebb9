"""Real screenshots of the app for the README: `make screenshots` runs this under Xvfb.

It starts the real app (engine, watchdog, journal) on two group folders in a temporary
folder, drops labelled files into them, and grabs the X screen where each window is:
the first-run window and the dialog in English and in Chinese, the tray menu, and the held
files window.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QPoint, QRect
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QWidget

from sendguard.app import i18n
from sendguard.app.controller import Controller
from sendguard.app.firstrun import MARKER, FirstRunWindow
from sendguard.app.shell import Shell

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.keyrings import MemoryKeyring  # noqa: E402 - needs the project root on the path

OUT = Path(__file__).resolve().parent.parent / "docs" / "images"
POLICY = """
[[groups]]
name = "Editors' Desk"
folders = ["{root}/Nextcloud/Editors' Desk"]
clearance = "INTERNAL"
members = 12
colour = "#1f6feb"

[[groups]]
name = "Family"
folders = ["{root}/WeChat/Family"]
clearance = "PUBLIC"
members = 6
external = true
colour = "#c2410c"
"""
LABELLED = b"SECRET\nBudget for the spring issue.\n\nSECRET\n"


def settle(ms: int = 400) -> None:
    end = time.monotonic() + ms / 1000
    while time.monotonic() < end:
        QCoreApplication.processEvents()
        time.sleep(0.01)


def wait_for(predicate, timeout: float = 15.0) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise SystemExit("screenshots: timed out waiting for the app")
        settle(50)


def grab(widget: QWidget | QRect, name: str) -> None:
    settle()
    rect = widget if isinstance(widget, QRect) else widget.frameGeometry()
    screen = QGuiApplication.primaryScreen()
    pixmap = screen.grabWindow(0, rect.x(), rect.y(), rect.width(), rect.height())
    OUT.mkdir(parents=True, exist_ok=True)
    pixmap.save(str(OUT / name))
    print(f"{OUT / name}: {rect.width()}x{rect.height()}")


def grab_attention(controller: Controller, shell: Shell, policy: Path, name: str) -> None:
    """The tray menu in its attention state: the policy broken by an edit (quotes missing
    around a level), read again as the app does every two seconds; then mended."""
    good = policy.read_text(encoding="utf-8")
    policy.write_text(good.replace('"INTERNAL"', "INTERNAL"), encoding="utf-8")
    wait_for(lambda: controller.reload_policy() or controller.policy.error is not None)
    shell.rebuild_menu()
    shell.menu.popup(QPoint(40, 40))
    settle()
    grab(shell.menu.geometry(), name)
    shell.menu.hide()
    policy.write_text(good, encoding="utf-8")
    wait_for(lambda: controller.reload_policy() or controller.policy.error is None)


def grab_fallback_window(controller: Controller, name: str) -> None:
    """The window shown where there is no system tray, laid out for its content."""
    shell = Shell(controller, tray_available=lambda: False)
    window = shell.main_window
    assert window is not None
    window.show()
    window.move(40, 40)
    grab(window, name)
    window.hide()
    shell.close_all()


def main() -> int:
    if not os.environ.get("DISPLAY"):
        print("screenshots: needs an X display; run `make screenshots` (uses xvfb-run)")
        return 1
    app = QApplication(sys.argv[:1])
    app.setStyle("Fusion")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        policy = root / "policy.toml"
        policy.write_text(POLICY.format(root=root), encoding="utf-8")
        # A workstation has a keyring for the audit key; Xvfb has none, and without one the
        # tray would rightly show "needs attention". Secrets stay in memory here.
        controller = Controller(
            policy_path=policy, data_dir=root / "data", home=root, audit_keyring=MemoryKeyring()
        )
        family = root / "WeChat" / "Family"
        editors = root / "Nextcloud" / "Editors' Desk"
        for folder in (family, editors):  # the sync clients' folders: SendGuard never makes them
            folder.mkdir(parents=True)
        shell = Shell(controller, tray_available=lambda: True)
        controller.start()
        wait_for(lambda: controller.ready)

        # A fresh data folder: the first-run window opens by itself.
        wait_for(lambda: isinstance(shell.windows.get("first-run"), FirstRunWindow))
        first_run = shell.windows["first-run"]
        first_run.move(40, 40)
        grab(first_run, "first-run.png")
        first_run.hide()  # hidden, not dismissed

        (family / "Spring budget.txt").write_bytes(LABELLED)
        wait_for(lambda: shell.dialog is not None)
        dialog = shell.dialog
        assert dialog is not None
        dialog.move(40, 40)
        wait_for(lambda: dialog.armed)
        dialog.name_edit.setText("Fam")
        grab(dialog, "dialog-en.png")

        shell.rebuild_menu()
        shell.menu.popup(QPoint(700, 60))
        settle()
        grab(shell.menu.geometry(), "tray-menu.png")
        shell.menu.hide()

        held = shell.open_held()
        held.move(40, 500)
        held.resize(720, 220)
        grab(held, "held-files.png")
        held.hide()
        dialog.dismiss_unanswered()
        settle()
        grab_attention(controller, shell, policy, "attention.png")

        chinese_translators = i18n.install(app, "zh_CN")
        (editors / "预算 (机密).txt").write_bytes("机密★1年\n春季预算\n".encode())
        wait_for(lambda: shell.dialog is not None and shell.dialog is not dialog)
        chinese = shell.dialog
        assert chinese is not None
        chinese.move(40, 40)
        wait_for(lambda: chinese.armed)
        grab(chinese, "dialog-zh_CN.png")
        chinese.dismiss_unanswered()
        settle()
        first_run_zh = FirstRunWindow(controller)  # built anew: its strings are now Chinese
        first_run_zh.show()
        first_run_zh.move(40, 40)
        grab(first_run_zh, "first-run-zh_CN.png")
        first_run_zh.hide()
        grab_attention(controller, shell, policy, "attention-zh_CN.png")
        # The windows without a tray come from a Shell of their own: last, when no file is
        # on its way (it would ask too), and with the first run dismissed (it would open).
        (root / "data" / MARKER).write_text("", encoding="utf-8")
        grab_fallback_window(controller, "fallback-window-zh_CN.png")
        for translator in chinese_translators:
            QCoreApplication.removeTranslator(translator)
        grab_fallback_window(controller, "fallback-window.png")
        shell.close_all()
        controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
