"""PDF labels: Info dictionary keys, XMP metadata, and visible markings on the first/last page.

pikepdf (qpdf) reads the metadata: it lists the Info dictionary's keys and decoded values
(PDFium has no call that lists the keys) wherever the dictionary is stored (in the clear, in a
compressed object stream, behind an owner password) and reads the catalog's ``/Metadata``
stream (XMP). PDFium (pypdfium2) reads the text of the first and last pages for markings.

When qpdf cannot open the file (it needs a password, or it is too damaged) or loses its Info
dictionary, a scan of the raw first and last ``pdf_raw_window`` bytes takes over: names are
never encrypted, so label key names (``/MSIP_Label_<guid>_Enabled``, ``/TitusGUID``, …) are
still seen, and XMP packets stored uncompressed are read. PDFium gives those keys' values when
it can open the file. The scan is a search, not a parser.

What counts as read (decided here, on purpose):
- A label found anywhere (Info, XMP, a marking) is reported even when another part of the file
  could not be read; the unreadable part is then a note, not "unscannable", because the label
  already puts the file under the policy.
- With no label found, anything that could not be read (PDFium cannot open the file, a page
  cannot be loaded, a password is needed, the file is truncated, the XMP stream is over the
  size limit) makes it ``Unscannable``: a file we could not read is never "clean".
- A password-protected PDF: a MIP key name in the clear carries the label's GUID, which is the
  label's identity; its value is unreadable, so the label is presumed enabled (a removed label
  has its keys deleted, so a present but unreadable key is far more likely a live label).
"""

from __future__ import annotations

import ctypes
import io
import logging
import os
import re
import threading
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

import pikepdf
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from sendguard.labels.context import DEFAULT_LIMITS, ScanContext, Source, Unscannable
from sendguard.labels.markings import Zone, find_markings
from sendguard.labels.model import Finding, Scheme
from sendguard.labels.properties import MSIP_KEY, findings_from_pairs
from sendguard.labels.xmp import find_xmp_labels, is_label_key, iter_xmp_packets

#: PDFium is not thread-safe: every pypdfium2 call in the process goes through this lock.
PDFIUM_LOCK = threading.Lock()

# qpdf inflates whole object streams with no cap of its own: bound the memory one Flate
# stream may take, process-wide (this module is the only user of pikepdf here).
pikepdf.settings.set_qpdf_limits(flate_max_memory=DEFAULT_LIMITS.pdf_max_stream_size)

#: Share of the page height read as the top and the bottom band (headers and footers).
BAND = 0.12
#: Lines at each end of a page's text passed as edge lines.
EDGE_LINES = 3
#: Acrobat requires %%EOF within the last 1024 bytes; a file without it was cut short.
_EOF_WINDOW = 1024
#: Flate expands at most ~1032:1; a filter chain qpdf decodes (not bounded by us) is only
#: decoded when even that ratio keeps its output near the stream size limit.
_MAX_EXPANSION = 1024

#: What qpdf raises for a file it cannot read (std::runtime_error arrives as RuntimeError).
_QPDF_ERRORS = (pikepdf.PikepdfError, RuntimeError)
#: Key names in raw bytes (the fallback), with the value right after them when it is a plain
#: literal string (no escapes: the scan does not decode PDF strings).
_CANDIDATE_NAME = re.compile(
    rb"/((?:MSIP|Titus|CTP|bj)[^\x00\t\n\x0c\r /%()<>\[\]{}]{0,124}|Keywords"
    rb"|(?i:(?:security|document|datatype|protective)?(?:#20)?"
    rb"(?:classification|sensitivity|marking)))(?=[\x00\t\n\x0c\r /%()<>\[\]{}]|\Z)"
    rb"(?:[\x00\t\n\x0c\r ]*\(([^()\\\r\n]{0,4096})\))?"
)
_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_FLATE = (["/FlateDecode"], ["/Fl"])

#: qpdf reports some damage (a page tree entry that is not a dictionary, …) through the
#: Python logger "pikepdf._core" rather than `Pdf.get_warnings`; with no handler configured,
#: logging would print it on stderr. Records raised while this module reads a file, in the
#: reading thread, are dropped; everyone else's pikepdf logs are left alone.
_QPDF_LOG = logging.getLogger("pikepdf._core")
_reading = threading.local()


def _not_while_reading(record: logging.LogRecord) -> bool:
    return not getattr(_reading, "active", False)


_QPDF_LOG.addFilter(_not_while_reading)


