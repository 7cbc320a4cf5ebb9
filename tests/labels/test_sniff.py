"""Content decides the format; an extension that lies or a polyglot does not fool the sniffer."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from sendguard.labels.context import Source
from sendguard.labels.sniff import Format, sniff


def _zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


MINIMAL_PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", Format.EMPTY),
        (MINIMAL_PDF, Format.PDF),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504, Format.OLE),
        (b"{\\rtf1\\ansi hello}", Format.RTF),
        (b"From: a@example.com\r\nTo: b@example.com\r\nSubject: hi\r\n\r\nbody", Format.EML),
        (b"<!DOCTYPE html><html><body>hi</body></html>", Format.HTML),
        (b'<?xml version="1.0"?><office:document xmlns:office="x"/>', Format.FLAT_ODF),
        (b'<?xml version="1.0"?><root/>', Format.XML),
        ("plain text, 机密★1年\n".encode(), Format.TEXT),
        ("TLP:RED\n".encode("utf-16"), Format.TEXT),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 32, Format.IMAGE),
        (b"\x7fELF\x02\x01\x01" + bytes(range(256)) * 4, Format.BINARY),
    ],
)
def test_formats_come_from_the_bytes(data: bytes, expected: Format) -> None:
    assert sniff(Source("file.bin", data=data)).format is expected


def test_a_docx_named_txt_is_still_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(_zip_bytes({"[Content_Types].xml": b"<Types/>"}))
    result = sniff(Source(path.name, path=str(path)))
    assert result.format is Format.ZIP
    assert result.polyglot is None


def test_pdf_with_zip_appended_is_a_polyglot() -> None:
    data = MINIMAL_PDF + _zip_bytes({"payload.txt": b"hello"})
    result = sniff(Source("x.pdf", data=data))
    assert result.format is Format.PDF
    assert result.polyglot is not None and "zip" in result.polyglot


def test_pdf_header_behind_html_is_a_polyglot() -> None:
    data = b"<html><!-- " + MINIMAL_PDF + b" --></html>"
    result = sniff(Source("x.html", data=data))
    assert result.polyglot is not None and "PDF" in result.polyglot


def test_zip_carrying_a_pdf_header_is_a_polyglot() -> None:
    # A zip member stored uncompressed puts its bytes right after the first local header.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("a.pdf", MINIMAL_PDF)
    result = sniff(Source("x.zip", data=buffer.getvalue()))
    assert result.format is Format.ZIP
    assert result.polyglot is not None


def test_self_extracting_stub_in_front_of_a_zip_is_an_archive() -> None:
    data = b"MZ\x90\x00" + bytes(range(256)) * 8 + _zip_bytes({"a.txt": b"hi"})
    assert sniff(Source("setup.exe", data=data)).format is Format.ZIP


def test_stray_zip_signature_inside_a_binary_is_not_an_archive() -> None:
    # Compiled Python files of zip tests carry the end-of-directory bytes without a zip.
    data = b"\xa7\r\r\n" + b"\x00\x01" * 100 + b"PK\x05\x06" + b"\x00" * 18 + b"\x03\x04" * 50
    assert sniff(Source("test_zipimport.pyc", data=data)).format is Format.BINARY
