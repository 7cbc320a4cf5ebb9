"""OLE compound files: protected Office files and legacy Office documents and messages.

- RMS-protected (and password-encrypted) Office files keep their content in an
  ``EncryptedPackage`` stream; the MIP label is in clear text in the
  ``\\x06DataSpaces/TransformInfo/LabelInfo`` stream. Protected content without a readable
  label is unscannable.
- Legacy .doc/.xls/.ppt: the ``\\x05SummaryInformation`` keywords and the user-defined
  properties (second section of ``\\x05DocumentSummaryInformation``), parsed here following
  MS-OLEPS and interpreted by :mod:`sendguard.labels.properties`. A legacy file whose content
  is password-encrypted and that carries no label is unscannable.
- Outlook .msg: the ``msip_labels`` named property and transport headers.

Visible markings inside legacy binary formats are not looked for.
"""

from __future__ import annotations

import contextlib
import re
import struct
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import olefile

from sendguard.labels.context import BudgetExceeded, ScanContext, Source, Unscannable
from sendguard.labels.model import Finding
from sendguard.labels.ooxml import Problems, labelinfo_labels
from sendguard.labels.properties import (
    classic_from_pairs,
    mip_from_pairs,
    parse_msip_header,
    reconcile_mip,
)

LABELINFO_STREAM = "\x06DataSpaces/TransformInfo/LabelInfo"
LABELINFO_WHERE = "OLE stream \\x06DataSpaces/TransformInfo/LabelInfo"
SUMMARY_STREAM = "\x05SummaryInformation"
DOC_SUMMARY_STREAM = "\x05DocumentSummaryInformation"
USER_DEFINED_WHERE = "OLE \\x05DocumentSummaryInformation, user-defined properties"
KEYWORDS_WHERE = "OLE \\x05SummaryInformation, keywords"

FMTID_SUMMARY = uuid.UUID("F29F85E0-4FF9-1068-AB91-08002B27B3D9")
FMTID_DOC_SUMMARY = uuid.UUID("D5CDD502-2E9C-101B-9397-08002B2CF9AE")
FMTID_USER_DEFINED = uuid.UUID("D5CDD505-2E9C-101B-9397-08002B2CF9AE")
PIDSI_KEYWORDS = 5

#: A property set or LabelInfo stream larger than this is not a real one.
_MAX_METADATA_STREAM = 4 * 1024 * 1024
_MAX_PROPERTIES = 65_536
#: Outlook: named string properties looked at for ``msip_labels``, and their size.
_MAX_MSG_STREAMS = 512
_MAX_MSG_PROPERTY = 256 * 1024
_MSG_TRANSPORT_HEADERS = "__substg1.0_007D001F"
_MSG_NAMED_STRING = re.compile(r"^__substg1\.0_[89A-F][0-9A-F]{3}001[EF]$", re.IGNORECASE)
_MSIP_HEADER = re.compile(r"(?im)^msip_labels[ \t]*:[ \t]*(.*(?:\r?\n[ \t]+.*)*)")

_CLSID_KINDS = {
    "00020906-0000-0000-C000-000000000046": "doc",
    "00020900-0000-0000-C000-000000000046": "doc",
    "00020820-0000-0000-C000-000000000046": "xls",
    "00020810-0000-0000-C000-000000000046": "xls",
    "64818D10-4F9B-11CF-86EA-00AA00B929E8": "ppt",
    "00020D0B-0000-0000-C000-000000000046": "msg",
}
_KIND_NAMES = {
    "doc": "Word document",
    "xls": "Excel workbook",
    "ppt": "PowerPoint presentation",
    "msg": "Outlook message",
    "ole": "OLE file",
}

# Property types (MS-OLEPS 2.15).
VT_I2, VT_I4, VT_R4, VT_R8, VT_BOOL = 0x02, 0x03, 0x04, 0x05, 0x0B
VT_I1, VT_UI1, VT_UI2, VT_UI4, VT_I8, VT_UI8, VT_INT, VT_UINT = (
    0x10,
    0x11,
    0x12,
    0x13,
    0x14,
    0x15,
    0x16,
    0x17,
)
VT_LPSTR, VT_LPWSTR, VT_FILETIME = 0x1E, 0x1F, 0x40
CP_WINUNICODE = 1200

_T = TypeVar("_T")


class PropertySetError(ValueError):
    """A property set stream that does not follow MS-OLEPS."""


