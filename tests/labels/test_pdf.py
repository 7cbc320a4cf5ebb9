"""PDF labels: Info keys, XMP, markings on the first/last page; damaged and encrypted files.

Fixtures are written by real PDF libraries (reportlab for text, pypdf and pikepdf for
metadata, object streams and encryption) or by hand where a hostile structure is the point.
The module reads metadata with pikepdf (qpdf); these tests check behaviour, not how.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pikepdf
import pypdf
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf.generic import DecodedStreamObject, NameObject
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from sendguard.labels.context import Limits, ScanContext, Source, Unscannable
from sendguard.labels.model import Finding, Findings, Scheme
from sendguard.labels.pdf import scan_pdf

GUID = "2096f6a2-d2f7-48be-b329-b73aaa526e5d"
MIP = f"MSIP_Label_{GUID}"
SITE = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CORPUS_GUID = "f42aa342-8706-4288-bd11-ebb85995028c"
TITUS_GUID = "16fba14b-b749-41e1-a9b5-4282776873bd"
MIP_INFO = {
    f"{MIP}_Enabled": "true",
    f"{MIP}_Name": "Confidential",
    f"{MIP}_SiteId": SITE,
    f"{MIP}_Method": "Privileged",
}


# --- Helpers -------------------------------------------------------------------------------------


def scan(path: Path) -> Findings:
    ctx = ScanContext.start(Findings(path=str(path)))
    scan_pdf(Source(path.name, path=str(path)), ctx)
    assert ctx.findings.format == "pdf"
    return ctx.findings


def scan_bytes(data: bytes, tmp_path: Path, name: str = "doc.pdf") -> Findings:
    path = tmp_path / name
    path.write_bytes(data)
    return scan(path)


def only(findings: Findings) -> Finding:
    assert len(findings.labels) == 1, findings.to_dict()
    return findings.labels[0]


@dataclass
class Page:
    top: str = ""
    body: tuple[str, ...] = ("Minutes of the quarterly planning meeting.",)
    bottom: str = ""
    #: Lines drawn far below the top band (a title block in the body).
    first_line: str = ""


def text_pdf(*pages: Page) -> bytes:
    """A PDF whose pages carry a header line, body text and a footer line, as Word would."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    width, height = A4
    for page in pages:
        pdf.setFont("Helvetica", 10)
        if page.top:
            pdf.drawCentredString(width / 2, height - 30, page.top)
        y = height - 220
        for line in ((page.first_line,) if page.first_line else ()) + page.body:
            pdf.drawString(72, y, line)
            y -= 14
        if page.bottom:
            pdf.drawCentredString(width / 2, 24, page.bottom)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def with_pypdf(data: bytes, info: dict[str, str], xmp: bytes | None = None) -> bytes:
    """Info keys added by pypdf (classic xref table); XMP as a Flate-compressed stream."""
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(data))
    writer.add_metadata({f"/{key}": value for key, value in info.items()})
    if xmp is not None:
        stream = DecodedStreamObject()
        stream.set_data(xmp)
        stream[NameObject("/Type")] = NameObject("/Metadata")
        stream[NameObject("/Subtype")] = NameObject("/XML")
        writer.root_object[NameObject("/Metadata")] = writer._add_object(stream.flate_encode())
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@dataclass
class Pike:
    info: dict[str, str] = field(default_factory=dict)
    xmp: bytes | None = None
    object_streams: bool = False
    encryption: pikepdf.Encryption | None = None


def with_pikepdf(data: bytes, options: Pike) -> bytes:
    """Info keys, plain XMP, object streams and encryption written by qpdf (pikepdf)."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        for key, value in options.info.items():
            pdf.docinfo[pikepdf.Name(f"/{key}")] = value
        if options.xmp is not None:
            stream = pikepdf.Stream(pdf, options.xmp)
            stream.Type = pikepdf.Name.Metadata
            stream.Subtype = pikepdf.Name.XML
            pdf.Root.Metadata = pdf.make_indirect(stream)
        out = io.BytesIO()
        mode = pikepdf.ObjectStreamMode
        pdf.save(
            out,
            object_stream_mode=mode.generate if options.object_streams else mode.disable,
            encryption=options.encryption or False,
            fix_metadata_version=False,
        )
        return out.getvalue()


def xmp_packet(description: str) -> bytes:
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF'
        ' xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:pdfx="http://ns.adobe.com/pdfx/1.3/"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"{description}</rdf:Description></rdf:RDF></x:xmpmeta>"
        '<?xpacket end="w"?>'
    ).encode()


def mip_xmp(guid: str = GUID, enabled: str = "true") -> str:
    key = f"MSIP_Label_{guid}"
    return (
        f"<pdfx:{key}_Enabled>{enabled}</pdfx:{key}_Enabled>"
        f"<pdfx:{key}_SiteId>{SITE}</pdfx:{key}_SiteId>"
    )


def hand_made_pdf(info_dict: bytes) -> bytes:
    """A one-page PDF written byte by byte, for Info dictionaries no library would write."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
        info_dict,
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 4 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


