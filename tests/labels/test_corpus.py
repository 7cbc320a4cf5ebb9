"""Every real file in ../shared/corpus/real yields what its MANIFEST.md row says."""

from __future__ import annotations

from pathlib import Path

from sendguard.labels import Findings, Scheme, Verdict, detect

MICROSOFT = "72f988bf-86f1-41af-91ab-2d7cd011db47"


def _only(findings: Findings, scheme: Scheme) -> list[str]:
    assert findings.verdict is Verdict.LABELLED, findings.to_dict()
    assert {label.scheme for label in findings.labels} == {scheme}, findings.to_dict()
    return [
        (label.guid if scheme is Scheme.MIP else label.value) or "" for label in findings.labels
    ]


def test_labelinfo_only_docx(corpus: Path) -> None:
    result = detect(corpus / "fasttrack_appimport_labelinfo.docx")
    assert _only(result, Scheme.MIP) == ["87867195-f2b8-4ac2-b0b6-6bb73cb33afc"]
    [label] = result.labels
    assert label.site_id == MICROSOFT
    assert dict(label.attributes)["method"] == "Privileged"
    assert label.where == ("docMetadata/LabelInfo.xml",)
    assert result.format == "docx"


def test_custom_xml_and_labelinfo_are_one_label(corpus: Path) -> None:
    result = detect(corpus / "reviewchecklists_review_checklist_custom_and_labelinfo.xlsm")
    assert _only(result, Scheme.MIP) == ["f42aa342-8706-4288-bd11-ebb85995028c"]
    [label] = result.labels
    assert label.name == "Internal"
    assert label.site_id == MICROSOFT
    assert any("LabelInfo.xml" in w for w in label.where)
    assert any("custom.xml" in w for w in label.where)


def test_custom_xml_label_with_name(corpus: Path) -> None:
    result = detect(corpus / "xlsxwriter_properties06_doc_example_label.xlsx")
    assert _only(result, Scheme.MIP) == ["2096f6a2-d2f7-48be-b329-b73aaa526e5d"]
    [label] = result.labels
    assert label.name == "Confidential"
    assert dict(label.attributes)["method"] == "Privileged"
    assert dict(label.attributes)["content_bits"] == "2"


def test_rms_protected_office_file(corpus: Path) -> None:
    result = detect(corpus / "reviewchecklists_acr_security_rms.xlsx")
    assert _only(result, Scheme.MIP) == ["9fbde396-1a24-4c79-8edf-9254a0f35055"]
    [label] = result.labels
    assert label.site_id == MICROSOFT
    assert "LabelInfo" in label.where[0]


def test_pdf_info_and_xmp_are_one_label(corpus: Path) -> None:
    result = detect(corpus / "msrc_castguard2022_info_and_xmp.pdf")
    assert _only(result, Scheme.MIP) == ["f42aa342-8706-4288-bd11-ebb85995028c"]
    [label] = result.labels
    assert label.site_id == MICROSOFT
    assert any(w.startswith("PDF Info /MSIP_Label_") for w in label.where)
    assert any(w.startswith("XMP") for w in label.where)


def test_pdf_with_malformed_xmp_still_yields_its_label(corpus: Path) -> None:
    result = detect(corpus / "msrc_bheu2022_malformed_xmp.pdf")
    assert _only(result, Scheme.MIP) == ["f42aa342-8706-4288-bd11-ebb85995028c"]


def test_titus_pdf(corpus: Path) -> None:
    result = detect(corpus / "intelfsp_license_titus.pdf")
    assert _only(result, Scheme.TITUS) == ["CTP_IC"]
    assert result.labels[0].guid == "16fba14b-b749-41e1-a9b5-4282776873bd"


def test_titus_in_keywords_only(corpus: Path) -> None:
    result = detect(corpus / "intelfsp_coffeelake_keywords_ctp_ic.pdf")
    assert _only(result, Scheme.TITUS) == ["CTP_IC"]
    assert result.labels[0].where == ("PDF Info /Keywords",)


def test_titus_public_label(corpus: Path) -> None:
    result = detect(corpus / "intelfsp_broadwellde_keywords_ctp_public.pdf")
    assert _only(result, Scheme.TITUS) == ["CTP_PUBLIC"]


def test_uk_official_marking_in_docx_header_and_footer(corpus: Path) -> None:
    result = detect(corpus / "dstl_build_note_OFFICIAL.docx")
    assert result.verdict is Verdict.LABELLED
    [label] = result.labels
    assert (label.scheme, label.marking) == (Scheme.MARKING, "OFFICIAL")
    assert "word/header2.xml" in label.where
    assert "word/footer1.xml" in label.where


def test_uk_official_marking_in_pdf(corpus: Path) -> None:
    result = detect(corpus / "dstl_build_note_OFFICIAL.pdf")
    assert result.verdict is Verdict.LABELLED
    [label] = result.labels
    assert (label.scheme, label.marking) == (Scheme.MARKING, "OFFICIAL")
    assert any(w.startswith("page 1") for w in label.where)


def test_negative_pdf_reports_nothing(corpus: Path) -> None:
    result = detect(corpus / "msrc_csw2009_nolabel.pdf")
    assert result.verdict is Verdict.CLEAN, result.to_dict()
    assert result.labels == []
