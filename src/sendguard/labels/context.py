"""Limits, the per-file time budget, and the context every detector works in."""

from __future__ import annotations

import io
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import BinaryIO

from sendguard.labels.model import Finding, Findings

MiB = 1024 * 1024


class Unscannable(Exception):
    """A detector could not finish: the file is treated as labelled at the unscannable level."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BudgetExceeded(Unscannable):
    pass


@dataclass(frozen=True)
class Limits:
    """Bounds that keep hostile or huge files from costing more than a scan is worth."""

    #: Wall-clock seconds for one file, archive members included.
    time_budget: float = 10.0
    #: Text formats: how much of the start and of the end is read for banners.
    text_window: int = 256 * 1024
    #: One XML part (custom.xml, a header, document.xml) read from an Office/ODF file.
    max_xml_part: int = 16 * MiB
    #: Document body parts are only read this far for their first and last lines.
    body_window: int = 1 * MiB
    #: Archives.
    max_archive_depth: int = 3
    max_archive_entries: int = 10_000
    max_member_size: int = 256 * MiB
    max_total_uncompressed: int = 1024 * MiB
    max_compression_ratio: float = 200.0
    #: Emails: how many attachments are scanned.
    max_attachments: int = 200
    #: PDF: raw bytes scanned for metadata keys and XMP packets (start and end of the file).
    pdf_raw_window: int = 8 * MiB
    #: PDF: the largest metadata stream inflated (also qpdf's cap for one Flate stream).
    pdf_max_stream_size: int = 16 * MiB
    #: Photos, screenshots and PDF pages without text are read by OCR (``labels.ocr``).
    #: Off by default: OCR costs about a second, so the engine turns it on only for held
    #: files; a scan without it sets ``Findings.ocr_pending`` instead.
    ocr: bool = False
    #: OCR is required: when it cannot run (the ``ocr`` extra is not installed, the model
    #: does not load), such files are unscannable instead of carrying a note.
    ocr_required: bool = False


DEFAULT_LIMITS = Limits()


@dataclass
class ScanContext:
    """Shared by every detector working on one top-level file (and the files inside it)."""

    limits: Limits
    findings: Findings
    deadline: float
    #: Archive/attachment nesting depth of the current source (0 = the file itself).
    depth: int = 0
    #: Prefix for `where` inside containers, e.g. ``inner.zip › a.docx``.
    prefix: str = ""
    #: Scans a nested source with the dispatcher (set by it; detectors call it for members).
    scan_nested: Callable[[Source, ScanContext], None] | None = field(default=None, repr=False)

    @classmethod
    def start(cls, findings: Findings, limits: Limits = DEFAULT_LIMITS) -> ScanContext:
        return cls(limits=limits, findings=findings, deadline=time.monotonic() + limits.time_budget)

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            self.findings.timed_out = True
            raise BudgetExceeded(
                f"scan did not finish within its {self.limits.time_budget:g} s budget"
            )

    def where(self, place: str) -> str:
        return f"{self.prefix} › {place}" if self.prefix else place

    def add(self, finding: Finding) -> None:
        """Record a finding whose `where` is relative to the current source."""
        if self.prefix:
            finding = finding.nested(self.prefix)
        self.findings.add(finding)

    def add_all(self, findings: Iterable[Finding]) -> None:
        for finding in findings:
            self.add(finding)

    def refine_format(self, name: str) -> None:
        """A detector that knows the precise type (``docx`` rather than ``zip``) says so."""
        if self.depth == 0:
            self.findings.format = name

    def child(self, name: str) -> ScanContext:
        """The context for a member of the current source (an archive entry, an attachment)."""
        return ScanContext(
            limits=self.limits,
            findings=self.findings,
            deadline=self.deadline,
            depth=self.depth + 1,
            prefix=self.where(name),
            scan_nested=self.scan_nested,
        )


class Source:
    """The bytes of one file to scan: a file on disk or a member held in memory."""

    def __init__(self, name: str, *, path: str | None = None, data: bytes | None = None) -> None:
        if (path is None) == (data is None):
            raise ValueError("a Source has either a path or data")
        self.name = name
        self.path = path
        self._data = data
        self._size: int | None = len(data) if data is not None else None

    @property
    def size(self) -> int:
        if self._size is None:
            assert self.path is not None
            self._size = os.stat(self.path).st_size
        return self._size

    def open(self) -> BinaryIO:
        if self._data is not None:
            return io.BytesIO(self._data)
        assert self.path is not None
        return open(self.path, "rb")

    def head(self, count: int) -> bytes:
        if self._data is not None:
            return self._data[:count]
        with self.open() as handle:
            return handle.read(count)

    def tail(self, count: int) -> bytes:
        if self._data is not None:
            return self._data[-count:] if count else b""
        with self.open() as handle:
            handle.seek(max(0, self.size - count))
            return handle.read(count)

    def read_all(self, limit: int) -> bytes:
        """The whole content, or Unscannable if it is larger than `limit`."""
        if self.size > limit:
            raise Unscannable(f"{self.size} bytes is more than the {limit}-byte limit")
        if self._data is not None:
            return self._data
        with self.open() as handle:
            return handle.read(limit + 1)[:limit]

    def edges(self, window: int) -> tuple[bytes, bytes]:
        """The first and the last `window` bytes (the tail is empty when the head holds it all)."""
        if self.size <= window:
            return self.read_all(window), b""
        return self.head(window), self.tail(window)