@contextmanager
def _quiet_qpdf() -> Iterator[None]:
    _reading.active = True
    try:
        yield
    finally:
        _reading.active = False


_PDFIUM_ERRORS = {
    pdfium_c.FPDF_ERR_UNKNOWN: "an unknown error",
    pdfium_c.FPDF_ERR_FILE: "the file could not be opened",
    pdfium_c.FPDF_ERR_FORMAT: "it is not a valid PDF or is damaged",
    pdfium_c.FPDF_ERR_PASSWORD: "it needs a password",
    pdfium_c.FPDF_ERR_SECURITY: "its encryption scheme is not supported",
    pdfium_c.FPDF_ERR_PAGE: "a page is damaged",
}


def scan_pdf(source: Source, ctx: ScanContext) -> None:
    """Report every label in a PDF: Info keys, XMP, and markings on its first and last page."""
    ctx.refine_format("pdf")
    scan = _Scan(ctx)
    data = source.read_all(source.size) if source.path is None else None
    meta = _read_metadata(source, data, ctx)
    for packet in meta.packets:
        scan.add(find_xmp_labels(packet, "XMP"))
        ctx.check_time()
    if meta.pairs is not None:
        scan.add(findings_from_pairs(meta.pairs, _info_place))
    for reason in meta.problems:
        scan.problem(reason)
    ctx.check_time()
    with PDFIUM_LOCK:
        document, error = _open(source.path, data)
        if document is not None:
            try:
                if meta.pairs is None:
                    _read_info(document, meta, scan)
                ctx.check_time()
                _read_pages(document, scan)
            finally:
                document.close()
    if document is None:
        _report_unopenable(meta, error, scan)
    for number, picture in scan.unread_pages:
        # OCR after PDFium's lock is released: other scans need PDFium meanwhile.
        from sendguard.labels.ocr import read_markings

        ctx.check_time()
        scan.add(read_markings(picture, f"page {number} (scanned)", ctx, decoded=True))
    scan.finish()


# --- Findings bookkeeping -----------------------------------------------------------------------


class _Scan:
    """Findings of this PDF and the problems met on the way (see the module docstring)."""

    def __init__(self, ctx: ScanContext) -> None:
        self.ctx = ctx
        self.found = False
        self.problems: list[str] = []
        #: Pages without text rendered for OCR (page number, picture).
        self.unread_pages: list[tuple[int, Any]] = []

    def add(self, findings: Iterable[Finding]) -> None:
        for finding in findings:
            self.found = True
            self.ctx.add(finding)

    def problem(self, reason: str) -> None:
        if reason not in self.problems:
            self.problems.append(reason)

    def finish(self) -> None:
        if not self.problems:
            return
        if not self.found:
            raise Unscannable("; ".join(self.problems))
        where = f"{self.ctx.prefix}: " if self.ctx.prefix else ""
        for reason in self.problems:
            self.ctx.findings.notes.append(f"{where}{reason} (the labels found are reported)")


# --- Metadata: qpdf, or a scan of the raw bytes -------------------------------------------------


@dataclass
class _Metadata:
    #: The Info dictionary's (key, value) pairs as qpdf read them (decrypted and decoded);
    #: None when qpdf could not read the Info dictionary.
    pairs: list[tuple[str, str]] | None = None
    #: When `pairs` is None: label key names found in the raw bytes, each with the plain
    #: literal value written after it (None when there is none; encrypted if `encrypted`).
    names: dict[str, str | None] = field(default_factory=dict)
    packets: list[bytes] = field(default_factory=list)
    encrypted: bool = False
    problems: list[str] = field(default_factory=list)


def _read_metadata(source: Source, data: bytes | None, ctx: ScanContext) -> _Metadata:
    """The Info pairs and the XMP packets, read by qpdf; a raw scan fills what qpdf could not."""
    meta = _Metadata()
    truncated = False
    xmp_read = False
    try:
        truncated = b"%%EOF" not in source.tail(_EOF_WINDOW)
        with (
            _quiet_qpdf(),
            pikepdf.open(
                io.BytesIO(data) if data is not None else str(source.path),
                password="",
                suppress_warnings=True,  # qpdf keeps its warnings (get_warnings) off stderr
                inherit_page_attributes=False,  # it would visit every page at open
            ) as pdf,
        ):
            meta.encrypted = pdf.is_encrypted
            meta.pairs = _info_pairs(pdf, ctx)
            ctx.check_time()
            xmp_read = _read_xmp(pdf, meta, ctx.limits.pdf_max_stream_size)
    except pikepdf.PasswordError:
        meta.encrypted = True
    except _QPDF_ERRORS:
        pass  # damaged beyond qpdf's repair: what it read so far stays, the scan does the rest
    except OSError as exc:
        raise Unscannable(f"the PDF could not be read: {exc.strerror or exc}") from exc
    if truncated:
        meta.problems.append(
            "the PDF is truncated: it has no end-of-file marker in its last 1024 bytes"
        )
    ctx.check_time()
    if meta.pairs is None or not xmp_read:
        _scan_raw(source, meta, ctx, packets=not xmp_read)
    return meta


