"""Text-family detectors: plain text (txt, md, csv, json, code...), HTML, generic XML, RTF.

Banners and markings sit at the edges of a document, so only the first and the last
``limits.text_window`` bytes are read: a 50 GB log costs what a short note costs. Which text
is a marking is decided by :mod:`sendguard.labels.markings`; this module decides which text
to show it (a few short lines from the right places) and reads property-like metadata
(HTML metas, Word-HTML/XML custom properties, RTF user properties) for
:mod:`sendguard.labels.properties` to interpret.
"""

from __future__ import annotations

import codecs
import html
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import PurePath

from sendguard.labels.context import ScanContext, Source
from sendguard.labels.markings import MAX_LINE, Zone, find_markings
from sendguard.labels.model import Finding, Scheme
from sendguard.labels.properties import classic_from_pairs, findings_from_pairs, parse_msip_header

#: How many non-empty lines at each edge are shown to the marking finder.
EDGE_LINES = 5
#: Zone text (an HTML <footer>, an RTF header) beyond this many characters is not read.
MAX_ZONE_CHARS = 8192
#: Markup is converted to text this many characters at a time, from the start until the first
#: lines are known, and from the end in growing steps until the last lines are.
_CHUNK = 16 * 1024
#: The end of a document is read from this far before it, four times further each step.
_END_STEP = 4 * 1024

# ---------------------------------------------------------------------------------------
# Decoding the edge windows
# ---------------------------------------------------------------------------------------

#: UTF-32 before UTF-16: the UTF-32-LE mark starts with the UTF-16-LE one.
_BOMS: tuple[tuple[bytes, str, int], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le", 4),
    (codecs.BOM_UTF32_BE, "utf-32-be", 4),
    (codecs.BOM_UTF8, "utf-8", 1),
    (codecs.BOM_UTF16_LE, "utf-16-le", 2),
    (codecs.BOM_UTF16_BE, "utf-16-be", 2),
)
#: Without a mark: UTF-8, then GB18030 (Chinese Windows text), then Windows-1252.
_FALLBACKS = ("utf-8", "gb18030", "cp1252")
#: Declared charsets that mean something wider in practice (what browsers do too).
_CHARSET_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
}


@dataclass(frozen=True)
class Edges:
    """The decoded start and end of a document. ``tail`` is empty when ``head`` is all of it."""

    head: str
    tail: str
    encoding: str

    @property
    def complete(self) -> bool:
        return not self.tail


def _ascii_compatible(encoding: str) -> str | None:
    """The codec's canonical name if newlines and ASCII mean themselves in it, else None."""
    name = _CHARSET_ALIASES.get(encoding.strip().lower(), encoding.strip().lower())
    try:
        info = codecs.lookup(name)
    except LookupError:
        return None
    try:
        if "<a\n".encode(info.name) != b"<a\n":
            return None
    except UnicodeError:
        return None
    return info.name


def _decode_strict(data: bytes, encoding: str, *, final: bool) -> str | None:
    """`data` decoded, or None if it is not in `encoding`. A window cut by the reader (not
    `final`) may end inside a character: those last few bytes are dropped."""
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        if final or exc.start < len(data) - 4:
            return None
        try:
            return data[: exc.start].decode(encoding)
        except UnicodeDecodeError:
            return None


def _decode_tail(data: bytes, candidates: Iterable[str]) -> str:
    """The tail window starts mid-line and maybe mid-character: drop its first partial line."""
    newline = data.find(b"\n")
    if newline >= 0:
        starts: tuple[bytes, ...] = (data[newline + 1 :],)
    else:
        # One long line: try the few alignments a multi-byte character can have.
        starts = tuple(data[skip:] for skip in range(4))
    for encoding in candidates:
        for start in starts:
            text = _decode_strict(start, encoding, final=True)
            if text is not None:
                return text
    return starts[0].decode("cp1252", "replace")


def decode_edges(
    head: bytes, tail: bytes, tail_offset: int, *, declared: str | None = None
) -> Edges:
    """Decode a head window (cut at its end unless `tail` is empty) and a tail window that
    begins at byte `tail_offset` of the file. A byte-order mark wins; then a declared,
    ASCII-compatible charset (HTML/XML), then UTF-8, GB18030, Windows-1252."""
    complete = not tail
    for bom, encoding, unit in _BOMS:
        if head.startswith(bom):
            decoder = codecs.getincrementaldecoder(encoding)("replace")
            head_text = decoder.decode(head[len(bom) :], complete)
            tail_text = ""
            if tail:
                # Keep the tail aligned on the encoding's code units, counted from the file start.
                skip = (unit - tail_offset % unit) % unit
                tail_text = tail[skip:].decode(encoding, "replace")
                cut = tail_text.find("\n")
                tail_text = tail_text[cut + 1 :] if cut >= 0 else tail_text
            return Edges(head_text, tail_text, encoding)
    candidates = list(_FALLBACKS)
    if declared:
        known = _ascii_compatible(declared)
        if known is not None:
            candidates.insert(0, known)
    for encoding in candidates:
        text = _decode_strict(head, encoding, final=complete)
        if text is not None:
            return Edges(text, _decode_tail(tail, candidates) if tail else "", encoding)
    text = head.decode("cp1252", "replace")
    return Edges(text, _decode_tail(tail, candidates) if tail else "", "cp1252")


def read_edges(source: Source, ctx: ScanContext, *, declared: str | None = None) -> Edges:
    head, tail = source.edges(ctx.limits.text_window)
    ctx.check_time()
    return decode_edges(head, tail, source.size - len(tail), declared=declared)


# ---------------------------------------------------------------------------------------
# Edge lines
# ---------------------------------------------------------------------------------------

#: A run of characters between line breaks (the breaks str.splitlines knows).
_LINE = re.compile(r"[^\n\r\v\f\x1c-\x1e\x85\u2028\u2029]+")
#: Lines without a letter or digit ("-----", "*****") are decoration, not counted as lines.
_WORDY = re.compile(r"\w")


