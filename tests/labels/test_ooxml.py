"""Office Open XML: labels in custom.xml / LabelInfo.xml / core.xml, and visible markings."""

from __future__ import annotations

import zipfile
from dataclasses import replace
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sendguard.labels import detect
from sendguard.labels.context import DEFAULT_LIMITS, Limits, ScanContext, Source, Unscannable
from sendguard.labels.model import Finding, Findings, Scheme, Verdict
from sendguard.labels.ooxml import (
    LABELINFO_REL,
    excel_header_footer_text,
    ooxml_paragraphs,
    scan_ooxml,
)
from sendguard.labels.safezip import open_zip

TENANT_A = "aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa"
TENANT_B = "bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb"
GUID_1 = "11111111-aaaa-4aaa-8aaa-111111111111"
GUID_2 = "22222222-bbbb-4bbb-8bbb-222222222222"
GUID_3 = "33333333-cccc-4ccc-8ccc-333333333333"
MICROSOFT = "72f988bf-86f1-41af-91ab-2d7cd011db47"

NS_W = (
    'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
    'xmlns:v="urn:schemas-microsoft-com:vml" '
    'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
    'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"'
)
NS_P = (
    'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
    'xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"'
)
NS_X = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
NS_R = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"

MAIN: dict[str, tuple[str, str]] = {
    "docx": (
        "word/document.xml",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
    ),
    "docm": ("word/document.xml", "application/vnd.ms-word.document.macroEnabled.main+xml"),
    "dotx": (
        "word/document.xml",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml",
    ),
    "xlsx": (
        "xl/workbook.xml",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    ),
    "xlsm": ("xl/workbook.xml", "application/vnd.ms-excel.sheet.macroEnabled.main+xml"),
    "pptx": (
        "ppt/presentation.xml",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
    ),
    "ppsx": (
        "ppt/presentation.xml",
        "application/vnd.openxmlformats-officedocument.presentationml.slideshow.main+xml",
    ),
    "vsdx": ("visio/document.xml", "application/vnd.ms-visio.drawing.main+xml"),
}


# --- building packages -----------------------------------------------------------------


def paragraph(*runs: str) -> str:
    """A Word paragraph; a run "\t" is a tab, other runs are text."""
    body = "".join(
        "<w:r><w:tab/></w:r>"
        if run == "\t"
        else f"<w:r><w:t xml:space='preserve'>{escape(run)}</w:t></w:r>"
        for run in runs
    )
    return f'<w:p w:rsidR="00AB12CD"><w:pPr><w:pStyle w:val="Normal"/></w:pPr>{body}</w:p>'


def word_document(*paragraphs: str) -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document {NS_W}><w:body>'
        + "".join(paragraphs)
        + "<w:sectPr/></w:body></w:document>"
    )


