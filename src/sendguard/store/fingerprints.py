"""What SendGuard remembers about content: where it has been seen, and which levels went where.

Two tables in one SQLite file beside the journal (``<data_dir>/fingerprints.sqlite3``):

* ``sightings``: content fingerprints (SHA-256, and for pictures a 64-bit difference hash, so
  a resized or re-compressed copy still matches) and the group whose folder or source folder
  they appeared in. Forwarding between groups is recognised from it.
* ``shares``: labelled files that stayed in a group's folder without being held (within the
  group's clearance), for the wrong-group hint; held files are in the journal already.

Losing this file loses no file and opens no hole for labelled files (they are decided by their
label); it only forgets where content came from, so it is written with ``synchronous=NORMAL``.
Both tables are bounded: the oldest rows go first.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

#: Files up to this size are hashed whole; larger ones by their size, head and tail (a
#: multi-gigabyte video is not read end to end on arrival).
WHOLE_HASH_LIMIT = 64 * 1024 * 1024
_SAMPLE = 4 * 1024 * 1024
#: Pictures whose difference hashes differ in at most this many of 64 bits are one picture.
SIMILAR_BITS = 6
#: Pictures smaller than this on either side (icons, emoji, stickers) are matched exactly
#: only: small pictures are shared everywhere and look alike at 9×8 pixels.
MIN_PICTURE_SIDE = 64
#: Aspect ratios differing by more than this share are different pictures.
_ASPECT_TOLERANCE = 0.05
#: Rows kept in each table.
MAX_ROWS = 100_000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sightings (
    content TEXT NOT NULL,
    dhash INTEGER,
    aspect REAL,
    group_name TEXT NOT NULL,
    name TEXT NOT NULL,
    seen REAL NOT NULL,
    PRIMARY KEY (content, group_name)
);
CREATE INDEX IF NOT EXISTS sightings_seen ON sightings(seen);
CREATE TABLE IF NOT EXISTS indexed (
    path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    seen REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS shares (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    group_name TEXT NOT NULL,
    level TEXT NOT NULL,
    name TEXT NOT NULL,
    at REAL NOT NULL
);
"""

_PICTURE_MAGIC = (
    b"\xff\xd8\xff",
    b"\x89PNG\r\n\x1a\n",
    b"GIF87a",
    b"GIF89a",
    b"II*\x00",
    b"MM\x00*",
    b"BM",
)


@dataclass(frozen=True)
class Fingerprint:
    #: SHA-256 of the content (hex), or ``sampled:<hex>`` for files over `WHOLE_HASH_LIMIT`.
    content: str
    size: int
    #: Difference hash of a picture (64 bits), None for other files and tiny pictures.
    dhash: int | None = None
    #: Width / height of a picture.
    aspect: float | None = None


@dataclass(frozen=True)
class Sighting:
    group_name: str
    #: The file's name where it was seen.
    name: str
    seen: float
    #: Same bytes (True), or a picture that looks the same (False).
    exact: bool


@dataclass(frozen=True)
class Share:
    """A labelled file that went to a group (for the wrong-group hint)."""

    group_name: str
    level: str
    name: str
    at: float


def fingerprint_file(path: Path) -> Fingerprint:
    """The fingerprint of the file at `path`; raises OSError when it cannot be read."""
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        digest = hashlib.sha256()
        if size <= WHOLE_HASH_LIMIT:
            while chunk := handle.read(1024 * 1024):
                digest.update(chunk)
            content = digest.hexdigest()
        else:
            digest.update(str(size).encode())
            digest.update(handle.read(_SAMPLE))
            handle.seek(max(0, size - _SAMPLE))
            digest.update(handle.read(_SAMPLE))
            content = "sampled:" + digest.hexdigest()
        handle.seek(0)
        head = handle.read(16)
    picture = picture_hash(path) if _is_picture(head) else None
    if picture is None:
        return Fingerprint(content, size)
    return Fingerprint(content, size, picture[0], picture[1])


def _is_picture(head: bytes) -> bool:
    return head.startswith(_PICTURE_MAGIC) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP")


def picture_hash(path: Path) -> tuple[int, float] | None:
    """The difference hash (dHash) of a picture and its aspect ratio; None when it is not a
    picture Pillow reads, is tiny, or is too plain for its hash to tell pictures apart.

    dHash: the picture in grey, shrunk to 9×8, one bit per pixel for "brighter than its right
    neighbour". Resizing and re-compression keep it within a few bits."""
    try:
        from PIL import Image, ImageOps
    except ImportError:
        return None
    try:
        with Image.open(path) as image:
            if min(image.size) < MIN_PICTURE_SIDE:
                return None
            image.draft("L", (64, 64))  # JPEG: decode at 1/8 scale
            upright = ImageOps.exif_transpose(image).convert("L")
            width, height = upright.size
            small = upright.resize((9, 8), Image.Resampling.BOX)
            pixels = small.tobytes()  # one byte per pixel in mode L
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return None
    bits = 0
    for row in range(8):
        for column in range(8):
            left = pixels[row * 9 + column]
            right = pixels[row * 9 + column + 1]
            bits = (bits << 1) | (1 if left > right else 0)
    ones = bits.bit_count()
    if ones < 8 or ones > 56:
        return None  # a plain picture (a flat colour, a smooth gradient): no identity
    return bits, width / height


