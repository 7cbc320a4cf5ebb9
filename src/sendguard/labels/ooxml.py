"""Office Open XML packages (docx, xlsx, pptx, vsdx and their macro/template variants).

Labels live in three small metadata parts, found through ``_rels/.rels``:

- ``docProps/custom.xml``: MIP ``MSIP_Label_<guid>_*``, Titus, Boldon James and
  classification properties;
- ``docMetadata/LabelInfo.xml``: the MIP label list newer Office versions write (for its
  tenant it wins over custom.xml);
- ``docProps/core.xml``: ``cp:keywords``, where Titus may write ``CTPClassification=...``.

Visible markings are looked for where people put them: Word headers, footers and watermarks
and the first/last paragraphs of the body; Excel page header/footer codes and the first
shared strings; PowerPoint slide masters, layouts and footers, and the first and last slide.
Only the zip directory and those few parts are read; body parts are inflated as a stream of
which only the start and the end are kept, and display text is taken with pre-compiled
regular expressions (a truncated body cannot be parsed strictly). Metadata parts are parsed
strictly with defusedxml.

The helpers for strict metadata XML, tolerant paragraph extraction and streamed members are
shared with :mod:`sendguard.labels.odf` and :mod:`sendguard.labels.ole`.
"""

from __future__ import annotations

import html
import posixpath
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from urllib.parse import unquote
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException, EntitiesForbidden
from defusedxml import ElementTree as SafeET

from sendguard.labels.context import BudgetExceeded, ScanContext, Unscannable
from sendguard.labels.markings import Zone, find_markings
from sendguard.labels.properties import (
    MipLabel,
    classic_from_pairs,
    mip_from_labelinfo,
    mip_from_pairs,
    reconcile_mip,
)
from sendguard.labels.safezip import read_member, scan_members, stream_member

#: How many non-empty paragraphs at each end of a body are banner candidates.
EDGE_PARAGRAPHS = 5
#: Excel: how many shared strings (and inline strings of the first sheet) are candidates.
EXCEL_FIRST_STRINGS = 20
#: Excel: worksheets are inflated as a stream to reach their ``<headerFooter>`` (it sits near
#: the end); past this many inflated bytes over all sheets the rest are left unchecked.
EXCEL_SHEET_SCAN_LIMIT = 64 * 1024 * 1024
_CHUNK = 64 * 1024
#: Small parts (rels, [Content_Types].xml, headers, slides) are read this far at most.
_SMALL_PART = 256 * 1024

LABELINFO_REL = "http://schemas.microsoft.com/office/2020/02/relationships/classificationlabels"
CUSTOM_PART = "docProps/custom.xml"
CORE_PART = "docProps/core.xml"
LABELINFO_PART = "docMetadata/LabelInfo.xml"
#: The name core.xml keywords are passed to properties.py under.
_KEYWORDS = "Keywords"

#: The main part's content type names the precise format (compared in lower case).
_MAIN_TYPES: dict[str, str] = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml": "docx",
    "application/vnd.ms-word.document.macroenabled.main+xml": "docm",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml": "dotx",
    "application/vnd.ms-word.template.macroenabledtemplate.main+xml": "dotm",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml": "xlsx",
    "application/vnd.ms-excel.sheet.macroenabled.main+xml": "xlsm",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml": "xltx",
    "application/vnd.ms-excel.template.macroenabled.main+xml": "xltm",
    "application/vnd.ms-excel.addin.macroenabled.main+xml": "xlam",
    "application/vnd.ms-excel.sheet.binary.macroenabled.main": "xlsb",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml": "pptx",
    "application/vnd.ms-powerpoint.presentation.macroenabled.main+xml": "pptm",
    "application/vnd.openxmlformats-officedocument.presentationml.template.main+xml": "potx",
    "application/vnd.ms-powerpoint.template.macroenabled.main+xml": "potm",
    "application/vnd.openxmlformats-officedocument.presentationml.slideshow.main+xml": "ppsx",
    "application/vnd.ms-powerpoint.slideshow.macroenabled.main+xml": "ppsm",
    "application/vnd.ms-powerpoint.addin.macroenabled.main+xml": "ppam",
    "application/vnd.ms-visio.drawing.main+xml": "vsdx",
    "application/vnd.ms-visio.drawing.macroenabled.main+xml": "vsdm",
    "application/vnd.ms-visio.template.main+xml": "vstx",
    "application/vnd.ms-visio.template.macroenabled.main+xml": "vstm",
    "application/vnd.ms-visio.stencil.main+xml": "vssx",
    "application/vnd.ms-visio.stencil.macroenabled.main+xml": "vssm",
}
_WORD = frozenset({"docx", "docm", "dotx", "dotm"})
_EXCEL = frozenset({"xlsx", "xlsm", "xltx", "xltm", "xlam"})
_POWERPOINT = frozenset({"pptx", "pptm", "potx", "potm", "ppsx", "ppsm", "ppam"})
#: When the content type is missing or unknown, the main part's usual name says the family.
_MAIN_BY_NAME = {
    "word/document.xml": "docx",
    "xl/workbook.xml": "xlsx",
    "ppt/presentation.xml": "pptx",
    "visio/document.xml": "vsdx",
}