def first_lines(text: str, count: int = EDGE_LINES) -> tuple[list[str], int]:
    """The first `count` non-empty lines, and where in `text` the last of them ends."""
    lines: list[str] = []
    end = 0
    for match in _LINE.finditer(text):
        line = match.group().strip()
        if line and _WORDY.search(line):
            lines.append(line)
            end = match.end()
            if len(lines) == count:
                break
    return lines, end


def last_lines(text: str, count: int = EDGE_LINES, start: int = 0) -> list[str]:
    """The last `count` non-empty lines of ``text[start:]``; reads backwards in growing steps."""
    step = 4096
    while True:
        begin = max(start, len(text) - step)
        matches = list(_LINE.finditer(text, begin))
        if begin > start and matches and matches[0].start() == begin:
            matches = matches[1:]  # may be the second half of a line; the next step has it whole
        lines = [m.group().strip() for m in matches]
        lines = [line for line in lines if line and _WORDY.search(line)]
        if len(lines) >= count or begin == start:
            return lines[-count:]
        step *= 8


def edge_lines(head: str, tail: str, count: int = EDGE_LINES) -> tuple[list[str], list[str]]:
    """First and last non-empty lines; a line is shown once (a short file's lines are all
    "first lines")."""
    first, end = first_lines(head, count)
    last = last_lines(tail, count) if tail else last_lines(head, count, end)
    return first, last


def _zone_lines(text: str) -> list[str]:
    """The first non-empty lines of a header/footer-like zone."""
    lines = [line.strip() for line in _LINE.findall(text)]
    return [line for line in lines if line and _WORDY.search(line)][: EDGE_LINES * 2]


def report_lines(ctx: ScanContext, lines: list[str], where: str, zone: Zone) -> None:
    """Show a few lines from one place to the marking finder. Lines longer than a banner can
    be (a paragraph, minified data) still took their place in the count but are not shown."""
    shown = [line for line in lines if len(line) <= MAX_LINE]
    if shown:
        ctx.add_all(find_markings("\n".join(shown), where, zone))


def report_edges(ctx: ScanContext, first: list[str], last: list[str], prefix: str = "") -> None:
    report_lines(ctx, first, f"{prefix}first lines", Zone.EDGE_LINE)
    report_lines(ctx, last, f"{prefix}last lines", Zone.EDGE_LINE)


# ---------------------------------------------------------------------------------------
# Plain text
# ---------------------------------------------------------------------------------------

#: Display names for extensions; sniffing has already said the content is text.
_TEXT_KINDS = {
    ".txt": "txt",
    ".md": "md",
    ".markdown": "md",
    ".csv": "csv",
    ".tsv": "tsv",
    ".json": "json",
}
#: A top-level JSON key naming a classification (checked only when the text is a JSON object).
_JSON_CLASSIFICATION = re.compile(
    r'"((?:security[ _-]?|document[ _-]?)?classification|sensitivity|'
    r'protective[ _-]?marking|tlp)"\s*:\s*"([^"\\\r\n]{1,100})"',
    re.IGNORECASE,
)
_JSON_START = re.compile(r"\s*\{")
_JSON_STRUCTURE = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]]')
#: How far into a JSON document top-level keys are looked for.
_JSON_WINDOW = 64 * 1024
_TLP_VALUE = re.compile(r"^(?:tlp:)?\s*(red|amber\+strict|amber|green|clear|white)$", re.I)


def _json_top_level_pairs(text: str) -> list[tuple[str, str]]:
    """``"classification": "SECRET"``-style keys of the first JSON object, at its top level
    (one pass over its strings and brackets, only when such a key occurs at all)."""
    window = text[:_JSON_WINDOW]
    if _JSON_CLASSIFICATION.search(window) is None:
        return []
    pairs: list[tuple[str, str]] = []
    depth = 0
    for token in _JSON_STRUCTURE.finditer(window):
        char = token.group()[0]
        if char == '"':
            if depth == 1:
                pair = _JSON_CLASSIFICATION.match(window, token.start())
                if pair is not None:
                    pairs.append((pair.group(1), pair.group(2)))
        elif char in "{[":
            depth += 1
        else:
            depth -= 1
            if depth <= 0:
                break  # the first JSON value ended; what follows is other records
    return pairs


def _report_json_properties(text: str, ctx: ScanContext) -> None:
    pairs = _json_top_level_pairs(text)
    if not pairs:
        return
    classic: list[tuple[str, str]] = []
    raw_names: dict[str, str] = {}
    for key, value in pairs:
        where = f'JSON key "{key}"'
        if key.lower() == "tlp":
            # A TLP level stored as data means the same as the visible TLP marking.
            tlp = _TLP_VALUE.match(value.strip())
            if tlp is not None:
                found = find_markings(f"TLP:{tlp.group(1).upper()}", where, Zone.HEADER_FOOTER)
                ctx.add_all(found)
            continue
        # properties.py knows "security classification"; JSON spells it security_classification.
        name = re.sub(r"[ _-]+", " ", key)
        raw_names[name] = key
        classic.append((name, value))
    ctx.add_all(classic_from_pairs(classic, lambda name: f'JSON key "{raw_names[name]}"'))


def scan_text(source: Source, ctx: ScanContext) -> None:
    """Plain text of any kind: banners in the first and last few lines."""
    kind = _TEXT_KINDS.get(PurePath(source.name).suffix.lower())
    if kind is not None:
        ctx.refine_format(kind)
    edges = read_edges(source, ctx)
    # No markdown or CSV clean-up: the marking finder reads "**Secret**" as set off and
    # "id,confidential,date" as a header row, so lines are shown as they are.
    first, last = edge_lines(edges.head, edges.tail)
    report_edges(ctx, first, last)
    if _JSON_START.match(edges.head):
        _report_json_properties(edges.head, ctx)


