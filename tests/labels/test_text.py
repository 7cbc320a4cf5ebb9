"""Text-family detectors: plain text, markdown, CSV, JSON, HTML, XML and RTF."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sendguard.labels import Scheme, Verdict, detect
from sendguard.labels.context import Limits, ScanContext, Source
from sendguard.labels.model import Finding, Findings
from sendguard.labels.text import scan_html, scan_rtf, scan_text, scan_xml

GUID = "2096f6a2-d2f7-48be-b329-b73aaa526e5d"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
MiB = 1024 * 1024

Scanner = Callable[[Source, ScanContext], None]


def _scan(
    scanner: Scanner, path: Path, limits: Limits | None = None
) -> tuple[list[Finding], Findings]:
    findings = Findings(path=str(path))
    ctx = ScanContext.start(findings) if limits is None else ScanContext.start(findings, limits)
    scanner(Source(path.name, path=str(path)), ctx)
    return findings.labels, findings


def _write(tmp_path: Path, name: str, data: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


class _CountingSource(Source):
    """Counts the bytes a detector asks for."""

    bytes_read = 0

    def head(self, count: int) -> bytes:
        data = super().head(count)
        self.bytes_read += len(data)
        return data

    def tail(self, count: int) -> bytes:
        data = super().tail(count)
        self.bytes_read += len(data)
        return data

    def read_all(self, limit: int) -> bytes:
        data = super().read_all(limit)
        self.bytes_read += len(data)
        return data


def _markings(labels: list[Finding]) -> dict[str, tuple[str, ...]]:
    """Canonical marking → where it was found."""
    return {f.marking or "": f.where for f in labels if f.scheme is Scheme.MARKING}


# --- plain text ---------------------------------------------------------------------------


def test_banner_on_first_and_last_line(tmp_path: Path) -> None:
    body = "\n".join(f"Paragraph {i} of the quarterly report." for i in range(40))
    path = _write(tmp_path, "report.txt", f"OFFICIAL-SENSITIVE\n\n{body}\n\nTLP:AMBER\n")
    labels, findings = _scan(scan_text, path)
    assert _markings(labels) == {
        "OFFICIAL-SENSITIVE": ("first lines",),
        "TLP:AMBER": ("last lines",),
    }
    assert findings.format == "txt"


def test_a_short_file_reports_each_line_once(tmp_path: Path) -> None:
    path = _write(tmp_path, "note.txt", "TLP:RED\nMeet at noon.\n")
    labels, _ = _scan(scan_text, path)
    assert _markings(labels) == {"TLP:RED": ("first lines",)}


def test_a_marking_in_the_middle_is_not_an_edge(tmp_path: Path) -> None:
    lines = [f"Line {i} of plain notes." for i in range(30)]
    lines[15] = "TLP:RED"
    path = _write(tmp_path, "notes.txt", "\n".join(lines))
    labels, _ = _scan(scan_text, path)
    assert labels == []


def test_prose_is_not_a_marking(tmp_path: Path) -> None:
    text = (
        "The secret to great bread\nis patience, and an official recipe.\nKeep it confidential.\n"
    )
    path = _write(tmp_path, "bread.txt", text)
    labels, findings = _scan(scan_text, path)
    assert labels == []
    assert findings.verdict is Verdict.CLEAN


def test_markdown_emphasis_banner(tmp_path: Path) -> None:
    path = _write(tmp_path, "plan.md", "**CONFIDENTIAL**\n\n# Plan\n\nWe ship in May.\n")
    labels, findings = _scan(scan_text, path)
    assert _markings(labels) == {"CONFIDENTIAL": ("first lines",)}
    assert findings.format == "md"


def test_markdown_heading_using_a_word_is_not_a_marking(tmp_path: Path) -> None:
    path = _write(tmp_path, "recipes.md", "# Secret recipes\n\nFlour, water, salt.\n")
    labels, _ = _scan(scan_text, path)
    assert labels == []


def test_csv_column_named_confidential_is_not_a_marking(tmp_path: Path) -> None:
    path = _write(tmp_path, "staff.csv", "id,name,confidential,date\n1,Ann,yes,2024-01-02\n")
    labels, findings = _scan(scan_text, path)
    assert labels == []
    assert findings.format == "csv"


def test_csv_banner_row_is_a_marking(tmp_path: Path) -> None:
    path = _write(tmp_path, "staff.csv", "CONFIDENTIAL,,,\nid,name,grade,date\n1,Ann,B,2024\n")
    labels, _ = _scan(scan_text, path)
    assert _markings(labels) == {"CONFIDENTIAL": ("first lines",)}


def test_huge_file_reads_only_its_edges(tmp_path: Path) -> None:
    """50 MB with a marking on its last line: found, quickly, and the middle is never read
    (a marking planted there is not reported)."""
    path = tmp_path / "big.log"
    filler = b"".join(b"2024-01-01 12:00:%02d worker started job\n" % (i % 60) for i in range(4000))
    with path.open("wb") as handle:
        handle.write(filler)
        handle.seek(25 * MiB)
        handle.write(b"TLP:RED\n")
        handle.seek(50 * MiB - len(filler))
        handle.write(filler + b"TOP SECRET\n")
    assert path.stat().st_size >= 50 * MiB
    source = _CountingSource(path.name, path=str(path))
    findings = Findings(path=str(path))
    started = time.perf_counter()
    scan_text(source, ScanContext.start(findings))
    elapsed = time.perf_counter() - started
    assert _markings(findings.labels) == {"TOP SECRET": ("last lines",)}
    assert source.bytes_read <= 2 * Limits().text_window
    assert elapsed < 0.5
    result = detect(path)
    assert [label.marking for label in result.labels] == ["TOP SECRET"]


@pytest.mark.parametrize(
    ("encoding", "prefix"),
    [
        ("utf-16-le", b"\xff\xfe"),
        ("utf-16-be", b"\xfe\xff"),
        ("gb18030", b""),
        ("utf-8", b"\xef\xbb\xbf"),
    ],
)
def test_chinese_marking_in_other_encodings(tmp_path: Path, encoding: str, prefix: bytes) -> None:
    text = "机密★1年\r\n关于年度预算的通知\r\n请各部门按时提交。\r\n"
    path = _write(tmp_path, "通知.txt", prefix + text.encode(encoding))
    labels, _ = _scan(scan_text, path)
    [marking] = [f for f in labels if f.scheme is Scheme.MARKING]
    assert (marking.marking, marking.system, marking.where) == ("机密", "cn", ("first lines",))
    assert ("period", "1年") in marking.attributes


def test_gb18030_tail_window_is_decoded(tmp_path: Path) -> None:
    body = "".join(f"第{i}段正文内容。\n" for i in range(200))
    path = _write(tmp_path, "长文.txt", (body + "绝密★启用前\n").encode("gb18030"))
    labels, _ = _scan(scan_text, path, Limits(text_window=1000))
    assert _markings(labels) == {"绝密": ("last lines",)}


def test_utf8_character_cut_at_a_window_edge(tmp_path: Path) -> None:
    # With a 61-byte window both edges cut a three-byte character: still read as UTF-8.
    head = "机密★1年\n" + "这是正文。" * 3 + "\n"
    tail = "\n" + "这是正文。" * 3 + "\n秘密★6个月\n"
    data = (head + "中间内容\n" * 50 + tail).encode("utf-8")
    path = _write(tmp_path, "cut.txt", data)
    labels, _ = _scan(scan_text, path, Limits(text_window=61))
    assert _markings(labels) == {"机密": ("first lines",), "秘密": ("last lines",)}


def test_utf16_tail_window_at_an_odd_offset(tmp_path: Path) -> None:
    text = "Notes\n" + "filler line\n" * 100 + "TLP:GREEN\n"
    data = b"\xff\xfe" + text.encode("utf-16-le")
    path = _write(tmp_path, "odd.txt", data)
    labels, _ = _scan(scan_text, path, Limits(text_window=101))  # tail starts mid code unit
    assert _markings(labels) == {"TLP:GREEN": ("last lines",)}


def test_windows_1252_text(tmp_path: Path) -> None:
    path = _write(
        tmp_path, "memo.txt", "Café menu \u2013 draft\nPrices: 3€\nCONFIDENTIAL\n".encode("cp1252")
    )
    labels, _ = _scan(scan_text, path)
    assert _markings(labels) == {"CONFIDENTIAL": ("first lines",)}


def test_full_width_marking(tmp_path: Path) -> None:
    path = _write(tmp_path, "fw.txt", "ＣＯＮＦＩＤＥＮＴＩＡＬ\n本文\n")
    labels, _ = _scan(scan_text, path)
    assert _markings(labels) == {"CONFIDENTIAL": ("first lines",)}


def test_json_top_level_classification_is_a_property(tmp_path: Path) -> None:
    data = '{"title": "Plan", "classification": "SECRET", "items": [1, 2]}'
    path = _write(tmp_path, "plan.json", data)
    labels, findings = _scan(scan_text, path)
    [prop] = labels
    assert prop.scheme is Scheme.DOCUMENT_PROPERTY
    assert (prop.name, prop.value, prop.where) == (
        "classification",
        "SECRET",
        ('JSON key "classification"',),
    )
    assert findings.format == "json"


def test_json_nested_classification_is_data(tmp_path: Path) -> None:
    data = '{"records": [{"id": 1, "classification": "public"}, {"classification": "SECRET"}]}'
    path = _write(tmp_path, "records.json", data)
    labels, _ = _scan(scan_text, path)
    assert labels == []


def test_json_tlp_key(tmp_path: Path) -> None:
    path = _write(tmp_path, "feed.json", '{\n  "tlp": "amber",\n  "indicators": []\n}\n')
    labels, _ = _scan(scan_text, path)
    assert _markings(labels) == {"TLP:AMBER": ('JSON key "tlp"',)}


# --- HTML ---------------------------------------------------------------------------------

_HTML = f"""<!DOCTYPE html>
<html><head>
<meta charset="utf-8">
<meta name="classification" content="Internal">
<meta name=msip_labels content="MSIP_Label_{GUID}_Enabled=true; MSIP_Label_{GUID}_SiteId={TENANT};
 MSIP_Label_{GUID}_Name=Confidential">