def _info_pairs(pdf: pikepdf.Pdf, ctx: ScanContext) -> list[tuple[str, str]] | None:
    """Every Info key with a scalar value, or None when the Info dictionary was lost (qpdf
    drops an object it cannot parse, such as one nested too deeply, and says so in a warning)."""
    info = pdf.trailer.get("/Info")
    if not isinstance(info, pikepdf.Dictionary):
        return [] if info is None and not pdf.get_warnings() else None
    pairs: list[tuple[str, str]] = []
    # Every key is kept, not only label-like ones: properties.py decides what they mean.
    for count, (key, value) in enumerate(info.items()):
        if count % 256 == 255:
            ctx.check_time()
        text = _value_text(value)
        if text:
            pairs.append((_name_text(key), text))
    return pairs


def _value_text(value: object) -> str | None:
    """A scalar Info value as text (qpdf decodes PDFDocEncoding and UTF-16 strings)."""
    if isinstance(value, pikepdf.String):
        return str(value)
    if isinstance(value, pikepdf.Name):
        return _text(bytes(value).removeprefix(b"/"))
    if isinstance(value, bool | pikepdf.Boolean):  # pikepdf's implicit or explicit mode
        return "true" if value else "false"
    if isinstance(value, int | Decimal | pikepdf.Integer | pikepdf.Real):
        return str(value)
    return None


def _name_text(name: str) -> str:
    """A dictionary key from qpdf (``/Protective Marking``) without its slash; pikepdf hands
    bytes that are not UTF-8 over as surrogate escapes."""
    return _text(name.removeprefix("/").encode("utf-8", "surrogateescape"))


def _text(raw: bytes) -> str:
    """A name's bytes as text: UTF-8 (as PDF 2.0 says), else Latin-1."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _read_xmp(pdf: pikepdf.Pdf, meta: _Metadata, limit: int) -> bool:
    """The catalog's XMP packet; False when there is no catalog to read it from."""
    root = pdf.trailer.get("/Root")
    if not isinstance(root, pikepdf.Dictionary):
        return False
    stream = root.get("/Metadata")
    if not isinstance(stream, pikepdf.Stream):
        return True  # no document XMP
    data = _stream_data(stream, limit, meta)
    if data:
        packets = list(iter_xmp_packets(data))
        # Some writers store a bare rdf:RDF without the xmpmeta wrapper.
        meta.packets.extend(packets or ([data] if b"rdf:RDF" in data else []))
    return True


def _stream_data(stream: pikepdf.Stream, limit: int, meta: _Metadata) -> bytes | None:
    """The decoded stream, at most `limit` bytes of it; None when it is refused as too big or
    cannot be decoded. Flate output is cut at `limit` while inflating (labels come early in a
    packet); a stream whose stored bytes are over `limit` is refused."""
    declared = stream.get("/Length")
    size = int(declared) if isinstance(declared, int | pikepdf.Integer) else 0
    raw = stream.read_raw_bytes() if size <= limit else b""  # decrypted, still encoded
    size = max(size, len(raw))
    if size > limit:
        meta.problems.append(
            f"the PDF's XMP metadata stream ({size} bytes) is over the {limit}-byte limit"
            " and was not read"
        )
        return None
    filters = stream.get("/Filter")
    chain = [str(name) for name in filters] if isinstance(filters, pikepdf.Array) else []
    if isinstance(filters, pikepdf.Name):
        chain = [str(filters)]
    if not chain:
        return raw[:limit]
    if chain in _FLATE and "/DecodeParms" not in stream:
        try:
            return zlib.decompressobj().decompress(raw, limit)
        except zlib.error:
            return None  # damaged
    if size * _MAX_EXPANSION > limit:
        meta.problems.append(
            f"the PDF's XMP metadata stream uses filters {' '.join(chain)} and is too big"
            " to decode within the size limit; it was not read"
        )
        return None
    return stream.read_bytes()[:limit]


