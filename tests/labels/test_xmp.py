"""XMP packets: labels in pdfx: properties and keywords, well-formed or not."""

from __future__ import annotations

import time

from sendguard.labels.model import Scheme
from sendguard.labels.xmp import find_xmp_labels, iter_xmp_packets

GUID = "f42aa342-8706-4288-bd11-ebb85995028c"
SITE = "72f988bf-86f1-41af-91ab-2d7cd011db47"
KEY = f"MSIP_Label_{GUID}"


def packet(description: str, attributes: str = "") -> str:
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        '<rdf:Description rdf:about="" xmlns:pdfx="http://ns.adobe.com/pdfx/1.3/"'
        ' xmlns:pdf="http://ns.adobe.com/pdf/1.3/" xmlns:dc="http://purl.org/dc/elements/1.1/"'
        f" {attributes}>\n{description}\n</rdf:Description>\n</rdf:RDF>\n</x:xmpmeta>\n"
        '<?xpacket end="w"?>'
    )


MIP_ELEMENTS = (
    f"<pdfx:{KEY}_Enabled>true</pdfx:{KEY}_Enabled>"
    f"<pdfx:{KEY}_SiteId>{SITE}</pdfx:{KEY}_SiteId>"
    f"<pdfx:{KEY}_Name>Highly Confidential &amp; Legal</pdfx:{KEY}_Name>"
    f"<pdfx:{KEY}_Method>Privileged</pdfx:{KEY}_Method>"
)


def test_mip_label_in_pdfx_elements() -> None:
    [label] = find_xmp_labels(packet(MIP_ELEMENTS).encode())
    assert label.scheme is Scheme.MIP
    assert label.guid == GUID
    assert label.site_id == SITE
    assert label.name == "Highly Confidential & Legal"
    assert dict(label.attributes)["method"] == "Privileged"
    assert label.where == (f"XMP pdfx:{KEY}_Enabled",)


def test_mip_label_in_pdfx_attributes() -> None:
    attributes = f'pdfx:{KEY}_Enabled="true" pdfx:{KEY}_SiteId="{SITE}"'
    [label] = find_xmp_labels(packet("", attributes))
    assert (label.scheme, label.guid, label.site_id) == (Scheme.MIP, GUID, SITE)
    assert label.where == (f"XMP pdfx:{KEY}_Enabled",)


def test_malformed_packet_is_read_by_the_tolerant_scan() -> None:
    # PowerPoint writes "<Event name>" unescaped into dc:description: not well-formed XML.
    broken = packet(
        '<dc:description><rdf:Alt><rdf:li xml:lang="x-default"><Event name></rdf:li>'
        "</rdf:Alt></dc:description>" + MIP_ELEMENTS,
        attributes=f'pdfx:CTPClassification="CTP_NT" pdfx:{KEY}_ContentBits="2"',
    )
    labels = {label.scheme: label for label in find_xmp_labels(broken.encode())}
    mip = labels[Scheme.MIP]
    assert (mip.guid, mip.site_id, mip.name) == (GUID, SITE, "Highly Confidential & Legal")
    assert dict(mip.attributes)["content_bits"] == "2"
    assert mip.where == (f"XMP pdfx:{KEY}_Enabled",)
    assert labels[Scheme.TITUS].value == "CTP_NT"
    assert labels[Scheme.TITUS].where == ("XMP pdfx:CTPClassification",)


def test_titus_properties_carry_the_guid() -> None:
    [label] = find_xmp_labels(
        packet(
            "<pdfx:TitusGUID>16fba14b-b749-41e1-a9b5-4282776873bd</pdfx:TitusGUID>"
            "<pdfx:CTP_BU>LAW AND POLICY GROUP</pdfx:CTP_BU>"
            "<pdfx:CTPClassification>CTP_IC</pdfx:CTPClassification>"
        )
    )
    assert label.scheme is Scheme.TITUS
    assert (label.value, label.guid) == ("CTP_IC", "16fba14b-b749-41e1-a9b5-4282776873bd")
    assert label.where == ("XMP pdfx:CTPClassification",)


