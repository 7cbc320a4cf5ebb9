"""Scans that run in a child process: OCR of photos and scans.

Reading a photo loads an OCR model and works on large arrays; afterwards the process keeps
about 300 MB it never gives back (measured: 25 → 315 MB RSS after one 12-megapixel photo,
unchanged after dropping the model). In a child process that memory goes when the child
does: it exits after a quiet spell. The child can also be stopped when a scan overruns its
time, which a call into native code in this process cannot be.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import threading
import time
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from sendguard.labels.context import Limits
from sendguard.labels.detect import detect
from sendguard.labels.model import Findings

#: The child exits after this long without work (its memory goes with it).
IDLE_SECONDS = 300.0

Scan = Callable[..., Findings]


class WorkerFailed(Exception):
    """The child could not scan the file (it died, or did not answer in time)."""


def _serve(connection: Connection, scan: Scan) -> None:
    """The child's loop: one request at a time until the parent closes the pipe."""
    while True:
        try:
            request = connection.recv()
        except (EOFError, OSError):
            return
        path, limits, patterns = request
        try:
            result: tuple[str, Any] = ("ok", scan(path, limits=limits, name_patterns=patterns))
        except FileNotFoundError:
            result = ("missing", None)
        except Exception as exc:  # reported to the parent, which fails closed
            result = ("error", f"{type(exc).__name__}: {exc}")
        try:
            connection.send(result)
        except (EOFError, OSError):
            return


class ScanWorker:
    """One child process that runs `scan` (default: `detect`) on paths, started on demand
    and stopped after `idle_seconds` without work. Thread-safe: one scan at a time."""

    def __init__(self, scan: Scan = detect, idle_seconds: float = IDLE_SECONDS) -> None:
        self.scan_function = scan
        self.idle_seconds = idle_seconds
        self._lock = threading.Lock()
        self._process: BaseProcess | None = None
        self._connection: Connection | None = None
        self._last_used = time.monotonic()
        #: Children started so far (the bench and tests read it).
        self.started = 0

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def _start(self) -> None:
        # spawn, not fork: the parent has threads (watchdog, the engine, Qt), and a forked
        # child would inherit their locks in whatever state they were.
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        process = context.Process(
            target=_serve, args=(child, self.scan_function), name="sendguard-scan", daemon=True
        )
        process.start()
        child.close()
        self._process, self._connection = process, parent
        self.started += 1

    def _stop(self) -> None:
        process, connection = self._process, self._connection
        self._process = self._connection = None
        if connection is not None:
            connection.close()  # the child's recv() ends: it returns and exits
        if process is not None:
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
                process.join(timeout=5)

    def scan(
        self,
        path: str | os.PathLike[str],
        limits: Limits,
        name_patterns: Sequence[re.Pattern[str]] = (),
        timeout: float = 60.0,
    ) -> Findings:
        """The file's findings, scanned in the child. Raises FileNotFoundError when the file
        is gone, WorkerFailed when the child died, failed or overran `timeout` (then it is
        stopped; the next scan starts a new one)."""
        with self._lock:
            self._last_used = time.monotonic()
            if not self.alive:
                self._stop()
                self._start()
            assert self._connection is not None
            try:
                self._connection.send((Path(path), limits, tuple(name_patterns)))
                answered = self._connection.poll(timeout)
                outcome, value = self._connection.recv() if answered else ("timeout", None)
            except (EOFError, OSError) as exc:
                self._stop()
                raise WorkerFailed(f"the scanning process ended unexpectedly ({exc})") from exc
            finally:
                self._last_used = time.monotonic()
            if outcome == "timeout":
                self._stop()
                raise WorkerFailed(f"reading it took longer than {timeout:g} s")
            if outcome == "missing":
                raise FileNotFoundError(path)
            if outcome == "error":
                raise WorkerFailed(str(value))
            assert isinstance(value, Findings)
            return value

    def close_if_idle(self, now: float | None = None) -> bool:
        """Stop the child when it has been idle for `idle_seconds`; True when it was."""
        now = time.monotonic() if now is None else now
        if not self._lock.acquire(blocking=False):
            return False  # a scan is running
        try:
            if self._process is not None and now - self._last_used >= self.idle_seconds:
                self._stop()
                return True
            return False
        finally:
            self._lock.release()

    def close(self) -> None:
        with self._lock:
            self._stop()
