"""The audit trail on a real engine (real folders, watchdog, journal): what is recorded for a
held, shared, returned and blocked file; a failing listener stops neither the audit nor the
engine; and `sendguard run --headless` records its whole run."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sendguard.audit import AuditStore, AuditTrail, open_audit_trail
from sendguard.engine.decider import Answer, Batch, ScriptedDecider
from sendguard.engine.guard import Engine, EngineConfig, EngineListener, run_until
from sendguard.engine.listeners import FanOutListener
from sendguard.policy import Policy, load_policy
from sendguard.policy.decide import Decision
from sendguard.store.journal import HoldRecord
from tests.audit.conftest import MemoryKeyring, sendguard

POLICY = """
[[groups]]
name = "Family"
folders = ["{root}/Dropbox/Family"]
clearance = "PUBLIC"

[[groups]]
name = "Press"
folders = ["{root}/Dropbox/Press"]
clearance = "PUBLIC"

[actions]
above_1 = "confirm"
above_2 = "type-group-name"
above_3 = "justify"

[discovery]
enabled = false
"""


def _policy(root: Path, extra: str = "") -> Policy:
    path = root / "policy.toml"
    path.write_text(POLICY.format(root=root) + extra, encoding="utf-8")
    policy = load_policy(path, root / "no-user.toml", system_required=True, home=root)
    assert policy.error is None, policy.error
    for group in policy.groups:
        group.folders[0].mkdir(parents=True, exist_ok=True)
    return policy


class Exploding(EngineListener):
    def held(self, record: HoldRecord, decision: Decision) -> None:
        raise RuntimeError("the UI fell over")

    def released(self, record: HoldRecord, target: Path, confirmed: bool) -> None:
        raise RuntimeError("the UI fell over")


def _events(trail: AuditTrail) -> list[dict[str, Any]]:
    return [record.fields for record in trail.store.records()]


def _answer(batch: Batch) -> Sequence[Answer]:
    if batch.group.name == "Family":
        return [
            Answer(item.hold_id, True, typed_name="family", justification="Mum asked for it")
            for item in batch.items
        ]
    return [Answer(item.hold_id, False) for item in batch.items]


def test_every_engine_decision_becomes_a_record(tmp_path: Path) -> None:
    policy = _policy(tmp_path)
    trail = open_audit_trail(tmp_path / "data", policy, keyring=MemoryKeyring())
    failures: list[str] = []
    fan_out = FanOutListener(
        Exploding(), trail.listener(), on_error=lambda _l, call, exc: failures.append(call)
    )
    engine = Engine(
        policy,
        EngineConfig(data_dir=tmp_path / "data", batch_window=0.1),
        ScriptedDecider(_answer),
        fan_out,
    )
    trail.listener().lookup = engine.journal.get
    engine.start()
    try:
        (tmp_path / "Dropbox" / "Family" / "plan.txt").write_bytes(b"TLP:RED\nThe plan.\n")
        (tmp_path / "Dropbox" / "Press" / "leak.txt").write_bytes(b"TLP:RED\nLeak.\n")
        (tmp_path / "Dropbox" / "Family" / "list.txt").write_bytes(b"milk\nbread\n")
        wanted = {"shared", "returned"}
        assert run_until(lambda: wanted <= {e["event"] for e in _events(trail)}, 20)
    finally:
        engine.stop()
        trail.close()
    store = AuditStore(tmp_path / "data" / "audit.sqlite3", create=False)
    events = [r.fields for r in store.records()]
    store.close()
    held = [e for e in events if e["event"] == "held"]
    assert {e["file"] for e in held} == {"plan.txt", "leak.txt"}
    plan = next(e for e in held if e["file"] == "plan.txt")
    assert plan["group"] == "Family" and plan["level"] == "SECRET"
    assert plan["action"] == "justify"
    assert plan["sha256"] and plan["size"] == len(b"TLP:RED\nThe plan.\n")
    assert plan["labels"][0]["label"].startswith("marking TLP:RED")
    assert plan["labels"][0]["where"]
    assert plan["policy_sha256"] == policy.sha256
    assert plan["user"] and plan["host"] and plan["version"]
    shared = next(e for e in events if e["event"] == "shared")
    assert shared["typed_name"] == "family"
    assert shared["justification"] == "Mum asked for it"
    assert shared["target"].endswith("Family/plan.txt")
    returned = next(e for e in events if e["event"] == "returned")
    assert returned["file"] == "leak.txt" and "not to share" in returned["reason"]
    # A clean file passes in place, unheld and unrecorded: quiet when nothing is wrong.
    assert "list.txt" not in {e.get("file") for e in events}, [
        e for e in events if e.get("file") == "list.txt"
    ]
    assert "held" in failures and "released" in failures  # reported, and nothing stopped


def test_a_blocked_file_is_recorded_as_blocked(tmp_path: Path) -> None:
    policy = _policy(tmp_path, "")
    path = tmp_path / "policy.toml"
    path.write_text(
        path.read_text().replace('above_3 = "justify"', 'above_3 = "block"'), encoding="utf-8"
    )
    policy = load_policy(path, tmp_path / "no-user.toml", system_required=True, home=tmp_path)
    with open_audit_trail(tmp_path / "data", policy, keyring=MemoryKeyring()) as trail:
        engine = Engine(
            policy,
            EngineConfig(data_dir=tmp_path / "data", batch_window=0.1),
            ScriptedDecider(lambda batch: None),
            trail.listener(),
        )
        with engine:
            (tmp_path / "Dropbox" / "Family" / "plan.txt").write_bytes(b"TLP:RED\nPlan.\n")
            assert run_until(lambda: "blocked" in {e["event"] for e in _events(trail)}, 20)
        blocked = next(e for e in _events(trail) if e["event"] == "blocked")
        assert blocked["action"] == "block" and blocked["file"] == "plan.txt"


def test_sendguard_run_headless_records_its_run(tmp_path: Path) -> None:
    _policy(tmp_path)
    args = ["--policy", str(tmp_path / "policy.toml"), "--data-dir", str(tmp_path / "data"),
            "--not-shared", str(tmp_path / "Not shared")]  # fmt: skip
    # No session bus, as on a server: the records are kept, unsealed, and it says so.
    env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": f"unix:path={tmp_path}/no-bus"}
    engine = subprocess.Popen(
        [sys.executable, "-m", "sendguard", "run", "--headless", "--decide", "share", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert engine.stdout is not None
    try:
        line = ""
        seen = []
        while "Press Ctrl-C" not in line:
            line = engine.stdout.readline()
            seen.append(line)
            assert line, engine.stderr.read() if engine.stderr else "engine ended"
        assert any("Audit: Audit records are not sealed" in text for text in seen)
        (tmp_path / "Dropbox" / "Family" / "plan.txt").write_bytes(b"TLP:RED\nThe plan.\n")
        while "shared after confirmation" not in line:
            line = engine.stdout.readline()
            assert line, "engine ended before sharing"
    finally:
        engine.send_signal(signal.SIGINT)
        engine.communicate(timeout=30)
    assert engine.returncode == 0
    exported = sendguard("audit", "export", "--format", "csv", "--data-dir", str(tmp_path / "data"))
    assert exported.returncode == 0, exported.stderr
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    events = [row["event"] for row in rows]
    assert events[:3] == ["audit.unsealed", "policy.loaded", "engine.started"]
    assert "held" in events and "shared" in events and events[-1] == "engine.stopped"
    shared = rows[events.index("shared")]
    assert shared["justification"] == "decided by --decide share"
    assert shared["sealed"] == "no"
    since = time.strftime("%Y-%m-%dT%H:%M", time.localtime(time.time() + 120))
    later = sendguard("audit", "export", "--data-dir", str(tmp_path / "data"), "--since", since)
    assert later.returncode == 0 and later.stdout == ""
    jsonl = sendguard("audit", "export", "--data-dir", str(tmp_path / "data"))
    documents = [json.loads(line) for line in jsonl.stdout.splitlines()]
    assert documents[0]["event"]["action"] == "audit.unsealed"
    assert documents[0]["sendguard"]["audit"]["sealed"] is False
    bad = sendguard("audit", "export", "--data-dir", str(tmp_path / "data"), "--since", "soon")
    assert bad.returncode == 2 and "is not a date or time" in bad.stderr
    checked = sendguard("audit", "verify", "--data-dir", str(tmp_path / "data"))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "unsealed" in checked.stdout


def test_a_labelled_edit_left_in_place_and_a_download_are_recorded_as_they_are(
    tmp_path: Path,
) -> None:
    """The group's file edited up to TLP:RED stays in place, and the audit says so; a
    colleague's labelled file downloaded by the sync client is no decision: no record."""
    policy = _policy(tmp_path)
    family = tmp_path / "Dropbox" / "Family"
    (family / "notes.txt").write_bytes(b"milk\nbread\n")  # the group's, before the start
    trail = open_audit_trail(tmp_path / "data", policy, keyring=MemoryKeyring())
    engine = Engine(
        policy,
        EngineConfig(data_dir=tmp_path / "data", batch_window=0.1),
        ScriptedDecider(_answer),
        trail.listener(),
    )
    engine.start()
    try:
        part = family / ".syncthing.theirs.txt.tmp"
        part.write_bytes(b"TLP:RED\nTheirs.\n")
        os.rename(part, family / "theirs.txt")
        (family / "notes.txt").write_bytes(b"TLP:RED\nNow secret.\n")
        assert run_until(lambda: "kept_in_place" in {e["event"] for e in _events(trail)}, 20)
        time.sleep(0.5)
        events = _events(trail)
    finally:
        engine.stop()
        trail.close()
    [kept] = [e for e in events if e["event"] == "kept_in_place"]
    assert kept["file"] == "notes.txt" and kept["group"] == "Family"
    assert kept["arrival"] == "edit" and kept["level"] == "SECRET"
    assert kept["clearance"] == "PUBLIC"
    assert "written over a file the group already has" in kept["evidence"]
    assert "It was not moved" in kept["message"]
    assert "theirs.txt" not in {e.get("file") for e in events}
    assert (family / "theirs.txt").exists() and (family / "notes.txt").exists()