def word_part(root: str, *content: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?><w:{root} {NS_W}>{"".join(content)}</w:{root}>'


def custom_xml(pairs: list[tuple[str, str]]) -> str:
    props = "".join(
        f'<property fmtid="{{D5CDD505-2E9C-101B-9397-08002B2CF9AE}}" pid="{index + 2}" '
        f"name={quoteattr(name)}><vt:lpwstr>{escape(value)}</vt:lpwstr></property>"
        for index, (name, value) in enumerate(pairs)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"'
        ' xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
        f"{props}</Properties>"
    )


def msip(
    guid: str, site: str, name: str | None = None, enabled: str = "true"
) -> list[tuple[str, str]]:
    pairs = [
        (f"MSIP_Label_{guid}_Enabled", enabled),
        (f"MSIP_Label_{guid}_SetDate", "2024-01-01T12:00:00Z"),
        (f"MSIP_Label_{guid}_Method", "Standard"),
        (f"MSIP_Label_{guid}_SiteId", site),
        (f"MSIP_Label_{guid}_ContentBits", "0"),
    ]
    if name is not None:
        pairs.append((f"MSIP_Label_{guid}_Name", name))
    return pairs


def labelinfo_xml(*labels: dict[str, str]) -> str:
    items = "".join(
        "<clbl:label "
        + " ".join(f"{key}={quoteattr(value)}" for key, value in label.items())
        + " />"
        for label in labels
    )
    return (
        '<?xml version="1.0" encoding="utf-8" standalone="yes"?><clbl:labelList '
        'xmlns:clbl="http://schemas.microsoft.com/office/2020/mipLabelMetadata">'
        f"{items}</clbl:labelList>"
    )


def li(guid: str, site: str, **extra: str) -> dict[str, str]:
    label = {
        "id": "{" + guid + "}",
        "enabled": "1",
        "method": "Privileged",
        "siteId": "{" + site + "}",
    }
    label.update({"contentBits": "0", "removed": "0"})
    label.update(extra)
    return label


def core_xml(keywords: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><cp:coreProperties '
        'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"<dc:title>t</dc:title><cp:keywords>{escape(keywords)}</cp:keywords></cp:coreProperties>"
    )


def write_package(
    path: Path,
    kind: str = "docx",
    parts: dict[str, str | bytes] | None = None,
    *,
    custom: str | None = None,
    labelinfo: str | None = None,
    labelinfo_path: str = "docMetadata/LabelInfo.xml",
    labelinfo_rel: bool = True,
    core: str | None = None,
    extra_rels: str = "",
) -> Path:
    """A minimal valid OOXML package: [Content_Types].xml, _rels/.rels, the main part."""
    main, content_type = MAIN[kind]
    members: dict[str, str | bytes] = {}
    members[main] = (
        word_document(paragraph("Hello")) if kind in ("docx", "docm", "dotx") else "<x/>"
    )
    members.update(parts or {})
    rels = f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="{main}"/>'
    if custom is not None:
        members["docProps/custom.xml"] = custom
        rels += (
            f'<Relationship Id="rId2" Type="{REL}/custom-properties" Target="docProps/custom.xml"/>'
        )
    if labelinfo is not None:
        members[labelinfo_path] = labelinfo
        if labelinfo_rel:
            rels += f'<Relationship Id="rId3" Type="{LABELINFO_REL}" Target="{labelinfo_path}"/>'
    if core is not None:
        members["docProps/core.xml"] = core
        rels += (
            '<Relationship Id="rId4" Type="http://schemas.openxmlformats.org/package/2006/'
            'relationships/metadata/core-properties" Target="docProps/core.xml"/>'
        )
    rels += extra_rels
    content_types = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/{main}" ContentType="{content_type}"/></Types>'
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", content_types)
        archive.writestr(
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships '
            f'xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{rels}</Relationships>',
        )
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def run(path: Path, limits: Limits = DEFAULT_LIMITS) -> tuple[Findings, str | None]:
    """What scan_ooxml found, and why it stopped when it raised Unscannable."""
    findings = Findings(path=str(path))
    ctx = ScanContext.start(findings, limits)
    try:
        with open_zip(Source(path.name, path=str(path)), ctx) as archive:
            scan_ooxml(archive, ctx)
    except Unscannable as exc:
        return findings, exc.reason
    return findings, None


def scan(path: Path, limits: Limits = DEFAULT_LIMITS) -> Findings:
    findings, reason = run(path, limits)
    assert reason is None, reason
    return findings


def markings(findings: Findings) -> dict[str, set[str]]:
    """Canonical marking → places."""
    return {f.marking or "": set(f.where) for f in findings.labels if f.scheme is Scheme.MARKING}


def only(findings: Findings, scheme: Scheme) -> Finding:
    assert len(findings.labels) == 1, findings.to_dict()
    [label] = findings.labels
    assert label.scheme is scheme, findings.to_dict()
    return label


# --- MIP --------------------------------------------------------------------------------


def test_label_in_custom_xml_only(tmp_path: Path) -> None:
    path = write_package(tmp_path / "a.docx", custom=custom_xml(msip(GUID_1, TENANT_A, "Secret")))
    findings = scan(path)
    label = only(findings, Scheme.MIP)
    assert (label.guid, label.site_id, label.name) == (GUID_1, TENANT_A, "Secret")
    assert label.where == ("docProps/custom.xml",)
    assert dict(label.attributes)["method"] == "Standard"
    assert findings.format == "docx"


def test_label_in_labelinfo_only_found_through_rels(tmp_path: Path) -> None:
    path = write_package(
        tmp_path / "a.docx",
        labelinfo=labelinfo_xml(li(GUID_1, TENANT_A)),
        labelinfo_path="somewhere/Labels.xml",
    )
    label = only(scan(path), Scheme.MIP)
    assert (label.guid, label.site_id) == (GUID_1, TENANT_A)
    assert label.where == ("somewhere/Labels.xml",)
    assert dict(label.attributes)["method"] == "Privileged"


def test_labelinfo_at_its_usual_place_is_found_without_a_relationship(tmp_path: Path) -> None:
    path = write_package(
        tmp_path / "a.docx", labelinfo=labelinfo_xml(li(GUID_1, TENANT_A)), labelinfo_rel=False
    )
    assert only(scan(path), Scheme.MIP).where == ("docMetadata/LabelInfo.xml",)


def test_same_label_in_both_places_is_one_finding_with_both_places(tmp_path: Path) -> None:
    path = write_package(
        tmp_path / "a.xlsx",
        "xlsx",
        custom=custom_xml(msip(GUID_1, TENANT_A, "Internal")),
        labelinfo=labelinfo_xml(li(GUID_1, TENANT_A)),
    )
    label = only(scan(path), Scheme.MIP)
    assert set(label.where) == {"docMetadata/LabelInfo.xml", "docProps/custom.xml"}
    assert label.name == "Internal"  # lent by custom.xml; LabelInfo has no names


def test_removed_label_in_labelinfo_is_no_label(tmp_path: Path) -> None:
    path = write_package(
        tmp_path / "a.docx",
        custom=custom_xml(msip(GUID_1, TENANT_A, "Secret")),  # stale
        labelinfo=labelinfo_xml(li(GUID_1, TENANT_A, removed="1")),
    )
    findings = scan(path)
    assert findings.labels == []
    assert findings.verdict is Verdict.CLEAN


def test_disabled_label_in_custom_xml_is_no_label(tmp_path: Path) -> None:
    path = write_package(
        tmp_path / "a.docx", custom=custom_xml(msip(GUID_1, TENANT_A, enabled="false"))
    )
    assert scan(path).labels == []


def test_disabled_label_in_labelinfo_is_no_label(tmp_path: Path) -> None:
    path = write_package(
        tmp_path / "a.docx", labelinfo=labelinfo_xml(li(GUID_1, TENANT_A, enabled="0"))
    )
    assert scan(path).labels == []


def test_unknown_guid_is_still_a_label(tmp_path: Path) -> None:
    path = write_package(tmp_path / "a.docx", custom=custom_xml(msip(GUID_3, TENANT_B)))
    label = only(scan(path), Scheme.MIP)
    assert label.guid == GUID_3
    assert label.name is None


def test_labelinfo_overrides_stale_custom_label_of_its_tenant_only(tmp_path: Path) -> None:
    custom = custom_xml(msip(GUID_1, TENANT_A, "Old") + msip(GUID_2, TENANT_B, "Partner"))
    path = write_package(
        tmp_path / "a.docx", custom=custom, labelinfo=labelinfo_xml(li(GUID_3, TENANT_A))
    )
    findings = scan(path)
    by_guid = {f.guid: f for f in findings.labels}
    assert set(by_guid) == {GUID_3, GUID_2}, findings.to_dict()  # GUID_1 of tenant A is stale
    assert by_guid[GUID_3].where == ("docMetadata/LabelInfo.xml",)
    assert by_guid[GUID_2].where == ("docProps/custom.xml",)
    assert by_guid[GUID_2].name == "Partner"


def test_two_labels_from_two_tenants_in_labelinfo(tmp_path: Path) -> None:
    path = write_package(
        tmp_path / "a.docx", labelinfo=labelinfo_xml(li(GUID_1, TENANT_A), li(GUID_2, TENANT_B))
    )
    assert {f.guid for f in scan(path).labels} == {GUID_1, GUID_2}


# --- classic labels ---------------------------------------------------------------------


def test_titus_custom_properties(tmp_path: Path) -> None:
    pairs = [("TitusGUID", "16fba14b-b749-41e1-a9b5-4282776873bd"), ("CTPClassification", "CTP_IC")]
    path = write_package(tmp_path / "a.docx", custom=custom_xml(pairs))
    label = only(scan(path), Scheme.TITUS)
    assert (label.guid, label.value) == ("16fba14b-b749-41e1-a9b5-4282776873bd", "CTP_IC")
    assert label.where == ("docProps/custom.xml",)


def test_titus_keywords_in_core_xml(tmp_path: Path) -> None:
    path = write_package(
        tmp_path / "a.docx", core=core_xml("CTPClassification=CTP_IC:VisualMarkings=")
    )
    label = only(scan(path), Scheme.TITUS)
    assert label.value == "CTP_IC"
    assert label.where == ("docProps/core.xml",)


def test_ordinary_keywords_are_no_label(tmp_path: Path) -> None:
    path = write_package(tmp_path / "a.docx", core=core_xml("budget, planning, secret sauce"))
    assert scan(path).labels == []


def test_boldon_james_property(tmp_path: Path) -> None:
    path = write_package(
        tmp_path / "a.docx",
        custom=custom_xml([("bjDocumentSecurityLabel", "COMPANY CONFIDENTIAL")]),
    )
    label = only(scan(path), Scheme.BOLDON_JAMES)
    assert label.value == "COMPANY CONFIDENTIAL"


def test_boldon_james_label_xml_split_over_properties(tmp_path: Path) -> None:
    xml = (
        '<?xml version="1.0"?><sisl sislVersion="0">'
        '<element uid="id_classification_conf" value="" /></sisl>'
    )
    pairs = [("bjDocumentLabelXML", xml[:40]), ("bjDocumentLabelXML-0001", xml[40:])]
    label = only(
        scan(write_package(tmp_path / "a.docx", custom=custom_xml(pairs))), Scheme.BOLDON_JAMES
    )
    assert label.value == "id_classification_conf"


def test_classification_property(tmp_path: Path) -> None:
    path = write_package(
        tmp_path / "a.xlsx", "xlsx", custom=custom_xml([("Classification", "Restricted")])
    )
    label = only(scan(path), Scheme.DOCUMENT_PROPERTY)
    assert (label.name, label.value) == ("Classification", "Restricted")


def test_custom_xml_found_through_rels_at_another_name(tmp_path: Path) -> None:
    extra = f'<Relationship Id="rId9" Type="{REL}/custom-properties" Target="/props/mine.xml"/>'
    path = write_package(
        tmp_path / "a.docx",
        parts={"props/mine.xml": custom_xml([("Sensitivity", "Secret")])},
        extra_rels=extra,
    )
    label = only(scan(path), Scheme.DOCUMENT_PROPERTY)
    assert label.where == ("props/mine.xml",)


# --- formats ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["docx", "docm", "dotx", "xlsx", "xlsm", "pptx", "ppsx", "vsdx"])
def test_format_is_refined_from_the_main_content_type(tmp_path: Path, kind: str) -> None:
    path = write_package(tmp_path / "file.bin", kind, custom=custom_xml(msip(GUID_1, TENANT_A)))
    findings = scan(path)
    assert findings.format == kind
    assert only(findings, Scheme.MIP).guid == GUID_1


def test_strict_ooxml_relationship_types(tmp_path: Path) -> None:
    strict = "http://purl.oclc.org/ooxml/officeDocument/relationships"
    extra = f'<Relationship Id="rId9" Type="{strict}/customProperties" Target="docProps/c.xml"/>'
    path = write_package(
        tmp_path / "a.docx",
        parts={"docProps/c.xml": custom_xml(msip(GUID_1, TENANT_A))},
        extra_rels=extra,
    )
    assert only(scan(path), Scheme.MIP).where == ("docProps/c.xml",)


def test_damaged_content_types_and_rels_still_scan_as_word(tmp_path: Path) -> None:
    path = tmp_path / "a.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "garbage")
        archive.writestr("_rels/.rels", "garbage")
        archive.writestr("word/document.xml", word_document(paragraph("Hello")))
        archive.writestr("word/footer1.xml", word_part("ftr", paragraph("TLP:RED")))
    findings = scan(path)
    assert findings.format == "docx"
    assert markings(findings) == {"TLP:RED": {"word/footer1.xml"}}


def test_other_opc_package_has_its_members_scanned(tmp_path: Path) -> None:
    path = tmp_path / "tool.nupkg"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(
            "[Content_Types].xml",
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="txt" ContentType="text/plain"/></Types>',
        )
        archive.writestr("_rels/.rels", "<Relationships/>")
        archive.writestr("notes/readme.txt", "TLP:RED\n\nDo not share.\n")
    result = detect(path)
    assert result.format == "opc"
    [label] = result.labels
    assert label.marking == "TLP:RED"
    assert label.where[0].startswith("notes/readme.txt › ")


# --- Word markings ----------------------------------------------------------------------


def test_word_header_footer_and_watermark_markings(tmp_path: Path) -> None:
    watermark = (
        '<w:p><w:r><w:pict><v:shape id="PowerPlusWaterMarkObject1"><v:textpath '
        'style="font-family:&quot;Calibri&quot;" string="TOP SECRET"/></v:shape></w:pict></w:r>'
        "</w:p>"
    )
    text_box = (
        "<w:p><w:r><mc:AlternateContent><mc:Choice><w:drawing><wps:txbx><w:txbxContent>"
        + paragraph("TLP:AMBER")
        + "</w:txbxContent></wps:txbx></w:drawing></mc:Choice></mc:AlternateContent></w:r>"
        "<w:r><w:t>Page 1</w:t></w:r></w:p>"
    )
    parts: dict[str, str | bytes] = {
        "word/header1.xml": word_part("hdr", watermark),
        "word/header2.xml": word_part("hdr", text_box),
        "word/footer1.xml": word_part(
            "ftr", paragraph("Date of issue Jan 22", "\t", "OFFICIAL", "\t", "Ref/1")
        ),
    }
    found = markings(scan(write_package(tmp_path / "a.docx", parts=parts)))
    assert found == {
        "TOP SECRET": {"word/header1.xml"},
        "TLP:AMBER": {"word/header2.xml"},
        "OFFICIAL": {"word/footer1.xml"},
    }


def test_word_runs_split_inside_a_word_are_joined(tmp_path: Path) -> None:
    parts: dict[str, str | bytes] = {
        "word/footer2.xml": word_part("ftr", paragraph("CONFI", "DENTIAL"))
    }
    assert markings(scan(write_package(tmp_path / "a.docx", parts=parts))) == {
        "CONFIDENTIAL": {"word/footer2.xml"}
    }


def test_word_body_first_and_last_lines(tmp_path: Path) -> None:
    body = [paragraph("OFFICIAL-SENSITIVE")] + [
        paragraph(f"Paragraph {n} of ordinary prose.") for n in range(40)
    ]
    body.append(paragraph("TLP:GREEN"))
    parts: dict[str, str | bytes] = {"word/document.xml": word_document(*body)}
    found = markings(scan(write_package(tmp_path / "a.docx", parts=parts)))
    assert found == {
        "OFFICIAL-SENSITIVE": {"word/document.xml, first lines"},
        "TLP:GREEN": {"word/document.xml, last lines"},
    }


def test_word_body_middle_is_not_read_for_markings(tmp_path: Path) -> None:
    body = [paragraph(f"Line {n}.") for n in range(10)] + [paragraph("SECRET")]
    body += [paragraph(f"Line {n}.") for n in range(10)]
    parts: dict[str, str | bytes] = {"word/document.xml": word_document(*body)}
    assert scan(write_package(tmp_path / "a.docx", parts=parts)).labels == []


def test_word_prose_is_not_a_marking(tmp_path: Path) -> None:
    parts: dict[str, str | bytes] = {
        "word/document.xml": word_document(paragraph("The secret to good bread is time.")),
        "word/header1.xml": word_part("hdr", paragraph("Quarterly report")),
    }
    assert scan(write_package(tmp_path / "a.docx", parts=parts)).labels == []


def test_word_body_edges_of_a_body_larger_than_the_window(tmp_path: Path) -> None:
    filler = [paragraph("x" * 200 + f" {n}") for n in range(400)]  # ~150 KB of markup
    body = [paragraph("TLP:CLEAR"), *filler, paragraph("SECRET//NOFORN")]
    parts: dict[str, str | bytes] = {"word/document.xml": word_document(*body)}
    limits = replace(DEFAULT_LIMITS, body_window=8 * 1024)
    found = markings(scan(write_package(tmp_path / "a.docx", parts=parts), limits))
    assert found == {
        "TLP:CLEAR": {"word/document.xml, first lines"},
        "SECRET": {"word/document.xml, last lines"},
    }


def test_word_short_document_lines_are_not_reported_twice(tmp_path: Path) -> None:
    parts: dict[str, str | bytes] = {"word/document.xml": word_document(paragraph("TLP:RED"))}
    assert markings(scan(write_package(tmp_path / "a.docx", parts=parts))) == {
        "TLP:RED": {"word/document.xml, first lines"}
    }


def test_ooxml_paragraphs_nested_text_box_and_entities() -> None:
    xml = (
        "<w:p><w:r><w:t>A &amp; B</w:t></w:r><w:r><w:txbxContent><w:p><w:r><w:t>inner</w:t>"
        "</w:r></w:p></w:txbxContent></w:r><w:r><w:tab/><w:t>C</w:t></w:r></w:p><w:p/>"
        "<w:p><w:r><w:t>cut off"
    )
    assert list(ooxml_paragraphs(xml)) == ["inner", "A & B\tC", "cut off"]


# --- Excel markings ---------------------------------------------------------------------


def workbook_parts(sheet: str, shared: list[str] | None = None) -> dict[str, str | bytes]:
    parts: dict[str, str | bytes] = {
        "xl/workbook.xml": (
            f'<workbook {NS_X} {NS_R}><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets>'
            "</workbook>"
        ),
        "xl/_rels/workbook.xml.rels": (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>'
            "</Relationships>"
        ),
        "xl/worksheets/sheet1.xml": sheet,
    }
    if shared is not None:
        items = "".join(f"<si><t>{escape(s)}</t></si>" for s in shared)
        parts["xl/sharedStrings.xml"] = f'<sst {NS_X} count="{len(shared)}">{items}</sst>'
    return parts


def worksheet(header_footer: str = "", rows: str = "") -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><worksheet {NS_X}><sheetData>{rows}</sheetData>'
        f'<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
        f"{header_footer}</worksheet>"
    )


