"""One writer of a data folder (issue 15): while `sendguard run --headless` runs, `sendguard
held share/return` send their decisions to it through its control socket, and it carries
them out, journals and audits them; when none runs, the command decides by itself under the
same lock. Real processes, real folders, a real Secret Service sealing the audit records
(tests/audit/test_keyring.py), and the real `audit export` / `audit verify`."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from sendguard.engine.answers import account_name
from sendguard.engine.control import socket_address
from sendguard.paths import resolve_paths
from tests.audit.test_keyring import secret_service
from tests.cli.test_engine_commands import _args
from tests.cli.test_engine_commands import _sendguard as run_sendguard

__all__ = ["secret_service"]  # the fixture, used by name

POLICY = """
[[groups]]
name = "Family"
folders = ["{root}/Dropbox/Family"]
clearance = "PUBLIC"

[[groups]]
name = "Editors"
folders = ["{root}/Dropbox/Editors"]
clearance = "CONFIDENTIAL"

[actions]
above_1 = "type-group-name"
above_2 = "justify"
above_3 = "block"

[discovery]
enabled = false
"""

#: CONFIDENTIAL: two levels above Family (justify), within Editors' clearance.
AMBER = b"TLP:AMBER\nThe plan for the team.\n"
#: SECRET: three levels above Family (block), one above Editors (type-group-name).
RED = b"TLP:RED\nThe names.\n"
#: How long a line or a command may take on a busy CI machine (an upper bound, never slept).
PATIENCE = 60.0


def _sendguard(*args: str) -> subprocess.CompletedProcess[str]:
    return run_sendguard(*args, timeout=120)  # several processes at once on a busy machine


def _held(root: Path, verb: str, hold_id: int, *extra: str) -> subprocess.CompletedProcess[str]:
    return _sendguard("held", verb, str(hold_id), *extra, *_args(root))


def _start_held(root: Path, verb: str, hold_id: int, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "sendguard", "held", verb, str(hold_id), *extra, *_args(root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )


def _records(root: Path) -> list[dict[str, Any]]:
    exported = _sendguard("audit", "export", "--data-dir", str(root / "data"))
    assert exported.returncode == 0, exported.stderr
    return [json.loads(line) for line in exported.stdout.splitlines()]


def _decisions(root: Path) -> list[dict[str, Any]]:
    return [r for r in _records(root) if r["event"]["action"] in ("shared", "returned", "passed")]


def _verified(root: Path) -> str:
    checked = _sendguard("audit", "verify", "--data-dir", str(root / "data"))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "TAMPERING" not in checked.stdout
    return checked.stdout


class EngineProcess:
    """`sendguard run --headless --decide hold` as a real process; its output is read by a
    thread so that a test waits for a line, never for a fixed time."""

    def __init__(self, root: Path) -> None:
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sendguard",
                "run",
                "--headless",
                "--decide",
                "hold",
                *_args(root),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        )
        threading.Thread(target=self._read, daemon=True).start()
        self.wait_for("Decisions from `sendguard held share/return` come here")
        self.wait_for("Press Ctrl-C to stop.")

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def wait_for(self, text: str) -> str:
        """The first line not read yet that holds `text` (earlier lines are kept in `seen`)."""
        deadline = time.monotonic() + PATIENCE
        for line in self.seen:
            if text in line:
                self.seen.remove(line)
                return line
        while True:
            try:
                line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail(f"no line with {text!r} within {PATIENCE:g} s; seen: {self.seen}")
            if line is None:
                stderr = self.process.stderr.read() if self.process.stderr else ""
                pytest.fail(f"the engine ended before {text!r}: {self.seen} {stderr}")
            if text in line:
                return line
            self.seen.append(line)

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        _out, err = self.process.communicate(timeout=PATIENCE)
        assert self.process.returncode == 0, err
        return err


@pytest.fixture
def no_keyring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No session bus, as on a server: records are kept unsealed (and never go to the
    keyring of whoever runs the tests)."""
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path}/no-bus")


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "policy.toml").write_text(POLICY.format(root=tmp_path), encoding="utf-8")
    for group in ("Family", "Editors"):
        (tmp_path / "Dropbox" / group).mkdir(parents=True)
    return tmp_path