def _scan_raw(source: Source, meta: _Metadata, ctx: ScanContext, *, packets: bool) -> None:
    """Label key names and uncompressed XMP packets in the first and last bytes: what can be
    found when qpdf could not read the Info dictionary (or the catalog)."""
    try:
        head, tail = source.edges(ctx.limits.pdf_raw_window)
    except OSError as exc:
        raise Unscannable(f"the PDF could not be read: {exc.strerror or exc}") from exc
    # The tail first: the latest object definitions are the ones that count.
    windows = [window for window in (tail, head) if window]
    meta.encrypted = meta.encrypted or any(b"/Encrypt" in window for window in windows)
    if meta.pairs is None:
        for window in windows:
            for match in _CANDIDATE_NAME.finditer(window):
                name = _raw_name(match.group(1))
                if name == "Keywords" or is_label_key(name):
                    value = match.group(2)
                    text = value.decode("latin-1") if value is not None else None
                    if meta.names.get(name) is None:
                        meta.names[name] = text
            ctx.check_time()
    if packets:
        for window in windows:
            meta.packets.extend(iter_xmp_packets(window))


def _raw_name(token: bytes) -> str:
    """A name as written (``Protective#20Marking``) as text (``Protective Marking``)."""
    return _text(_NAME_ESCAPE.sub(lambda match: bytes([int(match.group(1), 16)]), token))


# --- PDFium: values of the names the raw scan found, page text --------------------------------


def _open(path: str | None, data: bytes | None) -> tuple[Any, int]:
    """The document (or None) and PDFium's error code; call with PDFIUM_LOCK held. PDFium
    reads `data` lazily: the caller keeps it alive until the document is closed.

    The raw loader is used rather than ``PdfDocument(path)`` so a load that succeeds with no
    pages is still a document we can read metadata from and close.
    """
    if path is not None:
        handle = pdfium_c.FPDF_LoadDocument(os.fsencode(path), None)
    else:
        data = data or b""
        handle = pdfium_c.FPDF_LoadMemDocument64(data, len(data), None)
    if not handle:
        return None, int(pdfium_c.FPDF_GetLastError())
    return pdfium.PdfDocument(handle), 0


def _meta_text(document: Any, key: str) -> str:
    """The decoded (and decrypted) value of one Info key; "" when absent."""
    tag = key.encode("utf-8")
    size = int(pdfium_c.FPDF_GetMetaText(document.raw, tag, None, 0))
    if size <= 2:
        return ""
    buffer = ctypes.create_string_buffer(size)
    pdfium_c.FPDF_GetMetaText(document.raw, tag, buffer, size)
    return buffer.raw[: size - 2].decode("utf-16-le", errors="replace")


def _read_info(document: Any, meta: _Metadata, scan: _Scan) -> None:
    """The values of the key names the raw scan found (when qpdf could not read the Info
    dictionary), and of Keywords, which carries Titus labels and may be anywhere."""
    pairs: list[tuple[str, str]] = []
    for count, key in enumerate(dict.fromkeys([*meta.names, "Keywords"])):
        if count % 256 == 255:
            scan.ctx.check_time()
        value = _meta_text(document, key)
        if value:
            pairs.append((key, value))
    scan.add(findings_from_pairs(pairs, _info_place))


def _info_place(key: str) -> str:
    return f"PDF Info /{key.lstrip('/')}"


def _read_pages(document: Any, scan: _Scan) -> None:
    count = int(pdfium_c.FPDF_GetPageCount(document.raw))
    if count <= 0:
        scan.problem("the PDF has no page that can be read")
        return
    texts = 0
    for index in dict.fromkeys((0, count - 1)):
        scan.ctx.check_time()
        try:
            top, bottom, body = _page_text(document, index)
        except Exception as exc:  # PDFium reports damage as errors of any kind
            scan.problem(f"page {index + 1} of the PDF could not be read ({exc})")
            continue
        texts += bool(body.strip())
        scan.add(_page_markings(index + 1, top, bottom, body))
    if texts == 0 and not scan.found:
        if scan.ctx.depth == 0 and scan.ctx.limits.ocr:
            for index in dict.fromkeys((0, count - 1)):
                scan.ctx.check_time()
                picture = _render(document, index)
                if picture is not None:
                    scan.unread_pages.append((index + 1, picture))
            return
        if scan.ctx.depth == 0:
            scan.ctx.findings.ocr_pending = True
        scan.ctx.findings.notes.append(
            "the PDF's first and last pages have no text (a scan?): visible markings"
            " were not checked"
        )


#: Scanned pages are rendered this many pixels long for OCR.
_RENDER_SIDE = 1800