@dataclass
class Section:
    fmtid: uuid.UUID
    codepage: int | None = None
    #: Property identifier → value as text.
    values: dict[int, str] = field(default_factory=dict)
    #: Property identifier → name (user-defined sections' dictionary, property 0).
    names: dict[int, str] = field(default_factory=dict)

    def named_pairs(self) -> list[tuple[str, str]]:
        return [(self.names[pid], value) for pid, value in self.values.items() if pid in self.names]


# --- MS-OLEPS property sets -------------------------------------------------------------


def _unpack(fmt: str, data: bytes, offset: int) -> tuple[Any, ...]:
    if offset < 0 or offset + struct.calcsize(fmt) > len(data):
        raise PropertySetError(f"a field at offset {offset} runs past the end")
    return struct.unpack_from(fmt, data, offset)


def _codec(codepage: int | None) -> str:
    if codepage is None:
        return "cp1252"
    if codepage == CP_WINUNICODE:
        return "utf-16-le"
    if codepage == 65001:
        return "utf-8"
    if codepage == 10000:
        return "mac_roman"
    name = f"cp{codepage}"
    try:
        "".encode(name)
    except LookupError:
        return "latin-1"
    return name


def _text(raw: bytes, codec: str) -> str:
    text = raw.decode(codec, errors="replace")
    return text.split("\x00", 1)[0]


def _value(data: bytes, offset: int, codepage: int | None) -> str | None:
    """One typed property value as text (``None`` for types that carry no label)."""
    (vtype,) = _unpack("<H", data, offset)
    body = offset + 4
    if vtype == VT_LPSTR:
        (size,) = _unpack("<I", data, body)
        if size > len(data) - body - 4:
            raise PropertySetError(f"a string of {size} bytes runs past the end")
        return _text(data[body + 4 : body + 4 + size], _codec(codepage))
    if vtype == VT_LPWSTR:
        (length,) = _unpack("<I", data, body)
        if 2 * length > len(data) - body - 4:
            raise PropertySetError(f"a string of {length} characters runs past the end")
        return _text(data[body + 4 : body + 4 + 2 * length], "utf-16-le")
    if vtype == VT_BOOL:
        (flag,) = _unpack("<H", data, body)
        return "true" if flag else "false"
    simple = {
        VT_I2: "<h",
        VT_I4: "<i",
        VT_R4: "<f",
        VT_R8: "<d",
        VT_I1: "<b",
        VT_UI1: "<B",
        VT_UI2: "<H",
        VT_UI4: "<I",
        VT_I8: "<q",
        VT_UI8: "<Q",
        VT_INT: "<i",
        VT_UINT: "<I",
    }
    if vtype in simple:
        (number,) = _unpack(simple[vtype], data, body)
        return str(number)
    return None


def _dictionary(data: bytes, offset: int, codepage: int | None, end: int) -> dict[int, str]:
    """The names of user-defined properties (property 0, MS-OLEPS 2.17)."""
    (count,) = _unpack("<I", data, offset)
    if count > _MAX_PROPERTIES:
        raise PropertySetError(f"a dictionary of {count} entries")
    names: dict[int, str] = {}
    position = offset + 4
    unicode = codepage == CP_WINUNICODE
    codec = _codec(codepage)
    for _ in range(count):
        pid, length = _unpack("<II", data, position)
        position += 8
        size = 2 * length if unicode else length
        if position + size > end:
            raise PropertySetError("a dictionary entry runs past its section")
        names[pid] = _text(data[position : position + size], codec)
        position += size
        if unicode and size % 4:
            position += 4 - size % 4
    return names


