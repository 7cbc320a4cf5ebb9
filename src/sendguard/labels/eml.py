"""E-mail messages (.eml, and MIME web archives that sniff as mail).

Labels live in headers (``msip_labels``, Titus, ``Sensitivity``, protective-marking headers),
in the subject (``[CONFIDENTIAL] Q3 numbers``), at the edges of the body, and inside
attachments, which are handed back to the dispatcher one by one.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import mimetypes
import re
from collections.abc import Callable, Iterator
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesHeaderParser, BytesParser
from email.policy import compat32

from sendguard.labels.context import MiB, ScanContext, Source, Unscannable
from sendguard.labels.markings import Zone, find_markings
from sendguard.labels.model import Finding
from sendguard.labels.properties import classic_from_pairs, findings_from_pairs, parse_msip_header
from sendguard.labels.text import Edges, decode_edges, edge_lines, report_edges, report_html

#: Larger messages are not parsed whole (the stdlib parser holds all of it, several times
#: over): their headers are checked and the message is unscannable.
MAX_EMAIL_BYTES = 64 * MiB
#: The header block of an over-large message is looked for in this many leading bytes.
_HEADER_BLOCK = 1 * MiB
#: multipart inside multipart inside ...: real mail nests a handful of levels.
_MAX_MIME_DEPTH = 32
#: A Titus metadata header is base64 JSON of a few hundred bytes.
_MAX_TITUS_METADATA = 64 * 1024

_TITUS_METADATA = re.compile(r"^x-titus-metadata-\d+$")
_TITUS_CLASSIFICATIONS = re.compile(r"^x-tituslabs-classifications-\d+$")
_CLASSIFICATION_HEADERS = frozenset(
    {"x-classification", "x-security-classification", "classification", "security-classification"}
)
#: Australian Government protective marking: ``VER=2018.1, NS=gov.au, SEC=OFFICIAL:Sensitive``.
_PROTECTIVE_SEC = re.compile(r"(?:^|[,\s])SEC\s*=\s*([^,;]+)", re.IGNORECASE)
#: Outlook's Sensitivity values are Normal, Personal, Private and Company-Confidential; only the
#: last one is a label (the others say how personal a message is, not how secret).
_SENSITIVITY_LABEL = "company-confidential"
_LABEL_HEADERS = _CLASSIFICATION_HEADERS | {
    "msip_labels",
    "x-ctpclassification",
    "x-microsoft-classification",
    "x-protective-marking",
    "sensitivity",
}
_MAX_LABEL_HEADERS = 32
#: Parts whose content needs a key or a reader this engine does not have. Handed on, they would
#: be opaque bytes that the dispatcher calls clean; they make the message unscannable instead.
_SMIME = "S/MIME-encrypted or opaque-signed content cannot be read"
_TNEF = "Outlook rich-text (TNEF, winmail.dat) content is not read"
_OPAQUE = {
    "multipart/encrypted": "PGP/MIME-encrypted content cannot be read",
    "application/pkcs7-mime": _SMIME,
    "application/x-pkcs7-mime": _SMIME,
    "application/ms-tnef": _TNEF,
    "application/vnd.ms-tnef": _TNEF,
}
_RAW_BYTE = re.compile(r"[\udc80-\udcff]")
_UNFOLD = re.compile(r"\r?\n(?=[ \t])")
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f]+")
_MAX_NAME = 120


def _fixed(where: str) -> Callable[[str], str]:
    return lambda _name: where


def _decode_header(raw: str) -> str:
    """A raw header value unfolded, its 8-bit bytes and RFC 2047 encoded words decoded."""
    value = _UNFOLD.sub("", raw)
    if _RAW_BYTE.search(value):
        # The parser keeps raw 8-bit bytes as surrogate escapes: back to bytes, then decoded
        # as text files are (UTF-8, GB18030, Windows-1252).
        value = decode_edges(value.encode("utf-8", "surrogateescape"), b"", 0).head
    if "=?" in value:
        # An unknown charset or a broken word leaves the raw text, which still reads.
        with contextlib.suppress(Exception):
            value = str(make_header(decode_header(value)))
    return value


def _header_values(message: Message, name: str) -> list[str]:
    """Every value of header `name`, unfolded and decoded. Raw items, because compat32 hands
    out an 8-bit value as a Header object whose text has lost those bytes."""
    return [_decode_header(str(value)) for key, value in message.raw_items() if key.lower() == name]


def _label_header_names(message: Message) -> list[str]:
    """The distinct names of headers that may carry a label, in order; a hostile message
    with thousands of them is read only for the first few."""
    names: dict[str, None] = {}
    for key, _value in message.raw_items():
        name = key.lower()
        if name not in names and _is_label_header(name):
            names[name] = None
            if len(names) >= _MAX_LABEL_HEADERS:
                break
    return list(names)


def _is_label_header(name: str) -> bool:
    return (
        name in _LABEL_HEADERS
        or _TITUS_METADATA.match(name) is not None
        or _TITUS_CLASSIFICATIONS.match(name) is not None
    )


def _titus_metadata(value: str) -> list[tuple[str, str]]:
    """Pairs from ``x-titus-metadata-40``: base64 JSON naming the Titus id and its fields."""
    compact = "".join(value.split())
    if len(compact) > _MAX_TITUS_METADATA:
        return []
    try:
        document = json.loads(base64.b64decode(compact + "=" * (-len(compact) % 4)))
    except (binascii.Error, ValueError, RecursionError):
        return []
    metadata = document.get("Metadata") if isinstance(document, dict) else None
    if not isinstance(metadata, dict):
        return []
    pairs: list[tuple[str, str]] = []
    if isinstance(metadata.get("id"), str):
        pairs.append(("TitusGUID", metadata["id"]))
    for prop in metadata.get("props") or []:
        if not isinstance(prop, dict) or not isinstance(prop.get("n"), str):
            continue
        values = [
            item["value"]
            for item in prop.get("vals") or []
            if isinstance(item, dict) and isinstance(item.get("value"), str)
        ]
        if values:
            pairs.append((prop["n"], ",".join(values)))
    return pairs


def _semicolon_pairs(value: str) -> list[tuple[str, str]]:
    """``TLPropertyRoot=Contoso;Classification=Confidential;`` → pairs, without the root."""
    pairs = parse_msip_header(value)
    return [(key, val) for key, val in pairs if key.lower() != "tlpropertyroot"]


def header_findings(message: Message) -> list[Finding]:
    """Labels in a message's headers (not the subject)."""
    findings: list[Finding] = []
    for name in _label_header_names(message):
        where = _fixed(f"header {name}")
        for value in _header_values(message, name):
            if name == "msip_labels":
                findings.extend(findings_from_pairs(parse_msip_header(value), where))
            elif name == "x-ctpclassification":
                findings.extend(classic_from_pairs([("CTPClassification", value)], where))
            elif _TITUS_METADATA.match(name):
                findings.extend(classic_from_pairs(_titus_metadata(value), where))
            elif _TITUS_CLASSIFICATIONS.match(name):
                findings.extend(classic_from_pairs(_semicolon_pairs(value), where))
            elif name in _CLASSIFICATION_HEADERS or (
                name == "x-microsoft-classification" and _ms_classified(message)
            ):
                findings.extend(classic_from_pairs([("Classification", value)], where))
            elif name == "x-protective-marking":
                sec = _PROTECTIVE_SEC.search(value)
                if sec is not None:
                    pair = ("Protective Marking", sec.group(1).strip())
                    findings.extend(classic_from_pairs([pair], where))
            elif name == "sensitivity" and value.strip().lower() == _SENSITIVITY_LABEL:
                findings.extend(classic_from_pairs([("Sensitivity", value.strip())], where))
    return findings


