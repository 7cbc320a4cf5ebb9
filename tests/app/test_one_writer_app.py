"""One writer (issue 15) in the desktop app: `sendguard held share` while the app runs goes to
the app's engine through its control socket — the file is released, the app's held list
updates, and the audit says who decided, how and why; while paused the app says so; and no
second engine can start on its data folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import Qt

from .conftest import TLP_RED, AppWorld


def _sendguard(world: AppWorld, *args: str) -> subprocess.CompletedProcess[str]:
    root = world.root
    where = ["--policy", str(root / "policy.toml"), "--data-dir", str(root / "data")]
    if args[0] == "held":
        where += ["--not-shared", str(world.not_shared)]
    return subprocess.run(
        [sys.executable, "-m", "sendguard", *args, *where],
        capture_output=True,
        text=True,
        timeout=120,
        # Never the keyring of whoever runs the tests, should the command decide by itself.
        env={
            **os.environ,
            "PYTHONIOENCODING": "utf-8",
            "DBUS_SESSION_BUS_ADDRESS": f"unix:path={root}/no-bus",
        },
    )


def _decisions(world: AppWorld) -> dict[str, dict[str, object]]:
    trail = world.controller.trail
    assert trail is not None
    return {
        str(fields["file"]): fields
        for fields in (record.fields for record in trail.store.records())
        if fields["event"] in ("shared", "returned")
    }


def test_a_command_line_decision_while_the_app_runs(make_app) -> None:  # type: ignore[no-untyped-def]
    world: AppWorld = make_app()
    controller = world.controller
    held = world.shell.open_held()
    (world.family / "plan.txt").write_bytes(TLP_RED)
    world.wait(lambda: controller.held)
    [hold_id] = list(controller.held)
    world.wait(lambda: held.table.rowCount() == 1)

    shared = _sendguard(
        world, "held", "share", str(hold_id), "--group-name", "Family", "--reason", "agreed"
    )
    assert shared.returncode == 0, shared.stderr
    assert (world.family / "plan.txt").read_bytes() == TLP_RED  # moved before it answered
    world.wait(lambda: hold_id not in controller.held)
    world.wait(lambda: held.table.rowCount() == 0)
    assert any("Shared plan.txt" in a.text for a in controller.activity)
    decided = _decisions(world)["plan.txt"]
    assert decided["event"] == "shared" and decided["decided_via"] == "command line"
    assert decided["justification"] == "agreed" and decided["typed_name"] == "Family"

    # The dialog asked about plan.txt too; answered there after the command line, it is
    # decided already and nothing happens to it. Its other file is the dialog's decision.
    (world.family / "leak.txt").write_bytes(TLP_RED)
    world.wait(lambda: len(controller.held) == 1)
    dialog = world.dialog()
    world.wait(lambda: any(row.item.name == "leak.txt" for row in dialog.rows))
    world.wait(lambda: dialog.keys_ready)  # a row added: a first moment again for keys
    world.qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    world.wait(lambda: (world.not_shared / "Family" / "leak.txt").exists())
    assert (world.family / "plan.txt").exists()
    world.wait(lambda: "leak.txt" in _decisions(world))
    assert _decisions(world)["leak.txt"]["decided_via"] == "dialog"
    assert _decisions(world)["plan.txt"]["event"] == "shared"  # the only decision on it


def test_paused_the_app_says_so_and_no_second_engine_starts(make_app) -> None:  # type: ignore[no-untyped-def]
    world: AppWorld = make_app()
    controller = world.controller
    (world.family / "plan.txt").write_bytes(TLP_RED)
    world.wait(lambda: controller.held)
    [hold_id] = list(controller.held)
    world.dialog()  # asked, and left unanswered

    second = _sendguard(world, "run", "--headless")
    assert second.returncode == 1
    assert "the desktop app (sendguard app) is using the data folder" in second.stderr

    assert controller.pause("a call with IT")
    world.wait(lambda: controller.engine is None)
    paused = _sendguard(world, "held", "return", str(hold_id))
    assert paused.returncode == 1
    assert "SendGuard is paused until" in paused.stderr
    assert not (world.not_shared / "Family" / "plan.txt").exists()

    controller.resume()
    world.wait(lambda: controller.engine is not None)
    returned = _sendguard(world, "held", "return", str(hold_id))
    assert returned.returncode == 0, returned.stderr
    assert (world.not_shared / "Family" / "plan.txt").read_bytes() == TLP_RED
    world.wait(lambda: hold_id not in controller.held)


def test_the_app_keeps_the_data_folder_until_it_stops(make_app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    world: AppWorld = make_app()
    lock = tmp_path / "data" / "engine.lock"
    assert lock.read_text().startswith(f"pid {os.getpid()}: the desktop app")
    world.shell.close_all()
    world.controller.stop()
    assert lock.read_text() == ""  # released
    assert not (tmp_path / "data" / "control" / "engine.sock").exists()
