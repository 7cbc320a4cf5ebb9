"""``sendguard scan`` as a person or a script uses it: output, JSON, exit status."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sendguard.cli import main
from tests.labels.photos import landscape, page, photograph, save_jpeg


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sendguard", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )


def test_clean_files_exit_zero(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Shopping list\nmilk\n")
    result = _run("scan", str(tmp_path / "a.txt"))
    assert result.returncode == 0, result.stderr
    assert "clean" in result.stdout


def test_labelled_file_exits_one_and_names_label_and_place(corpus: Path) -> None:
    result = _run("scan", str(corpus / "xlsxwriter_properties06_doc_example_label.xlsx"))
    assert result.returncode == 1
    assert "labelled" in result.stdout
    assert "MIP Confidential (2096f6a2-d2f7-48be-b329-b73aaa526e5d)" in result.stdout
    assert "docProps/custom.xml" in result.stdout


def test_json_carries_every_finding(corpus: Path) -> None:
    result = _run("scan", "--json", str(corpus / "intelfsp_license_titus.pdf"))
    assert result.returncode == 1
    [line] = result.stdout.splitlines()
    record = json.loads(line)
    assert record["verdict"] == "labelled"
    assert record["format"] == "pdf"
    [label] = record["labels"]
    assert label["scheme"] == "titus"
    assert label["value"] == "CTP_IC"
    assert label["guid"] == "16fba14b-b749-41e1-a9b5-4282776873bd"
    assert "PDF Info /CTPClassification" in label["where"]


def test_recursive_scan_of_the_corpus_is_one_json_object_per_file(corpus: Path) -> None:
    result = _run("scan", "--json", "--recursive", str(corpus))
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == len(list(corpus.iterdir()))
    verdicts = {Path(r["path"]).name: r["verdict"] for r in records}
    assert verdicts["msrc_csw2009_nolabel.pdf"] == "clean"
    assert sum(v == "labelled" for v in verdicts.values()) == len(records) - 1
    assert result.returncode == 1
    assert result.stderr == ""  # progress only on a terminal, never into a pipe


def test_unscannable_file_exits_one_with_reason(tmp_path: Path) -> None:
    path = tmp_path / "cut.docx"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    result = _run("scan", str(path))
    assert result.returncode == 1
    assert "unscannable" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["scan", "/no/such/file.pdf"], "no such file or folder: /no/such/file.pdf"),
        (["scan", "--bogus", "x"], "unrecognized arguments"),
    ],
)
def test_usage_errors_exit_two_with_one_line(args: list[str], message: str) -> None:
    result = _run(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == ""


def test_folder_without_recursive_is_a_usage_error(tmp_path: Path) -> None:
    result = _run("scan", str(tmp_path))
    assert result.returncode == 2
    assert "add --recursive" in result.stderr


def test_control_characters_in_names_are_shown_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "invoice\u202etxt.exe"
    path.write_text("hello\n")
    assert main(["scan", str(path)]) == 0
    out = capsys.readouterr().out
    assert "<U+202E>" in out
    assert "\u202e" not in out


def test_version() -> None:
    result = _run("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("sendguard ")


def test_progress_is_shown_on_a_terminal(tmp_path: Path) -> None:
    for index in range(5):
        (tmp_path / f"{index}.txt").write_text("hello\n")
    controller, terminal = pty.openpty()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "sendguard", "scan", "--recursive", str(tmp_path)],
            stdout=subprocess.PIPE,
            stderr=terminal,
            text=True,
            timeout=120,
        )
        shown = os.read(controller, 65536).decode()
    finally:
        os.close(controller)
        os.close(terminal)
    assert result.returncode == 0
    assert "scanning: 5/5 files" in shown
    assert "scanning" not in result.stdout  # the table stays clean for whoever reads it


def test_jobs_give_the_same_results_in_the_same_order(corpus: Path) -> None:
    one = _run("scan", "--json", "--recursive", str(corpus))
    two = _run("scan", "--json", "--recursive", "--jobs", "2", str(corpus))
    assert two.returncode == one.returncode == 1

    def strip_timing(line: str) -> dict[str, object]:
        record = json.loads(line)
        record.pop("elapsed_ms")
        return record

    assert [strip_timing(line) for line in two.stdout.splitlines()] == [
        strip_timing(line) for line in one.stdout.splitlines()
    ]


def test_a_bad_jobs_value_is_a_usage_error() -> None:
    result = _run("scan", "--jobs", "-1", "x")
    assert result.returncode == 2
    assert "cannot be negative" in result.stderr


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A phone photo of a page marked 机密★1年, and a holiday photo without a marking."""
    folder = tmp_path_factory.mktemp("photos")
    save_jpeg(photograph(page(top="机密★1年"), frame=(1800, 2400)), folder / "IMG_5120.jpg")
    save_jpeg(landscape((2400, 1800)), folder / "IMG_5121.jpg")
    return folder