# ---------------------------------------------------------------------------------------
# Office custom properties inside HTML/XML (Word/Excel "Save as web page", Word 2003 XML,
# flat-OPC XML)
# ---------------------------------------------------------------------------------------

_OFFICE_CUSTOM_BLOCK = re.compile(
    r"<(\w+):CustomDocumentProperties\b[^>]*>(.*?)</\1:CustomDocumentProperties>", re.S
)
_OFFICE_CUSTOM_ITEM = re.compile(r"<\w+:([\w.\-]{1,200})\b[^>]*>([^<]{0,4000})</\w+:\1>")
_OFFICE_KEYWORDS = re.compile(r"<\w+:Keywords>([^<]{1,4000})</\w+:Keywords>")
#: Office writes a name's "-" as _x002d_ (XML names cannot hold every character).
_XML_NAME_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
#: docProps/custom.xml inlined in a flat-OPC package (Word "XML document" 2007+).
_OPC_PROPERTY = re.compile(
    r'<(?:\w+:)?property\b[^>]*?\bname="([^"]{1,200})"[^>]*>\s*'
    r"<vt:\w+>([^<]{0,4000})</vt:\w+>"
)


def _fixed(where: str) -> Callable[[str], str]:
    """A `where` for properties that all live in one place (a meta, an email header)."""
    return lambda _name: where


def _unescape_xml_name(name: str) -> str:
    return _XML_NAME_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), name)


def office_properties(text: str, place: str) -> list[Finding]:
    """Labels in Office document properties embedded as markup; `place` names the format
    (``HTML``, ``XML``). Substring checks first: most pages have none of these."""
    pairs: list[tuple[str, str]] = []
    if "CustomDocumentProperties" in text:
        for block in _OFFICE_CUSTOM_BLOCK.finditer(text):
            for item in _OFFICE_CUSTOM_ITEM.finditer(block.group(2)):
                pairs.append((_unescape_xml_name(item.group(1)), html.unescape(item.group(2))))
    if "<vt:" in text:
        for item in _OPC_PROPERTY.finditer(text):
            pairs.append((item.group(1), html.unescape(item.group(2))))
    findings = findings_from_pairs(pairs, lambda name: f"{place} custom property {name}")
    if ":Keywords>" in text:
        keywords = [
            ("Keywords", html.unescape(m.group(1))) for m in _OFFICE_KEYWORDS.finditer(text)
        ]
        findings.extend(classic_from_pairs(keywords, _fixed(f"{place} document keywords")))
    return findings


# ---------------------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------------------

_META_CHARSET = re.compile(
    rb"""<meta\b[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]{1,40})""", re.I
)
#: Meta names that carry a label (compared lower-cased).
_LABEL_METAS = frozenset(
    {
        "classification",
        "sensitivity",
        "security-classification",
        "security_classification",
        "securityclassification",
        "protective-marking",
        "protectivemarking",
        "document-classification",
        "keywords",
        "titusguid",
        "ctpclassification",
        "msip_labels",
    }
)
_BLOCK_TAGS = frozenset(
    {
        "address",
        "article",
        "aside",
        "blockquote",
        "body",
        "br",
        "caption",
        "center",
        "dd",
        "details",
        "dialog",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "head",
        "header",
        "hr",
        "html",
        "legend",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "tfoot",
        "thead",
        "title",
        "tr",
        "ul",
    }
)
_CELL_TAGS = frozenset({"td", "th"})
_VOID_TAGS = frozenset(
    {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    }
)
#: Controls inside a <header>/<footer> ("Home | Internal | Public") are not a banner: their
#: text stays in the body but is kept out of the zone.
_NAV_TAGS = frozenset({"a", "button", "select", "option", "form", "menu", "label"})
#: Site navigation is chrome, not the document: its text is not read at all.
_CHROME_TAGS = frozenset({"nav"})
#: class/id words of elements that are classification banners in web applications.
_BANNER_ATTR = re.compile(r"classification|marking|sensitivity|security[-_]?(?:banner|label)", re.I)
#: Stacks deeper than this are not tracked (hostile nesting); text is still read.
_MAX_STACK = 256

#: One token of HTML. A regex tokenizer rather than html.parser: several times faster, never
#: raises, and fetches or expands nothing. Comments and raw-text elements (script, style) are
#: skipped with str.find, which is far faster than a lazy regex over their content.
_HTML_TOKEN = re.compile(
    r"<[!?][^>]*>?"  # doctype, processing instruction, <![if ...]> (comments handled apart)
    r"|</([A-Za-z][\w:.\-]*)[^>]*>?"  # end tag
    r"|<([A-Za-z][\w:.\-]*)([^>\"']*(?:(?:\"[^\"]*\"|'[^']*')[^>\"']*)*)>?"  # start tag
    r"|[^<]+|<",  # text; a lone "<"
)
#: Elements whose content is raw text, not markup.
_RAW_TAGS = frozenset({"script", "style", "template", "title", "textarea"})
_ZONE_HINT = re.compile(r"class|id|role", re.IGNORECASE)
_HTML_ATTR = re.compile(r"""([^\s="'/>]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?""")


@dataclass
class HtmlText:
    """What part of an HTML document shows and says about itself."""

    body: list[str] = field(default_factory=list)
    #: Zone name (``HTML header``, ``HTML footer``, ``HTML banner``, ``HTML title``) → text.
    zones: dict[str, list[str]] = field(default_factory=dict)
    metas: list[tuple[str, str]] = field(default_factory=list)

    @property
    def body_text(self) -> str:
        return "".join(self.body)