@pytest.fixture
def engine(root: Path) -> Any:
    running = EngineProcess(root)
    yield running
    running.stop()


def _hold(engine: EngineProcess, folder: Path, name: str, content: bytes) -> int:
    (folder / name).write_bytes(content)
    line = engine.wait_for(f" {name} for ")
    assert "held #" in line, line
    assert not (folder / name).exists()
    return int(line.split("held #", 1)[1].split()[0])


def test_held_share_and_return_go_to_the_running_engine(
    secret_service: None, root: Path, engine: EngineProcess
) -> None:
    family, editors = root / "Dropbox" / "Family", root / "Dropbox" / "Editors"
    plan = _hold(engine, family, "plan.txt", AMBER)

    # The engine checks what the policy asks (justify: the group's name and a reason).
    refused = _held(root, "share", plan)
    assert refused.returncode == 1
    assert "stays held" in refused.stderr and '"Family"' in refused.stderr
    no_reason = _held(root, "share", plan, "--group-name", "family")
    assert no_reason.returncode == 1 and "reason" in no_reason.stderr
    assert not (family / "plan.txt").exists()

    shared = _held(
        root, "share", plan, "--group-name", "Family", "--reason", "agreed with the team"
    )
    assert shared.returncode == 0, shared.stderr
    assert f"plan.txt → {family / 'plan.txt'}" in shared.stdout
    # Carried out by the engine before it answered: the file is back already.
    assert (family / "plan.txt").read_bytes() == AMBER
    assert str(family / "plan.txt") in engine.wait_for("shared after confirmation")

    names = _hold(engine, editors, "names.txt", RED)
    returned = _held(root, "return", names, "--reason", "wrong group")
    assert returned.returncode == 0, returned.stderr
    kept = root / "Not shared" / "Editors" / "names.txt"
    assert kept.read_bytes() == RED
    assert not (editors / "names.txt").exists()

    # Blocked: never shared, whatever is typed.
    blocked = _hold(engine, family, "names.txt", RED)
    attempt = _held(root, "share", blocked, "--group-name", "Family", "--reason", "please")
    assert attempt.returncode == 1
    assert "does not allow" in attempt.stderr and not (family / "names.txt").exists()

    # Unknown, and decided already: clear refusals, exit status 1.
    unknown = _held(root, "share", 999, "--group-name", "Family", "--reason", "x")
    assert unknown.returncode == 1 and "no held file #999" in unknown.stderr
    again = _held(root, "return", plan)
    assert again.returncode == 1
    assert "not held: it was shared already" in again.stderr
    assert "(command line)" in again.stderr

    listed = _sendguard("held", "list", "--json", *_args(root))
    assert [json.loads(line)["id"] for line in listed.stdout.splitlines()] == [blocked]

    user = account_name()
    decisions = {r["file"]["name"]: r for r in _decisions(root)}
    share = decisions["plan.txt"]
    assert share["event"]["action"] == "shared"
    assert share["sendguard"]["justification"] == "agreed with the team"
    assert share["sendguard"]["typed_name"] == "Family"
    assert share["sendguard"]["decided_via"] == "command line"
    assert share["sendguard"]["decided_by"] == user
    assert share["sendguard"]["audit"]["sealed"] is True
    give_back = decisions["names.txt"]
    assert give_back["event"]["action"] == "returned"
    assert give_back["sendguard"]["justification"] == "wrong group"
    assert give_back["sendguard"]["decided_via"] == "command line"
    assert give_back["file"]["target_path"] == str(kept)
    problems = [r["message"] for r in _records(root) if r["event"]["action"] == "problem"]
    assert any("does not allow" in p for p in problems)  # the blocked attempt, on record

    engine.stop()
    assert "unsealed 0" in _verified(root)


