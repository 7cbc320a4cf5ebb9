"""Photos and scans read by OCR: the markings the text readers know, on generated pictures.

Each OCR costs about half a second, so there are few: a photographed notice with 机密★1年, a
page photographed on a desk with TLP:RED, a scanned PDF stamped CONFIDENTIAL, and ordinary
pictures (a landscape, a chat screenshot) that must give nothing.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pillow_heif
from PIL import Image

from sendguard.labels import Limits, Verdict, detect
from sendguard.labels.ocr import normalise_ocr_text
from tests.labels.photos import chat_screenshot, landscape, page, photograph, save_jpeg

OCR = Limits(ocr=True)


def markings(path: Path) -> dict[str, tuple[str, ...]]:
    findings = detect(path, limits=OCR)
    assert findings.unscannable_reason is None, findings.unscannable_reason
    assert findings.ocr_ms is not None and 0 < findings.ocr_ms <= findings.elapsed_ms
    return {finding.marking or "": finding.where for finding in findings.labels}


def test_a_photographed_chinese_notice_is_classified(tmp_path: Path) -> None:
    notice = page(top="机密★1年")
    photo = save_jpeg(photograph(notice, angle=-2.5), tmp_path / "IMG_2041.jpg", quality=68)
    found = detect(photo, limits=OCR)
    assert found.verdict is Verdict.LABELLED
    (finding,) = found.labels
    assert (finding.system, finding.marking) == ("cn", "机密")
    assert dict(finding.attributes).get("period") == "1年"
    assert all("(OCR)" in where for where in finding.where)


def test_a_phone_photo_in_heic_is_read(tmp_path: Path) -> None:
    """Phone cameras save HEIC by default; pillow-heif (in the ocr extra) decodes it."""
    photo = photograph(page(top="CONFIDENTIAL"), frame=(1800, 2400), angle=2.0, seed=5)
    path = tmp_path / "IMG_7311.HEIC"
    pillow_heif.from_pillow(photo).save(path, quality=70)
    assert path.read_bytes()[4:12] == b"ftypheic"
    found = detect(path, limits=OCR)
    assert found.format == "heic"
    assert [finding.marking for finding in found.labels] == ["CONFIDENTIAL"]


def test_a_page_lying_on_a_desk_is_read_where_the_page_is(tmp_path: Path) -> None:
    """The page fills half the frame: its top line is in the middle of the photo, not in the
    photo's top band, and is still read."""
    photo = photograph(page(top="TLP:RED"), fill=0.5, angle=4.0, seed=11)
    found = markings(save_jpeg(photo, tmp_path / "desk.jpg"))
    assert set(found) == {"TLP:RED"}
    assert found["TLP:RED"] == ("image, first lines (OCR)",)


def test_a_scanned_pdf_is_read_by_ocr_and_only_when_asked(tmp_path: Path) -> None:
    scan = tmp_path / "scan.pdf"
    page(bottom="CONFIDENTIAL").save(scan, "PDF", resolution=150)
    quick = detect(scan)
    assert quick.verdict is Verdict.CLEAN and quick.ocr_pending
    found = markings(scan)
    assert set(found) == {"CONFIDENTIAL"}
    assert found["CONFIDENTIAL"][0].startswith("page 1 (scanned), bottom")


def test_ordinary_pictures_give_nothing(tmp_path: Path) -> None:
    view = save_jpeg(landscape(), tmp_path / "hills.jpg")
    chat = tmp_path / "chat.png"
    chat_screenshot(
        [
            "Dinner at 7 tonight?",
            "Yes! I'll bring dessert",
            "It's a secret, don't tell Dad",
            "Internal joke :)",
            "See you at the station",
        ]
    ).save(chat)
    for picture in (view, chat):
        found = detect(picture, limits=OCR)
        assert found.verdict is Verdict.CLEAN, found.to_dict()


def test_the_fast_scan_does_not_read_pictures_but_says_ocr_is_pending(tmp_path: Path) -> None:
    big = save_jpeg(page(top="TLP:RED"), tmp_path / "big.jpg")
    icon = tmp_path / "icon.png"
    Image.new("RGB", (128, 128), (200, 30, 30)).save(icon)
    quick = detect(big)
    assert quick.verdict is Verdict.CLEAN and quick.ocr_pending
    assert quick.elapsed_ms < 300
    small = detect(icon, limits=OCR)
    assert small.verdict is Verdict.CLEAN and not small.ocr_pending


def test_ocr_misreadings_of_the_star_are_undone() -> None:
    assert normalise_ocr_text("机密本1年") == "机密★1年"
    assert normalise_ocr_text("绝密*启用前") == "绝密★启用前"
    assert normalise_ocr_text("秘密本来就是") == "秘密本来就是"


_WITHOUT_EXTRA = """
import sys
sys.modules["rapidocr"] = None  # as if the ocr extra were not installed
from sendguard.labels import Limits, detect
for limits in (Limits(ocr=True), Limits(ocr=True, ocr_required=True)):
    found = detect(sys.argv[1], limits=limits)
    print(found.verdict.value, "|", found.unscannable_reason, "|", found.notes)
"""


def test_without_the_ocr_extra_pictures_carry_a_note_or_are_unscannable_when_required(
    tmp_path: Path,
) -> None:
    """A real interpreter in which the ``rapidocr`` package cannot be imported."""
    picture = save_jpeg(page(top="TLP:RED", size=(620, 877)), tmp_path / "p.jpg")
    out = subprocess.run(
        [sys.executable, "-c", _WITHOUT_EXTRA, str(picture)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert out[0].startswith("clean | None |") and "OCR extra is not installed" in out[0]
    assert out[1].startswith("unscannable | photos and scans are not read: the OCR extra")
