"""The first-run window: shown once at the first start, it says what is watched, where held
files wait and where the files not shared go, and "Try it" puts a labelled example into a
group folder, where the real engine holds it and the dialog asks — real widgets, real files."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel
from pytestqt.qtbot import QtBot

from sendguard.app.controller import Controller
from sendguard.app.dialog import ConfirmDialog, find_truncated
from sendguard.app.firstrun import EXAMPLE, MARKER, FirstRunWindow, mark_first_run_done
from sendguard.app.shell import Shell
from tests.keyrings import MemoryKeyring

from .conftest import CLEAN, POLICY, AppWorld, fast

ROOT = Path(__file__).resolve().parents[2]


def first_run(shell: Shell, qtbot: QtBot) -> FirstRunWindow:
    def shown() -> bool:
        window = shell.windows.get("first-run")
        return isinstance(window, FirstRunWindow) and window.isVisible()

    qtbot.waitUntil(shown, timeout=10_000)
    window = shell.windows["first-run"]
    assert isinstance(window, FirstRunWindow)
    return window


def shown_text(window: FirstRunWindow) -> str:
    return "\n".join(
        label.text() for label in window.findChildren(QLabel) if label.isVisible() and label.text()
    )


def clipped(window: FirstRunWindow) -> list[str]:
    """Texts that do not fit: one-line labels and buttons, and wrapped labels too short."""
    problems = find_truncated(window)
    for label in window.findChildren(QLabel):
        if label.isVisible() and label.wordWrap() and label.text():
            needed = label.heightForWidth(label.width())
            if label.height() < needed:
                problems.append(f"label {label.text()!r}: {label.height()} < {needed}")
    return problems


def row_names(dialog: ConfirmDialog) -> list[str]:
    return [row.item.name for row in dialog.rows]


def group_folders(root: Path) -> None:
    """The sync client's folders for conftest's policy (SendGuard never makes them)."""
    for name in ("editors", "family"):
        (root / "groups" / name).mkdir(parents=True, exist_ok=True)


def test_the_first_start_says_what_is_watched_and_where_files_go(make_app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    group_folders(tmp_path)
    world: AppWorld = make_app(tray=False)
    window = first_run(world.shell, world.qtbot)
    assert window.windowTitle() == "Getting started — SendGuard"
    assert not window.isModal()  # the app, its windows and dialogs stay usable
    assert world.shell.main_window is not None and world.shell.main_window.isVisible()
    text = shown_text(window)
    assert [label.text() for label in window.group_labels] == [
        '"Editors\' Desk" — cleared for INTERNAL',
        '"Family" — cleared for PUBLIC · includes people outside your organisation',
    ]
    assert str(world.editors) in text and str(world.family) in text
    # The group colours, as in the dialog.
    styles = [frame.styleSheet() for frame in window.findChildren(QFrame)]
    assert any("#1f6feb" in style for style in styles)
    assert any("#c2410c" in style for style in styles)
    # Where held files wait (private) and where refused ones go.
    hold = world.root / "data" / "hold"
    assert str(hold) in window.hold_text.text()
    assert "a private folder only you can open, until you decide" in window.hold_text.text()
    assert hold.is_dir()
    assert str(world.not_shared) in window.not_shared_text.text()
    assert str(world.controller.not_shared_root) == str(world.not_shared)
    # Try it names the group and folder before it copies anything: the lowest-cleared one.
    assert window.try_button.isVisible() and window.try_button.isEnabled()
    assert window.try_button.text() == "Try it"
    try_text = window.try_text.text()
    assert 'labelled TLP:AMBER (CONFIDENTIAL) into the folder of "Family"' in try_text
    assert str(world.family) in try_text and "cleared for PUBLIC" in try_text
    assert "This is a real group folder" in try_text  # not a demo folder: it says so
    assert list(world.family.iterdir()) == []  # nothing copied before the click
    assert clipped(window) == []


def demo_app(tmp_path: Path, qtbot: QtBot) -> tuple[Controller, Shell]:
    """The embedded default with no group anywhere: the demo groups, as at a real first run."""
    controller = Controller(
        policy_path=None,
        data_dir=tmp_path / "data",
        not_shared=tmp_path / "Not shared",
        home=tmp_path / "home",
        engine_config=fast,
        audit_keyring=MemoryKeyring(),
    )
    shell = Shell(controller, tray_available=lambda: True, arm_delay_ms=200)
    shell.show()
    controller.start()
    qtbot.waitUntil(lambda: controller.ready, timeout=10_000)
    assert controller.engine is not None, controller.start_error
    return controller, shell


def test_try_it_puts_the_example_into_the_demo_family_folder_and_it_is_held(
    qtbot: QtBot, tmp_path: Path
) -> None:
    demo = tmp_path / "home" / "SendGuard" / "Demo groups"
    family = demo / "Family"
    not_shared = tmp_path / "Not shared" / "Family"
    controller, shell = demo_app(tmp_path, qtbot)
    try:
        assert controller.demo
        window = first_run(shell, qtbot)
        assert f"SendGuard made two demo group folders in {demo}" in window.watched_intro.text()
        assert 'into the folder of "Family"' in window.try_text.text()
        assert str(family) in window.try_text.text()
        assert "real group folder" not in window.try_text.text()
        # A file of the example's name is already there: it is never overwritten.
        (family / "incident-report.txt").write_bytes(CLEAN)

        with qtbot.waitSignal(window.example_copied, timeout=5000) as copied:
            qtbot.mouseClick(window.try_button, Qt.MouseButton.LeftButton)
        assert copied.args == [family / "incident-report (2).txt"]
        assert 'Copied incident-report (2).txt into "Family"' in window.try_status.text()
        qtbot.waitUntil(lambda: shell.dialog is not None, timeout=10_000)
        dialog = shell.dialog
        assert dialog is not None
        assert dialog.windowTitle() == 'Share with "Family"?'
        assert row_names(dialog) == ["incident-report (2).txt"]
        labels = [label.text() for label in dialog.findChildren(QLabel)]
        assert any("TLP:AMBER" in text for text in labels), labels
        assert not (family / "incident-report (2).txt").exists()  # held while asking
        assert (family / "incident-report.txt").read_bytes() == CLEAN

        # Again while that one is held: neither the user's file nor the held one's way back
        # is used. The new file joins the open dialog.
        with qtbot.waitSignal(window.example_copied, timeout=5000) as copied:
            qtbot.mouseClick(window.try_button, Qt.MouseButton.LeftButton)
        assert copied.args == [family / "incident-report (3).txt"]
        qtbot.waitUntil(lambda: len(dialog.rows) == 2, timeout=10_000)
        assert row_names(dialog) == ["incident-report (2).txt", "incident-report (3).txt"]
        qtbot.waitUntil(lambda: dialog.keys_ready)  # files joining start a new first moment
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)  # don't share
        for name in ("incident-report (2).txt", "incident-report (3).txt"):
            qtbot.waitUntil((not_shared / name).exists, timeout=10_000)
            assert (not_shared / name).read_bytes() == EXAMPLE
        assert (family / "incident-report.txt").read_bytes() == CLEAN
        assert sorted(path.name for path in family.iterdir()) == ["incident-report.txt"]
    finally:
        shell.close_all()
        controller.stop()


def test_once_dismissed_it_is_not_shown_again(make_app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    marker = tmp_path / "data" / MARKER
    group_folders(tmp_path)
    world: AppWorld = make_app()
    first_run(world.shell, world.qtbot)
    # Quitting with it open is not dismissing it: it is shown at the next start.
    world.shell.close_all()
    world.controller.stop()
    assert not marker.exists()

    again: AppWorld = make_app()
    window = first_run(again.shell, again.qtbot)
    with again.qtbot.waitSignal(window.dismissed, timeout=2000):
        again.qtbot.mouseClick(window.close_button, Qt.MouseButton.LeftButton)
    assert not window.isVisible()
    assert marker.is_file()
    assert [path.name for path in marker.parent.glob(f".{MARKER}-*")] == []  # no temp left
    again.shell.close_all()
    again.controller.stop()

    third: AppWorld = make_app()
    third.qtbot.wait(300)
    assert "first-run" not in third.shell.windows
    # It can still be opened on purpose; Esc dismisses it too.
    window = third.shell.open_first_run()
    assert window.isVisible()
    with third.qtbot.waitSignal(window.dismissed, timeout=2000):
        third.qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert not window.isVisible()


def test_a_data_folder_that_cannot_be_used_shows_it_and_does_not_crash(
    qtbot: QtBot, tmp_path: Path
) -> None:
    """The data folder lies under a file (ENOTDIR, for root too): the guard cannot start and
    the marker cannot be written. The window still says what SendGuard would watch, offers
    no Try it that could not work, and closes without a word about the marker."""
    (tmp_path / "policy.toml").write_text(
        POLICY.format(root=tmp_path, allow_pause="true"), encoding="utf-8"
    )
    (tmp_path / "a file").write_bytes(b"not a folder")
    data = tmp_path / "a file" / "data"
    controller = Controller(
        policy_path=tmp_path / "policy.toml",
        data_dir=data,
        home=tmp_path / "home",
        engine_config=fast,
        audit_keyring=MemoryKeyring(),
    )
    shell = Shell(controller, tray_available=lambda: True)
    try:
        shell.show()
        controller.start()
        qtbot.waitUntil(lambda: controller.ready, timeout=10_000)
        assert controller.engine is None and controller.start_error
        window = first_run(shell, qtbot)
        assert '"Family" — cleared for PUBLIC' in shown_text(window)
        assert not window.try_button.isEnabled()
        assert "SendGuard is not guarding right now" in window.try_text.text()
        with qtbot.waitSignal(window.dismissed, timeout=2000):
            qtbot.mouseClick(window.close_button, Qt.MouseButton.LeftButton)
        assert not window.isVisible()
        # Only the guard's own failure is told; nothing about the marker.
        assert [title for title, _ in shell.notifications] == ["SendGuard is not guarding"]
        assert mark_first_run_done(data) is False
    finally:
        shell.close_all()
        controller.stop()


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """`folder` refuses new entries: ``chattr +i`` as root (chmod does not stop root),
    chmod otherwise. Skips where neither works."""
    if os.geteuid() == 0:
        if shutil.which("chattr") is None:
            pytest.skip("root without chattr: the folder cannot be made read-only")
        result = subprocess.run(["chattr", "+i", str(folder)], capture_output=True, check=False)
        if result.returncode != 0:
            pytest.skip(f"chattr +i failed here: {result.stderr!r}")
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
    else:
        folder.chmod(0o500)
        try:
            yield
        finally:
            folder.chmod(0o700)


def test_a_marker_that_cannot_be_written_is_silent_and_shown_next_time(
    make_app, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    group_folders(tmp_path)
    world: AppWorld = make_app()
    data = world.root / "data"
    window = first_run(world.shell, world.qtbot)
    with read_only(data):
        with pytest.raises(OSError):
            (data / "probe").write_bytes(b"")
        with world.qtbot.waitSignal(window.dismissed, timeout=2000):
            world.qtbot.mouseClick(window.close_button, Qt.MouseButton.LeftButton)
        assert not window.isVisible()
    assert not (data / MARKER).exists()
    assert list(data.glob(f".{MARKER}-*")) == []
    assert world.shell.notifications == []
    world.shell.close_all()
    world.controller.stop()
    again: AppWorld = make_app()
    first_run(again.shell, again.qtbot)


SCALED = """
import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication, QLabel

from sendguard.app.controller import Controller
from sendguard.app.dialog import find_truncated
from sendguard.app.firstrun import FirstRunWindow

app = QApplication([])
root = Path(sys.argv[1])
controller = Controller(policy_path=root / "policy.toml", data_dir=root / "data", home=root)
window = FirstRunWindow(controller)
window.show()
app.processEvents()
problems = find_truncated(window)
for label in window.findChildren(QLabel):
    if label.isVisible() and label.wordWrap() and label.text():
        if label.height() < label.heightForWidth(label.width()):
            problems.append(repr(label.text()))
print(window.devicePixelRatio(), problems)
"""


@pytest.mark.parametrize("scale", ["1", "2"])
def test_the_window_fits_its_text_at_100_and_200_percent(tmp_path: Path, scale: str) -> None:
    (tmp_path / "policy.toml").write_text(
        POLICY.format(root=tmp_path, allow_pause="true"), encoding="utf-8"
    )
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QT_SCALE_FACTOR=scale, HOME=str(tmp_path))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, "-c", SCALED, str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{float(scale)} []"