def test_two_decisions_at_once_one_wins(
    no_keyring: None, root: Path, engine: EngineProcess
) -> None:
    family = root / "Dropbox" / "Family"
    plan = _hold(engine, family, "plan.txt", AMBER)
    share = _start_held(root, "share", plan, "--group-name", "Family", "--reason", "ok")
    give_back = _start_held(root, "return", plan)
    results = [(*p.communicate(timeout=120), p.returncode) for p in (share, give_back)]
    codes = sorted(code for _out, _err, code in results)
    assert codes == [0, 1], results
    loser = next(err for _out, err, code in results if code == 1)
    assert "is not held" in loser
    # The file is in exactly one place, and the audit has exactly one decision on it.
    kept = root / "Not shared" / "Family" / "plan.txt"
    assert (family / "plan.txt").exists() != kept.exists()
    decided = [r for r in _decisions(root) if r["sendguard"]["details"]["hold_id"] == plan]
    assert len(decided) == 1
    engine.stop()
    _verified(root)


def test_with_no_engine_the_command_decides_itself_in_the_same_chain(
    secret_service: None, root: Path
) -> None:
    family, editors = root / "Dropbox" / "Family", root / "Dropbox" / "Editors"
    first = EngineProcess(root)
    plan = _hold(first, family, "plan.txt", AMBER)
    names = _hold(first, editors, "names.txt", RED)
    first.stop()

    # A socket left behind by a crash that nobody answers on is no engine.
    control = resolve_paths(root / "data").control_socket
    with socket.socket(socket.AF_UNIX) as stale, socket_address(control) as address:
        stale.bind(address)
    assert stat.S_ISSOCK(control.stat().st_mode)

    shared = _held(root, "share", plan, "--group-name", "Family", "--reason", "agreed")
    assert shared.returncode == 0, shared.stderr
    assert (family / "plan.txt").read_bytes() == AMBER
    returned = _held(root, "return", names)
    assert returned.returncode == 0, returned.stderr
    assert (root / "Not shared" / "Editors" / "names.txt").read_bytes() == RED
    again = _held(root, "share", plan, "--group-name", "Family", "--reason", "agreed")
    assert again.returncode == 1 and "not held" in again.stderr

    # The engine again, then a decision through it: one chain, three writers in turn.
    second = EngineProcess(root)
    notes = _hold(second, editors, "notes.txt", RED)
    assert _held(root, "share", notes, "--group-name", "editors").returncode == 0
    second.stop()

    decisions = [
        (r["file"]["name"], r["event"]["action"], r["sendguard"].get("decided_via"))
        for r in _decisions(root)
    ]
    assert decisions == [
        ("plan.txt", "shared", "command line"),
        ("names.txt", "returned", "command line"),
        ("notes.txt", "shared", "command line"),
    ]
    report = _verified(root)
    assert "unsealed 0" in report


def test_two_decisions_at_once_without_an_engine_one_wins(no_keyring: None, root: Path) -> None:
    first = EngineProcess(root)
    plan = _hold(first, root / "Dropbox" / "Family", "plan.txt", AMBER)
    first.stop()
    racers = [
        _start_held(root, "share", plan, "--group-name", "Family", "--reason", "ok")
        for _ in range(3)
    ] + [_start_held(root, "return", plan) for _ in range(3)]
    results = [(*p.communicate(timeout=120), p.returncode) for p in racers]
    assert sorted(code for *_, code in results) == [0, 1, 1, 1, 1, 1], results
    assert all("is not held" in err for _out, err, code in results if code == 1)
    assert len(_decisions(root)) == 1
    _verified(root)


def test_one_engine_per_data_folder_and_a_private_socket(
    no_keyring: None, root: Path, engine: EngineProcess
) -> None:
    second = _sendguard("run", "--headless", *_args(root))
    assert second.returncode == 1
    assert "sendguard run --headless is using the data folder" in second.stderr
    control = resolve_paths(root / "data").control_socket
    assert stat.S_ISSOCK(control.stat().st_mode)
    assert stat.S_IMODE(control.stat().st_mode) == 0o600
    assert stat.S_IMODE(control.parent.stat().st_mode) == 0o700
    engine.stop()
    assert not control.exists()  # removed at a clean stop
