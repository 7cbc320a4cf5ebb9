"""Labels in XMP packets: ``pdfx:`` custom properties (MIP, Titus, Boldon James) and keywords.

Office and Acrobat copy a document's custom properties into XMP as ``pdfx:<Name>``
elements (or attributes), and the Keywords string into ``pdf:Keywords``. Real packets are
not always well-formed XML (PowerPoint writes ``<Event name>`` unescaped into dc:description),
so a strict parse is tried first and a tolerant regex scan takes over when it fails.
What the pairs mean is decided by :mod:`sendguard.labels.properties` alone.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from xml.etree.ElementTree import Element

from defusedxml import ElementTree as SafeET

from sendguard.labels.model import Finding
from sendguard.labels.properties import (
    CLASSIFICATION_PROPERTIES,
    MSIP_KEY,
    findings_from_pairs,
)

#: Packets looked at in one buffer: a file has one per embedded image at most.
MAX_PACKETS = 64
#: A packet larger than this is cut here (thumbnails make packets big, labels come early).
MAX_PACKET_SIZE = 16 * 1024 * 1024

_NS_PREFIX = {
    "http://ns.adobe.com/pdfx/1.3/": "pdfx",
    "http://ns.adobe.com/pdf/1.3/": "pdf",
    "http://purl.org/dc/elements/1.1/": "dc",
    "http://ns.adobe.com/xap/1.0/": "xmp",
    "http://ns.adobe.com/photoshop/1.0/": "photoshop",
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#": "rdf",
}
_DC = "http://purl.org/dc/elements/1.1/"
_RDF_LI = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}li"

_PACKET_START = (b"<?xpacket begin", b"<x:xmpmeta", b"<x:xapmeta")
_XPACKET_END = re.compile(rb"<\?xpacket\s+end[^>]{0,64}>")

# Key names for the tolerant scan; the element and attribute forms share them.
_KEY = (
    r"MSIP_Label_[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}_\w+"
    r"|TitusGUID|CTP\w*|bj[\w-]*|Keywords|[\w-]*[Cc]lassification|[\w-]*[Ss]ensitivity"
    r"|[\w-]*[Mm]arking"
)
_ELEMENT = re.compile(rf"<([A-Za-z_][\w.-]*):({_KEY})(?:\s[^<>]*)?>([^<]*)</\1:\2\s*>")
_ATTRIBUTE = re.compile(
    rf"""(?<![\w.:-])([A-Za-z_][\w.-]*):({_KEY})\s*=\s*(?:"([^"]*)"|'([^']*)')"""
)


def is_label_key(name: str, prefix: str = "pdfx") -> bool:
    """Whether a property name can carry a label (a candidate; properties.py decides).

    MIP, Titus and Boldon James names are distinctive wherever they appear; a plain
    ``Classification`` only counts as a custom document property (pdfx / a PDF Info key).
    """
    if MSIP_KEY.match(name):
        return True
    folded = name.casefold()
    if folded == "titusguid" or folded.startswith(("ctp", "bj")):
        return True
    if prefix == "pdf" and folded == "keywords":
        return True
    return prefix == "pdfx" and folded in CLASSIFICATION_PROPERTIES


def iter_xmp_packets(
    data: bytes, *, limit: int = MAX_PACKETS, max_size: int = MAX_PACKET_SIZE
) -> Iterator[bytes]:
    """XMP packets in `data`: ``<?xpacket begin … <?xpacket end?>`` or a bare ``x:xmpmeta``.

    A packet whose end is missing (a truncated file) is yielded up to the next packet or
    `max_size`, so the tolerant scan can still read what is there.
    """
    position = 0
    for _ in range(limit):
        starts = [
            (found, marker)
            for marker in _PACKET_START
            if (found := data.find(marker, position)) >= 0
        ]
        if not starts:
            return
        start, marker = min(starts)
        horizon = min(len(data), start + max_size)
        end = -1
        if marker == b"<?xpacket begin":
            match = _XPACKET_END.search(data, start, horizon)
            if match:
                end = match.end()
        if end < 0:
            closing = b"</x:xmpmeta>" if marker == b"<?xpacket begin" else b"</" + marker[1:] + b">"
            found = data.find(closing, start, horizon)
            if found >= 0:
                end = found + len(closing)
        if end < 0:
            # A cut packet runs to the next packet's start (an xpacket holds an xmpmeta).
            others = (b"<?xpacket begin",) if marker == b"<?xpacket begin" else _PACKET_START
            following = [
                found for other in others if (found := data.find(other, start + 1, horizon)) >= 0
            ]
            end = min(following, default=horizon)
        yield data[start:end]
        position = end