<title>Quarterly numbers</title>
<style>body {{ color: black }} /* TLP:RED */</style>
<script>var banner = "TOP SECRET";</script>
</head>
<body>
<header><nav><a href="/">Home</a> <a href="/i">Internal</a> <a href="/p">Public</a></nav></header>
<h1>Quarterly numbers</h1>
{"".join(f"<p>Paragraph {i} about revenue &amp; costs.</p>" for i in range(20))}
<footer><p>Contoso Confidential &middot; Page 1</p></footer>
</body></html>
"""


def test_html_footer_and_metas(tmp_path: Path) -> None:
    path = _write(tmp_path, "numbers.html", _HTML)
    labels, findings = _scan(scan_html, path)
    assert sorted(f.scheme.value for f in labels) == ["document-property", "marking", "mip"]
    by_scheme = {f.scheme: f for f in labels}
    mip = by_scheme[Scheme.MIP]
    assert (mip.guid, mip.site_id, mip.name) == (GUID, TENANT, "Confidential")
    assert mip.where == ("HTML meta msip_labels",)
    prop = by_scheme[Scheme.DOCUMENT_PROPERTY]
    assert (prop.name, prop.value, prop.where) == (
        "classification",
        "Internal",
        ("HTML meta classification",),
    )
    marking = by_scheme[Scheme.MARKING]
    assert (marking.marking, dict(marking.attributes)) == ("Confidential", {"org": "Contoso"})
    assert marking.where[0] == "HTML footer"
    assert findings.format == "html"


def test_html_script_style_and_nav_links_are_not_markings(tmp_path: Path) -> None:
    page = _HTML.replace("Contoso Confidential", "Contoso Ltd").replace("<meta name", "<x")
    path = _write(tmp_path, "plain.html", page)
    labels, _ = _scan(scan_html, path)
    assert labels == []


def test_html_banner_element_and_entities(tmp_path: Path) -> None:
    rows = "".join(f"<div><span>Row {i}</span></div>" for i in range(30))
    page = (
        '<html><body><div class="classification-banner">&#84;OP SECRET//NOFORN</div>'
        f"{rows}<div id=bottom>TLP:&nbsp;RED</div></body></html>"
    )
    path = _write(tmp_path, "app.html", page)
    labels, _ = _scan(scan_html, path)
    found = _markings(labels)
    assert found["TOP SECRET"] == ("HTML banner", "first lines")
    assert found["TLP:RED"] == ("last lines",)


def test_big_html_reads_head_and_tail(tmp_path: Path) -> None:
    rows = "".join(f"<p>Row {i} of a long table of figures.</p>\n" for i in range(30_000))
    page = f"<html><body><p>OFFICIAL</p>{rows}<footer>TLP:CLEAR</footer></body></html>"
    path = _write(tmp_path, "big.html", page)
    assert path.stat().st_size > 1 * MiB
    labels, _ = _scan(scan_html, path)
    assert _markings(labels) == {
        "OFFICIAL": ("first lines",),
        "TLP:CLEAR": ("HTML footer", "last lines"),
    }


def test_word_html_custom_properties(tmp_path: Path) -> None:
    escaped = GUID.replace("-", "_x002d_")
    page = f"""<html xmlns:o="urn:schemas-microsoft-com:office:office"><head>
