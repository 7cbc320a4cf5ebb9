"""The scanning process: the same findings as a scan in this process, and every way it can
fail ends in a clear error, never in a clean verdict or a hung engine."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from sendguard.labels import DEFAULT_LIMITS, detect
from sendguard.labels.model import Findings
from sendguard.labels.worker import ScanWorker, WorkerFailed


def slow_scan(path: Path, **options: Any) -> Findings:
    time.sleep(30)
    return Findings(path=str(path), format="txt")


def dying_scan(path: Path, **options: Any) -> Findings:
    os._exit(3)


def failing_scan(path: Path, **options: Any) -> Findings:
    raise MemoryError("the picture is too large")


@pytest.fixture
def worker() -> Any:
    made: list[ScanWorker] = []

    def make(**options: Any) -> ScanWorker:
        made.append(ScanWorker(**options))
        return made[-1]

    yield make
    for each in made:
        each.close()


def test_findings_are_the_same_as_in_this_process(worker: Any, tmp_path: Path) -> None:
    path = tmp_path / "notice.txt"
    path.write_text("TLP:RED\nThe plan.\n", encoding="utf-8")
    scanning = worker()
    remote = scanning.scan(path, DEFAULT_LIMITS)
    local = detect(path)
    assert [label.marking for label in remote.labels] == ["TLP:RED"]
    assert [label.to_dict() for label in remote.labels] == [
        label.to_dict() for label in local.labels
    ]
    assert scanning.pid != os.getpid()
    again = scanning.scan(path, DEFAULT_LIMITS)  # the same child serves the next scan
    assert again.verdict == remote.verdict and scanning.started == 1


def test_an_overrun_stops_the_child_and_the_next_scan_starts_another(
    worker: Any, tmp_path: Path
) -> None:
    path = tmp_path / "photo.jpg"
    path.write_bytes(b"\xff\xd8\xff")
    scanning = worker(scan=slow_scan)
    started = time.monotonic()
    with pytest.raises(WorkerFailed, match="took longer than 1 s"):
        scanning.scan(path, DEFAULT_LIMITS, timeout=1)
    assert time.monotonic() - started < 10
    assert not scanning.alive
    with pytest.raises(WorkerFailed):
        scanning.scan(path, DEFAULT_LIMITS, timeout=0.5)
    assert scanning.started == 2


def test_a_child_that_dies_or_fails_is_an_error(worker: Any, tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    path.write_bytes(b"\xff\xd8\xff")
    with pytest.raises(WorkerFailed, match="ended unexpectedly"):
        worker(scan=dying_scan).scan(path, DEFAULT_LIMITS, timeout=30)
    with pytest.raises(WorkerFailed, match="MemoryError: the picture is too large"):
        worker(scan=failing_scan).scan(path, DEFAULT_LIMITS, timeout=30)


def test_a_missing_file_is_file_not_found(worker: Any, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        worker().scan(tmp_path / "gone.jpg", DEFAULT_LIMITS)


def test_the_child_leaves_after_a_quiet_spell(worker: Any, tmp_path: Path) -> None:
    path = tmp_path / "notice.txt"
    path.write_text("plain words\n", encoding="utf-8")
    scanning = worker(idle_seconds=60)
    scanning.scan(path, DEFAULT_LIMITS)
    assert not scanning.close_if_idle()  # used just now
    assert scanning.alive
    assert scanning.close_if_idle(now=time.monotonic() + 61)
    assert not scanning.alive