def find_xmp_labels(packet: bytes | str, where_prefix: str = "XMP") -> list[Finding]:
    """Labels in one XMP packet, each placed as ``<where_prefix> pdfx:<Key>``."""
    pairs = _pairs_from_tree(packet)
    if pairs is None:
        text = packet if isinstance(packet, str) else _decode(packet)
        pairs = _pairs_from_text(text)
    findings: list[Finding] = []
    # Keywords from pdf:Keywords and from dc:subject are read as two property sets so each
    # keeps its own place; the same label found in both is merged later by Findings.add.
    for group in _group_by_place(pairs):
        places = {key: f"{where_prefix} {qname}" for key, _, qname in group}
        pairs_only = [(key, value) for key, value, _ in group]
        findings.extend(findings_from_pairs(pairs_only, _placer(places, where_prefix)))
    return findings


def _placer(places: dict[str, str], where_prefix: str) -> Callable[[str], str]:
    def where(key: str) -> str:
        return places.get(key, f"{where_prefix} {key}")

    return where


_Pair = tuple[str, str, str]
"""(local name, value, qualified name as shown to a person)."""


def _group_by_place(pairs: list[_Pair]) -> list[list[_Pair]]:
    main = [pair for pair in pairs if pair[2] != "dc:subject"]
    subject = [pair for pair in pairs if pair[2] == "dc:subject"]
    return [group for group in (main, subject) if group]


def _decode(packet: bytes) -> str:
    if packet.startswith((b"\xff\xfe", b"\xfe\xff")):
        return packet.decode("utf-16", errors="replace")
    return packet.decode("utf-8", errors="replace")


def _split(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        return namespace, local
    return "", tag


def _qname(namespace: str, local: str) -> str:
    prefix = _NS_PREFIX.get(namespace)
    return f"{prefix}:{local}" if prefix else local


def _prefix_of(namespace: str) -> str:
    return _NS_PREFIX.get(namespace, "")


def _pairs_from_tree(packet: bytes | str) -> list[_Pair] | None:
    """Pairs from a well-formed packet, or None when it is not well-formed (or hostile)."""
    try:
        root = SafeET.fromstring(packet)
    except Exception:  # expat, defusedxml and encoding errors all mean "use the regexes"
        return None
    pairs: list[_Pair] = []
    for element in root.iter():
        tag: object = element.tag
        if not isinstance(tag, str):
            continue  # comments and processing instructions
        for attribute, value in element.attrib.items():
            namespace, local = _split(attribute)
            if is_label_key(local, _prefix_of(namespace)):
                pairs.append((local, value, _qname(namespace, local)))
        namespace, local = _split(tag)
        if namespace == _DC and local == "subject":
            # Keywords as an rdf:Bag of items (images, some PDF writers).
            pairs.extend(("Keywords", item, "dc:subject") for item in _items(element))
        elif is_label_key(local, _prefix_of(namespace)):
            value = ", ".join(_items(element)) if len(element) else (element.text or "")
            pairs.append((local, value, _qname(namespace, local)))
    return pairs


def _items(element: Element) -> list[str]:
    return [
        (item.text or "").strip() for item in element.iter(_RDF_LI) if (item.text or "").strip()
    ]


def _pairs_from_text(text: str) -> list[_Pair]:
    """Pairs found by regexes in a packet that is not well-formed XML."""
    pairs: list[_Pair] = []
    for match in _ELEMENT.finditer(text):
        prefix, local, value = match.group(1), match.group(2), match.group(3)
        if is_label_key(local, prefix):
            pairs.append((local, html.unescape(value), f"{prefix}:{local}"))
    for match in _ATTRIBUTE.finditer(text):
        prefix, local = match.group(1), match.group(2)
        value = match.group(3) if match.group(3) is not None else match.group(4)
        if is_label_key(local, prefix):
            pairs.append((local, html.unescape(value), f"{prefix}:{local}"))
    return pairs
