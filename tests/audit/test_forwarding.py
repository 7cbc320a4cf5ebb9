"""Forwarding to real collectors on 127.0.0.1: a private rsyslogd over UDP, TCP and TLS
(rsyslog's gtls driver, a CA made in the test), and an HTTP collector. The collector goes
away and comes back; every record arrives; hostile names stay one valid record each."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sendguard.audit import AuditTrail, open_audit_trail
from sendguard.audit.keys import HTTP_TOKEN, SERVICE
from sendguard.cli import main
from tests.audit.collectors import HttpCollector, Rsyslog, eventually, make_certificates
from tests.audit.conftest import MemoryKeyring, free_port, make_policy

HOSTILE_NAMES = [
    'quote " and backslash \\ and ] bracket.docx',
    "line\nbreak\r\nand tab\t.pdf",
    "invoice\u202eXSL.exe",  # right-to-left override: must not reorder the record
    "机密★1年 报告.docx",
    "zero\u200bwidth \x00 nul \x1b[31m escape.txt",
]
#: RFC 5424 SD-ELEMENT with PARAM-VALUEs escaped as section 6.3.3 requires.
_SD = re.compile(r'\[sendguard@32473(?: [a-z_]+="(?:[^"\\\]]|\\["\\\]])*")+\]')


@pytest.fixture
def opened(tmp_path: Path) -> Iterator[list[AuditTrail]]:
    trails: list[AuditTrail] = []
    yield trails
    for trail in trails:
        trail.close()


def _trail(
    tmp_path: Path, audit: str, opened: list[AuditTrail], keyring: MemoryKeyring | None = None
) -> AuditTrail:
    policy = make_policy(tmp_path, "[audit]\n" + audit)
    trail = open_audit_trail(
        tmp_path / "data",
        policy,
        keyring=keyring or MemoryKeyring(),
        retry_seconds=(0.05, 0.2),
        heartbeat_seconds=3600,
    )
    opened.append(trail)
    return trail


def _decisions(trail: AuditTrail, names: list[str]) -> set[int]:
    seqs = set()
    for name in names:
        record = trail.record("held", file=name, group="Family", level="SECRET", action="justify")
        assert record is not None
        seqs.add(record.seq)
    return seqs


def _all_seqs(trail: AuditTrail) -> set[int]:
    return set(range(1, trail.store.last_seq + 1))


@pytest.mark.parametrize("kind", ["tcp", "tls"])
def test_syslog_stream_collector_away_and_back_gets_every_record(
    tmp_path: Path, kind: str, opened: list[AuditTrail]
) -> None:
    port = free_port()
    certificates = make_certificates(tmp_path / "pki") if kind == "tls" else None
    rsyslog = Rsyslog(tmp_path / "rsyslog", kind, port, certificates)
    ca = f'ca_file = "{certificates.ca}"\n' if certificates else ""
    rsyslog.start()
    try:
        trail = _trail(tmp_path, f'syslog = "{kind}://127.0.0.1:{port}"\n{ca}', opened)
        _decisions(trail, ["before.docx"])
        assert eventually(lambda: rsyslog.seqs() >= _all_seqs(trail))
        rsyslog.stop()
        _decisions(trail, [f"while-down-{i}.docx" for i in range(30)])
        assert eventually(lambda: trail.forwarding[0].last_error is not None)
        state = trail.forwarding[0]
        assert state.backlog >= 30
        assert f"Cannot deliver to {kind}://127.0.0.1:{port}" in state.message
        rsyslog.start()
        _decisions(trail, ["after.docx"])
        assert eventually(lambda: rsyslog.seqs() >= _all_seqs(trail)), (
            _all_seqs(trail) - rsyslog.seqs()
        )
        assert eventually(lambda: trail.forwarding[0].backlog == 0)
        assert trail.forwarding[0].last_error is None
    finally:
        rsyslog.close()


def test_syslog_records_with_hostile_names_stay_one_valid_record_each(
    tmp_path: Path, opened: list[AuditTrail]
) -> None:
    port = free_port(socket.SOCK_DGRAM)
    rsyslog = Rsyslog(tmp_path / "rsyslog", "udp", port)
    rsyslog.start()
    try:
        trail = _trail(tmp_path, f'syslog = "udp://127.0.0.1:{port}"\n', opened)
        seqs = _decisions(trail, HOSTILE_NAMES)
        assert eventually(lambda: rsyslog.seqs() >= seqs), trail.forwarding
        received = {}
        for line in rsyslog.lines():
            assert line.startswith("<")  # every line is the start of one message
            if " probe " in line or " heartbeat [" in line:
                continue  # the fixture's readiness probe; heartbeats repeat the last seq
            sd = _SD.search(line)
            assert sd is not None, line
            document = json.loads(line[line.index(' {"') + 1 :])
            received[document["sendguard"]["audit"]["seq"]] = (document, sd.group(0))
        for seq, name in zip(sorted(seqs), HOSTILE_NAMES, strict=True):
            document, sd = received[seq]
            assert document["file"]["name"] == name  # exact, from the JSON part
            assert "\u202e" not in sd and "\n" not in sd  # shown as <U+202E> in the SD part
    finally:
        rsyslog.close()


def test_http_collector_away_and_back_gets_every_record_with_the_token(
    tmp_path: Path, opened: list[AuditTrail]
) -> None:
    keyring = MemoryKeyring()
    keyring.set_password(SERVICE, HTTP_TOKEN, "hec-token-123")
    collector = HttpCollector(free_port())
    collector.start()
    try:
        url = f"http://127.0.0.1:{collector.port}/services/collector/event"
        trail = _trail(tmp_path, f'http = "{url}"\n', opened, keyring)
        _decisions(trail, HOSTILE_NAMES)
        assert eventually(lambda: collector.seqs() >= _all_seqs(trail))
        collector.stop()
        _decisions(trail, [f"down-{i}.pdf" for i in range(20)])
        assert eventually(lambda: trail.forwarding[0].last_error is not None)
        collector.start()
        assert eventually(lambda: collector.seqs() >= _all_seqs(trail))
        headers, documents = collector.requests[0]
        assert headers["Authorization"] == "Splunk hec-token-123"
        assert documents[0]["sourcetype"] == "sendguard:audit"
        names = {e.get("file", {}).get("name") for e in collector.events()}
        assert set(HOSTILE_NAMES) <= names
    finally:
        collector.close()


def test_a_collector_that_refuses_is_retried_and_named(
    tmp_path: Path, opened: list[AuditTrail]
) -> None:
    collector = HttpCollector(free_port(), status=403)
    collector.start()
    try:
        url = f"http://127.0.0.1:{collector.port}/ingest"
        trail = _trail(tmp_path, f'http = "{url}"\nhttp_format = "ndjson"\n', opened)
        _decisions(trail, ["a.docx"])
        assert eventually(lambda: trail.forwarding[0].last_error is not None)
        assert "HTTP 403" in trail.forwarding[0].message
        assert "token" in trail.forwarding[0].message
        collector.status = 200
        assert eventually(lambda: trail.forwarding[0].backlog == 0)
    finally:
        collector.close()


def test_a_full_spool_warns_then_skips_the_oldest_and_says_so(
    tmp_path: Path, opened: list[AuditTrail]
) -> None:
    port = free_port()
    collector = HttpCollector(port)
    trail = _trail(tmp_path, f'http = "http://127.0.0.1:{port}/"\nspool_limit = 1000\n', opened)
    _decisions(trail, [f"f{i}" for i in range(850)])
    assert eventually(lambda: trail.forwarding[0].warning)
    assert "the spool is 85% full" in trail.forwarding[0].message
    _decisions(trail, [f"g{i}" for i in range(300)])
    # The collector is away while the spool overflows: the next attempt skips the oldest.
    # (Started at once instead, an attempt that checked the spool before it was full could
    # go on to deliver everything, and nothing would be skipped: seen on a busy machine.)
    assert eventually(lambda: "skipped because the spool was full" in trail.forwarding[0].message)
    collector.start()
    try:

        def skipped() -> list[dict[str, Any]]:
            return [
                e["sendguard"]["details"]
                for e in collector.events()
                if e["event"]["action"] == "forwarding.skipped"
            ]

        assert eventually(lambda: trail.forwarding[0].backlog == 0 and bool(skipped())), (
            trail.forwarding,
            [e["event"]["action"] for e in collector.events()][-5:],
        )
        # Every record either arrived or is named in a forwarding.skipped record.
        covered = collector.seqs()
        for details in skipped():
            covered |= set(range(details["first_seq"], details["last_seq"] + 1))
        assert covered >= _all_seqs(trail)
        assert len(collector.seqs()) >= 1000
        # Skipped for the collector, not lost: the local trail still has them.
        assert trail.store.get(1) is not None
        assert "skipped" in trail.forwarding[0].message
    finally:
        collector.close()


def test_heartbeats_are_anchors_that_reveal_a_cut_trail(
    tmp_path: Path, opened: list[AuditTrail], capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    rsyslog = Rsyslog(tmp_path / "rsyslog", "tcp", port)
    rsyslog.start()
    try:
        keyring = MemoryKeyring()
        policy = make_policy(tmp_path, f'[audit]\nsyslog = "tcp://127.0.0.1:{port}"\n')
        trail = open_audit_trail(
            tmp_path / "data", policy, keyring=keyring, heartbeat_seconds=0.2,
            retry_seconds=(0.05, 0.2),
        )  # fmt: skip
        opened.append(trail)
        _decisions(trail, ["a.docx", "b.docx", "c.docx"])
        last = trail.store.last_seq
        assert eventually(lambda: sum(" heartbeat [" in line for line in rsyslog.lines()) >= 2)
        heartbeat = next(line for line in rsyslog.lines() if " heartbeat [" in line)
        assert f'trail="{trail.trail_id}"' in heartbeat
        trail.close()
        opened.clear()
    finally:
        rsyslog.close()
    escrow = tmp_path / "escrow.txt"
    escrow.write_text(
        "".join(f"{u} {v}\n" for (_s, u), v in keyring.secrets.items() if "verify" in u)
    )
    import sqlite3

    db = sqlite3.connect(tmp_path / "data" / "audit.sqlite3")
    with db:
        db.execute("DELETE FROM records WHERE seq >= ?", (last,))
    db.close()
    args = ["audit", "verify", "--data-dir", str(tmp_path / "data"), "--verify-keys", str(escrow)]
    assert main([*args, "--anchors", str(rsyslog.output)]) == 1
    assert f"record #{last}: the collector has it" in capsys.readouterr().out
