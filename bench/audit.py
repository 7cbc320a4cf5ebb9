"""The audit trail's cost per decision: appending and verifying 100,000 records.

Goal: the audit cost added to one decision stays under 1 ms. Reference, in the same run and
on the same disk: a bare SQLite insert of a row of the same size, committed on its own, in
the trail's durability mode (WAL, synchronous=NORMAL) and in the journal's (synchronous=FULL).

    .venv/bin/python bench/audit.py [--records N] [--dir DIR]

Prints figures and ratios; it reports, it does not assert. No network, no keyring service:
the key is held by an in-memory keyring backend (the keyring is touched once per epoch, not
per record, so its speed does not enter the per-record cost).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sendguard.audit import AuditStore, open_audit_trail, verify
from sendguard.audit.keys import SERVICE
from sendguard.engine.guard import EngineListener
from sendguard.labels import Findings
from sendguard.labels.model import Finding, Scheme
from sendguard.policy import load_policy
from sendguard.policy.decide import decide
from sendguard.store.journal import HoldRecord, State

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.keyrings import MemoryKeyring  # noqa: E402 - needs the project root on the path

GOAL_MS = 1.0


def _percentiles(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)
    return (
        statistics.fmean(ordered) * 1e6,
        ordered[len(ordered) // 2] * 1e6,
        ordered[int(len(ordered) * 0.99)] * 1e6,
    )


def _bare_sqlite(folder: Path, count: int, body: str, synchronous: str) -> list[float]:
    import sqlite3

    db = sqlite3.connect(folder / f"bare-{synchronous}.sqlite3", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(f"PRAGMA synchronous={synchronous}")
    db.execute("CREATE TABLE t (seq INTEGER PRIMARY KEY, body TEXT, chain TEXT, mac TEXT)")
    chain = "ab" * 32
    times = []
    for seq in range(1, count + 1):
        start = time.perf_counter()
        db.execute("INSERT INTO t VALUES (?, ?, ?, ?)", (seq, body, chain, chain))
        times.append(time.perf_counter() - start)
    db.close()
    return times


def _hold_record(index: int) -> HoldRecord:
    origin = Path(f"/home/ana/Dropbox/Family/Quarterly plan {index}.docx")
    return HoldRecord(
        id=index, batch="b", group_name="Family", origin=origin, held=origin,
        target=None, state=State.HELD, sha256="ab" * 32, size=48_213, verdict="labelled",
        level="SECRET", action="justify", findings=[], decision=None, typed_name=None,
        justification=None, error=None, created=0.0, updated=0.0,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--dir", type=Path, help="where to write (default: a temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as temporary:
        run(Path(temporary), args.records)


def run(folder: Path, count: int) -> None:
    (folder / "policy.toml").write_text(
        f'[[groups]]\nname = "Family"\nfolders = ["{folder}/Family"]\nclearance = "PUBLIC"\n'
        "[discovery]\nenabled = false\n"
    )
    policy = load_policy(folder / "policy.toml", folder / "none.toml", system_required=True)
    group = policy.groups[0]
    findings = Findings(path="x", format="docx")
    findings.labels.append(
        Finding(Scheme.MARKING, ("word/header1.xml",), marking="TLP:RED", system="tlp")
    )
    decision = decide(findings, group, policy)
    keyring = MemoryKeyring()
    trail = open_audit_trail(folder / "data", policy, keyring=keyring)
    listener: EngineListener = trail.listener()
    times = []
    for index in range(count):
        record = _hold_record(index)
        start = time.perf_counter()
        listener.held(record, decision)  # what one decision costs the engine thread
        times.append(time.perf_counter() - start)
    last = trail.store.last()
    assert last is not None
    body = last.body
    size = (folder / "data" / "audit.sqlite3").stat().st_size
    trail.close()

    store = AuditStore(folder / "data" / "audit.sqlite3", create=False)
    trail_id = store.trail

    def first_key(generation: int) -> bytes | None:
        text = keyring.get_password(SERVICE, f"audit-verify-key:{trail_id}:{generation}")
        return bytes.fromhex(text) if text else None

    start = time.perf_counter()
    report = verify(store, first_key)
    verify_seconds = time.perf_counter() - start
    store.close()

    normal = _bare_sqlite(folder, count, body, "NORMAL")
    full_count = min(count, 5_000)
    full = _bare_sqlite(folder, full_count, body, "FULL")

    audit_mean, audit_p50, audit_p99 = _percentiles(times)
    normal_mean, normal_p50, normal_p99 = _percentiles(normal)
    full_mean, full_p50, full_p99 = _percentiles(full)
    print(f"records: {count:,}; record body {len(body)} bytes; trail file {size / 1e6:.1f} MB")
    print(f"{'per record (µs)':44} {'mean':>8} {'p50':>8} {'p99':>8}")
    print(f"{'audit: listener.held() → chain, seal, commit':44} "
          f"{audit_mean:8.1f} {audit_p50:8.1f} {audit_p99:8.1f}")  # fmt: skip
    print(f"{'reference: bare insert, WAL NORMAL':44} "
          f"{normal_mean:8.1f} {normal_p50:8.1f} {normal_p99:8.1f}")  # fmt: skip
    print(f"{f'reference: bare insert, WAL FULL ({full_count:,})':44} "
          f"{full_mean:8.1f} {full_p50:8.1f} {full_p99:8.1f}")  # fmt: skip
    print(f"ratio audit / bare NORMAL insert (mean): {audit_mean / normal_mean:.2f}")
    print(f"ratio bare FULL / bare NORMAL insert (mean): {full_mean / normal_mean:.2f}")
    print(
        f"verify: {count:,} records in {verify_seconds:.2f} s"
        f" ({verify_seconds / count * 1e6:.1f} µs each); intact={report.intact},"
        f" sealed={report.sealed:,}"
    )
    verdict = "GOAL MET" if audit_p99 / 1000 < GOAL_MS else "GOAL MISSED"
    print(f"{verdict}: audit cost per decision p99 {audit_p99 / 1000:.3f} ms (goal < {GOAL_MS} ms)")


if __name__ == "__main__":
    main()