def test_titus_in_pdf_keywords() -> None:
    [label] = find_xmp_labels(
        packet("<pdf:Keywords>CTPClassification=CTP_PUBLIC:VisualMarkings=</pdf:Keywords>")
    )
    assert (label.scheme, label.value, label.where) == (
        Scheme.TITUS,
        "CTP_PUBLIC",
        ("XMP pdf:Keywords",),
    )


def test_titus_in_dc_subject_keywords() -> None:
    [label] = find_xmp_labels(
        packet(
            "<dc:subject><rdf:Bag><rdf:li>holiday</rdf:li>"
            "<rdf:li>CTPClassification=CTP_IC:VisualMarkings=</rdf:li></rdf:Bag></dc:subject>"
        )
    )
    assert (label.scheme, label.value, label.where) == (
        Scheme.TITUS,
        "CTP_IC",
        ("XMP dc:subject",),
    )


def test_classification_property_only_counts_as_a_custom_property() -> None:
    custom = find_xmp_labels(packet("<pdfx:Classification>Restricted</pdfx:Classification>"))
    assert [(label.scheme, label.name, label.value) for label in custom] == [
        (Scheme.DOCUMENT_PROPERTY, "Classification", "Restricted")
    ]
    assert custom[0].where == ("XMP pdfx:Classification",)
    # The same word as some other schema's field is not a document classification.
    other = packet(
        '<foo:Classification xmlns:foo="urn:example:taxonomy">Mammal</foo:Classification>'
    )
    assert find_xmp_labels(other) == []


def test_disabled_label_and_plain_metadata_yield_nothing() -> None:
    disabled = (
        f"<pdfx:{KEY}_Enabled>false</pdfx:{KEY}_Enabled>"
        f"<pdfx:{KEY}_SiteId>{SITE}</pdfx:{KEY}_SiteId>"
    )
    assert find_xmp_labels(packet(disabled)) == []
    plain = packet(
        "<dc:title><rdf:Alt><rdf:li>Classification of secret bread recipes</rdf:li></rdf:Alt>"
        "</dc:title><pdf:Keywords>bread, baking</pdf:Keywords>"
    )
    assert find_xmp_labels(plain) == []


def test_entity_expansion_is_refused_and_does_not_hang() -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">'
        '<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;"><!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">'
        ']><x:xmpmeta xmlns:x="adobe:ns:meta/" xmlns:pdfx="http://ns.adobe.com/pdfx/1.3/">'
        f"<pdfx:{KEY}_Enabled>true</pdfx:{KEY}_Enabled><pdfx:Classification>&e;</pdfx:Classification>"
        "</x:xmpmeta>"
    )
    started = time.monotonic()
    labels = find_xmp_labels(bomb)
    assert time.monotonic() - started < 1.0
    # The tolerant scan still sees the MIP element; the entity is never expanded (the
    # classification is reported as written, which errs on the side of holding the file).
    assert [(label.scheme, label.guid, label.value) for label in labels] == [
        (Scheme.MIP, GUID, None),
        (Scheme.DOCUMENT_PROPERTY, None, "&e;"),
    ]


def test_iter_packets_finds_each_packet_once() -> None:
    first = packet(MIP_ELEMENTS).encode()
    second = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>'
    data = b"\x00garbage" + first + b"\xff" * 10 + second + b"tail"
    packets = list(iter_xmp_packets(data))
    assert packets == [first, second]


def test_iter_packets_keeps_a_cut_packet_and_is_bounded() -> None:
    cut = packet(MIP_ELEMENTS).encode()[:-60]  # no </x:xmpmeta>, no end marker
    [found] = iter_xmp_packets(b"junk" + cut)
    assert found == cut
    assert [label.guid for label in find_xmp_labels(found)] == [GUID]
    many = b"".join(b"<x:xmpmeta>%d</x:xmpmeta>" % number for number in range(100))
    assert len(list(iter_xmp_packets(many, limit=10))) == 10
    assert list(iter_xmp_packets(b"no packets here")) == []
