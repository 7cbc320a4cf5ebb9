"""Visible markings: what counts as a banner, and what is only prose that uses the words."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sendguard.labels.markings import MAX_LINE, Zone, find_markings
from sendguard.labels.model import Finding, Scheme

EDGE = Zone.EDGE_LINE
HF = Zone.HEADER_FOOTER
BOTH = (EDGE, HF)

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def found(text: str, zone: Zone) -> set[tuple[str | None, str | None]]:
    return {(finding.marking, finding.system) for finding in find_markings(text, "here", zone)}


def only(text: str, zone: Zone) -> Finding:
    [finding] = find_markings(text, "here", zone)
    return finding


# --- Positives: (text, zones, expected (marking, system) pairs) -------------------------------

POSITIVES: list[tuple[str, tuple[Zone, ...], set[tuple[str, str]]]] = [
    # TLP 2.0, TLP 1.0 and spacing variants; TLP is unambiguous in any case.
    ("TLP:RED", BOTH, {("TLP:RED", "tlp")}),
    ("TLP:AMBER+STRICT", BOTH, {("TLP:AMBER+STRICT", "tlp")}),
    ("TLP:AMBER", BOTH, {("TLP:AMBER", "tlp")}),
    ("TLP:GREEN", BOTH, {("TLP:GREEN", "tlp")}),
    ("TLP:CLEAR", BOTH, {("TLP:CLEAR", "tlp")}),
    ("TLP:WHITE", BOTH, {("TLP:CLEAR", "tlp")}),
    ("TLP: AMBER", BOTH, {("TLP:AMBER", "tlp")}),
    ("TLP : RED", BOTH, {("TLP:RED", "tlp")}),
    ("TLP AMBER+STRICT", BOTH, {("TLP:AMBER+STRICT", "tlp")}),
    ("tlp:red", BOTH, {("TLP:RED", "tlp")}),
    ("Distribution: TLP:GREEN - share within the community", BOTH, {("TLP:GREEN", "tlp")}),
    ("Re: TLP:AMBER incident notes", (HF,), {("TLP:AMBER", "tlp")}),
    # UK
    ("OFFICIAL", BOTH, {("OFFICIAL", "uk")}),
    ("OFFICIAL-SENSITIVE", BOTH, {("OFFICIAL-SENSITIVE", "uk")}),
    ("OFFICIAL SENSITIVE", BOTH, {("OFFICIAL-SENSITIVE", "uk")}),
    ("OFFICIAL–SENSITIVE", BOTH, {("OFFICIAL-SENSITIVE", "uk")}),
    ("Official-Sensitive", BOTH, {("OFFICIAL-SENSITIVE", "uk")}),
    ("OFFICIAL-SENSITIVE [PERSONAL]", BOTH, {("OFFICIAL-SENSITIVE", "uk")}),
    ("UK OFFICIAL", BOTH, {("OFFICIAL", "uk")}),
    ("UK OFFICIAL-SENSITIVE", BOTH, {("OFFICIAL-SENSITIVE", "uk")}),
    ("UK SECRET", BOTH, {("SECRET", "uk")}),
    ("UK TOP SECRET", BOTH, {("TOP SECRET", "uk")}),
    ("UK SECRET UK EYES ONLY", BOTH, {("SECRET", "uk")}),
    ("Protective marking: OFFICIAL", BOTH, {("OFFICIAL", "uk")}),
    # words shared by several systems
    ("SECRET", BOTH, {("SECRET", "classification")}),
    ("TOP SECRET", BOTH, {("TOP SECRET", "classification")}),
    ("CONFIDENTIAL", BOTH, {("CONFIDENTIAL", "classification")}),
    ("Confidential", BOTH, {("CONFIDENTIAL", "classification")}),
    ("RESTRICTED", BOTH, {("RESTRICTED", "classification")}),
    ("UNCLASSIFIED", BOTH, {("UNCLASSIFIED", "classification")}),
    # US banners and CUI
    ("CUI", BOTH, {("CUI", "us")}),
    ("CUI//SP-PRVCY", BOTH, {("CUI", "us")}),
    ("CONTROLLED UNCLASSIFIED INFORMATION", BOTH, {("CUI", "us")}),
    ("CONTROLLED//FEDCON", BOTH, {("CUI", "us")}),
    ("SECRET//NOFORN", BOTH, {("SECRET", "us")}),
    ("TOP SECRET//SCI//NOFORN", BOTH, {("TOP SECRET", "us")}),
    ("CONFIDENTIAL//REL TO USA, GBR", BOTH, {("CONFIDENTIAL", "us")}),
    ("UNCLASSIFIED//FOUO", BOTH, {("UNCLASSIFIED", "us")}),
    ("SECRET // NOFORN", BOTH, {("SECRET", "us")}),
    ("SECRET//NOFORN Page 1 of 2", BOTH, {("SECRET", "us")}),
    # US portion marks
    ("(S//NF) The convoy leaves at dawn.", BOTH, {("SECRET", "us")}),
    ("(TS//SCI) Sources and methods.", BOTH, {("TOP SECRET", "us")}),
    ("(C//REL TO USA, GBR) Shared text.", BOTH, {("CONFIDENTIAL", "us")}),
    ("(U) Background.\n(S) The plan.", BOTH, {("UNCLASSIFIED", "us"), ("SECRET", "us")}),
    ("(CUI) Names.\n(U) Dates.", BOTH, {("CUI", "us"), ("UNCLASSIFIED", "us")}),
    ("(U) First paragraph.\n(U) Second paragraph.", BOTH, {("UNCLASSIFIED", "us")}),
    # NATO
    ("NATO UNCLASSIFIED", BOTH, {("NATO UNCLASSIFIED", "nato")}),
    ("NATO RESTRICTED", BOTH, {("NATO RESTRICTED", "nato")}),
    ("NATO CONFIDENTIAL", BOTH, {("NATO CONFIDENTIAL", "nato")}),
    ("NATO SECRET", BOTH, {("NATO SECRET", "nato")}),
    ("COSMIC TOP SECRET", BOTH, {("COSMIC TOP SECRET", "nato")}),
    # China
    ("机密★1年", BOTH, {("机密", "cn")}),
    ("秘密★6个月", BOTH, {("秘密", "cn")}),
    ("绝密★启用前", BOTH, {("绝密", "cn")}),
    ("机密★长期", BOTH, {("机密", "cn")}),
    ("机密☆1年", BOTH, {("机密", "cn")}),
    ("秘密*1年", BOTH, {("秘密", "cn")}),
    ("机密＊1年", BOTH, {("机密", "cn")}),
    ("关于召开会议的通知 机密★1年", BOTH, {("机密", "cn")}),
    ("机密", BOTH, {("机密", "cn")}),
    ("【机密】", BOTH, {("机密", "cn")}),
    ("机密 第1页 共3页", BOTH, {("机密", "cn")}),
    ("密级：机密", BOTH, {("机密", "cn")}),
    ("密级: 秘密", BOTH, {("秘密", "cn")}),
    ("文件编号 2024-17 密级：绝密 保密期限：10年", BOTH, {("绝密", "cn")}),
    ("工作秘密", BOTH, {("工作秘密", "cn")}),
    ("内部资料", BOTH, {("内部资料", "cn")}),
    ("内部资料 注意保存", BOTH, {("内部资料", "cn")}),
    ("内部资料，注意保存", BOTH, {("内部资料", "cn")}),
    ("内部文件", BOTH, {("内部", "cn")}),
    ("内部", BOTH, {("内部", "cn")}),
    # corporate
    ("Company Confidential", BOTH, {("Confidential", "corporate")}),
    ("Contoso Confidential", BOTH, {("Confidential", "corporate")}),
    ("Contoso Ltd Confidential", BOTH, {("Confidential", "corporate")}),
    ("CONTOSO CONFIDENTIAL", BOTH, {("Confidential", "corporate")}),
    ("Internal Use Only", BOTH, {("Internal Use Only", "corporate")}),
    ("For Internal Use Only", BOTH, {("Internal Use Only", "corporate")}),
    ("Internal Only", BOTH, {("Internal Use Only", "corporate")}),
    ("Highly Confidential", BOTH, {("Highly Confidential", "corporate")}),
    ("Contoso Highly Confidential", BOTH, {("Highly Confidential", "corporate")}),
    ("Strictly Confidential", BOTH, {("Strictly Confidential", "corporate")}),
    ("Private & Confidential", BOTH, {("Private & Confidential", "corporate")}),
    ("Strictly Private and Confidential", BOTH, {("Private & Confidential", "corporate")}),
    ("COMMERCIAL IN CONFIDENCE", BOTH, {("Commercial in Confidence", "corporate")}),
    ("CONFIDENTIAL AND PROPRIETARY", BOTH, {("Confidential", "corporate")}),
    ("Proprietary & Confidential", BOTH, {("Confidential", "corporate")}),
    ("For Official Use Only", BOTH, {("FOUO", "us")}),
    ("UNCLASSIFIED//FOR OFFICIAL USE ONLY", BOTH, {("UNCLASSIFIED", "us")}),
    ("OFFICIAL: Sensitive", BOTH, {("OFFICIAL-SENSITIVE", "uk")}),
    ("Marking: Internal", BOTH, {("Internal", "corporate")}),
    ('"classification": "SECRET",', BOTH, {("SECRET", "classification")}),
    ("Page 1 of 2 | Confidential | Printed 12/03/2024", BOTH, {("CONFIDENTIAL", "classification")}),
    ("© Crown copyright 2024 OFFICIAL", BOTH, {("OFFICIAL", "uk")}),
    ("Contoso Internal", BOTH, {("Internal", "corporate")}),
    ("INTERNAL", BOTH, {("Internal", "corporate")}),
    ("[Internal]", BOTH, {("Internal", "corporate")}),
    ("Internal", (HF,), {("Internal", "corporate")}),
    ("Restricted", (HF,), {("RESTRICTED", "classification")}),
    ("Public", (HF,), {("Public", "corporate")}),
    ("PUBLIC | Page 2", (HF,), {("Public", "corporate")}),
    ("Classification: Confidential", BOTH, {("CONFIDENTIAL", "classification")}),
    ("Classification: Public", BOTH, {("Public", "corporate")}),
    ("Sensitivity: Internal", BOTH, {("Internal", "corporate")}),
    ("Sensitivity: General", BOTH, {("General", "corporate")}),
    ("Classified as Confidential", BOTH, {("CONFIDENTIAL", "classification")}),
    ("Classified as Microsoft Confidential", BOTH, {("Confidential", "corporate")}),
    (
        "Doc 42    Classification: Restricted    Owner: Finance",
        BOTH,
        {("RESTRICTED", "classification")},
    ),
    ("DRAFT – CONFIDENTIAL – Do not distribute", BOTH, {("CONFIDENTIAL", "classification")}),
    # full-width, letter-spaced and decorated forms
    ("ＣＯＮＦＩＤＥＮＴＩＡＬ", BOTH, {("CONFIDENTIAL", "classification")}),
    ("ＴＬＰ：ＲＥＤ", BOTH, {("TLP:RED", "tlp")}),
    ("C O N F I D E N T I A L", BOTH, {("CONFIDENTIAL", "classification")}),
    ("S E C R E T", BOTH, {("SECRET", "classification")}),
    ("T O P  S E C R E T", BOTH, {("TOP SECRET", "classification")}),
    ("O F F I C I A L - S E N S I T I V E", BOTH, {("OFFICIAL-SENSITIVE", "uk")}),
    ("机 密 ★ 1 年", BOTH, {("机密", "cn")}),
    ("机 密", BOTH, {("机密", "cn")}),
    ("*** CONFIDENTIAL ***", BOTH, {("CONFIDENTIAL", "classification")}),
    ("-- SECRET --", BOTH, {("SECRET", "classification")}),
    ("[CONFIDENTIAL]", BOTH, {("CONFIDENTIAL", "classification")}),
    ("=== TOP SECRET ===", BOTH, {("TOP SECRET", "classification")}),
    ("**CONFIDENTIAL**", BOTH, {("CONFIDENTIAL", "classification")}),
    ("# CONFIDENTIAL", BOTH, {("CONFIDENTIAL", "classification")}),
    ("**Secret**", BOTH, {("SECRET", "classification")}),
    ("> _Restricted_", BOTH, {("RESTRICTED", "classification")}),
    ("(Restricted)", BOTH, {("RESTRICTED", "classification")}),
    ("« Restricted »", (HF,), {("RESTRICTED", "classification")}),
    ("CONFIDENTIAL,,,", BOTH, {("CONFIDENTIAL", "classification")}),
    ('"CONFIDENTIAL"', BOTH, {("CONFIDENTIAL", "classification")}),
    ("| CONFIDENTIAL |", BOTH, {("CONFIDENTIAL", "classification")}),
    ("CON\u200bFIDENTIAL", BOTH, {("CONFIDENTIAL", "classification")}),
    # filler: page numbers, dates, reference codes
    ("CONFIDENTIAL Page 3 of 10", BOTH, {("CONFIDENTIAL", "classification")}),
    ("- 3 - OFFICIAL - 3 -", BOTH, {("OFFICIAL", "uk")}),
    ("第1页 机密", BOTH, {("机密", "cn")}),
    ("SECRET 2024-01-02", BOTH, {("SECRET", "classification")}),
    ("OFFICIAL DSTL/PUB137607", BOTH, {("OFFICIAL", "uk")}),
    ("v1.2 OFFICIAL-SENSITIVE", BOTH, {("OFFICIAL-SENSITIVE", "uk")}),
    # real footers
    ("Date of issue Jan 22 OFFICIAL Dstl/MS/Ver", BOTH, {("OFFICIAL", "uk")}),
    ("OFFICIAL\r\nDSTL/PUB137607 Page 1 of 10", BOTH, {("OFFICIAL", "uk")}),
    # several markings in one text
    ("TLP:AMBER\nOFFICIAL-SENSITIVE", BOTH, {("TLP:AMBER", "tlp"), ("OFFICIAL-SENSITIVE", "uk")}),
    ("机密★1年\nCONFIDENTIAL", BOTH, {("机密", "cn"), ("CONFIDENTIAL", "classification")}),
    # header/footer only: an UPPER-CASE word among mixed-case text, cells, corporate phrases
    ("[CONFIDENTIAL] Q3 results for the board", (HF,), {("CONFIDENTIAL", "classification")}),
    ("Prepared by Finance SECRET Version 2", (HF,), {("SECRET", "classification")}),
    ("Contoso | Internal", (HF,), {("Internal", "corporate")}),
    ("Contoso\tConfidential\tPage 1", (HF,), {("CONFIDENTIAL", "classification")}),
    ("Contoso Ltd – Restricted", (HF,), {("RESTRICTED", "classification")}),
    ("CONFIDENTIAL - ACME CORP", (HF,), {("CONFIDENTIAL", "classification")}),
    ("Quarterly results – Company Confidential", (HF,), {("Confidential", "corporate")}),
    ("Prepared for the board, internal use only", (HF,), {("Internal Use Only", "corporate")}),
    ("Printed copies are Contoso Confidential", (HF,), {("Confidential", "corporate")}),
    ("Official, 2024", (HF,), {("OFFICIAL", "uk")}),
]


@pytest.mark.parametrize(
    ("text", "zone", "expected"),
    [
        pytest.param(text, zone, expected, id=f"{zone.name}:{text[:40]}")
        for text, zones, expected in POSITIVES
        for zone in zones
    ],
)
def test_markings_are_found(text: str, zone: Zone, expected: set[tuple[str, str]]) -> None:
    assert found(text, zone) == expected


# --- Negatives ----------------------------------------------------------------------------

NEGATIVES: list[tuple[str, tuple[Zone, ...]]] = [
    # prose that uses the words
    ("The secret to great bread is time.", BOTH),
    ("This document is confidential.", BOTH),
    ("Top secret recipe inside!", BOTH),
    ("Please keep this confidential until Friday.", BOTH),
    ("The official figures are published monthly.", BOTH),
    ("Access is restricted to staff.", BOTH),
    ("Internal audit found no issues.", BOTH),
    ("This form is for official use only", (EDGE,)),
    ("Official Journal of the European Union", BOTH),
    ("INTERNAL MEMO", BOTH),
    ("PUBLIC NOTICE", BOTH),
    ("RESTRICTED ACCESS", BOTH),
    ("SECRET CLEARANCE", BOTH),
    ("THE SECRET", BOTH),
    ("Chapter 1: The Secret", BOTH),
    ("SECRET_KEY", BOTH),
    ("Sensitive But Unclassified", BOTH),
    ("Confidential Information means any information disclosed by a party.", BOTH),
    ("Confidential Information", (EDGE,)),
    ("CONFIDENTIALITY AGREEMENT", BOTH),
    ("The file was classified as secret by the agency.", (EDGE,)),
    ("controlled unclassified information is described below", BOTH),
    ("the doc was secret//noforn apparently", BOTH),
    # a cell among other words
    ("id,name,confidential,notes", BOTH),
    ("Name | Confidential | Notes", (EDGE,)),
    ("3,Restricted,2024-01-02", (EDGE,)),
    ("3\tInternal\t2024", (EDGE,)),
    # words that only count when set off in a body line
    ("Secret", (EDGE,)),
    ("Top Secret", (EDGE,)),
    ("# Secret", (EDGE,)),
    ("Restricted", (EDGE,)),
    ("Internal", (EDGE,)),
    ("Official, 2024", (EDGE,)),
    ("Unclassified", (EDGE,)),
    ("Public", (EDGE,)),
    ("PUBLIC", (EDGE,)),
    ("General", BOTH),
    # mixed-case words inside header/footer text
    ("Official website of the council", BOTH),
    ("Secret Garden Ltd, 12 High St", BOTH),
    ("Public holiday schedule", BOTH),
    ("Contoso Internal Audit Report", BOTH),
    ("Keep This Confidential", BOTH),
    ("This Is Confidential", BOTH),
    ("Treat As Confidential", BOTH),
    ("Contoso confidential data", BOTH),
    ("Contoso confidential", BOTH),
    ("Contoso internal only", (EDGE,)),
    # capitals beside capitals are a name, not a marking
    ("ACME SECRET SAUCE", BOTH),
    ("ACME SECRET SAUCE Ltd.", BOTH),
    ("THE OFFICIAL GUIDE TO BAKING", BOTH),
    # known non-markings
    ("SECRET SANTA", BOTH),
    ("Secret Santa list 2024", BOTH),
    ("Official Secrets Act", BOTH),
    ("OFFICIAL SECRETS ACT 1989", BOTH),
    ("Top Secret Recipe", BOTH),
    ("TOP SECRET RECIPE", BOTH),
    ("Victoria's Secret", BOTH),
    ("confidentiality", BOTH),
    ("non-confidential", BOTH),
    ("NON-CONFIDENTIAL", BOTH),
    ("NOT CONFIDENTIAL", BOTH),
    ("Unofficial", BOTH),
    ("UNOFFICIAL", BOTH),
    ("declassified", BOTH),
    ("DECLASSIFIED", BOTH),
    ("client secret", BOTH),
    # portion-mark look-alikes
    ("(C) 2024 Contoso Ltd", BOTH),
    ("(c) 2024 Contoso Ltd", BOTH),
    ("(C) Contoso Ltd\n(C) Fabrikam Inc", BOTH),
    ("(C) Copyright Contoso\n(C) 2023", BOTH),
    ("(S) only one line", BOTH),
    ("(U) only one line", BOTH),
    ("(U//FOUO) only one unclassified line", BOTH),
    ("Send the file(s) to the team(s)", BOTH),
    ("(s) lower case\n(s) twice", BOTH),
    ("Intro (S) mid-line\nand (S) again", BOTH),
    # Chinese prose
    ("这不是什么机密", BOTH),
    ("保守秘密是每个人的责任", BOTH),
    ("内部会议纪要已经发出", BOTH),
    ("机密文件的管理办法", BOTH),
    ("我们要保守工作秘密", BOTH),
    # unrelated text
    ("Quarterly report\nRevenue grew 4%", BOTH),
    ("", BOTH),
    ("   \n\t\n", BOTH),
    ("CUI Wei, Beijing", BOTH),
    ("Cui", BOTH),
    # private-use characters (used internally as masks) are ordinary content
    ("\ue001 SECRET", (EDGE,)),
    ("\ue000 Confidential", (EDGE,)),
]


@pytest.mark.parametrize(
    ("text", "zone"),
    [
        pytest.param(text, zone, id=f"{zone.name}:{text[:40]}")
        for text, zones in NEGATIVES
        for zone in zones
    ],
)
def test_non_markings_are_not_found(text: str, zone: Zone) -> None:
    assert find_markings(text, "here", zone) == []


# --- The shape of a finding ----------------------------------------------------------------


def test_finding_fields() -> None:
    finding = only("*** TLP:  AMBER+STRICT ***", EDGE)
    assert finding == Finding(
        Scheme.MARKING,
        ("here",),
        value="TLP: AMBER+STRICT",
        marking="TLP:AMBER+STRICT",
        system="tlp",
    )


def test_where_is_passed_through() -> None:
    [finding] = find_markings("CONFIDENTIAL", "word/footer1.xml", HF)
    assert finding.where == ("word/footer1.xml",)


@pytest.mark.parametrize(
    ("text", "zone", "attributes"),
    [
        ("TLP:WHITE", EDGE, (("version", "1.0"),)),
        ("TOP SECRET//SCI//NOFORN", EDGE, (("caveats", "SCI//NOFORN"),)),
        ("CONFIDENTIAL//REL TO USA, GBR", EDGE, (("caveats", "REL TO USA, GBR"),)),
        ("SECRET // NOFORN", EDGE, (("caveats", "NOFORN"),)),
        ("(S//NF) The plan.", EDGE, (("caveats", "NF"), ("form", "portion"))),
        ("机密★1年", EDGE, (("period", "1年"),)),
        ("绝密★启用前", EDGE, (("period", "启用前"),)),
        ("密级：秘密★6个月", EDGE, (("period", "6个月"),)),
        ("Contoso Ltd Confidential", EDGE, (("org", "Contoso Ltd"),)),
        ("Classified as Microsoft Confidential", EDGE, (("org", "Microsoft"),)),
        ("OFFICIAL-SENSITIVE [PERSONAL]", EDGE, (("descriptor", "PERSONAL"),)),
        ("OFFICIAL-SENSITIVE: COMMERCIAL", EDGE, (("descriptor", "COMMERCIAL"),)),
        ("CONFIDENTIAL", EDGE, ()),
    ],
)
def test_attributes(text: str, zone: Zone, attributes: tuple[tuple[str, str], ...]) -> None:
    assert only(text, zone).attributes == attributes


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("ＴＬＰ：ＲＥＤ", "TLP:RED"),
        ("C O N F I D E N T I A L", "CONFIDENTIAL"),
        ("机 密 ★ 1 年", "机密★1年"),
        ("**  OFFICIAL   SENSITIVE  **", "OFFICIAL SENSITIVE"),
        ("Contoso  Confidential", "Contoso Confidential"),
        ("(S//NF) The plan.", "(S//NF)"),
    ],
)
def test_value_is_the_marking_as_it_appears(text: str, value: str) -> None:
    assert only(text, EDGE).value == value


def test_one_finding_per_canonical_marking() -> None:
    text = "CONFIDENTIAL\n*** Confidential ***\nPage 2 CONFIDENTIAL"
    [finding] = find_markings(text, "here", EDGE)
    assert finding.value == "CONFIDENTIAL"


def test_duplicates_merge_their_details() -> None:
    [finding] = find_markings("机密\n机密★1年", "here", HF)
    assert finding.marking == "机密"
    assert finding.attributes == (("period", "1年"),)


def test_findings_keep_their_order() -> None:
    text = "TLP:RED\nOFFICIAL\nSECRET//NOFORN"
    assert [f.marking for f in find_markings(text, "here", EDGE)] == [
        "TLP:RED",
        "OFFICIAL",
        "SECRET",
    ]


def test_portion_marks_keep_their_place() -> None:
    text = "(U) Background.\nTLP:RED\n(S) The plan."
    assert [f.marking for f in find_markings(text, "here", EDGE)] == [
        "UNCLASSIFIED",
        "TLP:RED",
        "SECRET",
    ]


def test_long_lines_are_not_banners() -> None:
    long_line = "x " * MAX_LINE + "CONFIDENTIAL"
    assert find_markings(long_line, "here", HF) == []
    assert found(long_line + "\nCONFIDENTIAL", HF) == {("CONFIDENTIAL", "classification")}


def test_portion_marks_open_long_paragraphs() -> None:
    text = "(S//NF) " + "The operation continues as planned. " * 20
    assert found(text, EDGE) == {("SECRET", "us")}


@pytest.mark.parametrize(
    ("tag", "marking"),
    [("CONFIDENTIAL", "CONFIDENTIAL"), ("TLP:AMBER", "TLP:AMBER"), ("机密★1年", "机密")],
)
def test_file_name_groups(tag: str, marking: str) -> None:
    # The file-tag detector passes bracketed groups of a name as edge lines.
    assert only(tag, EDGE).marking == marking


# --- Properties ------------------------------------------------------------------------------

NEUTRAL_WORDS = [
    "the", "bread", "is", "time", "we", "keep", "garden", "recipe", "in", "our", "team",
    "meeting", "notes", "about", "river", "blue", "quickly", "house", "plan", "every",
    "morning", "with", "friends", "great", "story", "letter", "window",
]  # fmt: skip
MARKING_WORDS = [
    "secret", "top secret", "confidential", "official", "restricted", "internal", "public",
    "unclassified", "official-sensitive", "official sensitive", "internal use only",
    "company confidential", "highly confidential", "strictly confidential", "nato secret",
    "uk official", "cosmic top secret", "cui", "general", "private and confidential",
]  # fmt: skip
CASES = [str.lower, str.upper, str.title, str.capitalize]
CHINESE_WORDS = [
    "这", "不是", "什么", "我们", "的", "每个人", "责任", "保守", "是", "今天", "会议",
    "讨论", "计划", "问题", "大家", "知道",
]  # fmt: skip
CHINESE_MARKINGS = ["机密", "秘密", "绝密", "内部", "工作秘密", "内部资料", "内部文件"]


@st.composite
def prose(draw: st.DrawFn) -> str:
    """A sentence that uses a marking word among ordinary words."""
    neutral = draw(st.lists(st.sampled_from(NEUTRAL_WORDS), min_size=2, max_size=9))
    words = [draw(st.sampled_from(CASES))(word) for word in neutral]
    # Prose has lower-case words; a run of capitalised words would be a name ("Contoso Ltd").
    words[-1] = words[-1].lower()
    marking = draw(st.sampled_from(CASES))(draw(st.sampled_from(MARKING_WORDS)))
    words.insert(draw(st.integers(0, len(words))), marking)
    for index in range(len(words) - 1):
        words[index] += draw(st.sampled_from(["", "", "", ",", ";", " -"]))
    sentence = " ".join(words)
    return sentence[:1].upper() + sentence[1:] + draw(st.sampled_from([".", "!", "?", "", "..."]))


@st.composite
def chinese_prose(draw: st.DrawFn) -> str:
    words = draw(st.lists(st.sampled_from(CHINESE_WORDS), min_size=2, max_size=9))
    words.insert(draw(st.integers(0, len(words))), draw(st.sampled_from(CHINESE_MARKINGS)))
    return "".join(words) + draw(st.sampled_from(["。", "！", "？", ""]))


@FAST
@given(st.one_of(prose(), chinese_prose()))
def test_marking_words_in_prose_are_not_markings(sentence: str) -> None:
    assert find_markings(sentence, "here", EDGE) == []


BANNERS = [
    ("SECRET//NOFORN", "SECRET", "us"),
    ("TOP SECRET//SCI//NOFORN", "TOP SECRET", "us"),
    ("CONFIDENTIAL//REL TO USA, GBR", "CONFIDENTIAL", "us"),
    ("CUI//SP-PRVCY", "CUI", "us"),
    ("TLP:AMBER+STRICT", "TLP:AMBER+STRICT", "tlp"),
    ("TLP:RED", "TLP:RED", "tlp"),
    ("tlp: clear", "TLP:CLEAR", "tlp"),
    ("机密★1年", "机密", "cn"),
    ("绝密★启用前", "绝密", "cn"),
    ("秘密★6个月", "秘密", "cn"),
    ("OFFICIAL-SENSITIVE", "OFFICIAL-SENSITIVE", "uk"),
    ("OFFICIAL", "OFFICIAL", "uk"),
    ("UK OFFICIAL", "OFFICIAL", "uk"),
    ("CONFIDENTIAL", "CONFIDENTIAL", "classification"),
    ("Confidential", "CONFIDENTIAL", "classification"),
    ("TOP SECRET", "TOP SECRET", "classification"),
    ("SECRET", "SECRET", "classification"),
    ("UNCLASSIFIED", "UNCLASSIFIED", "classification"),
    ("NATO SECRET", "NATO SECRET", "nato"),
    ("COSMIC TOP SECRET", "COSMIC TOP SECRET", "nato"),
    ("Internal Use Only", "Internal Use Only", "corporate"),
    ("Contoso Confidential", "Confidential", "corporate"),
    ("Highly Confidential", "Highly Confidential", "corporate"),
    ("ＣＯＮＦＩＤＥＮＴＩＡＬ", "CONFIDENTIAL", "classification"),
]
FILLER = ["", "", "Page 3 of 9", "- 3 -", "3", "第1页", "2024-01-02", "DSTL/PUB137607", "v2.1"]
DECORATION = st.text(alphabet="*-=_~#[]<>|.:\"' ", max_size=6)


@FAST
@given(
    banner=st.sampled_from(BANNERS),
    before=DECORATION,
    after=DECORATION,
    filler_before=st.sampled_from(FILLER),
    filler_after=st.sampled_from(FILLER),
    gap=st.sampled_from([" ", "  ", " | "]),
    zone=st.sampled_from(BOTH),
)
def test_decorated_banners_are_found(
    banner: tuple[str, str, str],
    before: str,
    after: str,
    filler_before: str,
    filler_after: str,
    gap: str,
    zone: Zone,
) -> None:
    text, marking, system = banner
    line = gap.join([filler_before, before + text + after, filler_after]).strip()
    assert (marking, system) in found(line, zone)


@FAST
@given(text=st.text(max_size=400), where=st.text(max_size=20), zone=st.sampled_from(BOTH))
def test_never_raises_on_any_text(text: str, where: str, zone: Zone) -> None:
    for finding in find_markings(text, where, zone):
        assert finding.scheme is Scheme.MARKING
        assert finding.where == (where,)
        assert finding.marking and finding.system and finding.value


MARKING_ALPHABET = st.sampled_from(
    ["SECRET", "CONFIDENTIAL", "TLP:RED", "机密", "★", "1年", "//", "NOFORN", "(S)", "(C)", "UK",
     "OFFICIAL", "-", "SENSITIVE", "Contoso", "Page", "3", "of", " ", "\n", "\t", "|", "*", "密级",
     "\uff1a", "Classification:", "内部", "\uff08", "\uff09", "\u200b", "\uff34\uff2c\uff30",
     "Internal", "Use", "Only"]
)  # fmt: skip


@FAST
@given(parts=st.lists(MARKING_ALPHABET, max_size=30), zone=st.sampled_from(BOTH))
def test_never_raises_on_marking_like_text(parts: list[str], zone: Zone) -> None:
    findings = find_markings("".join(parts), "here", zone)
    assert len({(f.system, f.marking) for f in findings}) == len(findings)


@pytest.mark.parametrize(
    "line",
    [
        "For internal use only.",  # a docstring sentence in source code
        '"internal",',  # a value in a JSON list
        "internal",
        "'Internal',",
        "confidential",
    ],
)
def test_lower_case_words_and_quoted_values_are_not_banners(line: str) -> None:
    # Seen in the wild: Python packages' docstrings and JSON schemas flagged as labelled.
    assert find_markings(line, "last lines", Zone.EDGE_LINE) == []


@pytest.mark.parametrize(
    ("line", "marking"),
    [
        ("For Internal Use Only", "Internal Use Only"),
        ("INTERNAL USE ONLY", "Internal Use Only"),
        ('"CONFIDENTIAL"', "CONFIDENTIAL"),
        ("Commercial in Confidence", "Commercial in Confidence"),
    ],
)
def test_capitalised_banners_still_count(line: str, marking: str) -> None:
    [finding] = find_markings(line, "first lines", Zone.EDGE_LINE)
    assert finding.marking == marking
