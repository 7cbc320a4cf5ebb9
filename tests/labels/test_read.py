"""`read_labels`: the quick scan, then OCR only where the quick scan left a picture unread;
the same findings in this process and in the scanning process; failures are never clean."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sendguard.labels import Limits, Verdict, detect, read_labels
from sendguard.labels.worker import ScanWorker
from tests.labels.photos import page, photograph, save_jpeg


@pytest.fixture(scope="module")
def notice(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A phone photo of a page marked TLP:RED."""
    folder = tmp_path_factory.mktemp("photos")
    photo = photograph(page(top="TLP:RED"), frame=(1500, 2000), angle=-2.0, seed=13)
    return save_jpeg(photo, folder / "IMG_3301.jpg")


@pytest.fixture
def worker() -> Iterator[ScanWorker]:
    scanning = ScanWorker()
    yield scanning
    scanning.close()


def test_without_ocr_it_is_the_quick_scan(notice: Path) -> None:
    found = read_labels(notice, Limits(ocr=False))
    assert found.verdict is Verdict.CLEAN and found.ocr_pending
    assert found.ocr_ms is None
    assert found.to_dict()["ocr_pending"] is True


def test_with_ocr_a_photo_is_read_here_or_in_the_scanning_process(
    notice: Path, worker: ScanWorker
) -> None:
    here = read_labels(notice, Limits(ocr=True))
    there = read_labels(notice, Limits(ocr=True), worker=worker)
    for found in (here, there):
        assert found.verdict is Verdict.LABELLED
        assert [label.marking for label in found.labels] == ["TLP:RED"]
        assert all("(OCR)" in where for where in found.labels[0].where)
        assert not found.ocr_pending
        assert found.ocr_ms is not None and 0 < found.ocr_ms <= found.elapsed_ms
        assert found.to_dict()["ocr_ms"] == round(found.ocr_ms, 1)
    assert [label.to_dict() for label in there.labels] == [label.to_dict() for label in here.labels]
    assert worker.started == 1


def test_a_file_without_pictures_is_read_once_and_never_by_ocr(
    tmp_path: Path, worker: ScanWorker
) -> None:
    path = tmp_path / "notice.txt"
    path.write_text("OFFICIAL-SENSITIVE\nThe plan.\n", encoding="utf-8")
    found = read_labels(path, Limits(ocr=True), worker=worker)
    assert [label.marking for label in found.labels] == ["OFFICIAL-SENSITIVE"]
    assert found.ocr_ms is None and "ocr_ms" not in found.to_dict()
    assert found.to_dict()["labels"] == detect(path).to_dict()["labels"]
    assert worker.started == 0  # nothing for the scanning process to do


def test_a_picture_the_scanning_process_cannot_read_in_time_is_unscannable(
    notice: Path, worker: ScanWorker
) -> None:
    found = read_labels(notice, Limits(ocr=True), worker=worker, timeout=0.05)
    assert found.verdict is Verdict.UNSCANNABLE
    reason = found.unscannable_reason or ""
    assert reason.startswith("the picture could not be read: reading it took longer than")


def test_a_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_labels(tmp_path / "gone.jpg", Limits(ocr=True))