<!--[if gte mso 9]><xml>
 <o:DocumentProperties><o:Author>Ann</o:Author></o:DocumentProperties>
 <o:CustomDocumentProperties>
  <o:MSIP_Label_{escaped}_Enabled dt:dt="string">true</o:MSIP_Label_{escaped}_Enabled>
  <o:MSIP_Label_{escaped}_Name dt:dt="string">Confidential</o:MSIP_Label_{escaped}_Name>
 </o:CustomDocumentProperties>
</xml><![endif]-->
</head><body><p class=MsoNormal>Hello</p></body></html>"""
    path = _write(tmp_path, "saved.htm", page)
    labels, _ = _scan(scan_html, path)
    [mip] = labels
    assert (mip.scheme, mip.guid, mip.name) == (Scheme.MIP, GUID, "Confidential")
    assert mip.where == (f"HTML custom property MSIP_Label_{GUID}_Enabled",)


def test_html_declared_charset(tmp_path: Path) -> None:
    page = (
        '<html><head><meta charset="gb2312"></head><body><p>秘密★3年</p><p>正文</p></body></html>'
    )
    path = _write(tmp_path, "cn.html", page.encode("gb18030"))
    labels, _ = _scan(scan_html, path)
    assert _markings(labels) == {"秘密": ("first lines",)}


# --- XML ----------------------------------------------------------------------------------


def test_xml_text_edges(tmp_path: Path) -> None:
    items = "".join(f"<item><name>Item {i}</name><qty>{i}</qty></item>" for i in range(50))
    doc = f'<?xml version="1.0"?>\n<doc><banner>SECRET</banner>{items}<end>TLP:GREEN</end></doc>'
    path = _write(tmp_path, "doc.xml", doc)
    labels, findings = _scan(scan_xml, path)
    assert _markings(labels) == {"SECRET": ("first lines",), "TLP:GREEN": ("last lines",)}
    assert findings.format == "xml"


def test_xml_entities_are_never_expanded(tmp_path: Path) -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "TLP:RED">'
        + "".join(f'<!ENTITY a{i} "&a{i - 1};&a{i - 1};">' for i in range(1, 30)).replace(
            "&a0;", "&a;"
        )
        + "]><x>&a29;</x>"
    )
    path = _write(tmp_path, "bomb.xml", bomb)
    started = time.perf_counter()
    labels, _ = _scan(scan_xml, path)
    assert labels == []
    assert time.perf_counter() - started < 0.5


def test_word_2003_xml_custom_property(tmp_path: Path) -> None:
    doc = f"""<?xml version="1.0"?><w:wordDocument xmlns:o="urn:schemas-microsoft-com:office">