def _attributes(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for match in _HTML_ATTR.finditer(text):
        value = match.group(2) or match.group(3) or match.group(4) or ""
        values.setdefault(match.group(1).lower(), html.unescape(value))
    return values


class _HtmlReader:
    """Visible text with block breaks, header/footer/banner text and label metas."""

    def __init__(self) -> None:
        self.out = HtmlText()
        #: Open elements: tag, the zone it opens (if any), and "nav"/"chrome"/"" for controls.
        self._stack: list[tuple[str, str | None, str]] = []
        self._zone_depth: dict[str, int] = {}
        self._nav = 0
        self._chrome = 0
        self._in_head = False
        self._zone_chars: dict[str, int] = {}
        #: Non-empty body lines so far, and where the current one began in out.body.
        self.body_lines = 0
        self._line_mark = 0

    def _emit(self, text: str) -> None:
        if self._chrome:
            return
        if not self._nav:
            for zone, depth in self._zone_depth.items():
                used = self._zone_chars.get(zone, 0)
                if depth > 0 and used < MAX_ZONE_CHARS:
                    self.out.zones.setdefault(zone, []).append(text)
                    self._zone_chars[zone] = used + len(text)
        if not self._in_head:
            self.out.body.append(text)

    def _break(self, separator: str) -> None:
        body = self.out.body
        if separator == "\n" and not self._in_head:
            if len(body) > self._line_mark and _WORDY.search("".join(body[self._line_mark :])):
                self.body_lines += 1
            self._line_mark = len(body) + 1
        self._emit(separator)

    def _zone_of(self, tag: str, attrs: dict[str, str]) -> str | None:
        role = attrs.get("role", "").lower()
        if tag == "header" or role == "banner":
            return "HTML header"
        if tag == "footer" or role == "contentinfo":
            return "HTML footer"
        if _BANNER_ATTR.search(f"{attrs.get('class', '')} {attrs.get('id', '')}"):
            return "HTML banner"
        return None

    def _start(self, tag: str, attr_text: str) -> None:
        closed = attr_text.rstrip().endswith("/")
        if tag == "meta":
            values = _attributes(attr_text)
            name = (values.get("name") or values.get("http-equiv") or "").strip().lower()
            if name in _LABEL_METAS and values.get("content"):
                self.out.metas.append((name, values["content"]))
            return
        if tag == "head":
            self._in_head = True
        elif tag == "body":
            self._in_head = False
        if tag in _BLOCK_TAGS:
            self._break("\n")
        elif tag in _CELL_TAGS:
            self._break("\t")
        if closed or tag in _VOID_TAGS or len(self._stack) >= _MAX_STACK:
            return
        zone = None
        kind = "chrome" if tag in _CHROME_TAGS else "nav" if tag in _NAV_TAGS else ""
        if tag in ("header", "footer") or (attr_text and _ZONE_HINT.search(attr_text)):
            attrs = _attributes(attr_text)
            if attrs.get("role", "").lower() == "navigation":
                kind = "chrome"
            zone = self._zone_of(tag, attrs)
        self._stack.append((tag, zone, kind))
        if zone is not None:
            self._zone_depth[zone] = self._zone_depth.get(zone, 0) + 1
        if kind == "nav":
            self._nav += 1
        elif kind == "chrome":
            self._chrome += 1

    def _end(self, tag: str) -> None:
        if tag == "head":
            self._in_head = False
        if tag in _BLOCK_TAGS:
            self._break("\n")
        # Close the most recent open element of this name and whatever was left open inside.
        for index in range(len(self._stack) - 1, -1, -1):
            if self._stack[index][0] == tag:
                for _name, zone, kind in self._stack[index:]:
                    if zone is not None:
                        self._zone_depth[zone] -= 1
                    if kind == "nav":
                        self._nav -= 1
                    elif kind == "chrome":
                        self._chrome -= 1
                del self._stack[index:]
                break

    def _raw(self, tag: str, content: str) -> None:
        if tag == "title":
            title = html.unescape(content).strip()
            if title:
                self.out.zones.setdefault("HTML title", []).append(title[:MAX_ZONE_CHARS])
        elif tag == "textarea":
            self._emit(html.unescape(content))
        # script, style, template: never shown

    def settled(self) -> bool:
        """Past the <head>, and inside no header/footer/banner whose text is still coming."""
        return not self._in_head and not any(self._zone_depth.values())

    def run(
        self, text: str, stop_after: int = 0, check_time: Callable[[], None] | None = None
    ) -> int:
        """Read `text` to its end, or until `stop_after` body lines are complete and no zone
        is open; returns the position reached."""
        pos = 0
        size = len(text)
        steps = 0
        while pos < size:
            steps += 1
            if check_time is not None and steps & 0xFFF == 0:
                check_time()
            if text.startswith("<!--", pos):
                close = text.find("-->", pos + 4)
                pos = size if close < 0 else close + 3
                continue
            match = _HTML_TOKEN.match(text, pos)
            if match is None:  # cannot happen: the last branches match any character
                break
            pos = match.end()
            end_tag, start_tag, attr_text = match.groups()
            if start_tag is not None:
                tag = start_tag.lower()
                if tag in _RAW_TAGS:
                    close, pos = _raw_close(text, tag, pos)
                    self._raw(tag, text[match.end() : close])
                    continue
                self._start(tag, attr_text)
            elif end_tag is not None:
                self._end(end_tag.lower())
            else:
                piece = match.group()
                if piece[0] != "<" or piece == "<":
                    self._emit(html.unescape(piece) if "&" in piece else piece)
                continue
            if stop_after and self.body_lines >= stop_after and self.settled():
                break
        return min(pos, size)


def _raw_close(text: str, tag: str, pos: int) -> tuple[int, int]:
    """Where a raw-text element's content ends and where reading goes on after its end tag."""
    while True:
        at = text.find("</", pos)
        if at < 0:
            return len(text), len(text)
        if text[at + 2 : at + 2 + len(tag)].lower() == tag:
            close = text.find(">", at)
            return at, len(text) if close < 0 else close + 1
        pos = at + 2


def _enough_lines(text: str) -> bool:
    return len(first_lines(text)[0]) >= EDGE_LINES


def _html_end(text: str, floor: int, check_time: Callable[[], None]) -> HtmlText:
    """Read the end of `text` (not before `floor`), from a tag, in growing steps until the
    last lines are known."""
    step = _END_STEP
    while True:
        begin = max(floor, len(text) - step)
        cut = text.find("<", begin)
        reader = _HtmlReader()
        reader.run(text[cut:] if cut >= 0 else "", check_time=check_time)
        if begin == floor or len(last_lines(reader.out.body_text)) >= EDGE_LINES:
            return reader.out
        step *= 4


def _is_label_value(finding: Finding) -> bool:
    """Web pages use ``<meta name="classification">`` for a site's category ("Business",
    "Travel"); only a value that is itself a classification term is a label there."""
    if finding.scheme is not Scheme.DOCUMENT_PROPERTY:
        return True
    return bool(find_markings(finding.value or "", "meta", Zone.HEADER_FOOTER))


def report_html(edges: Edges, ctx: ScanContext, prefix: str = "", *, body_prefix: str = "") -> None:
    """Labels in an HTML document given as decoded edges. `prefix` goes before zone names
    (``body, `` for an email body), `body_prefix` before ``first lines``/``last lines``."""
    # The start is read until its first lines are known; the end from a little before it.
    reader = _HtmlReader()
    stopped = reader.run(edges.head, EDGE_LINES, ctx.check_time)
    start = reader.out
    end: HtmlText | None = None
    if edges.tail:
        end = _html_end(edges.tail, 0, ctx.check_time)
    elif stopped < len(edges.head):
        end = _html_end(edges.head, stopped, ctx.check_time)
    for name, content in start.metas + (end.metas if end else []):
        where = _fixed(f"{prefix}HTML meta {name}")
        if name == "msip_labels":
            ctx.add_all(findings_from_pairs(parse_msip_header(content), where))
        else:
            ctx.add_all(
                finding
                for finding in classic_from_pairs([(name, content)], where)
                if _is_label_value(finding)
            )
    # Word's "Save as web page" writes its document properties inside <head>.
    body_at = edges.head.find("<body")
    head_part = edges.head if body_at < 0 else edges.head[:body_at]
    ctx.add_all(office_properties(head_part, f"{prefix}HTML"))
    for part in (start, end):
        if part is None:
            continue
        for zone, pieces in part.zones.items():
            # A title is shown in a window bar, not on the page: it needs a banner's form.
            kind = Zone.EDGE_LINE if zone == "HTML title" else Zone.HEADER_FOOTER
            report_lines(ctx, _zone_lines("".join(pieces)), f"{prefix}{zone}", kind)
    start_body = start.body_text
    first, stop = first_lines(start_body)
    if end is not None:
        last = last_lines(end.body_text)
    else:
        last = last_lines(start_body, EDGE_LINES, stop)
    report_edges(ctx, first, last, body_prefix)


def _declared_charset(head: bytes) -> str | None:
    match = _META_CHARSET.search(head, 0, 4096)
    return match.group(1).decode("ascii") if match else None


def scan_html(source: Source, ctx: ScanContext) -> None:
    """HTML: label metas, Office custom properties, header/footer/banner elements, and the
    first and last lines of the visible text."""
    ctx.refine_format("html")
    head, tail = source.edges(ctx.limits.text_window)
    edges = decode_edges(head, tail, source.size - len(tail), declared=_declared_charset(head))
    ctx.check_time()
    report_html(edges, ctx)


# ---------------------------------------------------------------------------------------
# Generic XML
# ---------------------------------------------------------------------------------------

#: Markup that is not text: comments, processing instructions, the doctype with its internal
#: subset, CDATA brackets (their content is text), tags. Unterminated pieces at a cut window
#: edge run to its end.
_XML_MARKUP = re.compile(
    r"<!--.*?(?:-->|\Z)|<\?.*?(?:\?>|\Z)|<!DOCTYPE(?:[^\[>]|\[.*?(?:\]|\Z))*>?"
    r"|<!\[CDATA\[|\]\]>|<[^>]*>?",
    re.S,
)
_XML_ENCODING = re.compile(rb"""<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9_.:\-]{1,40})""")
#: Character references only: named entities of a DTD are never expanded.
_XML_CHAR_REF = re.compile(r"&(#[0-9]{1,7}|#x[0-9A-Fa-f]{1,6}|lt|gt|amp|quot|apos);")
_XML_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}