def test_excel_header_codes_are_stripped() -> None:
    assert excel_header_footer_text('&L&"Arial,Bold"&14Page &P of &N&CCONFIDENTIAL&R&D') == [
        "Page  of",
        "CONFIDENTIAL",
    ]
    assert excel_header_footer_text("&C&KFF0000TLP:RED&&more") == ["TLP:RED&more"]
    assert excel_header_footer_text('&C&"-,Regular"&K01+000Internal Use Only') == [
        "Internal Use Only"
    ]


def test_excel_header_and_footer_markings(tmp_path: Path) -> None:
    header_footer = (
        '<headerFooter differentFirst="0"><oddHeader>&amp;C&amp;"Arial"CONFIDENTIAL</oddHeader>'
        "<oddFooter>&amp;LContoso Confidential&amp;RPage &amp;P</oddFooter></headerFooter>"
    )
    rows = "".join(f'<row r="{n}"><c r="A{n}"><v>{n}</v></c></row>' for n in range(1, 3000))
    parts = workbook_parts(worksheet(header_footer, rows))
    found = markings(scan(write_package(tmp_path / "a.xlsx", "xlsx", parts=parts)))
    assert found == {
        "CONFIDENTIAL": {"xl/worksheets/sheet1.xml, oddHeader"},
        "Confidential": {"xl/worksheets/sheet1.xml, oddFooter"},
    }


