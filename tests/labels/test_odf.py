"""OpenDocument: meta.xml properties and keywords, master-page headers/footers, body edges."""

from __future__ import annotations

import zipfile
from dataclasses import replace
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from sendguard.labels import detect
from sendguard.labels.context import DEFAULT_LIMITS, Limits, ScanContext, Source, Unscannable
from sendguard.labels.model import Findings, Scheme, Verdict
from sendguard.labels.odf import odf_paragraphs, scan_flat_odf, scan_odf
from sendguard.labels.safezip import open_zip

GUID = "2096f6a2-d2f7-48be-b329-b73aaa526e5d"
TENANT = "cb46c030-1825-4e81-a295-151c039dbf02"

NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
    'xmlns:presentation="urn:oasis:names:tc:opendocument:xmlns:presentation:1.0" '
    'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" '
    'office:version="1.3"'
)
MIME = "application/vnd.oasis.opendocument."
MANIFEST_NS = 'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"'


def p(text: str) -> str:
    return f'<text:p text:style-name="P1">{escape(text)}</text:p>'


def meta_section(user_defined: list[tuple[str, str]], keywords: list[str]) -> str:
    props = "".join(
        f"<meta:user-defined meta:name={quoteattr(name)}>{escape(value)}</meta:user-defined>"
        for name, value in user_defined
    )
    words = "".join(f"<meta:keyword>{escape(word)}</meta:keyword>" for word in keywords)
    return (
        "<office:meta><meta:generator>LibreOffice</meta:generator>"
        f"<dc:title>Plan</dc:title>{words}{props}</office:meta>"
    )


def master_styles(header: str = "", footer: str = "", extra: str = "") -> str:
    parts = ""
    if header:
        parts += f"<style:header>{header}</style:header>"
    if footer:
        parts += f"<style:footer>{footer}</style:footer>"
    return (
        '<office:master-styles><style:master-page style:name="Standard" '
        f'style:page-layout-name="pm1"><style:header style:display="false"/>{parts}{extra}'
        "</style:master-page></office:master-styles>"
    )


def body(kind: str, inner: str) -> str:
    return f"<office:body><office:{kind}>{inner}</office:{kind}></office:body>"


def mip_props(enabled: str = "true") -> list[tuple[str, str]]:
    return [
        (f"MSIP_Label_{GUID}_Enabled", enabled),
        (f"MSIP_Label_{GUID}_Method", "Privileged"),
        (f"MSIP_Label_{GUID}_Name", "Confidential"),
        (f"MSIP_Label_{GUID}_SiteId", TENANT),
    ]


def write_odf(
    path: Path,
    subtype: str = "text",
    *,
    meta: str | None = None,
    styles: str = "",
    content: str = "",
    extra: dict[str, bytes] | None = None,
) -> Path:
    office_kind = {"text": "text", "spreadsheet": "spreadsheet", "presentation": "presentation"}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", MIME + subtype, compress_type=zipfile.ZIP_STORED)
        archive.writestr(
            "META-INF/manifest.xml",
            f"<manifest:manifest {MANIFEST_NS}>"
            f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{MIME}{subtype}"/>'
            "</manifest:manifest>",
        )
        if meta is not None:
            archive.writestr(
                "meta.xml",
                f'<?xml version="1.0" encoding="UTF-8"?><office:document-meta {NS}>{meta}'
                "</office:document-meta>",
            )
        archive.writestr(
            "styles.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><office:document-styles {NS}>'
            f"<office:styles/>{styles}</office:document-styles>",
        )
        archive.writestr(
            "content.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {NS}>'
            f"<office:automatic-styles/>{body(office_kind[subtype], content)}"
            "</office:document-content>",
        )
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return path


def run(path: Path, limits: Limits = DEFAULT_LIMITS) -> tuple[Findings, str | None]:
    findings = Findings(path=str(path))
    ctx = ScanContext.start(findings, limits)
    try:
        with open_zip(Source(path.name, path=str(path)), ctx) as archive:
            scan_odf(archive, ctx)
    except Unscannable as exc:
        return findings, exc.reason
    return findings, None


def scan(path: Path, limits: Limits = DEFAULT_LIMITS) -> Findings:
    findings, reason = run(path, limits)
    assert reason is None, reason
    return findings


def run_flat(path: Path, limits: Limits = DEFAULT_LIMITS) -> tuple[Findings, str | None]:
    findings = Findings(path=str(path))
    ctx = ScanContext.start(findings, limits)
    try:
        scan_flat_odf(Source(path.name, path=str(path)), ctx)
    except Unscannable as exc:
        return findings, exc.reason
    return findings, None


def markings(findings: Findings) -> dict[str, set[str]]:
    return {f.marking or "": set(f.where) for f in findings.labels if f.scheme is Scheme.MARKING}


# --- zipped -----------------------------------------------------------------------------