# --- The real corpus -----------------------------------------------------------------------------


def test_corpus_mip_in_info_and_xmp_is_one_label(corpus: Path) -> None:
    label = only(scan(corpus / "msrc_castguard2022_info_and_xmp.pdf"))
    assert (label.scheme, label.guid, label.site_id) == (Scheme.MIP, CORPUS_GUID, SITE)
    assert dict(label.attributes)["method"] == "Standard"
    assert set(label.where) == {
        f"PDF Info /MSIP_Label_{CORPUS_GUID}_Enabled",
        f"XMP pdfx:MSIP_Label_{CORPUS_GUID}_Enabled",
    }


def test_corpus_malformed_xmp_still_yields_the_label(corpus: Path) -> None:
    findings = scan(corpus / "msrc_bheu2022_malformed_xmp.pdf")
    label = only(findings)
    assert (label.scheme, label.guid, label.site_id) == (Scheme.MIP, CORPUS_GUID, SITE)
    assert f"PDF Info /MSIP_Label_{CORPUS_GUID}_Enabled" in label.where
    assert f"XMP pdfx:MSIP_Label_{CORPUS_GUID}_Enabled" in label.where
    assert findings.unscannable_reason is None


def test_corpus_titus_custom_keys(corpus: Path) -> None:
    label = only(scan(corpus / "intelfsp_license_titus.pdf"))
    assert (label.scheme, label.value, label.guid) == (Scheme.TITUS, "CTP_IC", TITUS_GUID)
    # The Info dictionary sits in a compressed object stream in this file.
    assert "PDF Info /CTPClassification" in label.where
    assert "PDF Info /Keywords" in label.where
    assert "XMP pdfx:CTPClassification" in label.where


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("intelfsp_coffeelake_keywords_ctp_ic.pdf", "CTP_IC"),
        ("intelfsp_broadwellde_keywords_ctp_public.pdf", "CTP_PUBLIC"),
    ],
)
def test_corpus_titus_in_keywords_only(corpus: Path, name: str, value: str) -> None:
    label = only(scan(corpus / name))
    assert (label.scheme, label.name, label.value) == (Scheme.TITUS, "CTPClassification", value)
    assert label.where == ("PDF Info /Keywords",)


def test_corpus_official_marking_on_page_one(corpus: Path) -> None:
    label = only(scan(corpus / "dstl_build_note_OFFICIAL.pdf"))
    assert (label.scheme, label.marking, label.system) == (Scheme.MARKING, "OFFICIAL", "uk")
    assert label.where[0] == "page 1, top lines"
    assert "page 10, bottom lines" in label.where


def test_corpus_unlabelled_pdf_reports_nothing(corpus: Path) -> None:
    findings = scan(corpus / "msrc_csw2009_nolabel.pdf")
    assert findings.labels == []
    assert findings.unscannable_reason is None


def test_in_memory_source_reads_the_same(corpus: Path) -> None:
    data = (corpus / "msrc_castguard2022_info_and_xmp.pdf").read_bytes()
    ctx = ScanContext.start(Findings(path="castguard.pdf"))
    scan_pdf(Source("castguard.pdf", data=data), ctx)
    label = only(ctx.findings)
    assert label.guid == CORPUS_GUID
    assert f"PDF Info /MSIP_Label_{CORPUS_GUID}_Enabled" in label.where


