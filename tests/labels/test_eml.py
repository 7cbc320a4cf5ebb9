"""E-mail: label headers, the subject, body edges, attachments, and broken MIME."""

from __future__ import annotations

import base64
import json
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sendguard.labels import Scheme, Verdict, detect, eml
from sendguard.labels.context import Limits, ScanContext, Source, Unscannable
from sendguard.labels.eml import scan_eml
from sendguard.labels.model import Finding, Findings

GUID = "2096f6a2-d2f7-48be-b329-b73aaa526e5d"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
TITUS_ID = "b181e015-97cc-4329-b55a-34909d1574a8"
CORPUS_XLSX = "xlsxwriter_properties06_doc_example_label.xlsx"

#: A folded msip_labels header as Outlook/Exchange write it.
MSIP_HEADER = (
    f"msip_labels: MSIP_Label_{GUID}_Enabled=true;\r\n"
    f" MSIP_Label_{GUID}_SetDate=2024-05-01T10:00:00Z;\r\n"
    f" MSIP_Label_{GUID}_Method=Standard;\r\n"
    f" MSIP_Label_{GUID}_Name=Confidential;\r\n"
    f" MSIP_Label_{GUID}_SiteId={TENANT};\r\n"
    f" MSIP_Label_{GUID}_ActionId=4b1c1b63-0d2d-4c7a-9a79-cc3c1b6e0c4e;\r\n"
    f" MSIP_Label_{GUID}_ContentBits=0\r\n"
)


