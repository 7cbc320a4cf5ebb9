"""The trail on disk and the cryptography that makes it tamper-evident.

Each record is one row: ``seq``, the key ``generation`` and ``epoch`` it was sealed in, its
``body`` (canonical JSON), ``chain`` and ``mac``:

* ``chain = SHA-256(previous chain ‖ seq ‖ generation:epoch ‖ body)`` links every record to
  all before it, so a changed, removed, inserted or moved record breaks it;
* ``mac = HMAC-SHA-256(epoch key, chain)`` seals it. The epoch key evolves
  (``next = SHA-256(label ‖ current)``) and the old one is erased, so whoever steals the key
  later cannot seal anything into an earlier epoch; an epoch ends with an
  ``audit.epoch_sealed`` record sealed with its own key, and the next epoch may only begin
  right after it.

Records written without a key (no keyring, policy ``degraded``) have no generation, epoch or
MAC; they are still in the hash chain, and the next sealed record covers them.

SQLite in WAL mode with ``synchronous=NORMAL``: a commit is safe from a crash of SendGuard;
after a power cut the last commits may be gone (the file stays consistent). Records are
forced to disk (a checkpoint) before they are forwarded, so a collector never holds a record
the workstation could lose. ``docs/audit.md`` explains the trade-off.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
import struct
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sendguard.audit.records import StoredRecord

SCHEMA_VERSION = "1"
ZERO_CHAIN = "00" * 32
_EVOLVE_LABEL = b"sendguard-audit-key-evolve\x00"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY,
    generation INTEGER,
    epoch INTEGER,
    body TEXT NOT NULL,
    chain TEXT NOT NULL,
    mac TEXT
);
CREATE TABLE IF NOT EXISTS delivered (target TEXT PRIMARY KEY, seq INTEGER NOT NULL);
"""


def link(prev: str, seq: int, generation: int | None, epoch: int | None, body: str) -> str:
    """The chain hash of a record after the record whose chain hash is `prev`."""
    digest = hashlib.sha256(bytes.fromhex(prev))
    digest.update(struct.pack(">q", seq))
    digest.update(f"{_num(generation)}:{_num(epoch)}\n".encode("ascii"))
    digest.update(body.encode("utf-8"))
    return digest.hexdigest()


def _num(value: int | None) -> str:
    return "-" if value is None else str(value)


def seal(key: bytes | bytearray, chain: str) -> str:
    return hmac.new(bytes(key), bytes.fromhex(chain), hashlib.sha256).hexdigest()


def evolve(key: bytes | bytearray) -> bytes:
    """The next epoch's key. One-way: the previous key cannot be computed from it."""
    return hashlib.sha256(_EVOLVE_LABEL + bytes(key)).digest()


def key_at(first: bytes, epoch: int) -> bytes:
    key = first
    for _ in range(epoch):
        key = evolve(key)
    return key


@dataclass
class KeyState:
    """The sealing key in use: never written anywhere but the keyring."""

    generation: int
    epoch: int
    key: bytearray
    #: When this epoch began (seconds since the epoch, wall clock).
    since: float

    def to_secret(self) -> str:
        return json.dumps(
            {
                "generation": self.generation,
                "epoch": self.epoch,
                "key": self.key.hex(),
                "since": self.since,
            }
        )

    @classmethod
    def from_secret(cls, text: str) -> KeyState | None:
        try:
            data = json.loads(text)
            return cls(
                int(data["generation"]),
                int(data["epoch"]),
                bytearray.fromhex(data["key"]),
                float(data["since"]),
            )
        except (ValueError, KeyError, TypeError):
            return None

    def advance(self, now: float) -> None:
        """Move to the next epoch and overwrite the old key in memory."""
        new = evolve(self.key)
        self.key[:] = b"\0" * len(self.key)
        self.key = bytearray(new)
        self.epoch += 1
        self.since = now


class AuditStoreError(Exception):
    """The audit database cannot be opened, read or written; the message says which file."""