def _xml_char(match: re.Match[str]) -> str:
    ref = match.group(1)
    if ref[0] != "#":
        return _XML_NAMED[ref]
    code = int(ref[2:], 16) if ref[1] in "xX" else int(ref[1:])
    return chr(code) if 0 < code < 0x110000 and not 0xD800 <= code < 0xE000 else "\ufffd"


def xml_text(text: str) -> str:
    """Text content of an XML window: each text node on its own line."""
    return _XML_CHAR_REF.sub(_xml_char, _XML_MARKUP.sub("\n", text))


def _xml_start(text: str) -> tuple[str, int]:
    """Text of the start of `text`, converted a chunk at a time (each chunk ends where a tag
    starts) until the first lines are known; and how far it read."""
    pieces: list[str] = []
    pos = 0
    while pos < len(text):
        cut = text.find("<", pos + _CHUNK)
        cut = len(text) if cut < 0 else cut
        pieces.append(xml_text(text[pos:cut]))
        pos = cut
        if _enough_lines("".join(pieces)):
            break
    return "".join(pieces), pos


def _xml_end(text: str, floor: int) -> str:
    """Text of the end of `text` (not before `floor`), in growing steps."""
    step = _CHUNK
    while True:
        begin = max(floor, len(text) - step)
        cut = text.find("<", begin)
        converted = xml_text(text[cut:]) if cut >= 0 else ""
        if begin == floor or len(last_lines(converted)) >= EDGE_LINES:
            return converted
        step *= 4


