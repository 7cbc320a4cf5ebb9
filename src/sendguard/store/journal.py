"""The journal: every hold, release and return step is written here before it is done.

SQLite in WAL mode with ``synchronous=FULL``: once a step's row is committed it survives a
crash or power loss, so recovery always knows what was under way. One connection per
process, guarded by a lock (the watcher thread and the decider may both write).
"""

from __future__ import annotations

import enum
import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS holds (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    batch TEXT NOT NULL,
    group_name TEXT NOT NULL,
    origin TEXT NOT NULL,
    held TEXT NOT NULL,
    target TEXT,
    state TEXT NOT NULL,
    sha256 TEXT,
    size INTEGER,
    verdict TEXT,
    level TEXT,
    action TEXT,
    findings TEXT,
    decision TEXT,
    typed_name TEXT,
    justification TEXT,
    error TEXT,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    came_from TEXT,
    decided_by TEXT,
    decided_via TEXT
);
CREATE INDEX IF NOT EXISTS holds_state ON holds(state);
CREATE TABLE IF NOT EXISTS arrivals (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time REAL NOT NULL,
    group_name TEXT NOT NULL,
    path TEXT NOT NULL,
    kind TEXT NOT NULL,
    client TEXT,
    evidence TEXT NOT NULL,
    may_move INTEGER NOT NULL
);
"""

#: Arrivals kept in the journal; the oldest go first (a busy group syncs many files a day).
ARRIVALS_KEPT = 20_000


class State(enum.StrEnum):
    #: Intent recorded: the file is about to move from its group folder into the hold area.
    HOLDING = "holding"
    #: In the hold area, being classified or waiting for a decision.
    HELD = "held"
    #: Intent recorded: moving back into the group folder (`target`).
    RELEASING = "releasing"
    RELEASED = "released"
    #: Intent recorded: moving into the "Not shared" folder (`target`).
    RETURNING = "returning"
    RETURNED = "returned"
    #: The file was gone before it could be held (deleted or moved away by the user).
    VANISHED = "vanished"


OPEN_STATES = (State.HOLDING, State.HELD, State.RELEASING, State.RETURNING)


@dataclass(frozen=True)
class HoldRecord:
    id: int
    batch: str
    group_name: str
    origin: Path
    held: Path
    target: Path | None
    state: State
    sha256: str | None
    size: int | None
    verdict: str | None
    level: str | None
    action: str | None
    findings: list[dict[str, Any]]
    decision: str | None
    typed_name: str | None
    justification: str | None
    error: str | None
    created: float
    updated: float
    #: The work group the content was forwarded from (the reason it is held), if so.
    came_from: str | None = None
    #: Who decided (an account name) and how ("dialog", "command line", …).
    decided_by: str | None = None
    decided_via: str | None = None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> HoldRecord:
        return cls(
            id=row["id"],
            batch=row["batch"],
            group_name=row["group_name"],
            origin=Path(row["origin"]),
            held=Path(row["held"]),
            target=Path(row["target"]) if row["target"] else None,
            state=State(row["state"]),
            sha256=row["sha256"],
            size=row["size"],
            verdict=row["verdict"],
            level=row["level"],
            action=row["action"],
            findings=json.loads(row["findings"]) if row["findings"] else [],
            decision=row["decision"],
            typed_name=row["typed_name"],
            justification=row["justification"],
            error=row["error"],
            created=row["created"],
            updated=row["updated"],
            # A journal read-only from before the column was added has none.
            came_from=row["came_from"] if "came_from" in row.keys() else None,  # noqa: SIM118
            decided_by=row["decided_by"] if "decided_by" in row.keys() else None,  # noqa: SIM118
            decided_via=row["decided_via"] if "decided_via" in row.keys() else None,  # noqa: SIM118
        )


@dataclass(frozen=True)
class ArrivalRow:
    """One classified arrival as the journal keeps it."""

    id: int
    time: float
    group_name: str
    path: Path
    kind: str
    client: str | None
    #: (who says so, what was seen, strength), strongest evidence first
    evidence: list[tuple[str, str, int]]
    #: Whether SendGuard may move it out of the folder (a share of this user's)
    may_move: bool

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> ArrivalRow:
        evidence = [(str(s), str(d), int(n)) for s, d, n in json.loads(row["evidence"])]
        evidence.sort(key=lambda item: item[2], reverse=True)
        return cls(
            id=row["id"],
            time=row["time"],
            group_name=row["group_name"],
            path=Path(row["path"]),
            kind=row["kind"],
            client=row["client"],
            evidence=evidence,
            may_move=bool(row["may_move"]),
        )

    @property
    def why(self) -> str:
        return "; ".join(f"{source}: {detail}" for source, detail, _ in self.evidence)


class JournalError(Exception):
    """The journal cannot be opened or written: the engine holds everything and says why."""


class Journal:
    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        """`read_only`: a reader beside the running engine (the app's windows) that never
        writes nor waits long."""
        self.path = path
        self._lock = threading.Lock()
        if read_only:
            try:
                self._db = sqlite3.connect(
                    f"{path.resolve().as_uri()}?mode=ro",
                    uri=True,
                    check_same_thread=False,
                    timeout=2,
                )
                self._db.row_factory = sqlite3.Row
            except sqlite3.Error as exc:
                raise JournalError(f"cannot read the journal {path}: {exc}") from exc
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA busy_timeout=5000")
            self._db.executescript(_SCHEMA)
            columns = {row["name"] for row in self._db.execute("PRAGMA table_info(holds)")}
            # A journal from before forwarding, or who decided, was recorded.
            for column in ("came_from", "decided_by", "decided_via"):
                if column in columns:
                    continue
                try:
                    self._db.execute(f"ALTER TABLE holds ADD COLUMN {column} TEXT")
                except sqlite3.OperationalError as exc:  # another process added it just now
                    if "duplicate column" not in str(exc):
                        raise
            self._db.execute(
                "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema', ?)", (SCHEMA_VERSION,)
            )
        except sqlite3.Error as exc:
            raise JournalError(f"cannot open the journal {path}: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _write(self, sql: str, params: tuple[Any, ...]) -> sqlite3.Cursor:
        with self._lock:
            try:
                return self._db.execute(sql, params)
            except sqlite3.Error as exc:
                raise JournalError(f"cannot write the journal {self.path}: {exc}") from exc

    def begin_hold(self, *, batch: str, group_name: str, origin: Path, held: Path) -> int:
        now = time.time()
        cursor = self._write(
            "INSERT INTO holds(batch, group_name, origin, held, state, created, updated)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (batch, group_name, str(origin), str(held), State.HOLDING.value, now, now),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def begin_holds(self, holds: Sequence[tuple[str, str, Path, Path]]) -> list[int]:
        """`begin_hold` for many files — (batch, group, origin, held) each — in one durable
        commit: a burst is journaled at the cost of one file."""
        now = time.time()
        ids: list[int] = []
        with self._lock:
            try:
                with self._db:
                    self._db.execute("BEGIN")
                    for batch, group_name, origin, held in holds:
                        row = (batch, group_name, str(origin), str(held), State.HOLDING.value)
                        cursor = self._db.execute(
                            "INSERT INTO holds(batch, group_name, origin, held, state, created,"
                            " updated) VALUES (?, ?, ?, ?, ?, ?, ?)",
                            (*row, now, now),
                        )
                        assert cursor.lastrowid is not None
                        ids.append(cursor.lastrowid)
            except sqlite3.Error as exc:
                raise JournalError(f"cannot write the journal {self.path}: {exc}") from exc
        return ids

    def update_many(self, updates: Sequence[tuple[int, dict[str, Any]]]) -> None:
        """`update` for many holds in one durable commit."""
        statements = [self._update_statement(hold_id, fields) for hold_id, fields in updates]
        with self._lock:
            try:
                with self._db:
                    self._db.execute("BEGIN")
                    for sql, values in statements:
                        if sql:
                            self._db.execute(sql, values)
            except sqlite3.Error as exc:
                raise JournalError(f"cannot write the journal {self.path}: {exc}") from exc

    def get_many(self, hold_ids: Sequence[int]) -> dict[int, HoldRecord]:
        records: dict[int, HoldRecord] = {}
        with self._lock:
            for start in range(0, len(hold_ids), 500):
                chunk = tuple(hold_ids[start : start + 500])
                marks = ", ".join("?" for _ in chunk)
                for row in self._db.execute(f"SELECT * FROM holds WHERE id IN ({marks})", chunk):
                    records[row["id"]] = HoldRecord.from_row(row)
        return records

    def update(self, hold_id: int, **fields: Any) -> None:
        """Set columns of one hold (``state=State.HELD, sha256=...``) in one durable commit."""
        sql, values = self._update_statement(hold_id, fields)
        if sql:
            self._write(sql, values)

    @staticmethod
    def _update_statement(hold_id: int, fields: dict[str, Any]) -> tuple[str, tuple[Any, ...]]:
        if not fields:
            return "", ()
        columns = []
        values: list[Any] = []
        for key, value in fields.items():
            if key not in _UPDATABLE:
                raise ValueError(f"not a journal column: {key}")
            if key == "findings" and not isinstance(value, str | None):
                value = json.dumps(value, ensure_ascii=False)
            elif isinstance(value, Path):
                value = str(value)
            elif isinstance(value, enum.Enum):
                value = value.value
            columns.append(f"{key} = ?")
            values.append(value)
        columns.append("updated = ?")
        values.append(time.time())
        values.append(hold_id)
        return f"UPDATE holds SET {', '.join(columns)} WHERE id = ?", tuple(values)

    def get_meta(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row["value"]) if row else None

    def set_meta(self, **values: str) -> None:
        """Durable engine state (``alive``, ``stopped_cleanly``), in one commit."""
        with self._lock:
            try:
                with self._db:
                    self._db.execute("BEGIN")
                    self._db.executemany(
                        "INSERT INTO meta(key, value) VALUES (?, ?)"
                        " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                        list(values.items()),
                    )
            except sqlite3.Error as exc:
                raise JournalError(f"cannot write the journal {self.path}: {exc}") from exc

    def released_into(self, since: float) -> set[Path]:
        """Where files were released since `since` (our own moves into group folders)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT target FROM holds WHERE state = ? AND updated >= ? AND target IS NOT NULL",
                (State.RELEASED.value, since),
            ).fetchall()
        return {Path(row["target"]) for row in rows}

    def get(self, hold_id: int) -> HoldRecord | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM holds WHERE id = ?", (hold_id,)).fetchone()
        return HoldRecord.from_row(row) if row else None

    def in_states(self, *states: State) -> list[HoldRecord]:
        marks = ", ".join("?" for _ in states)
        with self._lock:
            rows = self._db.execute(
                f"SELECT * FROM holds WHERE state IN ({marks}) ORDER BY id",
                tuple(s.value for s in states),
            ).fetchall()
        return [HoldRecord.from_row(row) for row in rows]

    def open_holds(self) -> list[HoldRecord]:
        return self.in_states(*OPEN_STATES)

    def record_arrivals(self, arrivals: Iterable[Any]) -> None:
        """Keep classified arrivals (engine.arrivals.Arrival) with their evidence, in one
        commit; the oldest beyond `ARRIVALS_KEPT` are dropped."""
        rows = [
            (
                time.time(),
                a.group,
                str(a.path),
                a.kind.value,
                a.client,
                json.dumps(
                    [[e.source, e.detail, int(e.strength)] for e in a.evidence],
                    ensure_ascii=False,
                ),
                int(a.may_move),
            )
            for a in arrivals
        ]
        with self._lock:
            try:
                with self._db:
                    self._db.execute("BEGIN")
                    self._db.executemany(
                        "INSERT INTO arrivals(time, group_name, path, kind, client, evidence,"
                        " may_move) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        rows,
                    )
                    self._db.execute(
                        "DELETE FROM arrivals WHERE id <= (SELECT MAX(id) FROM arrivals) - ?",
                        (ARRIVALS_KEPT,),
                    )
            except sqlite3.Error as exc:
                raise JournalError(f"cannot write the journal {self.path}: {exc}") from exc

    def _read(self, sql: str, params: tuple[Any, ...]) -> list[sqlite3.Row]:
        with self._lock:
            try:
                return self._db.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise JournalError(f"cannot read the journal {self.path}: {exc}") from exc

    def arrivals(self, limit: int = 500) -> list[ArrivalRow]:
        """The latest classified arrivals, newest first."""
        rows = self._read("SELECT * FROM arrivals ORDER BY id DESC LIMIT ?", (limit,))
        return [ArrivalRow.from_row(row) for row in rows]

    def released(self, limit: int = 2000) -> Iterator[HoldRecord]:
        """The latest holds released into their group, newest first."""
        rows = self._read(
            "SELECT * FROM holds WHERE state = ? ORDER BY id DESC LIMIT ?",
            (State.RELEASED.value, limit),
        )
        return (HoldRecord.from_row(row) for row in rows)

    def history(self, limit: int = 500) -> Iterator[HoldRecord]:
        rows = self._read("SELECT * FROM holds ORDER BY id DESC LIMIT ?", (limit,))
        return (HoldRecord.from_row(row) for row in rows)


_UPDATABLE = frozenset(
    {
        "target",
        "state",
        "sha256",
        "size",
        "verdict",
        "level",
        "action",
        "findings",
        "decision",
        "typed_name",
        "justification",
        "error",
        "held",
        "batch",
        "came_from",
        "decided_by",
        "decided_via",
    }
)