def _signed(value: int) -> int:
    """SQLite integers are signed 64-bit."""
    return value - (1 << 64) if value >= 1 << 63 else value


class FingerprintStore:
    def __init__(self, path: Path, max_rows: int = MAX_ROWS) -> None:
        self.path = path
        self.max_rows = max_rows
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(_SCHEMA)
        self._writes = 0

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def remember(self, fingerprint: Fingerprint, group_name: str, name: str) -> None:
        """`fingerprint`'s content appeared in `group_name` (its folder or a source folder)."""
        with self._lock:
            self._db.execute(
                "INSERT INTO sightings(content, dhash, aspect, group_name, name, seen)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(content, group_name) DO UPDATE SET"
                " name = excluded.name, seen = excluded.seen",
                (
                    fingerprint.content,
                    _signed(fingerprint.dhash) if fingerprint.dhash is not None else None,
                    fingerprint.aspect,
                    group_name,
                    name,
                    time.time(),
                ),
            )
            self._wrote()

    def sightings(self, fingerprint: Fingerprint) -> list[Sighting]:
        """Where this content, or a picture that looks the same, was seen; newest first."""
        found: dict[str, Sighting] = {}
        with self._lock:
            rows = self._db.execute(
                "SELECT group_name, name, seen FROM sightings WHERE content = ?",
                (fingerprint.content,),
            ).fetchall()
            for group_name, name, seen in rows:
                found[group_name] = Sighting(group_name, name, seen, True)
            if fingerprint.dhash is not None and fingerprint.aspect is not None:
                low = fingerprint.aspect * (1 - _ASPECT_TOLERANCE)
                high = fingerprint.aspect * (1 + _ASPECT_TOLERANCE)
                rows = self._db.execute(
                    "SELECT dhash, group_name, name, seen FROM sightings"
                    " WHERE dhash IS NOT NULL AND aspect BETWEEN ? AND ?",
                    (low, high),
                ).fetchall()
                mine = _signed(fingerprint.dhash) & ((1 << 64) - 1)
                for dhash, group_name, name, seen in rows:
                    if group_name in found:
                        continue
                    if ((dhash & ((1 << 64) - 1)) ^ mine).bit_count() <= SIMILAR_BITS:
                        found[group_name] = Sighting(group_name, name, seen, False)
        return sorted(found.values(), key=lambda sighting: -sighting.seen)

    def is_indexed(self, path: Path, size: int, mtime_ns: int) -> bool:
        """Whether this file (same path, size and modification time) was fingerprinted."""
        with self._lock:
            row = self._db.execute(
                "SELECT size, mtime_ns FROM indexed WHERE path = ?", (str(path),)
            ).fetchone()
        return row is not None and tuple(row) == (size, mtime_ns)

    def mark_indexed(self, path: Path, size: int, mtime_ns: int) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO indexed(path, size, mtime_ns, seen) VALUES (?, ?, ?, ?)"
                " ON CONFLICT(path) DO UPDATE SET size = excluded.size,"
                " mtime_ns = excluded.mtime_ns, seen = excluded.seen",
                (str(path), size, mtime_ns, time.time()),
            )
            self._wrote()

    def remember_share(self, group_name: str, level: str, name: str) -> None:
        """A labelled file stayed in `group_name`'s folder (decided in place)."""
        with self._lock:
            self._db.execute(
                "INSERT INTO shares(group_name, level, name, at) VALUES (?, ?, ?, ?)",
                (group_name, level, name, time.time()),
            )
            self._wrote()

    def shares(self, since: float = 0.0) -> list[Share]:
        with self._lock:
            rows = self._db.execute(
                "SELECT group_name, level, name, at FROM shares WHERE at >= ? ORDER BY id DESC",
                (since,),
            ).fetchall()
        return [Share(*row) for row in rows]

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM sightings").fetchone()[0])

    def _wrote(self) -> None:
        """Every so many writes, keep each table to `max_rows` (oldest rows go)."""
        self._writes += 1
        if self._writes % 256 != 1:
            return
        for table, order in (("sightings", "seen"), ("indexed", "seen"), ("shares", "id")):
            self._db.execute(
                f"DELETE FROM {table} WHERE rowid IN (SELECT rowid FROM {table}"
                f" ORDER BY {order} DESC LIMIT -1 OFFSET ?)",
                (self.max_rows,),
            )


def remember_all(
    store: FingerprintStore, files: Iterable[tuple[Path, str]], stop: threading.Event
) -> int:
    """Fingerprint files not yet indexed (path, group name); returns how many were read."""
    count = 0
    for path, group_name in files:
        if stop.is_set():
            break
        try:
            info = os.stat(path)
            if store.is_indexed(path, info.st_size, info.st_mtime_ns):
                continue
            fingerprint = fingerprint_file(path)
        except OSError:
            continue  # gone or unreadable: nothing to remember
        store.remember(fingerprint, group_name, path.name)
        store.mark_indexed(path, info.st_size, info.st_mtime_ns)
        count += 1
    return count