<o:CustomDocumentProperties><o:TitusGUID dt:dt="string">{GUID}</o:TitusGUID>
<o:CTPClassification dt:dt="string">CTP_IC</o:CTPClassification></o:CustomDocumentProperties>
<w:body><w:p><w:t>Hello</w:t></w:p></w:body></w:wordDocument>"""
    path = _write(tmp_path, "old.xml", doc)
    labels, _ = _scan(scan_xml, path)
    [titus] = labels
    assert (titus.scheme, titus.value, titus.guid) == (Scheme.TITUS, "CTP_IC", GUID)
    assert titus.where == ("XML custom property CTPClassification",)


# --- RTF ----------------------------------------------------------------------------------

_RTF = (
    r"{\rtf1\ansi\ansicpg1252\deff0{\fonttbl{\f0\froman Times;}{\f1\fnil\fcharset134 SimSun;}}"
    r"{\colortbl;\red0\green0\blue0;}{\stylesheet{\s0 Normal;}}"
    r"{\info{\title Budget}{\keywords CTPClassification=CTP_IC:VisualMarkings=}}"
    r"{\*\userprops {{\propname MSIP_Label_" + GUID + r"_Enabled}\proptype30{\staticval true}}"
    r"{{\propname MSIP_Label_" + GUID + r"_SiteId}\proptype30{\staticval " + TENANT + r"}}"
    r"{{\propname MSIP_Label_" + GUID + r"_Name}\proptype30{\staticval Confidential}}}"
    "\n"
    r"\sectd{\header \pard\qc\b OFFICIAL-SENSITIVE\b0\par}"
    r"{\footerr \pard Page {\field{\*\fldinst PAGE}{\fldrslt 1}} \emdash  TLP:AMBER\par}"
    r"{\*\generator TLP:RED writer}"
    "\n"
    r"\pard Budget for 2025\par"
    r"{\pict\pngblip 89504e470d0a1a0a0000000d49484452}"
    r"\pard\f1 \'d5\'fd\'ce\'c4\par"
    r"\pard\f0 Totals follow.\par"
    r"\pard \u26426?\u23494?\u9733?1\u24180?\par"
    "}"
)


def test_rtf_user_properties_keywords_header_footer_and_body(tmp_path: Path) -> None:
    path = _write(tmp_path, "budget.rtf", _RTF)
    labels, findings = _scan(scan_rtf, path)
    by_scheme = {f.scheme: f for f in labels if f.scheme is not Scheme.MARKING}
    mip = by_scheme[Scheme.MIP]
    assert (mip.guid, mip.site_id, mip.name) == (GUID, TENANT, "Confidential")
    assert mip.where == (f"RTF user property MSIP_Label_{GUID}_Enabled",)
    titus = by_scheme[Scheme.TITUS]
    assert (titus.value, titus.where) == ("CTP_IC", ("RTF keywords",))
    assert _markings(labels) == {
        "OFFICIAL-SENSITIVE": ("RTF header",),
        "TLP:AMBER": ("RTF footer",),
        "机密": ("first lines",),
    }
    assert findings.format == "rtf"


@pytest.mark.parametrize(
    "preamble",
    [
        r"{\rtf1\ansi\ansicpg936 ",  # the document code page
        r"{\rtf1\ansi\deff0{\fonttbl{\f0\fnil\fcharset134 SimSun;}}",  # the default font's
    ],
)
def test_rtf_code_page_bytes(tmp_path: Path, preamble: str) -> None:
    def hexed(text: str) -> str:
        return "".join(f"\\'{byte:02x}" for byte in text.encode("gbk"))

    doc = preamble + r"\pard " + hexed("机密★1年") + r"\par\pard " + hexed("正文") + r"\par}"
    path = _write(tmp_path, "cn.rtf", doc)
    labels, _ = _scan(scan_rtf, path)
    assert _markings(labels) == {"机密": ("first lines",)}


def test_big_rtf_last_line_behind_word_trailer(tmp_path: Path) -> None:
    body = "".join(
        rf"\pard\plain\rtlch\fcs1\af0\ltrch\fcs0\insrsid1 Line {i} of text.\par "
        for i in range(20_000)
    )
    # Word writes ~20 KB of theme hex and the latent styles after the body.
    trailer = (
        r"{\*\themedata "
        + "504b0304" * 2_500
        + r"}{\*\latentstyles\lsdstimax376{\lsdlockedexcept \lsdqformat1 Normal;}}"
    )
    doc = r"{\rtf1\ansi\pard Intro\par" + body + r"\pard TLP:RED\par" + trailer + "}"
    path = _write(tmp_path, "long.rtf", doc)
    assert path.stat().st_size > 1 * MiB
    labels, _ = _scan(scan_rtf, path)
    assert _markings(labels) == {"TLP:RED": ("last lines",)}


# --- robustness ---------------------------------------------------------------------------


@pytest.mark.parametrize("scanner", [scan_text, scan_html, scan_xml, scan_rtf])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=3000))
def test_garbage_never_crashes(scanner: Scanner, data: bytes) -> None:
    """Any bytes are some text: the text family never gives up on content (small windows
    make the head/tail split and the cut characters happen)."""
    findings = Findings(path="garbage")
    scanner(Source("garbage.bin", data=data), ScanContext.start(findings, Limits(text_window=512)))
    assert findings.unscannable_reason is None


@pytest.mark.parametrize("scanner", [scan_html, scan_xml, scan_rtf])
@settings(max_examples=60, deadline=None)
@given(
    data=st.lists(
        st.sampled_from(
            [
                "<",
                ">",
                "{",
                "}",
                "\\",
                "\\'",
                "\\u",
                "-12",
                "\\par",
                "<!--",
                "-->",
                "<script>",
                "</",
                "header",
                "footer",
                "\\*",
                "&#",
                ";",
                "x",
                "TLP:RED",
                "\n",
                '"',
                "'",
                "=",
                "\\bin5",
                "\\header",
                "<footer>",
                "\\uc2",
                "é",
                "机",
            ]
        ),
        max_size=200,
    )
)
def test_markup_soup_never_crashes(scanner: Scanner, data: list[str]) -> None:
    findings = Findings(path="soup")
    scanner(Source("soup", data="".join(data).encode()), ScanContext.start(findings))


def test_detect_dispatches_text_family(tmp_path: Path) -> None:
    txt = _write(tmp_path, "a.txt", "TLP:RED\nhello\n")
    page = _write(tmp_path, "a.html", "<html><body><p>TLP:AMBER</p></body></html>")
    rtf = _write(tmp_path, "a.rtf", r"{\rtf1\ansi\pard TLP:GREEN\par}")
    xml = _write(tmp_path, "a.xml", "<?xml version='1.0'?><r><b>TLP:CLEAR</b></r>")
    got = {p.suffix: [label.marking for label in detect(p).labels] for p in (txt, page, rtf, xml)}
    assert got == {
        ".txt": ["TLP:RED"],
        ".html": ["TLP:AMBER"],
        ".rtf": ["TLP:GREEN"],
        ".xml": ["TLP:CLEAR"],
    }


def test_web_page_category_meta_is_not_a_label(tmp_path: Path) -> None:
    # Search engines' "classification" meta names a site's category, not a sensitivity.
    path = _write(
        tmp_path,
        "page.html",
        '<html><head><meta name="classification" content="Business, Travel"></head>'
        "<body><p>Cheap flights</p></body></html>",
    )
    labels, _ = _scan(scan_html, path)
    assert labels == []


def test_classification_meta_with_a_classification_term_is_a_label(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "memo.html",
        '<html><head><meta name="classification" content="OFFICIAL-SENSITIVE"></head>'
        "<body><p>Minutes</p></body></html>",
    )
    labels, _ = _scan(scan_html, path)
    assert [(label.name, label.value) for label in labels] == [
        ("classification", "OFFICIAL-SENSITIVE")
    ]
