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


def env_for(home: Path) -> dict[str, str]:
    env = dict(os.environ, HOME=str(home), QT_QPA_PLATFORM="offscreen")
    env.pop("DISPLAY", None)
    return env


def meta(data: Path, key: str) -> str | None:
    try:
        db = sqlite3.connect(data / "journal.sqlite3", timeout=1)
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
    try:
        deadline = time.monotonic() + 30
        while meta(data, "stopped_cleanly") != "0":  # the engine is running
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
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