# --- tolerant XML scanning -------------------------------------------------------------

_ATTR = re.compile(r"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_RELATIONSHIP = re.compile(r"<(?:\w+:)?Relationship\b([^>]*)>")
_CT_OVERRIDE = re.compile(r"<(?:\w+:)?Override\b([^>]*)>")
_CT_DEFAULT = re.compile(r"<(?:\w+:)?Default\b([^>]*)>")

#: Paragraphs and text runs of WordprocessingML / DrawingML / SpreadsheetML, any prefix.
#: One leading ``<`` for all alternatives lets the engine skip to the next tag quickly.
_OOXML_TOKEN = re.compile(
    r"<(?:(?P<close>/(?:\w+:)?p>)"
    r"|(?:\w+:)?(?:"
    r"(?P<open>p(?:\s[^>]*)?>)"
    r"|t(?:\s[^>]*)?>(?P<text>[^<]*)(?:</(?:\w+:)?t>|\Z)"
    r"|(?P<tab>tab(?:\s[^>]*)?/>)"
    r"|(?P<br>(?:br|cr)(?:\s[^>]*)?/>)"
    r")"
    r"|v:textpath\b[^>]*?\sstring=\"(?P<textpath>[^\"]*)\")"
)
_OOXML_PARAGRAPH_OPEN = re.compile(r"<(?:\w+:)?p[\s>]")

#: PowerPoint shapes and their placeholder type.
_PPT_SHAPE = re.compile(r"<p:sp\b.*?</p:sp>", re.DOTALL)
_PPT_PLACEHOLDER = re.compile(r"<p:ph\b([^>]*)>")
_PPT_SHAPE_NAME = re.compile(r"<p:cNvPr\b[^>]*?\sname=\"([^\"]*)\"")
_PPT_SLIDE_ID = re.compile(r"<p:sldId\b([^>]*)>")
#: Placeholders that repeat on every slide like a page footer.
_PPT_FOOTER_TYPES = frozenset({"ftr", "hdr", "dt", "sldNum"})

#: Excel.
_XL_SHEET = re.compile(r"<(?:\w+:)?sheet\b([^>]*)>")
_XL_SHARED_STRING = re.compile(r"<(?:\w+:)?si>(.*?)</(?:\w+:)?si>", re.DOTALL)
_XL_INLINE_STRING = re.compile(r"<(?:\w+:)?is>(.*?)</(?:\w+:)?is>", re.DOTALL)
_XL_TEXT = re.compile(r"<(?:\w+:)?t(?:\s[^>]*)?>([^<]*)</(?:\w+:)?t>")
_XL_HEADER_FOOTER_START = re.compile(rb"<(?:\w+:)?headerFooter\b")
_XL_HEADER_FOOTER_END = re.compile(rb"</(?:\w+:)?headerFooter>|<(?:\w+:)?headerFooter\b[^>]*/>")
_XL_HF_PART = re.compile(
    r"<(?:\w+:)?(oddHeader|oddFooter|evenHeader|evenFooter|firstHeader|firstFooter)(?:\s[^>]*)?>"
    r"([^<]*)</"
)
#: Excel header/footer codes (after XML unescaping): sections, fonts, sizes, colours, fields.
_XL_HF_CODE = re.compile(r'&&|&"[^"]*"|&K(?:[0-9A-Fa-f]{6}|\d\d[+-]\d{3})|&\d+|&[LCR]|&[A-Za-z]')
_WORD_HEADER_FOOTER = re.compile(r"^(?:header|footer)\d*\.xml$", re.IGNORECASE)
_NUMBER = re.compile(r"(\d+)")


def natural_key(name: str) -> tuple[object, ...]:
    """``slide2`` before ``slide10``."""
    return tuple(int(part) if part.isdigit() else part.lower() for part in _NUMBER.split(name))


def unescape(text: str) -> str:
    return html.unescape(text) if "&" in text else text


def attributes(tag_body: str) -> dict[str, str]:
    """Attributes of one start tag (the text between its name and ``>``), names unprefixed."""
    found: dict[str, str] = {}
    for name, double, single in _ATTR.findall(tag_body):
        found[name.split(":")[-1]] = unescape(double if double or not single else single)
    return found


def decode_xml(data: bytes, encoding: str | None = None) -> str:
    """XML bytes as text for the tolerant scanners (a cut at either end is harmless)."""
    if encoding is None:
        encoding = xml_encoding(data)
    if encoding.startswith("utf-16") and len(data) % 2:
        data = data[:-1]
    return data.decode(encoding, errors="replace")


def xml_encoding(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if data.startswith(b"\xff\xfe") or data.startswith(b"<\x00"):
        return "utf-16-le"
    if data.startswith(b"\xfe\xff") or data.startswith(b"\x00<"):
        return "utf-16-be"
    return "utf-8"


def ooxml_paragraphs(text: str, pos: int = 0, endpos: int | None = None) -> Iterator[str]:
    """Display text of each paragraph (``<w:p>``/``<a:p>``) from `pos` on, in document order.

    Tolerant of a cut at either end. Text boxes nest paragraphs in a paragraph: the inner
    ones come out first, each on its own. A VML watermark's ``string`` is a paragraph too.
    """
    stack: list[list[str]] = []
    for match in _OOXML_TOKEN.finditer(text, pos, len(text) if endpos is None else endpos):
        kind = match.lastgroup
        if kind == "text":
            if stack:
                stack[-1].append(match.group("text"))
        elif kind == "open":
            if not match.group("open").endswith("/>"):  # <w:p/> is an empty paragraph
                stack.append([])
        elif kind == "close":
            if stack:
                yield unescape("".join(stack.pop()))
        elif kind == "tab":
            if stack:
                stack[-1].append("\t")
        elif kind == "br":
            if stack:
                stack[-1].append("\n")
        elif kind == "textpath":
            yield unescape(match.group("textpath"))
    for parts in reversed(stack):  # cut off at the end of the window
        yield unescape("".join(parts))


#: ``read(text, pos, endpos)``: the paragraphs that start in ``text[pos:endpos]``.
ParagraphReader = Callable[[str, int, "int | None"], Iterator[str]]


def lines_of(paragraphs: Iterable[str]) -> Iterator[str]:
    """Non-empty lines (a line break inside a paragraph starts a new line)."""
    for paragraph in paragraphs:
        for line in paragraph.split("\n"):
            line = line.strip()
            if line:
                yield line


def first_lines(text: str, start: int, read: ParagraphReader, count: int) -> list[str]:
    """The first `count` non-empty lines from `start` (reading stops once they are found)."""
    found: list[str] = []
    if count <= 0:
        return found
    for paragraph in read(text, start, None):
        for line in lines_of((paragraph,)):
            found.append(line)
            if len(found) >= count:
                return found
    return found


def last_lines(
    text: str, floor: int, read: ParagraphReader, opener: re.Pattern[str], count: int
) -> tuple[list[str], bool]:
    """At least the last `count` non-empty lines of `text[floor:]` (all it read, in order),
    reading backwards in growing steps so that no byte is scanned twice, and whether it read
    all of `text[floor:]`."""
    lines: list[str] = []
    end = len(text)
    size = 16 * 1024
    while True:
        whole = end - size <= floor
        if whole:
            start = floor
        else:
            found = opener.search(text, end - size, end)
            start = found.start() if found is not None else end
        if start < end:
            lines = list(lines_of(read(text, start, end))) + lines
        end = start
        if len(lines) >= count or whole:
            return lines, whole
        size *= 4


# --- strict metadata XML ----------------------------------------------------------------


#: What a strict parse of hostile or damaged XML raises.
XML_ERRORS = (DefusedXmlException, ParseError, ValueError, LookupError, RecursionError)


def xml_failure(part: str, exc: BaseException) -> Unscannable:
    """The reason a metadata part cannot be read, in plain words."""
    if isinstance(exc, EntitiesForbidden):
        return Unscannable(
            f"{part} declares XML entities ({exc}); documents never need them and they are the"
            " tool of entity-expansion attacks such as 'billion laughs'"
        )
    if isinstance(exc, DefusedXmlException):
        return Unscannable(f"{part} uses forbidden XML constructs ({exc})")
    if isinstance(exc, ParseError):
        return Unscannable(f"{part} is damaged or truncated: not well-formed XML ({exc})")
    return Unscannable(f"{part} cannot be parsed as XML ({type(exc).__name__}: {exc})")


def parse_metadata_xml(data: bytes, part: str) -> Element:
    """A metadata part parsed strictly (defusedxml); Unscannable with a reason otherwise."""
    try:
        return SafeET.fromstring(data)
    except XML_ERRORS as exc:
        raise xml_failure(part, exc) from exc


def labelinfo_labels(data: bytes, part: str, where: str) -> list[MipLabel]:
    """MIP labels in a LabelInfo document (a part or the RMS stream), or Unscannable."""
    try:
        return mip_from_labelinfo(data, where)
    except XML_ERRORS as exc:
        raise xml_failure(part, exc) from exc


def local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


# --- streamed members -------------------------------------------------------------------


def read_edges(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, ctx: ScanContext, window: int
) -> tuple[bytes, bytes]:
    """The first `window` bytes of a member and the last `window` bytes after those.

    The whole member is inflated (zlib is fast; the zip checks bound it) but only the two
    ends are kept. The tail is empty when the head holds everything.
    """
    head = bytearray()
    tail = bytearray()
    for chunk in stream_member(archive, info, ctx, ctx.limits.max_member_size):
        room = window - len(head)
        if room > 0:
            head += chunk[:room]
            chunk = chunk[room:]
        if chunk:
            tail += chunk
            if len(tail) > 2 * window:
                del tail[:-window]
    return bytes(head), bytes(tail[-window:])


@dataclass
class EdgeLines:
    first: list[str] = field(default_factory=list)
    last: list[str] = field(default_factory=list)


def decode_edges(head: bytes, tail: bytes) -> tuple[str, str]:
    """Head and tail windows of one part as text (the head says the encoding)."""
    encoding = xml_encoding(head)
    tail_encoding = "utf-8" if encoding == "utf-8-sig" else encoding
    return decode_xml(head, encoding), decode_xml(tail, tail_encoding) if tail else ""


def edge_lines(
    text: str,
    tail_text: str,
    read: ParagraphReader,
    opener: re.Pattern[str],
    *,
    body_start: Callable[[str], int] | None = None,
    count: int = EDGE_PARAGRAPHS,
) -> EdgeLines:
    """The first and last non-empty lines of a body read as (head, tail) windows of text;
    `tail_text` is empty when the head holds the whole body."""
    start = body_start(text) if body_start is not None else 0
    if start < 0:
        start = len(text)  # the body starts beyond the window
    first = first_lines(text, start, read, count)
    if tail_text:
        last = last_lines(tail_text, 0, read, opener, count)[0][-count:]
    else:
        # One buffer: the last lines are those after the first ones.
        lines, whole = last_lines(text, start, read, opener, count + len(first))
        last = (lines[len(first) :] if whole else lines)[-count:]
    return EdgeLines(first, last)


# --- reporting --------------------------------------------------------------------------


def report_markings(ctx: ScanContext, lines: Iterable[str], where: str, zone: Zone) -> None:
    """Markings in the text of one place: its lines, passed together (find_markings judges
    each line on its own and looks across lines only for portion marks)."""
    block = "\n".join(line for line in lines if line.strip())
    if block:
        ctx.add_all(find_markings(block, where, zone))


class Problems:
    """Parts that could not be read: the scan goes on for the others, then fails closed."""

    def __init__(self) -> None:
        self.reasons: list[str] = []

    def attempt(self, step: Callable[[], None]) -> None:
        try:
            step()
        except BudgetExceeded:
            raise
        except Unscannable as exc:
            self.reasons.append(exc.reason)

    def raise_any(self) -> None:
        if self.reasons:
            raise Unscannable("; ".join(dict.fromkeys(self.reasons)))


# --- the package ------------------------------------------------------------------------


@dataclass
class Relationship:
    id: str
    type: str
    target: str  # resolved part name, no leading "/"


class Package:
    """The zip directory of an OPC package, with case-insensitive part names."""

    def __init__(self, archive: zipfile.ZipFile, ctx: ScanContext) -> None:
        self.archive = archive
        self.ctx = ctx
        self.parts: dict[str, zipfile.ZipInfo] = {}
        for info in archive.infolist():
            if not info.is_dir():
                self.parts.setdefault(info.filename.lstrip("/").lower(), info)

    def get(self, name: str) -> zipfile.ZipInfo | None:
        return self.parts.get(name.lstrip("/").lower())

    def read(self, info: zipfile.ZipInfo, limit: int, *, truncate: bool = False) -> bytes:
        self.ctx.check_time()
        return read_member(self.archive, info, self.ctx, limit, truncate=truncate)

    def text(self, info: zipfile.ZipInfo, limit: int = _SMALL_PART) -> str:
        """A small part's text, tolerant (the first `limit` bytes at most)."""
        return decode_xml(self.read(info, limit, truncate=True))

    def relationships(self, source_part: str) -> list[Relationship]:
        """Relationships of `source_part` (``""`` for the package), targets resolved."""
        directory, name = posixpath.split(source_part)
        rels = self.get(posixpath.join(directory, "_rels", f"{name}.rels"))
        if rels is None:
            return []
        found: list[Relationship] = []
        for match in _RELATIONSHIP.finditer(self.text(rels, self.ctx.limits.max_xml_part)):
            attrs = attributes(match.group(1))
            if attrs.get("TargetMode", "").lower() == "external" or "Target" not in attrs:
                continue
            target = resolve(directory, attrs["Target"])
            if target is not None:
                found.append(Relationship(attrs.get("Id", ""), attrs.get("Type", ""), target))
        return found


def resolve(directory: str, target: str) -> str | None:
    target = unquote(target.strip()).replace("\\", "/")
    path = target[1:] if target.startswith("/") else posixpath.join(directory, target)
    path = posixpath.normpath(path)
    if path.startswith("../") or path in (".", "..") or "://" in target:
        return None
    return path.lstrip("/")


def scan_ooxml(archive: zipfile.ZipFile, ctx: ScanContext) -> None:
    """Labels and visible markings of an Office Open XML package (the zip is already open)."""
    package = Package(archive, ctx)
    problems = Problems()
    content_types = package.get("[Content_Types].xml")
    if content_types is None:
        raise Unscannable("not an Office document: [Content_Types].xml is missing")
    # A part that cannot be read is a problem (the file ends unscannable), but the scan goes
    # on with the conventional part names so that the labels it can see are still reported.
    overrides: dict[str, str] = {}
    defaults: dict[str, str] = {}
    root_rels: list[Relationship] = []

    def read_content_types() -> None:
        text = package.text(content_types, ctx.limits.max_xml_part)
        found = _content_types(text)
        overrides.update(found[0])
        defaults.update(found[1])

    def read_root_rels() -> None:
        root_rels.extend(package.relationships(""))

    problems.attempt(read_content_types)
    problems.attempt(read_root_rels)

    main = next((r.target for r in root_rels if r.type.endswith("/officeDocument")), None)
    kind = _kind(main, overrides, defaults)
    if kind is None:
        main = next((part for part, ct in overrides.items() if ct in _MAIN_TYPES), main)
        kind = _kind(main, overrides, defaults)
    if kind is None:
        # Damaged content types and relationships: the usual main part still says the family.
        main = next((name for name in _MAIN_BY_NAME if package.get(name) is not None), main)
        kind = _kind(main, overrides, defaults)
    ctx.refine_format(kind or "opc")

    problems.attempt(lambda: _scan_metadata(package, root_rels))
    ctx.check_time()
    if main is not None and kind is not None:
        main_info = package.get(main)
        if main_info is None:
            problems.reasons.append(f"damaged {kind} file: its main part {main} is missing")
        elif kind in _WORD:
            _scan_word(package, main_info, problems)
        elif kind in _EXCEL:
            _scan_excel(package, main_info, problems)
        elif kind in _POWERPOINT:
            _scan_powerpoint(package, main_info, problems)
        # Visio and binary workbooks (xlsb): metadata only.
    elif kind is None:
        _scan_other_package(package, problems)
    problems.raise_any()


def _content_types(text: str) -> tuple[dict[str, str], dict[str, str]]:
    overrides: dict[str, str] = {}
    defaults: dict[str, str] = {}
    for match in _CT_OVERRIDE.finditer(text):
        attrs = attributes(match.group(1))
        if "PartName" in attrs and "ContentType" in attrs:
            name = unquote(attrs["PartName"]).lstrip("/").lower()
            overrides[name] = attrs["ContentType"].strip().lower()
    for match in _CT_DEFAULT.finditer(text):
        attrs = attributes(match.group(1))
        if "Extension" in attrs and "ContentType" in attrs:
            defaults[attrs["Extension"].lower()] = attrs["ContentType"].strip().lower()
    return overrides, defaults


def _kind(main: str | None, overrides: dict[str, str], defaults: dict[str, str]) -> str | None:
    if main is None:
        return None
    lowered = main.lower()
    content_type = overrides.get(lowered) or defaults.get(lowered.rsplit(".", 1)[-1], "")
    return _MAIN_TYPES.get(content_type) or _MAIN_BY_NAME.get(lowered)


def _targets(
    package: Package, rels: list[Relationship], suffixes: tuple[str, ...], usual: str
) -> list[zipfile.ZipInfo]:
    """Parts a relationship of one of these types points at, else the conventional part."""
    found: list[zipfile.ZipInfo] = []
    for rel in rels:
        if rel.type.endswith(suffixes) or rel.type in suffixes:
            info = package.get(rel.target)
            if info is not None and info not in found:
                found.append(info)
    if not found:
        info = package.get(usual)
        if info is not None:
            found.append(info)
    return found


def _scan_metadata(package: Package, root_rels: list[Relationship]) -> None:
    ctx = package.ctx
    limit = ctx.limits.max_xml_part
    problems = Problems()

    # Property name → the part it came from. Core keywords join the custom properties so
    # that properties.py sees one set (a TitusGUID in custom.xml belongs with the
    # CTPClassification in the keywords); Office never names a custom property "Keywords".
    pairs: list[tuple[str, str]] = []
    places: dict[str, str] = {}

    def read_custom(info: zipfile.ZipInfo) -> None:
        root = parse_metadata_xml(package.read(info, limit), info.filename)
        for element in root:
            if local(element.tag) != "property":
                continue
            name = element.get("name")
            if not name:
                continue
            pairs.append((name, "".join("".join(child.itertext()) for child in element)))
            places.setdefault(name, info.filename)

    def read_core(info: zipfile.ZipInfo) -> None:
        root = parse_metadata_xml(package.read(info, limit), info.filename)
        for element in root:
            if local(element.tag) == "keywords":
                keywords = "".join(element.itertext())
                if keywords.strip():
                    pairs.append((_KEYWORDS, keywords))
                    places[_KEYWORDS] = info.filename

    labelinfo: list[MipLabel] = []

    def read_labelinfo(info: zipfile.ZipInfo) -> None:
        data = package.read(info, limit)
        labelinfo.extend(labelinfo_labels(data, info.filename, info.filename))

    custom_types = ("/custom-properties", "/customProperties")
    steps = (
        (read_custom, _targets(package, root_rels, custom_types, CUSTOM_PART)),
        (read_labelinfo, _targets(package, root_rels, (LABELINFO_REL,), LABELINFO_PART)),
        (read_core, _targets(package, root_rels, ("/metadata/core-properties",), CORE_PART)),
    )
    for read, parts in steps:
        for info in parts:

            def step(
                read: Callable[[zipfile.ZipInfo], None] = read, info: zipfile.ZipInfo = info
            ) -> None:
                read(info)

            problems.attempt(step)

    def where(key: str) -> str:
        return places.get(key, CUSTOM_PART)

    custom_mip = mip_from_pairs(pairs, where)
    ctx.add_all(reconcile_mip(labelinfo, custom_mip))
    ctx.add_all(classic_from_pairs(pairs, where))
    problems.raise_any()


def _main_relationships(
    package: Package, main: zipfile.ZipInfo, problems: Problems
) -> list[Relationship]:
    rels: list[Relationship] = []

    def read() -> None:
        rels.extend(package.relationships(main.filename))

    problems.attempt(read)
    return rels


# --- Word -------------------------------------------------------------------------------


def _scan_word(package: Package, main: zipfile.ZipInfo, problems: Problems) -> None:
    ctx = package.ctx
    directory = posixpath.dirname(main.filename)
    parts: dict[str, zipfile.ZipInfo] = {}
    for name, info in package.parts.items():
        folder, base = posixpath.split(name)
        if folder == directory.lower() and _WORD_HEADER_FOOTER.match(base):
            parts[info.filename] = info
    if main.filename.lower() != "word/document.xml":
        # Unusual names: ask the main part's relationships.
        for rel in _main_relationships(package, main, problems):
            if rel.type.endswith(("/header", "/footer")):
                target = package.get(rel.target)
                if target is not None:
                    parts[target.filename] = target
    for name in sorted(parts, key=natural_key):
        info = parts[name]

        def header_footer(info: zipfile.ZipInfo = info) -> None:
            text = package.text(info, ctx.limits.body_window)
            report_markings(ctx, ooxml_paragraphs(text), info.filename, Zone.HEADER_FOOTER)

        problems.attempt(header_footer)

    def body() -> None:
        head, tail = read_edges(package.archive, main, ctx, ctx.limits.body_window)
        text, tail_text = decode_edges(head, tail)
        edges = edge_lines(text, tail_text, ooxml_paragraphs, _OOXML_PARAGRAPH_OPEN)
        report_markings(ctx, edges.first, f"{main.filename}, first lines", Zone.EDGE_LINE)
        report_markings(ctx, edges.last, f"{main.filename}, last lines", Zone.EDGE_LINE)

    problems.attempt(body)


# --- Excel ------------------------------------------------------------------------------


def excel_header_footer_text(raw: str) -> list[str]:
    """The text of an Excel header/footer string, without its ``&`` codes; one item per
    section (left, centre, right)."""
    sections: list[str] = []
    current: list[str] = []
    last = 0
    for match in _XL_HF_CODE.finditer(raw):
        current.append(raw[last : match.start()])
        code = match.group(0)
        if code == "&&":
            current.append("&")
        elif code in ("&L", "&C", "&R"):
            sections.append("".join(current))
            current = []
        last = match.end()
    current.append(raw[last:])
    sections.append("".join(current))
    return [section.strip() for section in sections if section.strip()]


def _scan_excel(package: Package, main: zipfile.ZipInfo, problems: Problems) -> None:
    ctx = package.ctx
    rels = _main_relationships(package, main, problems)
    by_id = {rel.id: rel.target for rel in rels}
    shared: zipfile.ZipInfo | None = None
    for rel in rels:
        if rel.type.endswith("/sharedStrings"):
            shared = package.get(rel.target) or shared
    if shared is None:
        shared = package.get(posixpath.join(posixpath.dirname(main.filename), "sharedStrings.xml"))

    sheets: list[zipfile.ZipInfo] = []
    try:
        workbook = package.text(main)
    except Unscannable as exc:
        problems.reasons.append(exc.reason)
        workbook = ""
    for match in _XL_SHEET.finditer(workbook):
        attrs = attributes(match.group(1))
        target = by_id.get(attrs.get("id", ""))
        info = package.get(target) if target else None
        if info is not None and info not in sheets and info.filename.lower().endswith(".xml"):
            sheets.append(info)
    if not sheets:
        folder = posixpath.join(posixpath.dirname(main.filename), "worksheets").lower()
        sheets = sorted(
            (
                info
                for name, info in package.parts.items()
                if posixpath.dirname(name) == folder and name.endswith(".xml")
            ),
            key=lambda info: natural_key(info.filename),
        )

    if shared is not None:

        def shared_strings(info: zipfile.ZipInfo = shared) -> None:
            text = package.text(info, 64 * 1024)
            strings: list[str] = []
            for match in _XL_SHARED_STRING.finditer(text):
                strings.append(unescape("".join(_XL_TEXT.findall(match.group(1)))))
                if len(strings) >= EXCEL_FIRST_STRINGS:
                    break
            report_markings(ctx, strings, f"{info.filename}, first cells", Zone.EDGE_LINE)

        problems.attempt(shared_strings)

    budget = EXCEL_SHEET_SCAN_LIMIT
    for index, sheet in enumerate(sheets):
        if budget <= 0:
            ctx.findings.notes.append(
                f"{ctx.where(main.filename)}: the page headers/footers of"
                f" {len(sheets) - index} more worksheets were not checked (the workbook is very"
                " large)"
            )
            break

        def worksheet(info: zipfile.ZipInfo = sheet, first: bool = index == 0) -> None:
            nonlocal budget
            head, element, used = _sheet_header_footer(package, info, budget)
            budget -= used
            if first:
                text = decode_xml(head)
                strings = []
                for match in _XL_INLINE_STRING.finditer(text):
                    strings.append(unescape("".join(_XL_TEXT.findall(match.group(1)))))
                    if len(strings) >= EXCEL_FIRST_STRINGS:
                        break
                report_markings(ctx, strings, f"{info.filename}, first cells", Zone.EDGE_LINE)
            if element:
                for part, raw in _XL_HF_PART.findall(decode_xml(element)):
                    sections = excel_header_footer_text(unescape(raw))
                    report_markings(ctx, sections, f"{info.filename}, {part}", Zone.HEADER_FOOTER)

        problems.attempt(worksheet)


def _sheet_header_footer(
    package: Package, info: zipfile.ZipInfo, budget: int
) -> tuple[bytes, bytes, int]:
    """(the sheet's first 64 KiB, its ``<headerFooter>`` element or b"", bytes inflated).

    The element sits near the end of the sheet, so the sheet is inflated as a stream and only
    searched, never kept.
    """
    head = bytearray()
    carry = b""
    element = bytearray()
    collecting = False
    used = 0
    cap = min(package.ctx.limits.max_member_size, max(budget, 0))
    for chunk in stream_member(
        package.archive, info, package.ctx, package.ctx.limits.max_member_size
    ):
        used += len(chunk)
        if len(head) < _CHUNK:
            head += chunk[: _CHUNK - len(head)]
        if collecting:
            element += chunk
        else:
            window = carry + chunk
            # bytes.find is far faster than a regex over every tag of a big sheet.
            found = None
            if b"headerFooter" in window:
                found = _XL_HEADER_FOOTER_START.search(window)
            if found is not None:
                collecting = True
                element += window[found.start() :]
            carry = window[-64:]
        if collecting:
            end = _XL_HEADER_FOOTER_END.search(element)
            if end is not None:
                return bytes(head), bytes(element[: end.end()]), used
            if len(element) > _SMALL_PART:
                return bytes(head), bytes(element[:_SMALL_PART]), used
        if used >= cap:
            package.ctx.findings.notes.append(
                f"{package.ctx.where(info.filename)}: page header/footer not checked"
                " (the sheet is very large)"
            )
            break
    return bytes(head), bytes(element), used


# --- PowerPoint -------------------------------------------------------------------------


def _scan_powerpoint(package: Package, main: zipfile.ZipInfo, problems: Problems) -> None:
    ctx = package.ctx
    directory = posixpath.dirname(main.filename).lower()
    masters = sorted(
        (
            info
            for name, info in package.parts.items()
            if posixpath.dirname(name) in (f"{directory}/slidemasters", f"{directory}/slidelayouts")
            and name.endswith(".xml")
        ),
        key=lambda info: natural_key(info.filename),
    )
    for info in masters:

        def master(info: zipfile.ZipInfo = info) -> None:
            text = package.text(info, ctx.limits.body_window)
            lines: list[str] = []
            for shape in _PPT_SHAPE.finditer(text):
                placeholder = _PPT_PLACEHOLDER.search(shape.group(0))
                if placeholder is not None:
                    kind = attributes(placeholder.group(1)).get("type", "body")
                    if kind not in _PPT_FOOTER_TYPES:
                        continue  # title/body prompts ("Click to edit Master title style")
                lines.extend(lines_of(ooxml_paragraphs(shape.group(0))))
            report_markings(ctx, lines, info.filename, Zone.HEADER_FOOTER)

        problems.attempt(master)

    slides = _slide_order(package, main, problems)
    chosen = slides[:1] + (slides[-1:] if len(slides) > 1 else [])
    for info in chosen:

        def slide(info: zipfile.ZipInfo = info) -> None:
            text = package.text(info, ctx.limits.body_window)
            footer: list[str] = []
            kept: list[str] = []
            last = 0
            for shape in _PPT_SHAPE.finditer(text):
                body = shape.group(0)
                placeholder = _PPT_PLACEHOLDER.search(body)
                name = _PPT_SHAPE_NAME.search(body)
                is_footer = (
                    placeholder is not None
                    and attributes(placeholder.group(1)).get("type", "body") in _PPT_FOOTER_TYPES
                ) or (name is not None and name.group(1).startswith("MSIPCM"))
                if is_footer:
                    footer.extend(lines_of(ooxml_paragraphs(body)))
                    kept.append(text[last : shape.start()])
                    last = shape.end()
            kept.append(text[last:])
            report_markings(ctx, footer, f"{info.filename}, footer", Zone.HEADER_FOOTER)
            lines = list(lines_of(ooxml_paragraphs("".join(kept))))
            if len(lines) > 2 * EDGE_PARAGRAPHS:
                lines = lines[:EDGE_PARAGRAPHS] + lines[-EDGE_PARAGRAPHS:]
            report_markings(ctx, lines, info.filename, Zone.EDGE_LINE)

        problems.attempt(slide)


def _slide_order(
    package: Package, main: zipfile.ZipInfo, problems: Problems
) -> list[zipfile.ZipInfo]:
    """Slides in presentation order (``p:sldIdLst``), else in the order of their names."""
    slides: list[zipfile.ZipInfo] = []
    by_id = {rel.id: rel.target for rel in _main_relationships(package, main, problems)}
    texts: list[str] = []

    def read() -> None:
        texts.append(package.text(main, package.ctx.limits.body_window))

    problems.attempt(read)
    presentation = texts[0] if texts else ""
    for match in _PPT_SLIDE_ID.finditer(presentation):
        target = by_id.get(attributes(match.group(1)).get("id", ""))
        info = package.get(target) if target else None
        if info is not None and info not in slides:
            slides.append(info)
    if slides:
        return slides
    folder = posixpath.join(posixpath.dirname(main.filename), "slides").lower()
    return sorted(
        (
            info
            for name, info in package.parts.items()
            if posixpath.dirname(name) == folder and name.endswith(".xml")
        ),
        key=lambda info: natural_key(info.filename),
    )


# --- other OPC packages -----------------------------------------------------------------


def _scan_other_package(package: Package, problems: Problems) -> None:
    """An OPC package that is no Office document (NuGet, VSIX, XPS...): its members are
    files in their own right, scanned like an archive's."""
    skip = ("[content_types].xml", "_rels/", "docprops/", "docmetadata/", "package/services/")

    def is_package_part(name: str) -> bool:
        lowered = name.lower()
        return lowered.startswith(skip) or lowered.endswith(".rels")

    scan_members(package.archive, package.ctx, skip=is_package_part)
