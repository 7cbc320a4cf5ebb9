"""The dispatcher: fail closed on every hostile or broken input, and find labels in nests."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from sendguard.labels import Limits, Scheme, Verdict, detect
from tests.labels.zipbuild import write_overlapping_zip, write_zip, zip_bytes

ZEROS = b"\x00" * (4 * 1024 * 1024)


def test_empty_file_is_clean_with_a_note(tmp_path: Path) -> None:
    path = tmp_path / "empty.docx"
    path.write_bytes(b"")
    result = detect(path)
    assert result.verdict is Verdict.CLEAN
    assert result.format == "empty"
    assert any("empty" in note for note in result.notes)


def test_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        detect(tmp_path / "nope.txt")


def test_folder_raises(tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError):
        detect(tmp_path)


def test_file_that_cannot_be_opened_is_unscannable(tmp_path: Path) -> None:
    # A symlink loop: it may stand for a file, but nothing can be read through it.
    (tmp_path / "a.txt").symlink_to(tmp_path / "b.txt")
    (tmp_path / "b.txt").symlink_to(tmp_path / "a.txt")
    result = detect(tmp_path / "a.txt")
    assert result.verdict is Verdict.UNSCANNABLE
    assert "cannot be opened" in (result.unscannable_reason or "")


def test_fifo_is_unscannable_not_hung(tmp_path: Path) -> None:
    path = tmp_path / "pipe"
    os.mkfifo(path)
    result = detect(path)
    assert result.verdict is Verdict.UNSCANNABLE
    assert "not a regular file" in (result.unscannable_reason or "")


def test_polyglot_is_unscannable(tmp_path: Path) -> None:
    path = tmp_path / "invoice.pdf"
    pdf = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    path.write_bytes(pdf + zip_bytes({"a.txt": b"hello"}))
    result = detect(path)
    assert result.verdict is Verdict.UNSCANNABLE
    assert "polyglot" in (result.unscannable_reason or "")


def test_truncated_zip_is_unscannable(tmp_path: Path) -> None:
    data = zip_bytes({"a.bin": os.urandom(50_000)})
    path = tmp_path / "cut.zip"
    path.write_bytes(data[: len(data) // 2])
    result = detect(path)
    assert result.verdict is Verdict.UNSCANNABLE


def test_zip_bomb_by_ratio_is_unscannable(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "bomb.zip", {"zeros.bin": ZEROS})
    result = detect(path)
    assert result.verdict is Verdict.UNSCANNABLE
    assert "zip bomb suspected" in (result.unscannable_reason or "")


def test_zip_bomb_by_entry_count_is_unscannable(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "many.zip", {f"f{i}.bin": b"\x00\x01" for i in range(101)})
    result = detect(path, limits=Limits(max_archive_entries=100))
    assert result.verdict is Verdict.UNSCANNABLE
    assert "101 entries" in (result.unscannable_reason or "")


def test_zip_bomb_by_total_size_is_unscannable(tmp_path: Path) -> None:
    members = {f"part{i}.bin": b"\x00" * 900_000 for i in range(20)}
    path = write_zip(tmp_path / "total.zip", members)
    result = detect(path, limits=Limits(max_total_uncompressed=10 * 1024 * 1024))
    assert result.verdict is Verdict.UNSCANNABLE
    assert "declared" in (result.unscannable_reason or "")


def test_overlapping_entries_are_unscannable(tmp_path: Path) -> None:
    path = write_overlapping_zip(tmp_path / "overlap.zip", ["a.bin", "b.bin"], b"\x00" * 1000)
    result = detect(path)
    assert result.verdict is Verdict.UNSCANNABLE
    assert "overlap" in (result.unscannable_reason or "")


def test_plain_archive_of_binaries_is_clean(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "photos.zip", {"a.bin": os.urandom(1000), "dir/b.bin": b"\x00\x01"})
    result = detect(path)
    assert result.verdict is Verdict.CLEAN
    assert result.format == "zip"


def test_labelled_member_of_nested_archives_is_found_with_its_place(tmp_path: Path) -> None:
    inner = zip_bytes({"notes/secret.txt": b"TLP:RED\nThe plan.\n"})
    middle = zip_bytes({"inner.zip": inner, "readme.bin": b"\x00\x01"})
    path = write_zip(tmp_path / "outer.zip", {"middle.zip": middle})
    result = detect(path)
    assert result.verdict is Verdict.LABELLED
    [label] = result.labels
    assert label.scheme is Scheme.MARKING
    assert label.marking == "TLP:RED"
    assert label.where[0].startswith("middle.zip › inner.zip › notes/secret.txt › ")


def test_nesting_deeper_than_the_limit_is_unscannable(tmp_path: Path) -> None:
    data = zip_bytes({"deep.bin": b"\x00\x01"})
    for level in range(4):
        data = zip_bytes({f"level{level}.zip": data})
    path = tmp_path / "deep.zip"
    path.write_bytes(data)
    result = detect(path)
    assert result.verdict is Verdict.UNSCANNABLE
    assert "nested more than 3 levels deep" in (result.unscannable_reason or "")


def test_a_broken_member_does_not_hide_a_labelled_one(tmp_path: Path) -> None:
    broken = zip_bytes({"x.bin": b"\x01" * 5000})[:-30]
    path = write_zip(tmp_path / "mixed.zip", {"broken.zip": broken, "a.txt": b"TLP:AMBER\nhi\n"})
    result = detect(path)
    assert result.verdict is Verdict.UNSCANNABLE
    assert (result.unscannable_reason or "").startswith("broken.zip: ")
    assert [label.marking for label in result.labels] == ["TLP:AMBER"]


def test_extension_that_lies_is_noted_and_content_wins(tmp_path: Path) -> None:
    path = tmp_path / "holiday.jpg"
    path.write_text("TLP:AMBER\nTrip notes\n")
    result = detect(path)
    assert result.format == "text"
    assert result.verdict is Verdict.LABELLED
    assert any("name says .jpg" in note for note in result.notes)


def test_time_budget_makes_a_scan_unscannable(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "a.zip", {f"m{i}.txt": b"hello\n" for i in range(50)})
    result = detect(path, limits=Limits(time_budget=0.0))
    assert result.verdict is Verdict.UNSCANNABLE
    assert "budget" in (result.unscannable_reason or "")


def test_legacy_code_page_names_are_not_mistaken_for_overlap(tmp_path: Path) -> None:
    # Names stored in cp437 (no UTF-8 flag) are shorter on disk than their UTF-8 form.
    path = tmp_path / "cp437.zip"
    with zipfile.ZipFile(path, "w") as archive:
        info = zipfile.ZipInfo("filename_with_æoå.txt")
        info.flag_bits &= ~0x800
        archive.writestr(info, b"hello")
        archive.writestr("filename_without.txt", b"hello")
    raw = path.read_bytes()
    # zipfile sets the UTF-8 flag for non-ASCII names; store the name as cp437 instead.
    utf8, cp437 = "filename_with_æoå.txt".encode(), "filename_with_æoå.txt".encode("cp437")
    assert raw.count(utf8) == 2
    path.write_bytes(_rewrite_names(raw, utf8, cp437))
    result = detect(path)
    assert result.verdict is Verdict.CLEAN, result.unscannable_reason


def _rewrite_names(raw: bytes, old: bytes, new: bytes) -> bytes:
    """Re-encode one member's name as the legacy code page, fixing lengths, flags, offsets."""
    import struct

    shift = len(old) - len(new)
    out = bytearray(raw.replace(old, new))
    # Local header of the first member: clear the UTF-8 flag, fix the name length.
    struct.pack_into("<H", out, 6, struct.unpack_from("<H", out, 6)[0] & ~0x800)
    struct.pack_into("<H", out, 26, len(new))
    # Central directory entries: fix both entries' offsets and the first one's name.
    eocd = out.rfind(b"PK\x05\x06")
    cd_offset = struct.unpack_from("<I", out, eocd + 16)[0] - shift
    struct.pack_into("<I", out, eocd + 16, cd_offset)
    struct.pack_into("<I", out, eocd + 12, struct.unpack_from("<I", out, eocd + 12)[0] - shift)
    position = cd_offset
    first = True
    while out[position : position + 4] == b"PK\x01\x02":
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", out, position + 28)
        if first:
            struct.pack_into(
                "<H", out, position + 8, struct.unpack_from("<H", out, position + 8)[0] & ~0x800
            )
            struct.pack_into("<H", out, position + 28, len(new))
            name_len = len(new)
        else:
            offset = struct.unpack_from("<I", out, position + 42)[0]
            struct.pack_into("<I", out, position + 42, offset - shift)
        first = False
        position += 46 + name_len + extra_len + comment_len
    return bytes(out)
