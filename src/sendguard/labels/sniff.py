"""Content sniffing: the bytes decide the format, never the extension alone."""

from __future__ import annotations

import enum
import re
import zipfile
from dataclasses import dataclass

from sendguard.labels.context import Source

HEAD_BYTES = 4096
#: A zip's end-of-central-directory record sits within the last 64 KiB + 22 bytes.
_EOCD_WINDOW = 65_536 + 22
_EOCD = b"PK\x05\x06"


class Format(enum.StrEnum):
    EMPTY = "empty"
    ZIP = "zip"  # refined to OOXML / ODF / a plain archive by the zip detector
    OLE = "ole"
    PDF = "pdf"
    RTF = "rtf"
    EML = "eml"
    HTML = "html"
    FLAT_ODF = "fodf"
    XML = "xml"
    TEXT = "text"
    IMAGE = "image"
    BINARY = "binary"


@dataclass(frozen=True)
class Sniffed:
    format: Format
    #: Why this file is a polyglot (valid as two formats at once), if it is.
    polyglot: str | None = None


_IMAGE_MAGIC = (
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff",
    b"GIF87a",
    b"GIF89a",
    b"II*\x00",
    b"MM\x00*",
    b"BM",
)
_HEADER_LINE = re.compile(rb"^[A-Za-z][A-Za-z0-9_-]{1,60}:[ \t]?.*$")
_MAIL_HEADERS = (
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"mime-version",
    b"received",
    b"return-path",
    b"msip_labels",
    b"content-type",
)


def _is_image(head: bytes) -> bool:
    if head.startswith(_IMAGE_MAGIC):
        return True
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return True
    # ISO-BMFF still images (HEIC/AVIF): ....ftypheic / mif1 / avif
    return head[4:8] == b"ftyp" and head[8:12] in {b"heic", b"heix", b"mif1", b"msf1", b"avif"}


def looks_like_text(head: bytes) -> bool:
    if not head:
        return True
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True  # UTF-16 with a byte-order mark
    if b"\x00" in head:
        return False
    controls = sum(1 for byte in head if byte < 32 and byte not in (9, 10, 12, 13, 27))
    return controls <= len(head) // 100


def _looks_like_email(head: bytes) -> bool:
    lines = head.lstrip(b"\xef\xbb\xbf").splitlines()[:40]
    known = 0
    for line in lines:
        if not line.strip():
            break  # end of the header block
        if line[:1] in (b" ", b"\t"):
            continue  # a folded header line
        if not _HEADER_LINE.match(line):
            return False
        if line.split(b":", 1)[0].strip().lower() in _MAIL_HEADERS:
            known += 1
    return known >= 2


def _markup_kind(head: bytes) -> Format | None:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<!doctype html", b"<html", b"<head", b"<body")):
        return Format.HTML
    if text.startswith(b"<"):
        if b"<office:document" in text:
            return Format.FLAT_ODF
        if b"<html" in text[:1024]:
            return Format.HTML
        return Format.XML
    return None


def _has_zip_directory(source: Source) -> bool:
    """A zip directory that really opens (the signature alone turns up inside many binaries)."""
    if _EOCD not in source.tail(_EOCD_WINDOW):
        return False
    try:
        with source.open() as handle, zipfile.ZipFile(handle) as archive:
            return bool(archive.infolist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError, ValueError):
        return False


def sniff(source: Source) -> Sniffed:
    """The format of `source` from its bytes, and whether it is also valid as another format."""
    if source.size == 0:
        return Sniffed(Format.EMPTY)
    head = source.head(HEAD_BYTES)
    pdf_at = head.find(b"%PDF-", 0, 1024)
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        if pdf_at >= 0:
            return Sniffed(Format.ZIP, "a zip archive that also carries a PDF header")
        return Sniffed(Format.ZIP)
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        fmt = Format.OLE
    elif pdf_at == 0 or (pdf_at > 0 and not head[:pdf_at].strip(b"\xef\xbb\xbf\r\n\t \x00")):
        fmt = Format.PDF
    elif pdf_at > 0:
        # PDF readers accept a header anywhere in the first KiB: another format in front of
        # it makes the file mean two things.
        return Sniffed(Format.PDF, "a PDF header behind other content (a polyglot file)")
    elif _is_image(head):
        fmt = Format.IMAGE
    elif head.startswith(b"{\\rtf"):
        fmt = Format.RTF
    elif looks_like_text(head):
        markup = _markup_kind(head)
        if markup is not None:
            fmt = markup
        elif _looks_like_email(head):
            fmt = Format.EML
        else:
            fmt = Format.TEXT
    else:
        fmt = Format.BINARY
    if fmt in (Format.PDF, Format.OLE, Format.IMAGE, Format.BINARY) and _has_zip_directory(source):
        if fmt is Format.BINARY:
            return Sniffed(Format.ZIP)  # a zip with a stub in front (self-extracting archive)
        return Sniffed(fmt, f"a {fmt.value} file that is also a zip archive (a polyglot file)")
    return Sniffed(fmt)