def test_a_photo_of_a_labelled_page_is_read_by_ocr_as_the_guard_reads_it(photos: Path) -> None:
    """The guard holds this photo and reads it by OCR; scan says what the guard will find."""
    result = _run("scan", "--recursive", str(photos))
    assert result.returncode == 1, result.stderr
    notice, line, holiday, *rest = result.stdout.splitlines()[1:]
    assert not rest
    assert "IMG_5120.jpg" in notice and " labelled " in notice
    assert "marking 机密 (机密★1年)" in notice and "image, top (OCR)" in notice
    assert re.fullmatch(r" +read by OCR in \d+\.\d s", line), line
    assert "IMG_5121.jpg" in holiday and " clean " in holiday
    assert re.search(r"read by OCR in \d+\.\d s$", holiday), holiday


def test_json_says_ocr_read_the_photo_and_how_long_it_took(photos: Path) -> None:
    result = _run("scan", "--json", str(photos / "IMG_5120.jpg"))
    assert result.returncode == 1, result.stderr
    [record] = [json.loads(line) for line in result.stdout.splitlines()]
    assert record["verdict"] == "labelled"
    [label] = record["labels"]
    assert (label["system"], label["marking"], label["value"]) == ("cn", "机密", "机密★1年")
    assert label["where"] == ["image, top (OCR)"]
    assert 0 < record["ocr_ms"] <= record["elapsed_ms"]
    assert "ocr_pending" not in record


def test_no_ocr_is_faster_but_never_calls_an_unread_photo_clean(photos: Path) -> None:
    result = _run("scan", "--no-ocr", str(photos / "IMG_5120.jpg"))
    assert result.returncode == 1, result.stderr
    assert "clean" not in result.stdout
    assert "unscannable: not read by OCR (--no-ocr)" in result.stdout
    result = _run("scan", "--no-ocr", "--json", str(photos / "IMG_5120.jpg"))
    [record] = [json.loads(line) for line in result.stdout.splitlines()]
    assert record["verdict"] == "unscannable"
    assert record["reason"].startswith("not read by OCR (--no-ocr)")
    assert record["ocr_pending"] is True and "ocr_ms" not in record


def test_no_ocr_keeps_what_the_quick_scan_found_and_says_the_picture_was_not_read(
    photos: Path, tmp_path: Path
) -> None:
    named = tmp_path / "TLP-RED notice.jpg"
    named.write_bytes((photos / "IMG_5120.jpg").read_bytes())
    result = _run("scan", "--no-ocr", "--json", str(named))
    assert result.returncode == 1
    [record] = [json.loads(line) for line in result.stdout.splitlines()]
    assert record["verdict"] == "labelled"
    assert [label["marking"] for label in record["labels"]] == ["TLP:RED"]
    assert any(note.startswith("not read by OCR (--no-ocr)") for note in record["notes"])
    text = _run("scan", "--no-ocr", str(named)).stdout
    assert "not read by OCR (--no-ocr)" in text


_WITHOUT_OCR_EXTRA = """
import sys
sys.modules["rapidocr"] = None  # as if the ocr extra were not installed
from sendguard.cli import entry_point
entry_point()
"""


def test_without_the_ocr_extra_a_photo_is_unscannable_not_clean(photos: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _WITHOUT_OCR_EXTRA, "scan", str(photos / "IMG_5120.jpg")],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )
    assert result.returncode == 1, result.stderr
    assert "clean" not in result.stdout
    assert "unscannable: photos and scans are not read: the OCR extra is not installed" in (
        result.stdout
    )