def _render(document: Any, index: int) -> Any:
    """Page `index` as a picture for OCR (None when PDFium cannot draw it)."""
    page = document.get_page(index)
    try:
        width, height = page.get_size()
        scale = _RENDER_SIDE / max(width, height, 1.0)
        return page.render(scale=scale, rotation=0, may_draw_forms=True).to_pil()
    except Exception:  # a page that cannot be drawn: OCR is skipped, the note stays
        return None
    finally:
        page.close()


def _page_text(document: Any, index: int) -> tuple[str, str, str]:
    """The text in the page's top band, its bottom band, and all of it."""
    page = document.get_page(index)
    try:
        textpage = page.get_textpage()
        try:
            left, bottom, right, top = page.get_bbox()
            top_band, bottom_band = _bands(left, bottom, right, top, int(page.get_rotation()))
            return (
                str(textpage.get_text_bounded(*top_band)),
                str(textpage.get_text_bounded(*bottom_band)),
                str(textpage.get_text_range()),
            )
        finally:
            textpage.close()
    finally:
        page.close()


Rect = tuple[float, float, float, float]


def _bands(
    left: float, bottom: float, right: float, top: float, rotation: int
) -> tuple[Rect, Rect]:
    """The (left, bottom, right, top) rectangles that are the top and bottom of the page as
    shown. /Rotate turns the page clockwise for display, so with 90° the left edge is on top."""
    width, height = right - left, top - bottom
    high = (left, top - height * BAND, right, top)
    low = (left, bottom, right, bottom + height * BAND)
    west = (left, bottom, left + width * BAND, top)
    east = (right - width * BAND, bottom, right, top)
    return {90: (west, east), 180: (low, high), 270: (east, west)}.get(rotation % 360, (high, low))


def _page_markings(number: int, top: str, bottom: str, body: str) -> list[Finding]:
    """Markings in the bands (header/footer rules) and in the first/last lines of the text
    (edge-line rules); an edge-line sighting of a marking already seen in a band is the same
    text seen twice and is dropped."""
    findings = find_markings(top, f"page {number}, top lines", Zone.HEADER_FOOTER)
    findings += find_markings(bottom, f"page {number}, bottom lines", Zone.HEADER_FOOTER)
    seen = {finding.identity() for finding in findings}
    lines = [line for line in body.splitlines() if line.strip()]
    if lines:
        edges = [
            ("\n".join(lines[:EDGE_LINES]), f"page {number}, first lines"),
            ("\n".join(lines[-EDGE_LINES:]), f"page {number}, last lines"),
        ]
        for text, where in edges:
            for finding in find_markings(text, where, Zone.EDGE_LINE):
                if finding.identity() not in seen:
                    seen.add(finding.identity())
                    findings.append(finding)
    return findings


# --- A PDF PDFium cannot open -------------------------------------------------------------------


def _report_unopenable(meta: _Metadata, error: int, scan: _Scan) -> None:
    """Labels readable without PDFium: what qpdf read (already added) or the key names the raw
    scan found; the reason PDFium gave is recorded as a problem."""
    needs_password = error == pdfium_c.FPDF_ERR_PASSWORD
    pairs: list[tuple[str, str]] = []
    presumed: set[str] = set()
    for key, value in meta.names.items() if meta.pairs is None else ():
        mip = MSIP_KEY.match(key)
        if value is not None and not meta.encrypted:
            pairs.append((key, value))  # a damaged file's Info, read as written
        elif mip:
            enabled = mip.group(2).lower() == "enabled"
            # Presumed enabled: see the module docstring.
            pairs.append((key, "true" if enabled else ""))
            presumed.add(mip.group(1).lower())
    note = ("values", "unreadable; the label is presumed enabled")
    scan.add(
        replace(finding, attributes=(*finding.attributes, note))
        if finding.scheme is Scheme.MIP and finding.guid in presumed
        else finding
        for finding in findings_from_pairs(pairs, _info_place)
    )
    if needs_password and scan.found:
        reason = "encrypted PDF: needs a password to read; its pages were not checked"
    elif needs_password:
        unread = [key for key in meta.names if not MSIP_KEY.match(key) and is_label_key(key)]
        reason = "encrypted PDF: needs a password to read, no label readable in the clear"
        if unread:
            reason += (
                f" (label keys {', '.join(unread)} are present but their values are encrypted)"
            )
    else:
        plain = _PDFIUM_ERRORS.get(error, f"PDFium error {error}")
        reason = f"the PDF could not be opened: {plain}"
    scan.problem(reason)