def scan_xml(source: Source, ctx: ScanContext) -> None:
    """Generic XML (not Office): first and last text lines, and Office custom properties of
    Word/Excel 2003 XML and flat-OPC files. A regex stripper over the windows: no parser,
    so no entity expansion, and cut windows are fine."""
    ctx.refine_format("xml")
    head, tail = source.edges(ctx.limits.text_window)
    match = _XML_ENCODING.search(head, 0, 1024)
    declared = match.group(1).decode("ascii") if match else None
    edges = decode_edges(head, tail, source.size - len(tail), declared=declared)
    ctx.check_time()
    # Flat-OPC packages may put docProps/custom.xml last: both windows are searched.
    ctx.add_all(office_properties(edges.head, "XML"))
    if edges.tail:
        ctx.add_all(office_properties(edges.tail, "XML"))
    start, stopped = _xml_start(edges.head)
    first, stop = first_lines(start)
    if edges.tail:
        last = last_lines(_xml_end(edges.tail, 0))
    elif stopped < len(edges.head):
        last = last_lines(_xml_end(edges.head, stopped))
    else:
        last = last_lines(start, EDGE_LINES, stop)
    ctx.check_time()
    report_edges(ctx, first, last)


# ---------------------------------------------------------------------------------------
# RTF
# ---------------------------------------------------------------------------------------

_RTF_TOKEN = re.compile(
    r"\\([a-zA-Z]{1,32})(-?\d{1,10})? ?"  # control word with its parameter and delimiter
    r"|\\'([0-9a-fA-F]{2})"  # a byte in the current code page
    r"|\\([^a-zA-Z'])"  # control symbol
    r"|([{}])"
    r"|([^\\{}\r\n]+)"  # text
    r"|[\r\n]+|\\"  # line breaks are not text in RTF; a stray backslash is ignored
)
#: \binN: N raw bytes follow, which may hold anything, braces included.
_RTF_BIN = re.compile(r"bin(\d{1,10}) ?")
#: Groups whose content is never shown as text.
_RTF_SKIP = frozenset(
    {
        "colortbl",
        "stylesheet",
        "pict",
        "object",
        "objdata",
        "themedata",
        "colorschememapping",
        "datastore",
        "latentstyles",
        "listtable",
        "listoverridetable",
        "rsidtbl",
        "generator",
        "xmlnstbl",
        "mmathPr",
        "fldinst",
        "filetbl",
        "revtbl",
        "pgdsctbl",
        "protusertbl",
        "bkmkstart",
        "bkmkend",
        "footnote",
        "annotation",
        "atnid",
        "atnauthor",
        "sp",
        "nonshppict",
        "bliptag",
        "blipuid",
        "pntext",
        "pntxta",
        "pntxtb",
        "listtext",
        "xmlopen",
        "xmlclose",
        "docvar",
        "ftnsep",
        "ftnsepc",
        "aftnsep",
        "aftnsepc",
        "comment",
    }
)
_RTF_HEADERS = {
    "header": "header",
    "headerl": "header",
    "headerr": "header",
    "headerf": "header",
    "footer": "footer",
    "footerl": "footer",
    "footerr": "footer",
    "footerf": "footer",
}
#: Starred destinations that hold something worth reading; other \* groups are skipped.
_RTF_STARRED = frozenset({"userprops", "shpinst", "shptxt", "ud"})
_RTF_INFO_SKIP = frozenset(
    {
        "title",
        "subject",
        "author",
        "operator",
        "manager",
        "company",
        "category",
        "comment",
        "doccomm",
        "hlinkbase",
        "creatim",
        "revtim",
        "printim",
        "buptim",
    }
)
_RTF_BREAKS = frozenset({"par", "line", "sect", "page", "row", "column", "pard"})
_RTF_SPECIALS = {
    "tab": "\t",
    "cell": "\t",
    "emdash": "\u2014",
    "endash": "\u2013",
    "bullet": "\u2022",
    "lquote": "\u2018",
    "rquote": "\u2019",
    "ldblquote": "\u201c",
    "rdblquote": "\u201d",
    "emspace": " ",
    "enspace": " ",
    "qmspace": " ",
}
#: Control words that change what is read; all others are formatting and are passed over.
_RTF_ACTIVE_WORDS = (
    _RTF_BREAKS | _RTF_SPECIALS.keys() | {"u", "f", "fcharset", "uc", "ansicpg", "deff", "bin"}
)
_RTF_SYMBOLS = {"~": "\u00a0", "_": "-", "\\": "\\", "{": "{", "}": "}", "\n": "\n", "\r": "\n"}
#: Windows font charsets (\fcharsetN) → code pages.
_RTF_CHARSETS = {
    128: "cp932",
    129: "cp949",
    130: "cp1361",
    134: "gbk",
    136: "cp950",
    161: "cp1253",
    162: "cp1254",
    163: "cp1258",
    177: "cp1255",
    178: "cp1256",
    186: "cp1257",
    204: "cp1251",
    222: "cp874",
    238: "cp1250",
}


def _codepage(number: int) -> str | None:
    name = "utf-8" if number == 65001 else f"cp{number}"
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


@dataclass
class RtfText:
    body: str = ""
    header: str = ""
    footer: str = ""
    keywords: list[str] = field(default_factory=list)
    userprops: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class _RtfState:
    dest: str = "body"
    uc: int = 1
    font: int = -1