def test_scans_from_several_threads_agree(corpus: Path) -> None:
    names = ["msrc_castguard2022_info_and_xmp.pdf", "dstl_build_note_OFFICIAL.pdf"]
    expected = {name: scan(corpus / name).to_dict()["labels"] for name in names}
    results: list[bool] = []

    def work(name: str) -> None:
        for _ in range(3):
            results.append(scan(corpus / name).to_dict()["labels"] == expected[name])

    threads = [threading.Thread(target=work, args=(names[i % 2],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [True] * 12


# --- Info dictionary -----------------------------------------------------------------------------


def test_mip_and_titus_info_keys(tmp_path: Path) -> None:
    info = {**MIP_INFO, "TitusGUID": TITUS_GUID, "CTPClassification": "CTP_NT"}
    findings = scan_bytes(with_pypdf(text_pdf(Page()), info), tmp_path)
    labels = {label.scheme: label for label in findings.labels}
    assert set(labels) == {Scheme.MIP, Scheme.TITUS}
    mip = labels[Scheme.MIP]
    assert (mip.guid, mip.name, mip.site_id) == (GUID, "Confidential", SITE)
    assert mip.where == (f"PDF Info /{MIP}_Enabled",)
    titus = labels[Scheme.TITUS]
    assert (titus.value, titus.guid) == ("CTP_NT", TITUS_GUID)
    assert titus.where == ("PDF Info /CTPClassification",)


def test_info_inside_a_compressed_object_stream(tmp_path: Path) -> None:
    data = with_pikepdf(text_pdf(Page()), Pike(info=MIP_INFO, object_streams=True))
    assert MIP.encode() not in data  # the key names are only in the compressed stream
    label = only(scan_bytes(data, tmp_path))
    assert (label.guid, label.name) == (GUID, "Confidential")
    assert label.where == (f"PDF Info /{MIP}_Enabled",)


def test_disabled_label_is_not_a_label(tmp_path: Path) -> None:
    info = {**MIP_INFO, f"{MIP}_Enabled": "false"}
    findings = scan_bytes(with_pypdf(text_pdf(Page()), info), tmp_path)
    assert findings.labels == []
    assert findings.unscannable_reason is None


def test_unknown_guid_is_still_a_label(tmp_path: Path) -> None:
    unknown = "0badc0de-1234-4abc-8def-0123456789ab"
    info = {f"MSIP_Label_{unknown}_Enabled": "True"}
    label = only(scan_bytes(with_pypdf(text_pdf(Page()), info), tmp_path))
    assert (label.scheme, label.guid, label.name) == (Scheme.MIP, unknown, None)


def test_titus_keywords_only(tmp_path: Path) -> None:
    info = {"Keywords": "CTPClassification=CTP_IC:VisualMarkings="}
    label = only(scan_bytes(with_pypdf(text_pdf(Page()), info), tmp_path))
    assert (label.scheme, label.value, label.where) == (
        Scheme.TITUS,
        "CTP_IC",
        ("PDF Info /Keywords",),
    )


def test_escaped_names_and_utf16_values(tmp_path: Path) -> None:
    info = (
        b"<< /Protective#20Marking <FEFF004F004600460049004300490041004C0026> /Title (a \\(b\\)) >>"
    )
    label = only(scan_bytes(hand_made_pdf(info), tmp_path))
    assert (label.scheme, label.name, label.value) == (
        Scheme.DOCUMENT_PROPERTY,
        "Protective Marking",
        "OFFICIAL&",
    )
    assert label.where == ("PDF Info /Protective Marking",)


def test_deeply_nested_info_value_is_harmless(tmp_path: Path) -> None:
    info = b"<< /Junk " + b"[" * 50_000 + b"]" * 50_000 + b" /Classification (Secret) >>"
    label = only(scan_bytes(hand_made_pdf(info), tmp_path))
    # The key after 50,000 nested arrays is still read, without recursion.
    assert (label.scheme, label.name, label.value) == (
        Scheme.DOCUMENT_PROPERTY,
        "Classification",
        "Secret",
    )
    assert label.where == ("PDF Info /Classification",)


def test_boolean_and_name_values_are_read(tmp_path: Path) -> None:
    info = f"<< /{MIP}_Enabled true /{MIP}_ContentBits 2 /Classification /Secret >>".encode()
    findings = scan_bytes(hand_made_pdf(info), tmp_path)
    labels = {label.scheme: label for label in findings.labels}
    assert labels[Scheme.MIP].guid == GUID
    assert dict(labels[Scheme.MIP].attributes)["content_bits"] == "2"
    prop = labels[Scheme.DOCUMENT_PROPERTY]
    assert (prop.name, prop.value) == ("Classification", "Secret")


def test_key_name_that_is_not_utf8_is_read_as_latin1(tmp_path: Path) -> None:
    info = b"<< /Classification (Secret) /Cl#e9 (x) /Sensitivity /Sup#e9rieur >>"
    findings = scan_bytes(hand_made_pdf(info), tmp_path)
    values = {label.name: label.value for label in findings.labels}
    assert values == {"Classification": "Secret", "Sensitivity": "Supérieur"}


# --- XMP -----------------------------------------------------------------------------------------


def test_mip_in_compressed_xmp_only(tmp_path: Path) -> None:
    data = with_pypdf(text_pdf(Page()), {}, xmp=xmp_packet(mip_xmp()))
    assert b"MSIP_Label" not in data
    label = only(scan_bytes(data, tmp_path))
    assert (label.guid, label.site_id) == (GUID, SITE)
    assert label.where == (f"XMP pdfx:{MIP}_Enabled",)


def test_bare_rdf_metadata_without_xmpmeta_wrapper(tmp_path: Path) -> None:
    bare = (
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:pdfx="http://ns.adobe.com/pdfx/1.3/">'
        f"{mip_xmp()}</rdf:Description></rdf:RDF>"
    ).encode()
    label = only(scan_bytes(with_pypdf(text_pdf(Page()), {}, xmp=bare), tmp_path))
    assert (label.guid, label.where) == (GUID, (f"XMP pdfx:{MIP}_Enabled",))


def test_malformed_xmp_only(tmp_path: Path) -> None:
    broken = xmp_packet("<dc:description><Event name></dc:description>" + mip_xmp())
    label = only(scan_bytes(with_pikepdf(text_pdf(Page()), Pike(xmp=broken)), tmp_path))
    assert label.guid == GUID
    assert label.where == (f"XMP pdfx:{MIP}_Enabled",)


def test_disabled_label_in_xmp_is_not_a_label(tmp_path: Path) -> None:
    data = with_pypdf(text_pdf(Page()), {}, xmp=xmp_packet(mip_xmp(enabled="false")))
    assert scan_bytes(data, tmp_path).labels == []


def test_xmp_stream_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    # qpdf stores XMP uncompressed, so 96 KiB of padding makes 96 KiB of stored bytes.
    big = xmp_packet(mip_xmp() + " " * (96 * 1024))
    limits = Limits(pdf_max_stream_size=64 * 1024)
    for info, labelled in (({}, False), ({"Classification": "Restricted"}, True)):
        path = tmp_path / f"big-{labelled}.pdf"
        path.write_bytes(with_pikepdf(text_pdf(Page()), Pike(info=info, xmp=big)))
        ctx = ScanContext.start(Findings(path=str(path)), limits)
        if not labelled:
            with pytest.raises(Unscannable, match=r"XMP metadata stream .* over the 65536-byte"):
                scan_pdf(Source(path.name, path=str(path)), ctx)
            continue
        scan_pdf(Source(path.name, path=str(path)), ctx)
        assert [label.value for label in ctx.findings.labels] == ["Restricted"]
        assert any("XMP metadata stream" in note for note in ctx.findings.notes)


# --- Encryption ----------------------------------------------------------------------------------


def test_owner_password_only_is_read_normally(tmp_path: Path) -> None:
    data = with_pikepdf(
        text_pdf(Page(top="TLP:AMBER")),
        Pike(info=MIP_INFO, encryption=pikepdf.Encryption(owner="owner-secret", user="")),
    )
    findings = scan_bytes(data, tmp_path)
    labels = {label.scheme: label for label in findings.labels}
    assert labels[Scheme.MIP].name == "Confidential"  # the value was decrypted
    assert labels[Scheme.MARKING].marking == "TLP:AMBER"
    assert findings.unscannable_reason is None


def test_user_password_label_names_in_the_clear(tmp_path: Path) -> None:
    data = with_pikepdf(
        text_pdf(Page()),
        Pike(info=MIP_INFO, encryption=pikepdf.Encryption(owner="o", user="u")),
    )
    findings = scan_bytes(data, tmp_path)
    label = only(findings)
    assert (label.scheme, label.guid) == (Scheme.MIP, GUID)
    assert label.name is None  # the value is encrypted
    assert label.where == (f"PDF Info /{MIP}_Enabled",)
    assert "presumed enabled" in dict(label.attributes)["values"]
    assert any("needs a password" in note for note in findings.notes)


def test_user_password_with_clear_xmp(tmp_path: Path) -> None:
    data = with_pikepdf(
        text_pdf(Page()),
        Pike(
            xmp=xmp_packet(mip_xmp()),
            encryption=pikepdf.Encryption(owner="o", user="u", metadata=False),
        ),
    )
    label = only(scan_bytes(data, tmp_path))
    assert (label.guid, label.site_id) == (GUID, SITE)
    assert label.where == (f"XMP pdfx:{MIP}_Enabled",)


def test_user_password_without_label_is_unscannable(tmp_path: Path) -> None:
    data = with_pikepdf(
        text_pdf(Page(top="SECRET")),
        Pike(info={"Title": "Plans"}, encryption=pikepdf.Encryption(owner="o", user="u")),
    )
    with pytest.raises(Unscannable, match="encrypted PDF: needs a password to read"):
        scan_bytes(data, tmp_path)


def test_user_password_with_unreadable_titus_value_says_so(tmp_path: Path) -> None:
    data = with_pikepdf(
        text_pdf(Page()),
        Pike(
            info={"CTPClassification": "CTP_IC"}, encryption=pikepdf.Encryption(owner="o", user="u")
        ),
    )
    with pytest.raises(Unscannable, match="CTPClassification are present"):
        scan_bytes(data, tmp_path)


# --- Damaged files -------------------------------------------------------------------------------


def test_truncated_pdf_is_unscannable(tmp_path: Path) -> None:
    data = text_pdf(Page(), Page(), Page())
    for cut in (len(data) // 3, len(data) // 2, len(data) - 40):
        with pytest.raises(Unscannable) as caught:
            scan_bytes(data[:cut], tmp_path)
        assert "truncated" in caught.value.reason or "could not be opened" in caught.value.reason


def test_not_a_pdf_is_unscannable_with_pdfium_reason(tmp_path: Path) -> None:
    with pytest.raises(Unscannable, match="could not be opened: it is not a valid PDF"):
        scan_bytes(b"%PDF-1.7\n" + b"\x00garbage" * 100, tmp_path)


def test_broken_xref_label_still_found(tmp_path: Path) -> None:
    data = with_pypdf(text_pdf(Page()), MIP_INFO)
    position = data.rindex(b"startxref")
    broken = data[:position] + b"startxref\n12\n%%EOF\n"  # points at nothing
    label = only(scan_bytes(broken, tmp_path))
    assert (label.guid, label.name) == (GUID, "Confidential")


def test_unopenable_pdf_label_names_and_plain_values_in_the_clear(tmp_path: Path) -> None:
    # No cross-reference table, no trailer: neither qpdf nor PDFium opens it.
    info = (
        f"<< /{MIP}_Enabled (true) /{MIP}_Name (Confidential) /{MIP}_SiteId ({SITE})"
        " /Keywords (CTPClassification=CTP_IC:VisualMarkings=) >>"
    ).encode()
    data = b"%PDF-1.7\n4 0 obj\n" + info + b"\nendobj\n" + b"\x00garbage" * 50
    findings = scan_bytes(data, tmp_path)
    labels = {label.scheme: label for label in findings.labels}
    assert (labels[Scheme.MIP].guid, labels[Scheme.MIP].name) == (GUID, "Confidential")
    assert labels[Scheme.TITUS].value == "CTP_IC"
    assert any("could not be opened" in note for note in findings.notes)


def test_unopenable_pdf_disabled_label_in_the_clear_is_not_a_label(tmp_path: Path) -> None:
    info = f"<< /{MIP}_Enabled (false) /{MIP}_SiteId ({SITE}) >>".encode()
    data = b"%PDF-1.7\n4 0 obj\n" + info + b"\nendobj\n" + b"\x00garbage" * 50
    with pytest.raises(Unscannable, match="could not be opened"):
        scan_bytes(data, tmp_path)


def test_damage_reports_are_not_printed(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    # qpdf logs this damage through Python logging, which prints it on stderr when no handler
    # is set up (pytest sets one up: caplog shows whether a record got through).
    data = (
        b"%PDF-1.3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
        b"2 0 obj\n<< /Count 1 /Kids [ 3 0 R xg ] /Type /Pages >>\nendobj\n"
        b"3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>\nendobj\n"
        b"4 0 obj\n<< /Classification (Secret) >>\nendobj\n"
    )
    findings = scan_bytes(data, tmp_path)
    assert [label.value for label in findings.labels] == ["Secret"]
    assert capfd.readouterr() == ("", "")
    assert [record.getMessage() for record in caplog.records] == []


def test_zero_pages_without_label_is_unscannable(tmp_path: Path) -> None:
    empty = io.BytesIO()
    pikepdf.new().save(empty)
    with pytest.raises(Unscannable, match="no page"):
        scan_bytes(empty.getvalue(), tmp_path)


def test_zero_pages_with_label_reports_it(tmp_path: Path) -> None:
    empty = io.BytesIO()
    pikepdf.new().save(empty)
    findings = scan_bytes(with_pikepdf(empty.getvalue(), Pike(info=MIP_INFO)), tmp_path)
    assert only(findings).guid == GUID
    assert any("no page" in note for note in findings.notes)


_SMALL_LABELLED = [
    with_pypdf(text_pdf(Page(top="OFFICIAL")), MIP_INFO),
    with_pikepdf(
        text_pdf(Page(top="OFFICIAL")),
        Pike(info=MIP_INFO, xmp=xmp_packet(mip_xmp()), object_streams=True),
    ),
]


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.sampled_from(_SMALL_LABELLED),
    st.lists(
        st.tuples(st.floats(0, 1, exclude_max=True), st.binary(min_size=0, max_size=8)),
        min_size=1,
        max_size=4,
    ),
    st.floats(0, 1, exclude_min=True),
)
def test_damaged_bytes_never_escape_as_errors(
    tmp_path: Path, original: bytes, edits: list[tuple[float, bytes]], keep: float
) -> None:
    data = bytearray(original)
    for share, replacement in edits:
        position = int(share * len(data))
        data[position : position + len(replacement)] = replacement
    try:
        findings = scan_bytes(bytes(data[: max(1, int(keep * len(data)))]), tmp_path)
    except Unscannable as exc:
        assert exc.reason
    else:
        assert findings.labels or findings.unscannable_reason is None


# --- Visible markings ----------------------------------------------------------------------------


def test_markings_in_first_page_header_and_last_page_footer(tmp_path: Path) -> None:
    data = text_pdf(
        Page(top="TLP:AMBER"),
        Page(),
        Page(bottom="Contoso Confidential    Page 3 of 3"),
    )
    findings = scan_bytes(data, tmp_path)
    markings = {(label.value, label.system): label.where for label in findings.labels}
    assert markings == {
        ("TLP:AMBER", "tlp"): ("page 1, top lines",),
        ("Contoso Confidential", "corporate"): ("page 3, bottom lines",),
    }


def test_banner_as_the_first_line_of_the_body(tmp_path: Path) -> None:
    data = text_pdf(Page(first_line="OFFICIAL-SENSITIVE"))
    label = only(scan_bytes(data, tmp_path))
    assert label.marking == "OFFICIAL-SENSITIVE"
    assert label.where == ("page 1, first lines",)


def test_prose_that_mentions_secrets_is_not_a_marking(tmp_path: Path) -> None:
    page = Page(
        top="Baking notes",
        body=(
            "The secret to good bread is patience.",
            "Confidential Information means anything the parties share under this agreement.",
        ),
        bottom="Page 1",
    )
    findings = scan_bytes(text_pdf(page), tmp_path)
    assert findings.labels == []
    assert findings.unscannable_reason is None


def test_marking_on_the_top_of_a_rotated_page(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    pdf.setFont("Helvetica", 10)
    pdf.drawString(300, 300, "Body text of a landscape table.")
    # /Rotate 90 shows the user-space left edge at the top; text along +y reads left to right.
    pdf.saveState()
    pdf.translate(40, 380)
    pdf.rotate(90)
    pdf.drawString(0, 0, "TLP:RED")
    pdf.restoreState()
    pdf.showPage()
    pdf.save()
    with pikepdf.open(io.BytesIO(buffer.getvalue())) as document:
        document.pages[0].Rotate = 90
        out = io.BytesIO()
        document.save(out)
    label = only(scan_bytes(out.getvalue(), tmp_path))
    assert (label.marking, label.where) == ("TLP:RED", ("page 1, top lines",))


def test_page_without_text_is_clean_with_a_note(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    pdf.rect(100, 100, 200, 200, fill=1)
    pdf.showPage()
    pdf.save()
    findings = scan_bytes(buffer.getvalue(), tmp_path)
    assert findings.labels == []
    assert any("no text" in note for note in findings.notes)


def metadata_stream_pdf(content: bytes) -> bytes:
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(text_pdf(Page())))
    stream = DecodedStreamObject()
    stream.set_data(content)
    stream[NameObject("/Type")] = NameObject("/Metadata")
    writer.root_object[NameObject("/Metadata")] = writer._add_object(stream.flate_encode())
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_inflation_stops_at_the_stream_size_limit(tmp_path: Path) -> None:
    limits = Limits(pdf_max_stream_size=1024 * 1024)
    padding = b" " * (4 * 1024 * 1024)
    early = tmp_path / "early.pdf"
    early.write_bytes(metadata_stream_pdf(xmp_packet(mip_xmp()) + padding))
    late = tmp_path / "late.pdf"
    late.write_bytes(metadata_stream_pdf(padding + xmp_packet(mip_xmp())))
    results = {}
    for path in (early, late):
        ctx = ScanContext.start(Findings(path=str(path)), limits)
        scan_pdf(Source(path.name, path=str(path)), ctx)
        results[path.name] = [label.guid for label in ctx.findings.labels]
    # The packet within the first MiB is read; one behind 4 MiB of padding is never inflated.
    assert results == {"early.pdf": [GUID], "late.pdf": []}


@pytest.mark.parametrize(
    "writer",
    ["pypdf-classic-xref", "qpdf-object-streams", "corpus-hybrid", "corpus-linearized"],
)
def test_metadata_is_read_from_the_structure_not_by_searching(
    writer: str, tmp_path: Path, corpus: Path
) -> None:
    # With a 16-byte raw window the fallback scan sees nothing: the Info keys (compressed in an
    # object stream for two of these) and the XMP can only come from reading the PDF's objects.
    data = {
        "pypdf-classic-xref": lambda: with_pypdf(text_pdf(Page()), MIP_INFO),
        "qpdf-object-streams": lambda: with_pikepdf(
            text_pdf(Page()), Pike(info=MIP_INFO, xmp=xmp_packet(mip_xmp()), object_streams=True)
        ),
        "corpus-hybrid": lambda: (corpus / "msrc_castguard2022_info_and_xmp.pdf").read_bytes(),
        "corpus-linearized": lambda: (corpus / "intelfsp_license_titus.pdf").read_bytes(),
    }[writer]()
    path = tmp_path / "doc.pdf"
    path.write_bytes(data)
    ctx = ScanContext.start(Findings(path=str(path)), Limits(pdf_raw_window=16))
    scan_pdf(Source(path.name, path=str(path)), ctx)
    places = {place for label in ctx.findings.labels for place in label.where}
    assert any(place.startswith("PDF Info /") and place != "PDF Info /Keywords" for place in places)
    if writer != "pypdf-classic-xref":
        assert any(place.startswith("XMP pdfx:") for place in places)
    assert ctx.findings.notes == []


def test_compressed_info_of_an_owner_password_pdf_with_a_tiny_window(tmp_path: Path) -> None:
    # Encrypted object streams: neither the key names nor the values are in the raw bytes.
    data = with_pikepdf(
        text_pdf(Page()),
        Pike(
            info=MIP_INFO,
            object_streams=True,
            encryption=pikepdf.Encryption(owner="owner-secret", user=""),
        ),
    )
    assert MIP.encode() not in data
    path = tmp_path / "doc.pdf"
    path.write_bytes(data)
    ctx = ScanContext.start(Findings(path=str(path)), Limits(pdf_raw_window=16))
    scan_pdf(Source(path.name, path=str(path)), ctx)
    label = only(ctx.findings)
    assert (label.guid, label.name, label.site_id) == (GUID, "Confidential", SITE)
