"""OpenDocument files: zipped (odt, ods, odp, odg...) and flat XML (fodt, fods, fodp, fodg).

Labels: ``meta.xml`` user-defined properties (``MSIP_Label_<guid>_Enabled``, Titus,
classification...) and ``meta:keyword`` (Titus ``CTPClassification=...``), interpreted by
:mod:`sendguard.labels.properties`. Visible markings: the master pages' headers and footers
in ``styles.xml`` (and, for presentations, the master pages' text and footer declarations),
and the first and last paragraphs of the body in ``content.xml``.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from xml.etree.ElementTree import Element

from sendguard.labels.context import ScanContext, Source, Unscannable
from sendguard.labels.markings import Zone
from sendguard.labels.ooxml import (
    Problems,
    decode_edges,
    decode_xml,
    edge_lines,
    local,
    parse_metadata_xml,
    read_edges,
    report_markings,
    unescape,
)
from sendguard.labels.properties import findings_from_pairs
from sendguard.labels.safezip import read_member

_MIMETYPE_PREFIX = "application/vnd.oasis.opendocument."
#: The part after the prefix → the usual extension.
_KINDS = {
    "text": "odt",
    "text-template": "ott",
    "text-master": "odm",
    "text-master-template": "otm",
    "text-web": "oth",
    "spreadsheet": "ods",
    "spreadsheet-template": "ots",
    "presentation": "odp",
    "presentation-template": "otp",
    "graphics": "odg",
    "graphics-template": "otg",
    "chart": "odc",
    "chart-template": "otc",
    "formula": "odf",
    "formula-template": "otf",
    "image": "odi",
    "image-template": "oti",
    "database": "odb",
}
_FLAT_KINDS = {"text": "fodt", "spreadsheet": "fods", "presentation": "fodp", "graphics": "fodg"}
#: Formats whose master pages are drawings: all their text repeats on every page.
_DRAWN_MASTERS = ("presentation", "graphics")

#: Paragraph (``text:p``) and heading (``text:h``) tags; their content is mixed.
_ODF_PARAGRAPH_TAG = re.compile(r"<(?P<close>/)?text:[ph](?=[\s>/])(?P<rest>[^>]*)>")
#: Inside a paragraph: what is not display text, what stands for white space, other tags.
_ODF_HIDDEN = re.compile(
    r"<office:annotation\b.*?</office:annotation>|<text:note-citation\b.*?</text:note-citation>"
    r"|<svg:(?:title|desc)\b.*?</svg:(?:title|desc)>",
    re.DOTALL,
)
_ODF_SPACING = re.compile(r"<text:(tab|line-break|s)\b[^>]*>")
_ODF_SPACES = {"tab": "\t", "line-break": "\n", "s": " "}
_TAG = re.compile(r"<[^>]*>|<[^>]*$")
_ODF_PARAGRAPH_OPEN = re.compile(r"<text:[ph][\s>]")
_BODY = re.compile(r"<office:body[\s>]")
_TRACKED_CHANGES = re.compile(r"<text:tracked-changes\b.*?</text:tracked-changes>", re.DOTALL)
_MASTER_STYLES = re.compile(r"<office:master-styles\b.*?</office:master-styles>", re.DOTALL)
#: ``style:header``, ``style:footer-left``, ``style:header-first`` ... (not ``-style``).
_HEADER_FOOTER = re.compile(
    r"<style:(header|footer)(?:-left|-first)?(?:\s[^>]*)?(?<!/)>(.*?)"
    r"</style:\1(?:-left|-first)?>",
    re.DOTALL,
)
_DECLARATION = re.compile(
    r"<presentation:(header|footer)-decl\b[^>]*>([^<]*)</presentation:\1-decl>"
)
_ROOT = re.compile(r"<office:document\b[^>]*>")
_FLAT_META = re.compile(r"<office:meta\b.*?</office:meta>", re.DOTALL)
_FLAT_META_OPEN = re.compile(r"<office:meta[\s>]")
_MIMETYPE_ATTR = re.compile(r"""office:mimetype\s*=\s*["']([^"']*)["']""")
_ENCRYPTED_ENTRY = re.compile(
    r"<manifest:file-entry\b([^>]*?)(?<!/)>(?:(?!</manifest:file-entry>).)*?<manifest:encryption-data",
    re.DOTALL,
)
_FULL_PATH = re.compile(r"""manifest:full-path\s*=\s*["']([^"']*)["']""")

META_PART = "meta.xml"
STYLES_PART = "styles.xml"
CONTENT_PART = "content.xml"


def odf_paragraphs(text: str, pos: int = 0, endpos: int | None = None) -> Iterator[str]:
    """Display text of each ``text:p``/``text:h`` from `pos` on; tolerant of cut ends.
    A frame's paragraphs nested in a paragraph come out on their own, first."""
    # Each open paragraph: the pieces of its own content so far, and where the next starts.
    stack: list[tuple[list[str], list[int]]] = []
    end = len(text) if endpos is None else endpos
    for match in _ODF_PARAGRAPH_TAG.finditer(text, pos, end):
        if match.group("close"):
            if stack:
                pieces, cursor = stack.pop()
                pieces.append(text[cursor[0] : match.start()])
                yield _odf_text("".join(pieces))
                if stack:
                    stack[-1][1][0] = match.end()
        elif not match.group("rest").endswith("/"):
            if stack:
                parent, cursor = stack[-1]
                parent.append(text[cursor[0] : match.start()])
            stack.append(([], [match.end()]))
    for depth, (pieces, cursor) in enumerate(reversed(stack)):  # cut off by the window's end
        if depth == 0:
            pieces.append(text[cursor[0] : end])
        yield _odf_text("".join(pieces))