class _RtfReader:
    """A small, tolerant RTF-to-text routine (one window at a time, never recursive)."""

    def __init__(
        self,
        data: str,
        *,
        from_start: bool,
        deadline: Callable[[], None],
        after: _RtfReader | None = None,
    ) -> None:
        self.data = data
        self.check_time = deadline
        self.out: dict[str, list[str]] = {"body": [], "header": [], "footer": []}
        self.chars = {"header": 0, "footer": 0}
        self.keywords: list[str] = []
        self.props: list[tuple[str, str]] = []
        self.prop_name: list[str] = []
        self.prop_value: list[str] = []
        self.keyword_text: list[str] = []
        self.ansi = "cp1252"
        self.fonts: dict[int, str] = {}
        self.deff = -1
        self.pending = bytearray()
        self.pending_dest = "body"
        self.pending_font = -1
        self.surrogates = False
        # A tail window starts mid-document: text before its first paragraph mark is a
        # fragment (or image hex), so it waits for one.
        self.started = from_start
        #: Non-empty body lines so far, and where the current line began in out["body"].
        self.body_lines = 0
        self._line_mark = 0
        if after is not None:
            # The end of a document is read in the code pages its start declared.
            self.ansi, self.fonts, self.deff = after.ansi, after.fonts, after.deff

    # -- output ------------------------------------------------------------------------
    def _put(self, dest: str, text: str) -> None:
        if dest == "body":
            if self.started:
                self.out["body"].append(text)
        elif dest in self.chars:
            if self.chars[dest] < MAX_ZONE_CHARS:
                self.out[dest].append(text)
                self.chars[dest] += len(text)
        elif dest == "keywords":
            self.keyword_text.append(text)
        elif dest == "propname":
            self.prop_name.append(text)
        elif dest == "staticval":
            self.prop_value.append(text)

    def _flush(self) -> None:
        if self.pending:
            encoding = self.fonts.get(self.pending_font, self.ansi)
            self._put(self.pending_dest, bytes(self.pending).decode(encoding, "replace"))
            self.pending.clear()

    def _text_encoding(self, state: _RtfState) -> str:
        return self.fonts.get(state.font if state.font >= 0 else self.deff, self.ansi)

    # -- parsing -----------------------------------------------------------------------
    def _skip_group(self, pos: int) -> int:
        """Position just after the close of the group whose content starts at `pos`. Only
        unescaped braces and binary runs matter here; str.find jumps between them, which
        passes over a stylesheet or hundreds of KB of image hex in microseconds."""
        data = self.data
        size = len(data)
        depth = 1
        next_open = next_close = next_bin = -2  # -2: not looked for yet; -1: none left
        while True:
            if next_open != -1 and next_open < pos:
                next_open = data.find("{", pos)
            if next_close != -1 and next_close < pos:
                next_close = data.find("}", pos)
            if next_bin != -1 and next_bin < pos:
                next_bin = data.find("\\bin", pos)
            found = [at for at in (next_open, next_close, next_bin) if at >= 0]
            if not found:
                return size
            at = min(found)
            pos = at + 1
            if at == next_bin:
                binary = _RTF_BIN.match(data, at + 1)
                if binary is not None:
                    pos = binary.end() + int(binary.group(1))
                continue
            escapes = 0
            while at - escapes > 0 and data[at - escapes - 1] == "\\":
                escapes += 1
            if escapes % 2:
                continue  # \{ or \} is a literal brace
            depth += 1 if at == next_open else -1
            if depth == 0:
                return pos

    def _end_group(self, state: _RtfState) -> None:
        if state.dest == "propname":
            self.prop_value.clear()
        elif state.dest == "staticval":
            name = "".join(self.prop_name).strip()
            if name:
                self.props.append((name, "".join(self.prop_value).strip()))
            self.prop_name.clear()
            self.prop_value.clear()
        elif state.dest == "keywords":
            self.keywords.append("".join(self.keyword_text).strip())
            self.keyword_text.clear()

    def _destination(self, word: str, starred: bool, state: _RtfState) -> str | None:
        """The new destination a group's first control word opens, or None to skip it."""
        if word in _RTF_HEADERS:
            return _RTF_HEADERS[word]
        if word == "fonttbl":
            return "fonttbl"
        if word == "info":
            return "info"
        if state.dest == "info":
            if word == "keywords":
                return "keywords"
            if word in _RTF_INFO_SKIP:
                return None
        if word == "userprops":
            return "userprops"
        if state.dest == "userprops":
            if word == "propname":
                return "propname"
            if word == "staticval":
                return "staticval"
            return None  # \proptype, \linkval
        if word in _RTF_SKIP or (starred and word not in _RTF_STARRED):
            return None
        return state.dest

    def run(self, stop_after: int = 0) -> int:
        """Read until the end, or until `stop_after` body lines are complete; returns the
        position reached."""
        data = self.data
        state = _RtfState()
        stack: list[_RtfState] = []
        group_start = False
        starred = False
        skip_chars = 0  # \uN fallback characters still to drop
        font_number = -1  # the font table entry being read
        pos = 0
        steps = 0
        while pos < len(data):
            match = _RTF_TOKEN.match(data, pos)
            if match is None:  # cannot happen (the last branch matches any backslash)
                break
            pos = match.end()
            steps += 1
            if steps & 0x3FFF == 0:
                self.check_time()
            word, param, hexbyte, symbol, brace, text = match.groups()
            if hexbyte is not None:
                group_start = False
                if skip_chars:
                    skip_chars -= 1
                    continue
                # Consecutive \'hh bytes are decoded together: a DBCS character (GBK, Shift
                # JIS) is two of them.
                font = state.font if state.font >= 0 else self.deff
                if self.pending and (self.pending_dest != state.dest or self.pending_font != font):
                    self._flush()
                self.pending_dest = state.dest
                self.pending_font = font
                self.pending.append(int(hexbyte, 16))
                continue
            if self.pending:
                self._flush()
            if brace == "{":
                stack.append(state)
                state = _RtfState(state.dest, state.uc, state.font)
                group_start, starred, skip_chars = True, False, 0
                continue
            if brace == "}":
                self._end_group(state)
                state = stack.pop() if stack else _RtfState()
                group_start, skip_chars = False, 0
                continue
            if word is not None:
                if group_start:
                    dest = self._destination(word, starred, state)
                    group_start = False
                    if dest is None:
                        pos = self._skip_group(pos)
                        state = stack.pop() if stack else _RtfState()
                        continue
                    state.dest = dest
                    if dest == "propname":
                        self.prop_name.clear()
                        self.prop_value.clear()
                if word not in _RTF_ACTIVE_WORDS:
                    continue  # formatting (\rtlch, \fs24, \insrsid...): nothing to read
                if word in _RTF_BREAKS:
                    self._break(state)
                    if stop_after and self.body_lines >= stop_after:
                        break
                elif word in _RTF_SPECIALS:
                    self._put(state.dest, _RTF_SPECIALS[word])
                elif param is None:
                    continue
                elif word == "u":
                    code = int(param)
                    code = code + 65536 if code < 0 else code
                    if 0xD800 <= code < 0xE000:
                        self.surrogates = True
                    self._put(state.dest, chr(code))
                    skip_chars = state.uc
                elif word == "f":
                    if state.dest == "fonttbl":
                        font_number = int(param)
                    else:
                        state.font = int(param)
                elif word == "fcharset":
                    codepage = _RTF_CHARSETS.get(int(param))
                    if codepage is not None and font_number >= 0 and state.dest == "fonttbl":
                        self.fonts[font_number] = codepage
                elif word == "uc":
                    state.uc = max(0, min(int(param), 8))
                elif word == "ansicpg":
                    self.ansi = _codepage(int(param)) or self.ansi
                elif word == "deff":
                    self.deff = int(param)
                elif word == "bin":
                    pos += max(0, int(param))  # raw bytes are never text
                continue
            if symbol is not None:
                if symbol == "*":
                    starred = True
                    continue
                group_start = False
                if skip_chars:
                    skip_chars -= 1
                    continue
                self._put(state.dest, _RTF_SYMBOLS.get(symbol, ""))
                continue
            if text is not None:
                group_start = False
                if skip_chars:
                    dropped = min(skip_chars, len(text))
                    text = text[dropped:]
                    skip_chars -= dropped
                if text and state.dest not in ("fonttbl", "info", "userprops"):
                    if not text.isascii():
                        encoding = self._text_encoding(state)
                        text = text.encode("latin-1").decode(encoding, "replace")
                    self._put(state.dest, text)
        self._flush()
        return pos

    def _break(self, state: _RtfState) -> None:
        if state.dest == "body":
            if not self.started:
                self.started = True
            body = self.out["body"]
            if len(body) > self._line_mark and _WORDY.search("".join(body[self._line_mark :])):
                self.body_lines += 1
            self._line_mark = len(body) + 1
        self._put(state.dest, "\n")

    def result(self) -> RtfText:
        def text(dest: str) -> str:
            joined = "".join(self.out[dest])
            if self.surrogates:
                joined = joined.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
            return joined

        return RtfText(
            body=text("body"),
            header=text("header"),
            footer=text("footer"),
            keywords=[k for k in self.keywords if k],
            userprops=self.props,
        )