def test_excel_first_shared_strings_and_inline_strings(tmp_path: Path) -> None:
    rows = '<row r="1"><c r="A1" t="inlineStr"><is><t>TLP:AMBER+STRICT</t></is></c></row>'
    shared = (
        ["OFFICIAL-SENSITIVE", "Name", "Amount"] + [f"value {n}" for n in range(30)] + ["SECRET"]
    )
    parts = workbook_parts(worksheet(rows=rows), shared)
    found = markings(scan(write_package(tmp_path / "a.xlsm", "xlsm", parts=parts)))
    assert found == {
        "OFFICIAL-SENSITIVE": {"xl/sharedStrings.xml, first cells"},
        "TLP:AMBER+STRICT": {"xl/worksheets/sheet1.xml, first cells"},
    }  # "SECRET" is string 34: past the first cells


# --- PowerPoint markings ----------------------------------------------------------------


def shape(text: str, placeholder: str | None = None, name: str = "TextBox 1") -> str:
    ph = f'<p:nvPr><p:ph type="{placeholder}"/></p:nvPr>' if placeholder else "<p:nvPr/>"
    return (
        f'<p:sp><p:nvSpPr><p:cNvPr id="2" name="{name}"/><p:cNvSpPr/>{ph}</p:nvSpPr><p:spPr/>'
        f"<p:txBody><a:bodyPr/><a:p><a:r><a:t>{escape(text)}</a:t></a:r></a:p></p:txBody></p:sp>"
    )


