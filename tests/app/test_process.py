"""The app as a process: `sendguard app` starts, says when it is ready, and stops cleanly on
SIGTERM (logout, a package upgrade) with the engine's journal closed properly."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from sendguard.paths import resolve_paths


def env_for(home: Path) -> dict[str, str]:
    env = dict(os.environ, HOME=str(home), QT_QPA_PLATFORM="offscreen")
    env.pop("DISPLAY", None)
    return env


def meta(data: Path, key: str) -> str | None:
    try:
        db = sqlite3.connect(data / "journal.sqlite3", timeout=10)
        try:
            row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        finally:
            db.close()
    except sqlite3.Error:
        return None
    return row[0] if row else None


def test_smoke_test_reports_ready_and_exits(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sendguard", "app", "--smoke-test", "--data-dir", str(tmp_path)],
        env=env_for(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ready in ")
    assert "window (no tray)" in result.stdout  # offscreen has no tray


def test_sigterm_stops_the_app_cleanly(tmp_path: Path) -> None:
    data = tmp_path / "data"
    process = subprocess.Popen(
        [sys.executable, "-m", "sendguard", "app", "--data-dir", str(data)],
        env=env_for(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # The app serves its control socket once its engine runs and the app has taken it in: up.
    # (The journal's "stopped_cleanly = 0" comes earlier, while the engine is still starting.)
    control_socket = resolve_paths(data).control_socket
    try:
        deadline = time.monotonic() + 60
        while not control_socket.exists():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the app did not start its engine in 60 s"
            time.sleep(0.1)
        assert meta(data, "stopped_cleanly") == "0"  # the engine is running
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
    assert meta(data, "stopped_cleanly") == "1"
    # The demo group folders it made, since there was no policy and no group.
    assert (tmp_path / "SendGuard" / "Demo groups" / "Family").is_dir()


def test_no_display_is_a_clear_error(tmp_path: Path) -> None:
    env = env_for(tmp_path)
    del env["QT_QPA_PLATFORM"]
    env.pop("WAYLAND_DISPLAY", None)
    result = subprocess.run(
        [sys.executable, "-m", "sendguard", "app", "--data-dir", str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "no graphical session" in result.stderr
    assert "sendguard run --headless" in result.stderr


def catches_sigterm(pid: int) -> bool:
    """Linux: the process has a handler for SIGTERM (the app installs it right after it
    begins to start its engine)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    except OSError:
        return False
    for line in status.splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) & (1 << (signal.SIGTERM - 1)))
    return False


def test_sigterm_while_the_engine_starts_still_stops_it_cleanly(tmp_path: Path) -> None:
    """A logout right after login: SIGTERM while the engine is still starting. The app
    waits for the start, then stops the engine as at any quit: the journal says it stopped
    cleanly (else the next start takes it for a crash)."""
    data = tmp_path / "data"
    process = subprocess.Popen(
        [sys.executable, "-m", "sendguard", "app", "--data-dir", str(data)],
        env=env_for(tmp_path),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not catches_sigterm(process.pid):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the app did not handle SIGTERM in 60 s"
            time.sleep(0.005)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
    assert meta(data, "stopped_cleanly") == "1"