def _rtf_start(text: str, check_time: Callable[[], None]) -> tuple[_RtfReader, int]:
    """Read from the start until the first body lines are complete (header groups, user
    properties and the info group come before the body in what Word and others write)."""
    reader = _RtfReader(text, from_start=True, deadline=check_time)
    stopped = reader.run(stop_after=EDGE_LINES)
    return reader, stopped


def _rtf_end(text: str, floor: int, start: _RtfReader, check_time: Callable[[], None]) -> RtfText:
    """Read the end of `text` (not before `floor`) from a paragraph mark, in growing steps
    until the last body lines are known. Steps are counted back from the last paragraph
    mark: Word writes its theme, colour map, latent styles and data store (tens of KB) after
    the body, and those groups are passed over by brace matching anyway."""
    last_par = text.rfind("\\par")
    if last_par < floor:
        return RtfText()
    step = _END_STEP
    while True:
        begin = max(floor, last_par - step)
        at = text.find("\\par", begin)
        reader = _RtfReader(text[at:], from_start=False, deadline=check_time, after=start)
        reader.run()
        result = reader.result()
        if begin == floor or len(last_lines(result.body)) >= EDGE_LINES:
            return result
        step *= 4


def scan_rtf(source: Source, ctx: ScanContext) -> None:
    """RTF: user properties and keywords, header/footer groups, first and last body lines."""
    ctx.refine_format("rtf")
    head_bytes, tail_bytes = source.edges(ctx.limits.text_window)
    # RTF is 7-bit text; latin-1 keeps every byte as it is for the code-page decoding later.
    head, tail = head_bytes.decode("latin-1"), tail_bytes.decode("latin-1")
    ctx.check_time()
    reader, stopped = _rtf_start(head, ctx.check_time)
    start = reader.result()
    end: RtfText | None = None
    if tail:
        end = _rtf_end(tail, 0, reader, ctx.check_time)
    elif stopped < len(head):
        end = _rtf_end(head, stopped, reader, ctx.check_time)
    ctx.add_all(findings_from_pairs(start.userprops, lambda name: f"RTF user property {name}"))
    keywords = [("Keywords", value) for value in start.keywords]
    ctx.add_all(classic_from_pairs(keywords, _fixed("RTF keywords")))
    for part in (start, end):
        if part is not None:
            report_lines(ctx, _zone_lines(part.header), "RTF header", Zone.HEADER_FOOTER)
            report_lines(ctx, _zone_lines(part.footer), "RTF footer", Zone.HEADER_FOOTER)
    first, stop = first_lines(start.body)
    last = last_lines(end.body) if end is not None else last_lines(start.body, EDGE_LINES, stop)
    report_edges(ctx, first, last)