class _Recorder:
    """Stands in for the dispatcher: records what it is handed."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, bytes, str]] = []

    def __call__(self, source: Source, ctx: ScanContext) -> None:
        self.calls.append((source.name, source.read_all(64 * 1024 * 1024), ctx.prefix))


def _scan(data: bytes, limits: Limits | None = None) -> tuple[Findings, _Recorder]:
    findings = Findings(path="message.eml")
    ctx = ScanContext.start(findings) if limits is None else ScanContext.start(findings, limits)
    recorder = _Recorder()
    ctx.scan_nested = recorder
    scan_eml(Source("message.eml", data=data), ctx)
    return findings, recorder


def _mail(headers: str, body: str) -> bytes:
    return (headers.replace("\r\n", "\n").replace("\n", "\r\n") + "\r\n" + body).encode()


_BASE = (
    "From: Ann <ann@example.com>\nTo: Bob <bob@example.com>\nDate: Mon, 6 May 2024 10:00:00 +0000\n"
)


def _nested(*places: str) -> str:
    """A place inside a place, as `where` writes it."""
    return " \u203a ".join(places)


def _only(findings: Findings, scheme: Scheme) -> Finding:
    [found] = [f for f in findings.labels if f.scheme is scheme]
    return found


def _markings(findings: Findings) -> dict[str, tuple[str, ...]]:
    return {f.marking or "": f.where for f in findings.labels if f.scheme is Scheme.MARKING}


def test_folded_msip_labels_header() -> None:
    data = _mail(_BASE + "Subject: Numbers\n" + MSIP_HEADER, "Hello Bob,\r\nsee below.\r\n")
    findings, _ = _scan(data)
    mip = _only(findings, Scheme.MIP)
    assert (mip.guid, mip.site_id, mip.name) == (GUID, TENANT, "Confidential")
    assert mip.where == ("header msip_labels",)
    assert dict(mip.attributes)["method"] == "Standard"
    assert findings.format == "eml"
    assert findings.verdict is Verdict.LABELLED


def test_disabled_msip_label_is_not_a_label() -> None:
    header = f"msip_labels: MSIP_Label_{GUID}_Enabled=false; MSIP_Label_{GUID}_SiteId={TENANT}\n"
    findings, _ = _scan(_mail(_BASE + "Subject: hi\n" + header, "Hello\r\n"))
    assert findings.labels == []


def test_subject_tag() -> None:
    findings, _ = _scan(_mail(_BASE + "Subject: [CONFIDENTIAL] Q3 numbers\n", "Hi\r\n"))
    assert _markings(findings) == {"CONFIDENTIAL": ("subject",)}


def test_encoded_subject_tag() -> None:
    subject = "=?utf-8?b?" + base64.b64encode("TLP:AMBER \u2013 Übersicht".encode()).decode() + "?="
    findings, _ = _scan(_mail(_BASE + f"Subject: {subject}\n", "Hallo\r\n"))
    assert _markings(findings) == {"TLP:AMBER": ("subject",)}


def test_raw_utf8_subject_and_encoded_file_name() -> None:
    """Some mailers send 8-bit headers unencoded; Outlook encodes non-ASCII file names."""
    name = "=?utf-8?b?" + base64.b64encode("预算.txt".encode()).decode() + "?="
    body = (
        "--B\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n见附件。\r\n"
        f'--B\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename="{name}"'
        "\r\n\r\nhello\r\n--B--\r\n"
    )
    headers = (
        _BASE + "Subject: 机密★1年 预算\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="B"\n'
    )
    findings, recorder = _scan(_mail(headers, body))
    assert _markings(findings) == {"机密": ("subject",)}
    assert [prefix for _, _, prefix in recorder.calls] == ["attachment 预算.txt"]


def test_subject_prose_is_not_a_marking() -> None:
    findings, _ = _scan(_mail(_BASE + "Subject: Re: your secret santa gift\n", "Thanks!\r\n"))
    assert findings.labels == []
    assert findings.verdict is Verdict.CLEAN


def test_body_banners_first_and_last_lines() -> None:
    body = "OFFICIAL-SENSITIVE\r\n\r\n" + "".join(f"Line {i} of the brief.\r\n" for i in range(30))
    body += "\r\nTLP:GREEN\r\n"
    findings, _ = _scan(_mail(_BASE + "Subject: Brief\n", body))
    assert _markings(findings) == {
        "OFFICIAL-SENSITIVE": ("body, first lines",),
        "TLP:GREEN": ("body, last lines",),
    }


def test_html_only_body_footer() -> None:
    rows = "".join(f"<p>Paragraph {i}</p>" for i in range(20))
    html = f"<html><body><p>Dear Bob,</p>{rows}<footer>Contoso Confidential</footer></body></html>"
    headers = _BASE + "Subject: Update\nMIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n"
    findings, _ = _scan(_mail(headers, html))
    marking = _only(findings, Scheme.MARKING)
    assert marking.marking == "Confidential"
    assert marking.where == ("body, HTML footer", "body, last lines")


def test_plain_alternative_is_preferred_to_html() -> None:
    message = EmailMessage()
    message["Subject"] = "Plan"
    message.set_content("SECRET\nThe plan.\n")
    message.add_alternative("<html><body><p>TLP:RED</p><p>The plan.</p></body></html>", "html")
    findings, recorder = _scan(message.as_bytes())
    assert _markings(findings) == {"SECRET": ("body, first lines",)}
    assert recorder.calls == []  # the HTML alternative is the body, not an attachment


def test_body_split_around_an_inline_image() -> None:
    """Apple Mail puts text, an image, then more text: the last lines are in the last part."""
    body = (
        "--B\r\nContent-Type: text/plain\r\n\r\nSECRET\r\nHere is the chart:\r\n"
        "--B\r\nContent-Type: image/png\r\nContent-Disposition: inline\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n"
        "--B\r\nContent-Type: text/plain\r\n\r\nRegards,\r\nAnn\r\nTLP:AMBER\r\n--B--\r\n"
    )
    headers = _BASE + 'Subject: x\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="B"\n'
    findings, recorder = _scan(_mail(headers, body))
    assert _markings(findings) == {
        "SECRET": ("body, first lines",),
        "TLP:AMBER": ("body, last lines",),
    }
    assert [name for name, _, _ in recorder.calls] == ["part1.png"]  # the first attachment


def test_outlook_sensitivity_header() -> None:
    labelled, _ = _scan(_mail(_BASE + "Subject: x\nSensitivity: Company-Confidential\n", "x\r\n"))
    prop = _only(labelled, Scheme.DOCUMENT_PROPERTY)
    assert (prop.name, prop.value, prop.where) == (
        "Sensitivity",
        "Company-Confidential",
        ("header sensitivity",),
    )
    for value in ("Personal", "Private", "Normal"):
        plain, _ = _scan(_mail(_BASE + f"Subject: x\nSensitivity: {value}\n", "x\r\n"))
        assert plain.labels == [], value


def test_titus_headers_make_one_titus_label() -> None:
    metadata = {
        "CategoryLabels": "",
        "Metadata": {
            "ns": "http://www.titus.com/ns/Intel3",
            "id": TITUS_ID,
            "props": [{"n": "CTPClassification", "vals": [{"value": "CTP_NT"}]}],
        },
        "SubjectLabels": [],
        "TMCVersion": "17.10.1804.49",
    }
    encoded = base64.b64encode(json.dumps(metadata).encode()).decode()
    folded = "\n ".join(encoded[i : i + 70] for i in range(0, len(encoded), 70))
    headers = (
        _BASE + f"Subject: patch\nx-ctpclassification: CTP_NT\nx-titus-metadata-40: {folded}\n"
    )
    findings, _ = _scan(_mail(headers, "Looks good.\r\n"))
    titus = _only(findings, Scheme.TITUS)
    assert (titus.value, titus.guid) == ("CTP_NT", TITUS_ID)
    assert set(titus.where) == {"header x-ctpclassification", "header x-titus-metadata-40"}


def test_titus_classifications_header_and_protective_marking() -> None:
    headers = (
        _BASE + "Subject: x\n"
        "x-tituslabs-classifications-30: TLPropertyRoot=Contoso;Classification=Restricted;\n"
        "X-Protective-Marking: VER=2018.1, NS=gov.au, SEC=OFFICIAL:Sensitive, "
        "ORIGIN=ann@example.gov.au\n"
    )
    findings, _ = _scan(_mail(headers, "x\r\n"))
    props = {(f.name, f.value): f.where for f in findings.labels}
    assert props == {
        ("Classification", "Restricted"): ("header x-tituslabs-classifications-30",),
        ("Protective Marking", "OFFICIAL:Sensitive"): ("header x-protective-marking",),
    }


def test_microsoft_classification_needs_classified_flag() -> None:
    flagged = "X-Microsoft-Classified: true\nX-Microsoft-Classification: Restricted\n"
    findings, _ = _scan(_mail(_BASE + "Subject: x\n" + flagged, "x\r\n"))
    assert _only(findings, Scheme.DOCUMENT_PROPERTY).value == "Restricted"
    unflagged, _ = _scan(_mail(_BASE + "Subject: x\nX-Microsoft-Classification: Restricted\n", "x"))
    assert unflagged.labels == []


def _with_attachments() -> bytes:
    message = EmailMessage()
    message["From"] = "ann@example.com"
    message["Subject"] = "Files"
    message.set_content("Files attached.\n")
    message.add_attachment(b"TLP:RED\nhello\n", "text", "plain", filename="notes.txt")
    message.add_attachment(b"PK\x03\x04fake", "application", "octet-stream", filename="../x/r.docx")
    inner = EmailMessage()
    inner["Subject"] = "Original"
    inner["msip_labels"] = f"MSIP_Label_{GUID}_Enabled=true; MSIP_Label_{GUID}_SiteId={TENANT}"
    inner.set_content("Forwarded text.\n")
    message.add_attachment(inner)
    return message.as_bytes()


def test_attachments_are_handed_to_the_dispatcher() -> None:
    findings, recorder = _scan(_with_attachments())
    names = [(name, prefix) for name, _, prefix in recorder.calls]
    assert names == [
        ("notes.txt", "attachment notes.txt"),
        ("r.docx", "attachment r.docx"),  # a name is never a path
        ("part3.eml", "attachment part3.eml"),
    ]
    assert recorder.calls[0][1] == b"TLP:RED\nhello\n"
    forwarded = BytesParser(policy=default_policy).parsebytes(recorder.calls[2][1])
    assert forwarded["Subject"] == "Original"
    assert findings.unscannable_reason is None


def test_attachments_over_the_limit_make_the_message_unscannable() -> None:
    message = EmailMessage()
    message.set_content("Many files.\n")
    for index in range(4):
        message.add_attachment(b"data", "application", "octet-stream", filename=f"f{index}.bin")
    findings = Findings(path="many.eml")
    ctx = ScanContext.start(findings, Limits(max_attachments=2))
    recorder = _Recorder()
    ctx.scan_nested = recorder
    with pytest.raises(Unscannable, match="4 attachments; only the first 2 were scanned"):
        scan_eml(Source("many.eml", data=message.as_bytes()), ctx)
    assert [name for name, _, _ in recorder.calls] == ["f0.bin", "f1.bin"]


def test_encrypted_message_is_unscannable_but_its_headers_are_read() -> None:
    headers = (
        _BASE + "Subject: [CONFIDENTIAL] keys\nMIME-Version: 1.0\n"
        'Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"\n'
        'Content-Disposition: attachment; filename="smime.p7m"\n'
        "Content-Transfer-Encoding: base64\n"
    )
    findings, recorder = _scan(_mail(headers, "MIAGCSqGSIb3DQEHA6CAMIACAQAxggF\r\n"))
    assert recorder.calls == []
    assert findings.unscannable_reason == (
        "attachment smime.p7m: S/MIME-encrypted or opaque-signed content cannot be read"
    )
    assert _markings(findings) == {"CONFIDENTIAL": ("subject",)}


def test_winmail_dat_is_unscannable_and_other_attachments_still_scanned() -> None:
    message = EmailMessage()
    message["Subject"] = "Files"
    message.set_content("Files attached.\n")
    message.add_attachment(b"\x78\x9f\x3e\x22", "application", "ms-tnef", filename="winmail.dat")
    message.add_attachment(b"TLP:RED\n", "text", "plain", filename="notes.txt")
    findings, recorder = _scan(message.as_bytes())
    assert [name for name, _, _ in recorder.calls] == ["notes.txt"]
    assert findings.unscannable_reason == (
        "attachment winmail.dat: Outlook rich-text (TNEF, winmail.dat) content is not read"
    )


def test_truncated_base64_attachment_is_decoded_as_far_as_it_goes() -> None:
    payload = base64.b64encode(b"TLP:RED\n" + b"x" * 300).decode()
    body = (
        "--B\r\nContent-Type: text/plain\r\n\r\nSee file.\r\n"
        "--B\r\nContent-Type: application/octet-stream\r\n"
        'Content-Disposition: attachment; filename="cut.txt"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n" + payload[:123]  # cut mid-quantum, no end
    )
    headers = _BASE + 'Subject: x\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="B"\n'
    findings, recorder = _scan(_mail(headers, body))
    [(name, data, _)] = recorder.calls
    assert name == "cut.txt"
    assert data.startswith(b"TLP:RED\nxxxx")
    assert findings.unscannable_reason is None


@pytest.mark.parametrize(
    "raw",
    [
        # multipart without any boundary line
        _BASE
        + 'Subject: [SECRET] x\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="Q"'
        "\n\nno parts here\n",
        # boundary parameter missing altogether
        _BASE + "Subject: [SECRET] x\nContent-Type: multipart/mixed\n\n--\nbody\n",
        # garbage header lines, a bad charset and a bad transfer encoding
        _BASE + "Subject: [SECRET] x\n:::: not a header\nContent-Type: text/plain; charset=x-nope\n"
        "Content-Transfer-Encoding: x-unknown\n\nTLP:RED\nbody\n",
        # an RFC 2231 charset on an 8-bit part (the stdlib's get_payload() raises TypeError)
        _BASE + "Subject: [SECRET] x\nContent-Type: text/plain; charset*=x-bad''%E2\n\n"
        "\udcff\udcfe TLP:RED\nbody\n",
        # an unterminated encoded word and a NUL in a header
        _BASE + "Subject: [SECRET] =?utf-8?q?broken\nX-Odd: a\x00b\n\nTLP:RED\nbody\n",
    ],
)
def test_malformed_mime_is_read_not_crashed(raw: str) -> None:
    findings, _ = _scan(raw.replace("\n", "\r\n").encode("utf-8", "surrogateescape"))
    assert findings.unscannable_reason is None
    assert "SECRET" in _markings(findings)


def test_deeply_nested_multiparts_are_unscannable() -> None:
    depth = 60
    head = "".join(
        f'--b{i}\r\nContent-Type: multipart/mixed; boundary="b{i + 1}"\r\n\r\n'
        for i in range(depth)
    )
    tail = "".join(f"--b{i}--\r\n" for i in reversed(range(depth)))
    headers = (
        _BASE + 'Subject: x\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b0"\n'
    )
    data = _mail(headers, head + f"--b{depth}\r\nContent-Type: text/plain\r\n\r\nhi\r\n" + tail)
    with pytest.raises(Unscannable, match="nested"):
        _scan(data)


def test_oversized_message_reports_headers_then_is_unscannable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(eml, "MAX_EMAIL_BYTES", 2048)
    data = _mail(_BASE + "Subject: [TLP:AMBER] big\n" + MSIP_HEADER, "x" * 5000 + "\r\n")
    findings = Findings(path="big.eml")
    ctx = ScanContext.start(findings)
    with pytest.raises(Unscannable, match="only its headers were checked"):
        scan_eml(Source("big.eml", data=data), ctx)
    assert {f.scheme for f in findings.labels} == {Scheme.MIP, Scheme.MARKING}


@settings(max_examples=80, deadline=None)
@given(data=st.binary(max_size=2000))
def test_garbage_never_crashes(data: bytes) -> None:
    try:
        _scan(data, Limits(text_window=256))
    except Unscannable as exc:
        assert exc.reason


_SOUP = [
    "From: a\r\n",
    "Subject: [SECRET] x\r\n",
    "Content-Type: multipart/mixed; boundary=B\r\n",
    "Content-Type: message/rfc822\r\n",
    "Content-Type: text/html\r\n",
    "\r\n",
    "--B\r\n",
    "--B--\r\n",
    "Content-Transfer-Encoding: base64\r\n",
    "QUJD",
    "=\r\n",
    "<p>TLP:RED</p>",
    "Content-Disposition: attachment; filename*=utf-8''%E2%9C%93.txt\r\n",
    "msip_labels: a=b;",
    "Subject: =?utf-8?q?=E2=9C=93?=\r\n",
    "Content-Transfer-Encoding: x-uuencode\r\n",
    "begin 644 a.txt\r\n",
    "Content-Type: text/plain; charset*=x-bad''%E2\r\n",
    "Subject: \udcff\udcfe raw\r\n",
    " folded\r\n",
    "x-titus-metadata-40: e30=\r\n",
]


@settings(max_examples=80, deadline=None)
@given(pieces=st.lists(st.sampled_from(_SOUP), max_size=60))
def test_mime_soup_never_crashes(pieces: list[str]) -> None:
    try:
        _scan("".join(pieces).encode("utf-8", "surrogateescape"))
    except Unscannable as exc:
        assert "nested" in exc.reason or "attachments" in exc.reason


# --- end to end through the dispatcher ----------------------------------------------------


def test_detect_finds_labels_inside_attachments(tmp_path: Path, corpus: Path) -> None:
    message = EmailMessage()
    message["From"] = "ann@example.com"
    message["To"] = "bob@example.com"
    message["Subject"] = "Report"
    message.set_content("Report attached.\n")
    message.add_attachment(b"TLP:RED\nhello\n", "text", "plain", filename="notes.txt")
    xlsx = (corpus / CORPUS_XLSX).read_bytes()
    message.add_attachment(
        xlsx,
        "application",
        "vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        filename="report.xlsx",
    )
    inner = EmailMessage()
    inner["From"] = "carol@example.com"
    inner["Subject"] = "[OFFICIAL-SENSITIVE] earlier"
    inner.set_content("Earlier mail.\n")
    message.add_attachment(inner)
    path = tmp_path / "report.eml"
    path.write_bytes(message.as_bytes())

    result = detect(path)
    assert result.format == "eml"
    assert result.unscannable_reason is None
    places = {(f.scheme, f.marking or f.guid): f.where for f in result.labels}
    assert places == {
        (Scheme.MARKING, "TLP:RED"): (_nested("attachment notes.txt", "first lines"),),
        (Scheme.MIP, GUID): (_nested("attachment report.xlsx", "docProps/custom.xml"),),
        # An unnamed forwarded message is named after its place among the attachments.
        (Scheme.MARKING, "OFFICIAL-SENSITIVE"): (_nested("attachment part3.eml", "subject"),),
    }


def test_detect_reads_the_msip_labels_header_of_a_message_file(tmp_path: Path) -> None:
    path = tmp_path / "labelled.eml"
    path.write_bytes(_mail(_BASE + "Subject: Numbers\n" + MSIP_HEADER, "Hello Bob\r\n"))
    result = detect(path)
    assert result.format == "eml"
    mip = _only(result, Scheme.MIP)
    assert (mip.guid, mip.where) == (GUID, ("header msip_labels",))


def test_detect_on_a_mime_web_archive(tmp_path: Path) -> None:
    """A .mht saved by a browser sniffs as mail; its HTML part is the body."""
    raw = (
        "From: <Saved by Blink>\nSubject: Intranet page\nMIME-Version: 1.0\n"
        'Content-Type: multipart/related; type="text/html"; boundary="S"\n\n'
        "--S\nContent-Type: text/html\nContent-Location: https://intranet/\n\n"
        '<html><head><meta name="classification" content="Restricted"></head>'
        "<body><p>Welcome</p></body></html>\n--S--\n"
    )
    path = tmp_path / "page.mht"
    path.write_bytes(raw.replace("\n", "\r\n").encode())
    result = detect(path)
    prop = _only(result, Scheme.DOCUMENT_PROPERTY)
    assert (prop.value, prop.where) == ("Restricted", ("body, HTML meta classification",))