def _section(data: bytes, fmtid: uuid.UUID, start: int) -> Section:
    size, count = _unpack("<II", data, start)
    end = start + size
    if size < 8 or end > len(data):
        raise PropertySetError(f"a section of {size} bytes at offset {start} runs past the end")
    if count > min(_MAX_PROPERTIES, (size - 8) // 8):
        raise PropertySetError(f"{count} properties cannot fit in a {size}-byte section")
    entries = [_unpack("<II", data, start + 8 + 8 * index) for index in range(count)]
    section = Section(fmtid)
    offsets = {}
    for pid, relative in entries:
        if not 8 <= relative < size:
            raise PropertySetError(f"property {pid:#x} points outside its section")
        offsets[pid] = start + relative
    if 1 in offsets:  # the code page (VT_I2, read unsigned: 65001 is stored as -535)
        vtype, codepage = _unpack("<H2xH", data, offsets[1])
        if vtype == VT_I2:
            section.codepage = codepage
    if 0 in offsets:
        section.names = _dictionary(data, offsets[0], section.codepage, end)
    for pid, offset in offsets.items():
        if pid in (0, 1) or pid >= 0x80000000:
            continue
        value = _value(data, offset, section.codepage)
        if value is not None:
            section.values[pid] = value
    return section


def parse_property_set_stream(data: bytes) -> list[Section]:
    """The sections of a ``\\x05...Information`` stream (MS-OLEPS PropertySetStream)."""
    byte_order, _version, _system, _clsid, count = _unpack("<HHI16sI", data, 0)
    if byte_order != 0xFFFE:
        raise PropertySetError("not a property set (wrong byte-order mark)")
    if count > 8:
        raise PropertySetError(f"{count} sections in one property set")
    sections: list[Section] = []
    for index in range(count):
        raw_fmtid, offset = _unpack("<16sI", data, 28 + 20 * index)
        sections.append(_section(data, uuid.UUID(bytes_le=raw_fmtid), offset))
    return sections


# --- the compound file ------------------------------------------------------------------


_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def check_header(head: bytes) -> int:
    """The sector size, after checking the header fields olefile trusts (it only logs their
    defects): a damaged sector size would have it read sectors of gigabytes."""
    if len(head) < 512 or not head.startswith(_CFB_MAGIC):
        raise Unscannable("damaged OLE compound file (its 512-byte header is incomplete)")
    fields: tuple[int, int, int, int] = struct.unpack_from("<HHHH", head, 26)
    major, byte_order, sector_shift, mini_shift = fields
    cutoff: int = struct.unpack_from("<I", head, 56)[0]
    if byte_order != 0xFFFE or (major, sector_shift) not in ((3, 9), (4, 12)):
        raise Unscannable(
            f"damaged OLE compound file (version {major} with sector shift {sector_shift})"
        )
    if mini_shift != 6 or cutoff != 4096:
        raise Unscannable("damaged OLE compound file (its mini stream fields are wrong)")
    return 1 << sector_shift


class _Ole:
    """olefile behind a wall: its failures on bad input become Unscannable."""

    def __init__(self, source: Source, ctx: ScanContext) -> None:
        self.ctx = ctx
        self.sector_size = check_header(source.head(512))
        self.handle = source.open()
        try:
            self.file: olefile.OleFileIO[str] = self._guard(
                lambda: olefile.OleFileIO(self.handle), "damaged OLE compound file"
            )
        except BaseException:
            self.handle.close()
            raise

    def close(self) -> None:
        with contextlib.suppress(Exception):  # closing a damaged file must not hide its verdict
            self.file.close()
        self.handle.close()

    @staticmethod
    def _guard(step: Callable[[], _T], what: str) -> _T:
        try:
            return step()
        except (Unscannable, MemoryError):
            raise
        except RecursionError as exc:
            raise Unscannable(f"{what} (its directory tree loops or nests too deeply)") from exc
        except Exception as exc:  # olefile raises many types on bad input
            raise Unscannable(f"{what} ({type(exc).__name__}: {exc})") from exc

    def exists(self, path: str) -> bool:
        return bool(self._guard(lambda: self.file.exists(path), "damaged OLE directory"))

    def is_stream(self, path: str) -> bool:
        return self.exists(path) and self._guard(
            lambda: self.file.get_type(path) == olefile.STGTY_STREAM, "damaged OLE directory"
        )

    def streams(self) -> list[list[str]]:
        return self._guard(
            lambda: self.file.listdir(streams=True, storages=False), "damaged OLE directory"
        )

    def read(self, path: str, limit: int, *, head: int | None = None) -> bytes:
        self.ctx.check_time()
        shown = path.replace("\x05", "\\x05").replace("\x06", "\\x06").replace("\x09", "\\x09")
        size = self._guard(lambda: self.file.get_size(path), f"damaged OLE stream {shown}")
        if head is None and size > limit:
            raise Unscannable(f"OLE stream {shown} is {size} bytes (limit {limit})")

        def read() -> bytes:
            with self.file.openstream(path) as stream:
                return bytes(stream.read(head if head is not None else limit))

        return self._guard(read, f"cannot read OLE stream {shown}")

    def head(self, name: str, count: int) -> bytes:
        """The first bytes (at most one sector) of a top-level stream. olefile reads a whole
        stream into memory to open it; a WordDocument stream can be tens of megabytes."""
        self.ctx.check_time()
        kids = getattr(self.file.root, "kids", None) or []
        entry = next((k for k in kids if str(getattr(k, "name", "")).lower() == name.lower()), None)
        size = getattr(entry, "size", None)
        start = getattr(entry, "isectStart", None)
        if not isinstance(size, int) or not isinstance(start, int) or size < 4096:
            return self.read(name, 0, head=count)  # small: in the mini stream
        self.handle.seek((start + 1) * self.sector_size)
        return self.handle.read(min(count, size, self.sector_size))

    @property
    def root_clsid(self) -> str:
        root = self.file.root
        if root is None:
            return ""
        return str(self._guard(lambda: root.clsid, "damaged OLE directory") or "").upper()


def scan_ole(source: Source, ctx: ScanContext) -> None:
    """Labels of an OLE compound file: protected Office files and legacy Office formats."""
    ole = _Ole(source, ctx)
    try:
        _scan(ole, ctx)
    finally:
        ole.close()


def _kind(ole: _Ole, names: set[str]) -> str:
    if "worddocument" in names:
        return "doc"
    if "workbook" in names or "book" in names:
        return "xls"
    if "powerpoint document" in names:
        return "ppt"
    if "__properties_version1.0" in names or any(n.startswith("__substg1.0_") for n in names):
        return "msg"
    return _CLSID_KINDS.get(ole.root_clsid, "ole")


def _scan(ole: _Ole, ctx: ScanContext) -> None:
    streams = ole.streams()
    top = {path[0].lower() for path in streams if len(path) == 1}
    dataspaces = any(path[0] == "\x06DataSpaces" for path in streams)
    kind = _kind(ole, top)
    problems = Problems()
    found: list[Finding] = []

    def record(findings: list[Finding]) -> None:
        found.extend(findings)
        ctx.add_all(findings)

    rms = dataspaces and any(
        len(path) >= 3 and path[:3] == ["\x06DataSpaces", "TransformInfo", "DRMEncryptedTransform"]
        for path in streams
    )
    encrypted_package = "encryptedpackage" in top
    legacy_drm = "\x09drmcontent" in top or "\x09drmviewercontent" in top
    if encrypted_package or legacy_drm:
        ctx.refine_format("ole-rms" if rms or legacy_drm else "ole-encrypted")
    else:
        ctx.refine_format(kind)

    if ole.is_stream(LABELINFO_STREAM):
        problems.attempt(lambda: record(_labelinfo(ole)))
    problems.attempt(lambda: record(_property_sets(ole)))
    if kind == "msg":
        problems.attempt(lambda: record(_msg_labels(ole, streams)))

    if not found:
        reason = None
        if encrypted_package or legacy_drm:
            if rms or legacy_drm:
                reason = "encrypted (RMS-protected) Office file with no readable label"
            else:
                reason = "password-encrypted Office file with no readable label"
        elif "encryption" in top:
            reason = (
                f"password-encrypted {_KIND_NAMES[kind]} whose document properties are"
                " encrypted: no readable label"
            )
        else:
            try:
                encrypted = _legacy_encrypted(ole, kind)
            except BudgetExceeded:
                raise
            except Unscannable as exc:
                problems.reasons.append(exc.reason)
                encrypted = False
            if encrypted:
                reason = f"password-encrypted {_KIND_NAMES[kind]} with no readable label"
        if reason is not None:
            problems.reasons.insert(0, reason)
    problems.raise_any()


def _labelinfo(ole: _Ole) -> list[Finding]:
    data = ole.read(LABELINFO_STREAM, _MAX_METADATA_STREAM)
    xml = _xml_in(data)
    if xml is None:
        raise Unscannable(f"{LABELINFO_WHERE} holds no XML label list")
    labels = labelinfo_labels(xml, LABELINFO_WHERE, LABELINFO_WHERE)
    return reconcile_mip(labels, [])


_XML_DECLARATIONS = (
    b"\xef\xbb\xbf<?xml",
    b"\xff\xfe<\x00?\x00",
    b"<?xml",
    b"<\x00?\x00x\x00m\x00l\x00",
)
_ELEMENT_UTF8 = re.compile(rb"<[A-Za-z_]")
_ELEMENT_UTF16 = re.compile(rb"<\x00[A-Za-z_]\x00")


def _xml_in(data: bytes) -> bytes | None:
    """The XML document in a stream that may start with a length/version header."""
    starts = [index for index in (data.find(p) for p in _XML_DECLARATIONS) if index >= 0]
    if not starts:
        starts = [m.start() for m in (_ELEMENT_UTF8.search(data), _ELEMENT_UTF16.search(data)) if m]
    if not starts:
        return None
    xml = data[min(starts) :]
    utf16 = xml.startswith((b"\xff\xfe", b"<\x00"))
    end = xml.rfind(b">\x00" if utf16 else b">")
    return xml[: end + (2 if utf16 else 1)] if end >= 0 else xml


def _place(where: str) -> Callable[[str], str]:
    """One place for every property of a set."""
    return lambda _key: where


def _property_sets(ole: _Ole) -> list[Finding]:
    """Labels in the user-defined properties and the keywords, read as one property set so
    that a TitusGUID property and a ``CTPClassification=`` keyword make one Titus label."""
    pairs: list[tuple[str, str]] = []
    keywords: str | None = None
    for stream in (SUMMARY_STREAM, DOC_SUMMARY_STREAM):
        if not ole.is_stream(stream):
            continue
        data = ole.read(stream, _MAX_METADATA_STREAM)
        shown = stream.replace("\x05", "\\x05")
        try:
            sections = parse_property_set_stream(data)
        except (PropertySetError, struct.error, UnicodeError) as exc:
            raise Unscannable(f"damaged property set in OLE stream {shown} ({exc})") from exc
        for section in sections:
            if section.fmtid == FMTID_SUMMARY and stream == SUMMARY_STREAM:
                keywords = section.values.get(PIDSI_KEYWORDS) or keywords
            elif section.fmtid == FMTID_USER_DEFINED and stream == DOC_SUMMARY_STREAM:
                pairs.extend(section.named_pairs())
    user_defined = list(pairs)
    if keywords is not None and keywords.strip():
        # A user-defined property named "Keywords" is not something Office writes.
        pairs.append(("Keywords", keywords))

    def where(key: str) -> str:
        return KEYWORDS_WHERE if key == "Keywords" and keywords else USER_DEFINED_WHERE

    findings = [label.to_finding() for label in mip_from_pairs(user_defined, where) if label.active]
    findings.extend(classic_from_pairs(pairs, where))
    return findings


def _msg_labels(ole: _Ole, streams: list[list[str]]) -> list[Finding]:
    """``msip_labels`` of an Outlook message: a named string property and/or a header."""
    findings: list[Finding] = []
    candidates = [
        path[0] for path in streams if len(path) == 1 and _MSG_NAMED_STRING.match(path[0])
    ]
    for name in candidates[:_MAX_MSG_STREAMS]:
        raw = ole.read(name, _MAX_MSG_PROPERTY, head=_MAX_MSG_PROPERTY)
        text = _msg_text(raw, name)
        if "MSIP_Label_" not in text:
            continue
        pairs = parse_msip_header(text)
        where = _place(f"msg property msip_labels ({name})")
        findings.extend(
            label.to_finding() for label in mip_from_pairs(pairs, where) if label.active
        )
    if ole.is_stream(_MSG_TRANSPORT_HEADERS):
        raw = ole.read(_MSG_TRANSPORT_HEADERS, _MAX_MSG_PROPERTY, head=_MAX_MSG_PROPERTY)
        header = _MSIP_HEADER.search(_msg_text(raw, _MSG_TRANSPORT_HEADERS))
        if header is not None:
            value = re.sub(r"\r?\n[ \t]+", " ", header.group(1))
            where = _place("msg transport headers, msip_labels")
            labels = mip_from_pairs(parse_msip_header(value), where)
            findings.extend(label.to_finding() for label in labels if label.active)
    return findings


def _msg_text(raw: bytes, name: str) -> str:
    codec = "utf-16-le" if name.upper().endswith("001F") else "cp1252"
    if codec == "utf-16-le" and len(raw) % 2:
        raw = raw[:-1]
    return raw.decode(codec, errors="replace").rstrip("\x00")


def _legacy_encrypted(ole: _Ole, kind: str) -> bool:
    """Whether a legacy document's content is password-encrypted (its properties stay clear)."""
    if kind == "doc" and ole.is_stream("WordDocument"):
        fib = ole.head("WordDocument", 32)
        if len(fib) >= 12:
            (flags,) = struct.unpack_from("<H", fib, 10)
            return bool(flags & 0x0100)  # FibBase.fEncrypted
    elif kind == "xls":
        name = "Workbook" if ole.is_stream("Workbook") else "Book"
        if ole.is_stream(name):
            return _xls_filepass(ole.head(name, 8192))
    elif kind == "ppt" and ole.is_stream("Current User"):
        current = ole.read("Current User", 0, head=16)
        if len(current) >= 16:
            token: int = struct.unpack_from("<I", current, 12)[0]
            return token == 0xF3D1C4DF  # CurrentUserAtom.headerToken of an encrypted file
    return False


def _xls_filepass(data: bytes) -> bool:
    """A FILEPASS record among the first records of the workbook globals."""
    offset = 0
    for _ in range(64):
        if offset + 4 > len(data):
            return False
        record, size = struct.unpack_from("<HH", data, offset)
        if record == 0x002F:
            return True
        if record == 0x000A:  # EOF of the globals
            return False
        offset += 4 + size
    return False