def slide(*shapes: str, root: str = "sld") -> str:
    return f"<p:{root} {NS_P}><p:cSld><p:spTree>{''.join(shapes)}</p:spTree></p:cSld></p:{root}>"


def presentation_parts(slides: dict[str, str], order: list[str]) -> dict[str, str | bytes]:
    ids = "".join(f'<p:sldId id="{256 + n}" r:id="rId{n + 10}"/>' for n in range(len(order)))
    rels = "".join(
        f'<Relationship Id="rId{n + 10}" Type="{REL}/slide" Target="slides/{name}"/>'
        for n, name in enumerate(order)
    )
    parts: dict[str, str | bytes] = {
        "ppt/presentation.xml": (
            f"<p:presentation {NS_P}><p:sldIdLst>{ids}</p:sldIdLst></p:presentation>"
        ),
        "ppt/_rels/presentation.xml.rels": (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f"{rels}</Relationships>"
        ),
    }
    for name, xml in slides.items():
        parts[f"ppt/slides/{name}"] = xml
    return parts


def test_powerpoint_master_footer_and_slide_text(tmp_path: Path) -> None:
    parts = presentation_parts(
        {
            "slide1.xml": slide(shape("Last words"), shape("TLP:RED", "ftr")),
            "slide2.xml": slide(shape("Quarterly results", "title"), shape("OFFICIAL-SENSITIVE")),
            "slide3.xml": slide(shape("SECRET")),  # a middle slide: not read
        },
        order=["slide2.xml", "slide3.xml", "slide1.xml"],
    )
    parts["ppt/slideMasters/slideMaster1.xml"] = slide(
        shape("Click to edit Master title style TOP SECRET", "title"),
        shape("Contoso Confidential", "ftr"),
        root="sldMaster",
    )
    parts["ppt/slideLayouts/slideLayout1.xml"] = slide(shape("Internal Use Only"), root="sldLayout")
    findings = scan(write_package(tmp_path / "a.pptx", "pptx", parts=parts))
    assert markings(findings) == {
        "Confidential": {"ppt/slideMasters/slideMaster1.xml"},
        "Internal Use Only": {"ppt/slideLayouts/slideLayout1.xml"},
        "OFFICIAL-SENSITIVE": {"ppt/slides/slide2.xml"},
        "TLP:RED": {"ppt/slides/slide1.xml, footer"},
    }