def _ms_classified(message: Message) -> bool:
    # MS-OXCMAIL: the classification headers count only beside X-Microsoft-Classified: true.
    return any(
        v.strip().lower() == "true" for v in _header_values(message, "x-microsoft-classified")
    )


def _report_headers(message: Message, ctx: ScanContext) -> None:
    ctx.add_all(header_findings(message))
    for subject in _header_values(message, "subject"):
        ctx.add_all(find_markings(subject, "subject", Zone.HEADER_FOOTER))


# ---------------------------------------------------------------------------------------
# The MIME tree
# ---------------------------------------------------------------------------------------


def _content_type(part: Message) -> str:
    # compat32 reads a broken Content-Type as the RFC 2045 default and never raises.
    return part.get_content_type()


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except Exception:  # a hostile parameter: the part is still scanned, under a made-up name
        return None
    if not isinstance(name, str) or not name.strip():
        return None
    # Outlook writes non-ASCII names as RFC 2047 words, which compat32 leaves encoded.
    return _decode_header(name)


def _is_attachment(part: Message) -> bool:
    return part.get_content_disposition() == "attachment"


def _leaves(message: Message) -> Iterator[Message]:
    """Parts that are not containers, in order; a forwarded message counts as one leaf."""
    stack: list[tuple[Message, int]] = [(message, 0)]
    while stack:
        part, depth = stack.pop()
        kind = _content_type(part)
        if (part is not message and kind.startswith("message/")) or kind in _OPAQUE:
            yield part  # not descended into: scanned as a file, or unreadable as a whole
            continue
        # is_multipart() rather than get_payload(): the latter decodes a leaf's text with its
        # charset parameter and raises TypeError for an RFC 2231 one (charset*=...).
        if part.is_multipart():
            payload = part.get_payload()
            if depth >= _MAX_MIME_DEPTH:
                raise Unscannable(f"MIME parts nested more than {_MAX_MIME_DEPTH} levels deep")
            children = [child for child in payload or [] if isinstance(child, Message)]
            stack.extend((child, depth + 1) for child in reversed(children))
            continue
        yield part


