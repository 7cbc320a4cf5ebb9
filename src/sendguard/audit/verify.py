"""Checking a trail offline: the hash chain, every seal, the epoch sequence, and the anchors
the collector received.

Anchors are ``(seq, chain)`` pairs from the collector: every forwarded record and heartbeat
carries them. A record the collector has but the trail lacks (or holds differently) shows a
truncation or a rollback, which the chain alone cannot: the end of a chain looks the same
wherever it is cut.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sendguard.audit.chain import ZERO_CHAIN, AuditStore, evolve, link, seal

_SD_SEQ = re.compile(r'\bseq="(\d+)"')
_SD_CHAIN = re.compile(r'\bchain="([0-9a-f]{64})"')
_SD_TRAIL = re.compile(r'\btrail="([0-9a-f]+)"')


@dataclass(frozen=True)
class Anchor:
    seq: int
    chain: str
    trail: str | None
    #: Where it was read: ``collector.log, line 12``.
    where: str


@dataclass(frozen=True)
class Problem:
    seq: int | None
    what: str

    def __str__(self) -> str:
        return f"record #{self.seq}: {self.what}" if self.seq is not None else self.what


@dataclass
class Report:
    records: int = 0
    sealed: int = 0
    unsealed: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    generations: set[int] = field(default_factory=set)
    last_epoch: int | None = None
    anchors_checked: int = 0
    problems: list[Problem] = field(default_factory=list)
    #: Things to know that are not tampering (unsealed records).
    notes: list[str] = field(default_factory=list)
    #: Key generations whose first key was not found: their seals were not checked.
    missing_keys: list[int] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


def _anchor_from_document(doc: Any) -> tuple[int, str, str | None] | None:
    if not isinstance(doc, dict):
        return None
    if isinstance(doc.get("event"), dict) and "sendguard" not in doc and "time" in doc:
        doc = doc["event"]  # a Splunk HEC envelope
    audit = (
        doc.get("sendguard", {}).get("audit") if isinstance(doc.get("sendguard"), dict) else None
    )
    if isinstance(audit, dict) and isinstance(audit.get("seq"), int) and audit.get("chain"):
        trail = audit.get("trail")
        return audit["seq"], str(audit["chain"]), str(trail) if trail else None
    return None


def read_anchors(path: Path) -> list[Anchor]:
    """Anchors from a collector's file: JSON lines (ECS or HEC, as exported or forwarded)
    or syslog lines carrying SendGuard's structured data. Other lines are skipped."""
    anchors: list[Anchor] = []
    with path.open(encoding="utf-8", errors="replace") as lines:
        for number, line in enumerate(lines, start=1):
            text = line.strip()
            found: tuple[int, str, str | None] | None = None
            if text.startswith("{"):
                try:
                    found = _anchor_from_document(json.loads(text))
                except json.JSONDecodeError:
                    found = None
            if found is None and "sendguard@" in text:
                seq, chain = _SD_SEQ.search(text), _SD_CHAIN.search(text)
                trail = _SD_TRAIL.search(text)
                if seq and chain:
                    found = (int(seq.group(1)), chain.group(1), trail.group(1) if trail else None)
            if found is not None:
                anchors.append(Anchor(found[0], found[1], found[2], f"{path}, line {number}"))
    return anchors