def test_odt_meta_label_and_footer_marking(tmp_path: Path) -> None:
    path = write_odf(
        tmp_path / "a.odt",
        meta=meta_section(mip_props(), []),
        styles=master_styles(footer=p("OFFICIAL-SENSITIVE") + p("Page 1")),
        content="<text:sequence-decls/>" + p("Minutes of the meeting") + p("All agreed."),
    )
    findings = scan(path)
    assert findings.format == "odt"
    mip = [f for f in findings.labels if f.scheme is Scheme.MIP]
    assert [(f.guid, f.name, f.site_id, f.where) for f in mip] == [
        (GUID, "Confidential", TENANT, ("meta.xml",))
    ]
    assert markings(findings) == {"OFFICIAL-SENSITIVE": {"styles.xml, footer"}}


def test_odt_disabled_label_is_no_label(tmp_path: Path) -> None:
    path = write_odf(tmp_path / "a.odt", meta=meta_section(mip_props("false"), []))
    assert scan(path).labels == []


def test_odt_titus_keyword_and_classification_property(tmp_path: Path) -> None:
    path = write_odf(
        tmp_path / "a.odt",
        meta=meta_section(
            [("Classification", "Secret")], ["budget", "CTPClassification=CTP_NT:VisualMarkings="]
        ),
    )
    found = {(f.scheme, f.value) for f in scan(path).labels}
    assert found == {(Scheme.TITUS, "CTP_NT"), (Scheme.DOCUMENT_PROPERTY, "Secret")}


def test_odt_header_and_body_edges(tmp_path: Path) -> None:
    paragraphs = [p(f"Paragraph {n} of ordinary prose.") for n in range(30)]
    content = (
        '<text:h text:outline-level="1">TLP:AMBER</text:h>'
        + "".join(paragraphs)
        + '<text:p>Classification: <text:span text:style-name="T1">Secret</text:span></text:p>'
    )
    path = write_odf(
        tmp_path / "a.odt", styles=master_styles(header=p("Contoso Confidential")), content=content
    )
    assert markings(scan(path)) == {
        "Confidential": {"styles.xml, header"},
        "TLP:AMBER": {"content.xml, first lines"},
        "SECRET": {"content.xml, last lines"},
    }


def test_odt_tracked_deletions_and_prose_are_not_markings(tmp_path: Path) -> None:
    tracked = (
        '<text:tracked-changes><text:changed-region text:id="ct1"><text:deletion>'
        "<office:change-info/>" + p("TOP SECRET") + "</text:deletion></text:changed-region>"
        "</text:tracked-changes>"
    )
    content = tracked + p("The secret to good bread is time.") + p("Thanks.")
    assert scan(write_odf(tmp_path / "a.odt", content=content)).labels == []


def test_ods_header_regions(tmp_path: Path) -> None:
    footer = (
        "<style:region-left>" + p("Sheet1") + "</style:region-left>"
        "<style:region-center>" + p("INTERNAL USE ONLY") + "</style:region-center>"
    )
    cells = (
        '<table:table table:name="Sheet1"><table:table-row>'
        '<table:table-cell office:value-type="string">'
        + p("Amount")
        + "</table:table-cell></table:table-row></table:table>"
    )
    findings = scan(
        write_odf(
            tmp_path / "a.ods", "spreadsheet", styles=master_styles(footer=footer), content=cells
        )
    )
    assert findings.format == "ods"
    assert markings(findings) == {"Internal Use Only": {"styles.xml, footer"}}


def test_odp_footer_declaration_and_master_page_text(tmp_path: Path) -> None:
    content = (
        '<presentation:footer-decl presentation:name="ftr1">TLP:GREEN</presentation:footer-decl>'
        '<draw:page draw:name="page1"><draw:frame><draw:text-box>'
        + p("Roadmap")
        + "</draw:text-box></draw:frame></draw:page>"
    )
    master_text = (
        '<draw:frame presentation:class="footer"><draw:text-box>'
        + p("Highly Confidential")
        + "</draw:text-box></draw:frame>"
    )
    findings = scan(
        write_odf(
            tmp_path / "a.odp",
            "presentation",
            styles=master_styles(extra=master_text),
            content=content,
        )
    )
    assert findings.format == "odp"
    assert markings(findings) == {
        "TLP:GREEN": {"content.xml, footer"},
        "Highly Confidential": {"styles.xml, master page"},
    }


def test_odf_paragraphs_nesting_spaces_and_annotations() -> None:
    xml = (
        "<text:p>A<text:s/>B<text:tab/>C<office:annotation><dc:creator>Bob</dc:creator>"
        "<text:p>note</text:p></office:annotation><draw:frame><draw:text-box><text:p>inner</text:p>"
        "</draw:text-box></draw:frame>D</text:p><text:p/><text:h>cut &amp; off"
    )
    assert list(odf_paragraphs(xml)) == ["note", "inner", "A B\tCD", "cut & off"]


# --- damaged, hostile, encrypted --------------------------------------------------------

BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
    f"<office:document-meta {NS}><office:meta><meta:keyword>&lol2;</meta:keyword>"
    "</office:meta></office:document-meta>"
)


def test_billion_laughs_in_meta_is_unscannable(tmp_path: Path) -> None:
    path = write_odf(tmp_path / "a.odt")
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("meta.xml", BILLION_LAUGHS)
    _, reason = run(path)
    assert reason is not None and "meta.xml" in reason and "entit" in reason