# --- damaged and hostile input ----------------------------------------------------------

BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties">'
    '<property name="Classification"><lpwstr>&lol3;</lpwstr></property></Properties>'
)


def test_billion_laughs_in_custom_xml_is_unscannable(tmp_path: Path) -> None:
    _, reason = run(write_package(tmp_path / "a.docx", custom=BILLION_LAUGHS))
    assert reason is not None
    assert "docProps/custom.xml" in reason and "entit" in reason


def test_external_entity_in_labelinfo_is_unscannable(tmp_path: Path) -> None:
    xxe = '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY x SYSTEM "file:///etc/passwd">]><l>&x;</l>'
    _, reason = run(write_package(tmp_path / "a.docx", labelinfo=xxe))
    assert reason is not None and "docMetadata/LabelInfo.xml" in reason


def test_truncated_custom_xml_is_unscannable(tmp_path: Path) -> None:
    truncated = custom_xml(msip(GUID_1, TENANT_A))[:300]
    _, reason = run(write_package(tmp_path / "a.docx", custom=truncated))
    assert reason is not None
    assert "docProps/custom.xml" in reason and "not well-formed" in reason


def test_damaged_labelinfo_keeps_the_custom_label_and_is_unscannable(tmp_path: Path) -> None:
    path = write_package(
        tmp_path / "a.docx",
        custom=custom_xml(msip(GUID_1, TENANT_A, "Secret")),
        labelinfo="<clbl:labelList><clbl:label id=",
    )
    findings, reason = run(path)
    assert reason is not None and "LabelInfo.xml" in reason
    assert [f.guid for f in findings.labels] == [GUID_1]