def verify(
    store: AuditStore,
    first_key: Callable[[int], bytes | None],
    anchors: Iterable[Anchor] = (),
) -> Report:
    """Check every record of `store`. `first_key(generation)` gives a generation's first key
    (from the keyring or an escrow file), or None when it cannot be found."""
    report = Report()
    prev = ZERO_CHAIN
    expected = 1
    generation: int | None = None
    epoch = 0
    key: bytes | None = None
    sealed_epoch: tuple[int, int] | None = None  # the last sealed record closed this epoch
    missing_keys: set[int] = set()

    def problem(seq: int | None, what: str) -> None:
        report.problems.append(Problem(seq, what))

    for record in store.records():
        report.records += 1
        report.first_seq = record.seq if report.first_seq is None else report.first_seq
        report.last_seq = record.seq
        if record.seq != expected:
            if record.seq > expected:
                gap = (
                    f"#{expected}"
                    if record.seq == expected + 1
                    else f"#{expected}–#{record.seq - 1}"
                )
                problem(None, f"record {gap} is missing: deleted from the trail")
            expected = record.seq
        expected += 1
        chain = link(prev, record.seq, record.generation, record.epoch, record.body)
        if chain != record.chain:
            problem(
                record.seq,
                "its content, number or position was changed, or a record before it was"
                " inserted or removed (the hash chain breaks here)",
            )
        prev = record.chain
        fields = record.fields
        event = fields.get("event")
        if record.mac is None:
            report.unsealed += 1
            if record.generation is not None or record.epoch is not None:
                problem(record.seq, "its seal (MAC) was removed")
            continue
        report.sealed += 1
        if record.generation is None or record.epoch is None:
            problem(record.seq, "it has a seal but no key epoch: it was edited")
            continue
        if record.generation != generation:
            if event != "audit.key_created" or record.epoch != 0:
                problem(
                    record.seq,
                    f"key generation {record.generation} begins here without its"
                    " audit.key_created record",
                )
            if generation is not None and record.generation <= generation:
                problem(
                    record.seq,
                    f"key generation {record.generation} after generation {generation}:"
                    " records were moved",
                )
            generation = record.generation
            report.generations.add(generation)
            epoch = 0
            key = first_key(generation)
            if key is None:
                missing_keys.add(generation)
            key = key if record.epoch == 0 or key is None else _forward(key, 0, record.epoch)
            epoch = record.epoch
            sealed_epoch = None
        elif record.epoch != epoch:
            if record.epoch == epoch + 1 and sealed_epoch == (generation, epoch):
                pass
            elif record.epoch < epoch:
                problem(
                    record.seq,
                    f"it claims key epoch {record.epoch} after epoch {epoch}: sealed out of"
                    " order, or moved",
                )
            else:
                problem(
                    record.seq,
                    f"key epoch {record.epoch} begins without epoch {epoch} being sealed"
                    " first: records were removed, or sealed again with a later key",
                )
            if record.epoch > epoch:
                key = _forward(key, epoch, record.epoch) if key is not None else None
                epoch = record.epoch
        if key is not None and record.epoch == epoch and seal(key, record.chain) != record.mac:
            problem(
                record.seq,
                "its seal (MAC) does not match: it was changed, or sealed again with another"
                " (later) key",
            )
        sealed_epoch = (generation, epoch) if event == "audit.epoch_sealed" else None
        report.last_epoch = epoch
    report.missing_keys = sorted(missing_keys)
    if report.unsealed:
        report.notes.append(
            f"{report.unsealed} record(s) are unsealed: written while no keyring was"
            " available. They are in the hash chain, but anyone able to edit the file could"
            " have rewritten them."
        )
    _check_anchors(store, anchors, report)
    return report


def _forward(key: bytes, start: int, end: int) -> bytes:
    for _ in range(end - start):
        key = evolve(key)
    return key


def _check_anchors(store: AuditStore, anchors: Iterable[Anchor], report: Report) -> None:
    seen: dict[int, Anchor] = {}
    for anchor in anchors:
        if anchor.trail is not None and anchor.trail != store.trail:
            continue
        seen.setdefault(anchor.seq, anchor)
    for seq in sorted(seen):
        anchor = seen[seq]
        report.anchors_checked += 1
        record = store.get(seq)
        if record is None:
            report.problems.append(
                Problem(
                    seq,
                    f"the collector has it ({anchor.where}) but the trail does not: the trail"
                    " was truncated or rolled back",
                )
            )
        elif record.chain != anchor.chain:
            report.problems.append(
                Problem(
                    seq,
                    f"it differs from the copy the collector has ({anchor.where}): the trail"
                    " was rewritten or rolled back up to here",
                )
            )