def test_truncated_meta_is_unscannable(tmp_path: Path) -> None:
    path = write_odf(tmp_path / "a.odt")
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("meta.xml", f"<office:document-meta {NS}><office:meta><meta:user-def")
    _, reason = run(path)
    assert reason is not None and "meta.xml" in reason and "not well-formed" in reason


def test_password_encrypted_odt_is_unscannable(tmp_path: Path) -> None:
    manifest = (
        f"<manifest:manifest {MANIFEST_NS}>"
        f'<manifest:file-entry manifest:full-path="/" manifest:media-type="{MIME}text"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml">'
        '<manifest:encryption-data manifest:checksum-type="SHA1/1K" manifest:checksum="x">'
        '<manifest:algorithm manifest:algorithm-name="Blowfish CFB" '
        'manifest:initialisation-vector="y"/>'
        "</manifest:encryption-data></manifest:file-entry></manifest:manifest>"
    )
    path = tmp_path / "a.odt"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", MIME + "text")
        archive.writestr("META-INF/manifest.xml", manifest)
        archive.writestr("content.xml", bytes(range(256)) * 4)
    _, reason = run(path)
    assert reason is not None and "password-encrypted" in reason and "content.xml" in reason


def test_missing_content_is_unscannable(tmp_path: Path) -> None:
    path = tmp_path / "a.odt"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", MIME + "text")
    _, reason = run(path)
    assert reason is not None and "content.xml" in reason


def test_odt_through_detect(tmp_path: Path) -> None:
    path = write_odf(tmp_path / "a.odt", meta=meta_section(mip_props(), []))
    result = detect(path)
    assert result.verdict is Verdict.LABELLED and result.format == "odt"


# --- flat -------------------------------------------------------------------------------


def write_flat(path: Path, subtype: str, inner: str, prolog: str = "") -> Path:
    path.write_text(
        f'<?xml version="1.0" encoding="UTF-8"?>{prolog}'
        f'<office:document {NS} office:mimetype="{MIME}{subtype}">{inner}</office:document>',
        encoding="utf-8",
    )
    return path


def test_flat_fodt_meta_footer_and_body(tmp_path: Path) -> None:
    inner = (
        meta_section(mip_props(), ["CTPClassification=CTP_IC:VisualMarkings="])
        + "<office:styles/>"
        + master_styles(footer=p("UK OFFICIAL"))
        + body("text", p("TLP:RED") + p("Hello."))
    )
    path = write_flat(tmp_path / "a.fodt", "text", inner)
    findings, reason = run_flat(path)
    assert reason is None, reason
    assert findings.format == "fodt"
    schemes = {
        (f.scheme, f.guid or f.value) for f in findings.labels if f.scheme is not Scheme.MARKING
    }
    assert schemes == {(Scheme.MIP, GUID), (Scheme.TITUS, "CTP_IC")}
    assert all(
        f.where == ("office:meta",) for f in findings.labels if f.scheme is not Scheme.MARKING
    )
    assert markings(findings) == {
        "OFFICIAL": {"office:master-styles, footer"},
        "TLP:RED": {"office:body, first lines"},
    }


def test_flat_fodt_through_detect(tmp_path: Path) -> None:
    path = write_flat(tmp_path / "a.fodt", "text", meta_section(mip_props(), []) + body("text", ""))
    result = detect(path)
    assert result.format == "fodt"
    assert [f.guid for f in result.labels] == [GUID]


def test_flat_with_entity_declarations_is_unscannable(tmp_path: Path) -> None:
    prolog = '<!DOCTYPE office:document [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
    inner = meta_section([("Classification", "&lol2;")], []).replace("&amp;lol2;", "&lol2;")
    path = write_flat(tmp_path / "a.fodt", "text", inner + body("text", p("x")), prolog)
    _, reason = run_flat(path)
    assert reason is not None and "entit" in reason


def test_flat_with_unterminated_meta_is_unscannable(tmp_path: Path) -> None:
    path = tmp_path / "a.fodt"
    path.write_text(
        f'<?xml version="1.0"?><office:document {NS} office:mimetype="{MIME}text"><office:meta>'
        "<meta:user-defined meta:name='Classification'>Sec",
        encoding="utf-8",
    )
    _, reason = run_flat(path)
    assert reason is not None and "office:meta" in reason


def test_flat_larger_than_the_xml_limit_still_reads_meta_and_last_lines(tmp_path: Path) -> None:
    filler = "".join(p(f"Line {n} " + "y" * 100) for n in range(400))
    inner = meta_section(mip_props(), []) + body("text", p("Hello") + filler + p("TLP:CLEAR"))
    path = write_flat(tmp_path / "a.fodt", "text", inner)
    limits = replace(DEFAULT_LIMITS, max_xml_part=16 * 1024, body_window=8 * 1024)
    findings, reason = run_flat(path, limits)
    assert reason is None, reason
    assert {f.guid for f in findings.labels if f.scheme is Scheme.MIP} == {GUID}
    assert markings(findings) == {"TLP:CLEAR": {"office:body, last lines"}}