def _odf_text(markup: str) -> str:
    markup = _ODF_HIDDEN.sub("", markup)
    markup = _ODF_SPACING.sub(lambda found: _ODF_SPACES[found.group(1)], markup)
    return unescape(_TAG.sub("", markup))


def _body_start(text: str) -> int:
    found = _BODY.search(text)
    if found is None:
        return -1
    start = found.end()
    tracked = _TRACKED_CHANGES.search(text, start)
    if tracked is not None:
        first_paragraph = _ODF_PARAGRAPH_OPEN.search(text, start)
        if first_paragraph is not None and tracked.start() < first_paragraph.start():
            start = tracked.end()  # deleted text of tracked changes is not on the page
    return start


def _kind_of(mimetype: str, table: dict[str, str]) -> str | None:
    mimetype = mimetype.strip().lower()
    if not mimetype.startswith(_MIMETYPE_PREFIX):
        return None
    return table.get(mimetype[len(_MIMETYPE_PREFIX) :])


def _meta_findings(ctx: ScanContext, root: Element, where: str) -> None:
    pairs: list[tuple[str, str]] = []
    for element in root.iter():
        tag = local(element.tag)
        if tag == "user-defined":
            name = next((v for k, v in element.attrib.items() if local(k) == "name"), None)
            if name:
                pairs.append((name, "".join(element.itertext())))
        elif tag == "keyword":
            pairs.append(("Keywords", "".join(element.itertext())))
    ctx.add_all(findings_from_pairs(pairs, lambda _key: where))


def _master_markings(ctx: ScanContext, text: str, place: str, drawn: bool) -> None:
    region = _MASTER_STYLES.search(text)
    if region is None:
        return
    masters = region.group(0)
    for match in _HEADER_FOOTER.finditer(masters):
        lines = list(odf_paragraphs(match.group(2)))
        report_markings(ctx, lines, f"{place}, {match.group(1)}", Zone.HEADER_FOOTER)
    if drawn:
        report_markings(
            ctx, list(odf_paragraphs(masters)), f"{place}, master page", Zone.HEADER_FOOTER
        )


def _declarations(ctx: ScanContext, text: str, place: str) -> None:
    """Presentation header/footer texts declared once and shown on every slide."""
    for kind, value in _DECLARATION.findall(text):
        report_markings(ctx, [unescape(value)], f"{place}, {kind}", Zone.HEADER_FOOTER)


def _body_markings(ctx: ScanContext, head: str, tail: str, place: str) -> None:
    if tail and _BODY.search(head) is None:
        ctx.findings.notes.append(
            f"{ctx.where(place)}: the body starts beyond the first"
            f" {ctx.limits.body_window} bytes; its first lines were not checked for markings"
        )
    edges = edge_lines(head, tail, odf_paragraphs, _ODF_PARAGRAPH_OPEN, body_start=_body_start)
    report_markings(ctx, edges.first, f"{place}, first lines", Zone.EDGE_LINE)
    report_markings(ctx, edges.last, f"{place}, last lines", Zone.EDGE_LINE)


def _looks_like_xml(data: bytes) -> bool:
    stripped = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    return stripped.startswith(b"<") or stripped.startswith((b"\xff\xfe<", b"\xfe\xff\x00<"))


# --- zipped -----------------------------------------------------------------------------