def _split(message: Message) -> tuple[list[Message], list[Message]]:
    """The parts whose text is the body (plain text preferred), and the attachments.

    Inline text/plain and text/html parts without a file name are the body and its
    alternatives; everything else (files, images, forwarded messages) is an attachment. A
    body may come in several parts (Apple Mail splits it around inline images).
    """
    plain: list[Message] = []
    html: list[Message] = []
    attachments: list[Message] = []
    for part in _leaves(message):
        kind = _content_type(part)
        inline_text = (
            kind in ("text/plain", "text/html")
            and not _is_attachment(part)
            and _filename(part) is None
        )
        if not inline_text:
            if not kind.startswith("message/") or kind in ("message/rfc822", "message/global"):
                attachments.append(part)
            continue  # message/delivery-status and the like carry no labels
        (plain if kind == "text/plain" else html).append(part)
    return plain or html, attachments


def _payload(part: Message) -> bytes:
    """A part's content as its transfer encoding decodes it (a cut base64 run decodes as far as
    it goes; the nested scan decides what that is)."""
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def _charset(part: Message) -> str | None:
    charset = part.get_content_charset()
    return charset if isinstance(charset, str) else None


def _edges_of(part: Message, ctx: ScanContext) -> Edges:
    data = _payload(part)
    window = ctx.limits.text_window
    head, tail = (data, b"") if len(data) <= window else (data[:window], data[-window:])
    return decode_edges(head, tail, len(data) - len(tail), declared=_charset(part))


def _report_body(parts: list[Message], ctx: ScanContext) -> None:
    """First lines from the first body part, last lines from the last one."""
    edges = _edges_of(parts[0], ctx)
    if len(parts) > 1:
        last = _edges_of(parts[-1], ctx)
        tail = last.tail or last.head
        if tail.strip():
            # The last part's text stands where a tail window would.
            edges = Edges(edges.head, tail, edges.encoding)
    if _content_type(parts[0]) == "text/html":
        report_html(edges, ctx, "body, ", body_prefix="body, ")
    else:
        first, last_lines = edge_lines(edges.head, edges.tail)
        report_edges(ctx, first, last_lines, "body, ")


def _attachment_name(part: Message, index: int) -> str:
    name = _filename(part)
    if name is not None:
        # A name is shown to people and used for its extension, never as a path.
        name = _UNSAFE_NAME.sub("", name.replace("\\", "/").rsplit("/", 1)[-1]).strip()
    if not name:
        kind = _content_type(part)
        extension = ".eml" if kind.startswith("message/") else mimetypes.guess_extension(kind)
        name = f"part{index + 1}{extension or ''}"
    return name if len(name) <= _MAX_NAME else name[: _MAX_NAME - 1] + "…"


def _attachment_bytes(part: Message) -> bytes:
    kind = _content_type(part)
    if kind in ("message/rfc822", "message/global"):
        inner = part.get_payload()
        if isinstance(inner, list) and inner and isinstance(inner[0], Message):
            # compat32 writes headers back as they were read, without refolding them.
            return inner[0].as_bytes(policy=compat32)
        return _payload(part)
    return _payload(part)


def _scan_attachments(attachments: list[Message], ctx: ScanContext) -> None:
    limit = ctx.limits.max_attachments
    for index, part in enumerate(attachments[:limit]):
        ctx.check_time()
        name = _attachment_name(part, index)
        child = ctx.child(f"attachment {name}")
        opaque = _OPAQUE.get(_content_type(part))
        if opaque is not None:
            ctx.findings.mark_unscannable(f"{child.prefix}: {opaque}")
            continue
        try:
            data = _attachment_bytes(part)
        except Exception as exc:  # a part the stdlib cannot write back: say which one
            ctx.findings.mark_unscannable(f"{child.prefix}: cannot be read ({exc})")
            continue
        if ctx.scan_nested is None:
            ctx.findings.mark_unscannable(f"{child.prefix}: attachments cannot be scanned here")
            continue
        ctx.scan_nested(Source(name, data=data), child)
    if len(attachments) > limit:
        raise Unscannable(f"{len(attachments)} attachments; only the first {limit} were scanned")


def scan_eml(source: Source, ctx: ScanContext) -> None:
    """An e-mail message: label headers, subject, body edges, then every attachment."""
    ctx.refine_format("eml")
    if source.size > MAX_EMAIL_BYTES:
        headers = BytesHeaderParser(policy=compat32).parsebytes(source.head(_HEADER_BLOCK))
        _report_headers(headers, ctx)
        raise Unscannable(
            f"a {source.size // MiB} MiB message is over the {MAX_EMAIL_BYTES // MiB} MiB"
            " limit for e-mail; only its headers were checked"
        )
    data = source.read_all(MAX_EMAIL_BYTES)
    try:
        # compat32, not policy.default: as tolerant, and nine times faster, because the default
        # policy re-parses structured headers (Content-Type) at every look; the few headers
        # read here are decoded explicitly.
        message = BytesParser(policy=compat32).parsebytes(data)
    except RecursionError as exc:
        raise Unscannable("MIME parts nested too deeply to read") from exc
    ctx.check_time()
    _report_headers(message, ctx)
    try:
        body, attachments = _split(message)
    except RecursionError as exc:
        raise Unscannable("MIME parts nested too deeply to read") from exc
    if body:
        _report_body(body, ctx)
    ctx.check_time()
    _scan_attachments(attachments, ctx)