def corrupt_member(path: Path, name: str) -> None:
    """Flip bytes inside one member's compressed data (its CRC no longer matches)."""
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(name)
    data = bytearray(path.read_bytes())
    start = info.header_offset + 30 + len(info.orig_filename.encode()) + len(info.extra)
    for offset in range(start + 2, start + min(info.compress_size, 12)):
        data[offset] ^= 0x5A
    path.write_bytes(bytes(data))


def test_damaged_header_part_is_unscannable_but_metadata_still_counts(tmp_path: Path) -> None:
    parts: dict[str, str | bytes] = {
        "word/header1.xml": word_part("hdr", *[paragraph(f"Header line {n}") for n in range(50)])
    }
    path = write_package(
        tmp_path / "a.docx", parts=parts, custom=custom_xml(msip(GUID_1, TENANT_A))
    )
    corrupt_member(path, "word/header1.xml")
    findings, reason = run(path)
    assert reason is not None and "word/header1.xml" in reason
    assert [f.guid for f in findings.labels] == [GUID_1]


def test_damaged_rels_part_is_unscannable_but_labels_are_still_found(tmp_path: Path) -> None:
    path = tmp_path / "a.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("_rels/.rels", "<Relationships>" + "<x/>" * 500 + "</Relationships>")
        archive.writestr("word/document.xml", word_document(paragraph("Hello")))
        archive.writestr("docProps/custom.xml", custom_xml(msip(GUID_1, TENANT_A)))
    corrupt_member(path, "_rels/.rels")
    findings, reason = run(path)
    assert reason is not None and "_rels/.rels" in reason
    assert [f.guid for f in findings.labels] == [GUID_1]
    assert findings.format == "docx"