def scan_odf(archive: zipfile.ZipFile, ctx: ScanContext) -> None:
    """Labels and markings of a zipped OpenDocument file (the zip is already open)."""
    problems = Problems()
    names = {info.filename: info for info in archive.infolist() if not info.is_dir()}
    mimetype = ""
    if "mimetype" in names:
        mimetype = read_member(archive, names["mimetype"], ctx, 256, truncate=True).decode(
            "ascii", errors="replace"
        )
    kind = _kind_of(mimetype, _KINDS)
    ctx.refine_format(kind or "odf")
    drawn = mimetype.strip().lower()[len(_MIMETYPE_PREFIX) :].startswith(_DRAWN_MASTERS)
    encrypted: set[str] | None = None

    def encrypted_parts() -> set[str]:
        nonlocal encrypted
        if encrypted is None:
            encrypted = set()
            manifest = names.get("META-INF/manifest.xml")
            if manifest is not None:
                text = decode_xml(read_member(archive, manifest, ctx, ctx.limits.max_xml_part))
                for entry in _ENCRYPTED_ENTRY.finditer(text):
                    path = _FULL_PATH.search(entry.group(1))
                    if path is not None:
                        encrypted.add(unescape(path.group(1)).lstrip("/"))
            if "encrypted-package" in names:
                encrypted.add("encrypted-package")
        return encrypted

    def not_xml(part: str) -> Unscannable:
        if part in encrypted_parts() or "encrypted-package" in encrypted_parts():
            return Unscannable(
                f"password-encrypted OpenDocument file: {part} cannot be read without the password"
            )
        return Unscannable(f"damaged OpenDocument file: {part} is not XML")

    def meta() -> None:
        info = names.get(META_PART)
        if info is None:
            return
        data = read_member(archive, info, ctx, ctx.limits.max_xml_part)
        if not _looks_like_xml(data):
            raise not_xml(META_PART)
        _meta_findings(ctx, parse_metadata_xml(data, META_PART), META_PART)

    def styles() -> None:
        info = names.get(STYLES_PART)
        if info is None:
            return
        data = read_member(archive, info, ctx, ctx.limits.max_xml_part)
        if not _looks_like_xml(data):
            raise not_xml(STYLES_PART)
        _master_markings(ctx, decode_xml(data), STYLES_PART, drawn)

    def content() -> None:
        info = names.get(CONTENT_PART)
        if info is None:
            if encrypted_parts():
                raise Unscannable("encrypted OpenDocument package: its content cannot be read")
            raise Unscannable("damaged OpenDocument file: content.xml is missing")
        head, tail = read_edges(archive, info, ctx, ctx.limits.body_window)
        if not _looks_like_xml(head):
            raise not_xml(CONTENT_PART)
        head_text, tail_text = decode_edges(head, tail)
        if drawn:
            _declarations(ctx, head_text, CONTENT_PART)
        _body_markings(ctx, head_text, tail_text, CONTENT_PART)

    for step in (meta, styles, content):
        ctx.check_time()
        problems.attempt(step)
    problems.raise_any()


# --- flat -------------------------------------------------------------------------------


def scan_flat_odf(source: Source, ctx: ScanContext) -> None:
    """Labels and markings of a flat OpenDocument XML file (fodt, fods, fodp, fodg)."""
    limit = ctx.limits.max_xml_part
    if source.size <= limit:
        head, tail = source.read_all(limit), b""
    else:
        # Metadata and master pages come first; only the end of a huge body is skipped.
        head, tail = source.head(limit), source.tail(ctx.limits.body_window)
    text, tail_text = decode_edges(head, tail)
    root = _ROOT.search(text)
    if root is None:
        raise Unscannable("not a flat OpenDocument file: no <office:document> element")
    prolog = text[: root.start()]
    mimetype = _MIMETYPE_ATTR.search(root.group(0))
    kind = _kind_of(mimetype.group(1), _FLAT_KINDS) if mimetype else None
    ctx.refine_format(kind or "fodf")
    subtype = mimetype.group(1).strip().lower()[len(_MIMETYPE_PREFIX) :] if mimetype else ""
    drawn = subtype.startswith(_DRAWN_MASTERS)
    problems = Problems()

    def meta() -> None:
        found = _FLAT_META.search(text, root.end())
        if found is None:
            if _FLAT_META_OPEN.search(text, root.end()) is not None:
                raise Unscannable(
                    "damaged or oversized flat OpenDocument file: its office:meta section"
                    " does not end"
                )
            if "<!ENTITY" in prolog:
                parse_metadata_xml(
                    (prolog + root.group(0) + "</office:document>").encode(), "the file"
                )
            return
        # The meta section, parsed strictly inside the root element that declares its
        # namespaces (and after any DTD, so entity declarations are refused as they should be).
        document = prolog + root.group(0) + found.group(0) + "</office:document>"
        parsed = parse_metadata_xml(document.encode("utf-8"), "office:meta")
        _meta_findings(ctx, parsed, "office:meta")

    def styles() -> None:
        _master_markings(ctx, text, "office:master-styles", drawn)

    def body() -> None:
        if drawn:
            _declarations(ctx, text, "office:body")
        _body_markings(ctx, text, tail_text, "office:body")

    for step in (meta, styles, body):
        ctx.check_time()
        problems.attempt(step)
    problems.raise_any()