class AuditStore:
    """The SQLite file of one trail. Thread-safe; append is the hot path."""

    def __init__(self, path: Path, *, create: bool = True, checkpoints: bool = True) -> None:
        """`checkpoints=False`: this connection never checkpoints the WAL itself (the fsyncs
        of a checkpoint would land on one unlucky append); another one must, regularly."""
        self.path = path
        self._lock = threading.Lock()
        if not create and not path.exists():
            raise AuditStoreError(f"there is no audit trail at {path}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA busy_timeout=5000")
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            if not checkpoints:
                self._db.execute("PRAGMA wal_autocheckpoint=0")
            self._db.executescript(_SCHEMA)
            row = self._db.execute("SELECT value FROM meta WHERE key = 'trail'").fetchone()
            if row is None:
                self._db.execute(
                    "INSERT OR IGNORE INTO meta(key, value) VALUES ('trail', ?), ('schema', ?)",
                    (uuid.uuid4().hex, SCHEMA_VERSION),
                )
                row = self._db.execute("SELECT value FROM meta WHERE key = 'trail'").fetchone()
            self.trail: str = str(row[0])
            last = self._db.execute(
                "SELECT seq, chain FROM records ORDER BY seq DESC LIMIT 1"
            ).fetchone()
        except sqlite3.Error as exc:
            raise AuditStoreError(f"cannot open the audit trail {path}: {exc}") from exc
        self._last_seq: int = last[0] if last else 0
        self._last_chain: str = last[1] if last else ZERO_CHAIN

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @property
    def last_seq(self) -> int:
        return self._last_seq

    def append(self, body: str, key: KeyState | None) -> StoredRecord:
        """Chain, seal (when there is a key) and commit one record."""
        generation = key.generation if key is not None else None
        epoch = key.epoch if key is not None else None
        with self._lock:
            seq = self._last_seq + 1
            chain = link(self._last_chain, seq, generation, epoch, body)
            mac = seal(key.key, chain) if key is not None else None
            try:
                self._db.execute(
                    "INSERT INTO records(seq, generation, epoch, body, chain, mac)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (seq, generation, epoch, body, chain, mac),
                )
            except sqlite3.Error as exc:
                raise AuditStoreError(f"cannot write the audit trail {self.path}: {exc}") from exc
            self._last_seq = seq
            self._last_chain = chain
        return StoredRecord(seq, generation, epoch, body, chain, mac, self.trail)

    def _query(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        with self._lock:
            try:
                return self._db.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise AuditStoreError(f"cannot read the audit trail {self.path}: {exc}") from exc

    def _record(self, row: tuple[object, ...]) -> StoredRecord:
        seq, generation, epoch, body, chain, mac = row
        return StoredRecord(
            int(seq),  # type: ignore[call-overload]
            None if generation is None else int(generation),  # type: ignore[call-overload]
            None if epoch is None else int(epoch),  # type: ignore[call-overload]
            str(body),
            str(chain),
            None if mac is None else str(mac),
            self.trail,
        )

    _COLUMNS = "seq, generation, epoch, body, chain, mac"

    def after(self, seq: int, limit: int) -> list[StoredRecord]:
        rows = self._query(
            f"SELECT {self._COLUMNS} FROM records WHERE seq > ? ORDER BY seq LIMIT ?",
            (seq, limit),
        )
        return [self._record(row) for row in rows]

    def records(self, batch: int = 5000) -> Iterator[StoredRecord]:
        """Every record in order, read in batches (a long trail is not loaded at once)."""
        seq = -(2**62)
        while True:
            chunk = self.after(seq, batch)
            if not chunk:
                return
            yield from chunk
            seq = chunk[-1].seq

    def get(self, seq: int) -> StoredRecord | None:
        rows = self._query(f"SELECT {self._COLUMNS} FROM records WHERE seq = ?", (seq,))
        return self._record(rows[0]) if rows else None

    def last(self) -> StoredRecord | None:
        rows = self._query(f"SELECT {self._COLUMNS} FROM records ORDER BY seq DESC LIMIT 1")
        return self._record(rows[0]) if rows else None

    def last_seal(self, generation: int) -> int | None:
        """The latest epoch of `generation` closed by an ``audit.epoch_sealed`` record."""
        rows = self._query(
            "SELECT MAX(epoch) FROM records WHERE generation = ?"
            ' AND body LIKE \'%"event":"audit.epoch_sealed"%\'',
            (generation,),
        )
        value = rows[0][0] if rows else None
        return None if value is None else int(value)  # type: ignore[call-overload]

    def get_meta(self, key: str) -> str | None:
        rows = self._query("SELECT value FROM meta WHERE key = ?", (key,))
        return str(rows[0][0]) if rows else None

    def set_meta(self, key: str, value: str) -> None:
        self._write(
            "INSERT INTO meta(key, value) VALUES (?, ?)"
            " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def delivered(self, target: str) -> int | None:
        rows = self._query("SELECT seq FROM delivered WHERE target = ?", (target,))
        return int(rows[0][0]) if rows else None  # type: ignore[call-overload]

    def set_delivered(self, target: str, seq: int) -> None:
        self._write(
            "INSERT INTO delivered(target, seq) VALUES (?, ?)"
            " ON CONFLICT(target) DO UPDATE SET seq = excluded.seq",
            (target, seq),
        )

    def make_durable(self) -> None:
        """Force committed records to disk (WAL sync and checkpoint), off the hot path."""
        with self._lock:
            try:
                self._db.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except sqlite3.Error as exc:
                raise AuditStoreError(f"cannot write the audit trail {self.path}: {exc}") from exc

    def _write(self, sql: str, params: tuple[object, ...]) -> None:
        with self._lock:
            try:
                self._db.execute(sql, params)
            except sqlite3.Error as exc:
                raise AuditStoreError(f"cannot write the audit trail {self.path}: {exc}") from exc