def test_damaged_body_is_unscannable(tmp_path: Path) -> None:
    body = word_document(*[paragraph(f"Body line {n}") for n in range(200)])
    path = write_package(tmp_path / "a.docx", parts={"word/document.xml": body})
    corrupt_member(path, "word/document.xml")
    _, reason = run(path)
    assert reason is not None and "word/document.xml" in reason


def test_missing_main_part_is_unscannable(tmp_path: Path) -> None:
    path = tmp_path / "a.docx"
    write_package(path)
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp_path / "b.docx", "w") as dst:
        for info in src.infolist():
            if info.filename != "word/document.xml":
                dst.writestr(info, src.read(info))
    _, reason = run(tmp_path / "b.docx")
    assert reason is not None and "main part" in reason


def test_truncated_docx_is_unscannable_through_detect(tmp_path: Path) -> None:
    path = write_package(tmp_path / "a.docx", custom=custom_xml(msip(GUID_1, TENANT_A)))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    result = detect(path)
    assert result.verdict is Verdict.UNSCANNABLE


def test_time_budget_is_enforced(tmp_path: Path) -> None:
    path = write_package(tmp_path / "a.docx", custom=custom_xml(msip(GUID_1, TENANT_A)))
    _, reason = run(path, replace(DEFAULT_LIMITS, time_budget=-1.0))
    assert reason is not None and "budget" in reason


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=600))
def test_arbitrary_custom_xml_never_escapes_as_another_error(
    tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    path = write_package(tmp_path_factory.mktemp("fuzz") / "a.docx")
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("docProps/custom.xml", data)
    run(path)  # only Unscannable may come out (run() lets anything else fail the test)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet='<>/wpt:abr &;x"= \t\n', max_size=300))
def test_paragraph_extraction_never_fails(text: str) -> None:
    list(ooxml_paragraphs(text))


# --- the real corpus --------------------------------------------------------------------


def test_corpus_labelinfo_only_docx(corpus: Path) -> None:
    findings = scan(corpus / "fasttrack_appimport_labelinfo.docx")
    label = only(findings, Scheme.MIP)
    assert (label.guid, label.site_id) == ("87867195-f2b8-4ac2-b0b6-6bb73cb33afc", MICROSOFT)
    assert dict(label.attributes)["method"] == "Privileged"
    assert label.where == ("docMetadata/LabelInfo.xml",)
    assert findings.format == "docx"


def test_corpus_custom_and_labelinfo_xlsm_is_one_label(corpus: Path) -> None:
    findings = scan(corpus / "reviewchecklists_review_checklist_custom_and_labelinfo.xlsm")
    label = only(findings, Scheme.MIP)
    assert (label.guid, label.name, label.site_id) == (
        "f42aa342-8706-4288-bd11-ebb85995028c",
        "Internal",
        MICROSOFT,
    )
    assert set(label.where) == {"docMetadata/LabelInfo.xml", "docProps/custom.xml"}
    assert findings.format == "xlsm"


def test_corpus_custom_xml_xlsx(corpus: Path) -> None:
    label = only(scan(corpus / "xlsxwriter_properties06_doc_example_label.xlsx"), Scheme.MIP)
    assert (label.guid, label.name) == ("2096f6a2-d2f7-48be-b329-b73aaa526e5d", "Confidential")
    attributes = dict(label.attributes)
    assert (attributes["method"], attributes["content_bits"]) == ("Privileged", "2")


def test_corpus_official_marking_in_header_and_footer(corpus: Path) -> None:
    findings = scan(corpus / "dstl_build_note_OFFICIAL.docx")
    label = only(findings, Scheme.MARKING)
    assert (label.marking, label.system) == ("OFFICIAL", "uk")
    assert set(label.where) == {"word/header2.xml", "word/footer1.xml"}
