"""Visible classification markings in short text: banners, headers, footers, first/last lines.

A marking is a *banner*: a line (or, in a header/footer, a cell of a line) that holds nothing
but marking terms, decoration and harmless filler such as page numbers and dates. Prose that
merely uses a word ("the secret to good bread") is not a marking, because a prompt that fires
for nothing trains people to click through. A few forms are unambiguous wherever they stand
(``TLP:RED``, ``SECRET//NOFORN``, ``机密★1年``, ``Classification: Confidential``); headers
and footers also accept an UPPER-CASE classification word among other text, because that is
where real documents put it ("Date of issue Jan 22 OFFICIAL Dstl/MS/Ver").

Everything here is pure and runs on short strings; the caller chooses which text to pass.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass

from sendguard.labels.model import Finding, Scheme

__all__ = ["Zone", "find_markings"]


class Zone(enum.Enum):
    """Where the text came from; headers and footers are where markings live."""

    #: Header/footer/watermark parts, a PDF page's top/bottom band, an e-mail subject.
    HEADER_FOOTER = "header/footer"
    #: The first/last few non-empty lines of a body (txt, md, csv, html, a document, a page).
    EDGE_LINE = "edge line"


#: A banner is short; long lines are prose or data and are not considered.
MAX_LINE = 300
#: Portion marks open long paragraphs, so only a line's head is examined for them.
_PORTION_HEAD = 48


class _Kind(enum.Enum):
    """How much context a term needs before it counts as a marking."""

    STRONG = enum.auto()  # counts wherever it stands: TLP, SECRET//NOFORN, 机密★1年, 密级:秘密
    PHRASE = enum.auto()  # corporate phrase: anywhere in a header/footer, a banner in a body
    LEVEL_WORD = enum.auto()  # classification word: banner, or UPPER-CASE in a header/footer
    BANNER = enum.auto()  # only as a banner (a body line or a header/footer cell of its own)
    HF_BANNER = enum.auto()  # only as a banner in a header/footer ("Public")
    STATED = enum.auto()  # only after "Classification:"/"Sensitivity:" ("General")


@dataclass(frozen=True)
class _Term:
    start: int
    end: int
    marking: str
    system: str
    kind: _Kind
    #: An everyday word (Secret, Official, Restricted, Internal): in a body line it must be
    #: UPPER-CASE or set off by decoration, since "Secret" alone may be a heading.
    everyday: bool = False
    attributes: tuple[tuple[str, str], ...] = ()


# --- Text normalisation ----------------------------------------------------------------------

#: Invisible characters that would split a word: zero-width, soft hyphen, bidi controls.
_INVISIBLE_RE = re.compile("[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_CJK = "\u3400-\u9fff"
#: Chinese is written without spaces, so spaces between CJK characters, stars and digits are
#: letter-spacing ("机 密 ★ 1 年").
_CJK_GAP_RE = re.compile(rf"(?<=[{_CJK}★☆])[ ]+(?=[{_CJK}★☆0-9])|(?<=[0-9])[ ]+(?=[{_CJK}])")
#: Letter-spaced words ("C O N F I D E N T I A L"); a wider gap separates words.
_SPACED_LETTERS_RE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z](?: [A-Za-z](?![A-Za-z0-9]))+")
_WHITESPACE_RE = re.compile(r"\s+")

# --- The cheap pre-check -------------------------------------------------------------------

#: Searched in the case-folded text with spaces removed, so letter-spaced words are seen too.
_TRIGGER_RE = re.compile(
    r"tlp|secret|confiden|official|restrict|classif|cui|controlled|internal|public|sensitiv"
    r"|nato|cosmic|密|内部"
)
_PORTION_HINT_RE = re.compile(r"(?m)^[ \t]*\((?:TS|S|C|U|CUI)[)/]")

# --- Terms ------------------------------------------------------------------------------------

#: Not glued to a word before (NON-CONFIDENTIAL, UNOFFICIAL) or after (CONFIDENTIALITY).
_L = r"(?<![A-Za-z0-9])(?<![A-Za-z0-9]-)"
_R = r"(?![A-Za-z0-9])(?!-[A-Za-z])"

#: US banner caveats: SCI, NOFORN, SP-PRVCY, SI/TK, REL TO USA, GBR, FOR OFFICIAL USE ONLY.
_CAVEAT = (
    r"(?:REL(?:EASABLE)?\s+TO\s+[A-Z]{2,5}(?:\s*,\s*(?:AND\s+)?[A-Z]{2,5})*"
    r"|DISPLAY\s+ONLY\s+[A-Z]{2,5}(?:\s*,\s*[A-Z]{2,5})*"
    r"|FOR\s+OFFICIAL\s+USE\s+ONLY"
    r"|[A-Z0-9][A-Z0-9\-]*(?:/[A-Z0-9][A-Z0-9\-]*)*)(?![A-Za-z0-9])"
)
#: OFFICIAL-SENSITIVE descriptors: OFFICIAL-SENSITIVE [PERSONAL].
_UK_DESCRIPTOR = "COMMERCIAL|PERSONAL|LOCSEN"
_DASH = r"[\-\u2013\u2014:]"
_CN_LEVEL = "工作秘密|绝密|机密|秘密"
#: 机密★1年, 秘密★6个月, 绝密★启用前, 机密★长期, 秘密★2025年12月31日前.
_CN_PERIOD = rf"长期|永久|[{_CJK}0-9]{{1,12}}?前|[0-9]+\s*(?:个月|年|月|周|天|日)"

#: Words that cannot be (the start of) an organisation's name in "<Org> Confidential".
_ORG_STOPWORDS = (
    "a|all|an|and|any|are|as|at|be|been|business|by|classification|classified|commercial"
    "|company|confidential|contains|copy|cosmic|data|date|do|document|documents|draft|email"
    "|file|files|for|from|general|her|highly|his|in|include|including|information|internal"
    "|is|it|its|keep|kept|label|labelled|labeled|mark|marked|marking|message|most|my|nato"
    "|no|non|not|note|of|official|on|or|our|page|personal|please|private|protective|public"
    "|ref|reference|remain|remains|report|restricted|secret|security|sensitive|sensitivity"
    "|strictly|that|the|their|these|this|those|to|top|treat|treated|uk|unclassified|us|usa"
    "|very|was|we|were|with|you|your"
)
_ORG_CAPITALISED = r"(?-i:[A-Z][A-Za-z0-9&.'\u2019\-]*)"
_ORG_WORD = rf"(?=(?-i:[A-Z]))(?!(?:{_ORG_STOPWORDS})(?![A-Za-z0-9])){_ORG_CAPITALISED}"
_ORG_SUFFIX = r"(?:plc|ltd|inc|llc|gmbh|corp|co)\.?(?![A-Za-z0-9])"
_ORG = (
    rf"(?<![A-Za-z0-9])(?<![A-Za-z0-9][&'\u2019\-/.])"
    rf"{_ORG_WORD}(?:\s+(?:{_ORG_WORD}|{_ORG_SUFFIX})){{0,3}}"
)

#: Latin terms start a word; checking that once, up front, keeps the scan fast.
_LATIN_START = r"(?<![A-Za-z0-9])(?=[TSCUNOPIFHGR]|(?-i:[A-Z]))"
# Alternatives are tried in this order at each position, so longer forms come first.
_LATIN_TERMS = "|".join(
    [
        r"(?P<tlp>(?<![A-Za-z0-9]-)TLP\s*[:\-]?\s*(?P<tlp_colour>AMBER\s*\+\s*STRICT|AMBER|RED"
        r"|GREEN|CLEAR|WHITE)(?![A-Za-z0-9]))",
        # US banners are always upper-case; that is what sets them apart from prose.
        r"(?P<us>(?-i:(?P<us_level>TOP\s*SECRET|SECRET|CONFIDENTIAL|UNCLASSIFIED|CUI|CONTROLLED)"
        rf"\s*//\s*(?P<us_caveats>{_CAVEAT}(?:\s*//\s*{_CAVEAT})*)))",
        rf"(?P<nato>{_L}(?:COSMIC\s*TOP\s*SECRET|NATO\s*(?:UNCLASSIFIED|RESTRICTED"
        rf"|CONFIDENTIAL|SECRET)){_R})",
        rf"(?P<uk>{_L}UK\s*(?P<uk_level>OFFICIAL\s*{_DASH}?\s*SENSITIVE|OFFICIAL|TOP\s*SECRET"
        rf"|SECRET){_R})",
        rf"(?P<os>{_L}OFFICIAL\s*{_DASH}?\s*SENSITIVE(?:\s*(?:{_DASH}\s*)?"
        rf"(?P<os_descriptor>{_UK_DESCRIPTOR})|\s*[\[(](?P<os_bracketed>{_UK_DESCRIPTOR})[\])])?"
        rf"{_R})",
        rf"(?P<cui_phrase>{_L}CONTROLLED\s*UNCLASSIFIED\s*INFORMATION{_R})",
        rf"(?P<private_conf>{_L}(?:STRICTLY\s+)?PRIVATE\s*(?:&|AND)\s*CONFIDENTIAL{_R})",
        rf"(?P<proprietary>{_L}(?:PROPRIETARY\s*(?:&|AND)\s*CONFIDENTIAL|CONFIDENTIAL\s*(?:&|AND)"
        rf"\s*PROPRIETARY){_R})",
        rf"(?P<fouo>{_L}FOR\s+OFFICIAL\s+USE\s+ONLY{_R})",
        rf"(?P<cic>{_L}COMMERCIAL[\s\-]+IN[\s\-]+CONFIDENCE{_R})",
        rf"(?P<internal>(?:(?P<internal_org>{_ORG})\s+)?{_L}(?:(?:FOR\s+)?INTERNAL\s*USE"
        rf"\s*ONLY|INTERNAL\s*ONLY|INTERNAL){_R})",
        rf"(?P<confidential>(?:(?P<conf_org>{_ORG})\s+)?{_L}(?P<conf_qualifier>HIGHLY\s*"
        rf"|STRICTLY\s*|COMPANY\s*)?CONFIDENTIAL{_R})",
        rf"(?P<word>{_L}(?:TOP\s*SECRET|SECRET|UNCLASSIFIED|RESTRICTED|OFFICIAL|PUBLIC"
        rf"|GENERAL|(?-i:CUI)){_R})",
    ]
)
_CHINESE_TERMS = "|".join(
    [
        rf"(?P<cn_star>(?P<cn_star_level>{_CN_LEVEL})\s*(?:[★☆]\s*(?P<cn_star_period>"
        rf"{_CN_PERIOD})?|\*\s*(?P<cn_asterisk_period>{_CN_PERIOD})))",
        rf"(?P<cn_stated>(?:密级|保密等级|保密级别)\s*:?\s*[★☆]?\s*(?P<cn_stated_level>"
        rf"{_CN_LEVEL}|内部)(?:\s*[★☆*]\s*(?P<cn_stated_period>{_CN_PERIOD}))?)",
        rf"(?P<cn_word>{_CN_LEVEL}|内部资料|内部文件|内部)",
    ]
)
_TERM_RE = re.compile(
    rf"{_LATIN_START}(?:{_LATIN_TERMS})|(?=[工绝机秘密保内])(?:{_CHINESE_TERMS})", re.IGNORECASE
)

#: Phrases that contain a marking word but are not markings; masked before terms are sought.
_NOT_A_MARKING_RE = re.compile(
    r"(?<![A-Za-z0-9])(?:official\s+secrets?\s+acts?|secret\s+santas?|top\s+secret\s+recipes?"
    r"|victoria'?s\s+secret|secret\s+service|client\s+secret|secret\s+key"
    r"|non[\s\-]*confidential|not\s+(?:confidential|classified|secret|restricted))"
    r"(?![A-Za-z0-9])",
    re.IGNORECASE,
)
#: Stands in for masked non-markings; it counts as content, so the line is not a banner.
_MASKED_PROSE = "\ue000"
#: Stands in for a term while the rest of its line is examined.
_MASKED_TERM = "\ue001"

# --- What may stand beside a marking in a banner -----------------------------------------

_MONTHS = (
    r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
_FILLER_WORDS = "|".join(
    [
        # statements that name the marking that follows
        r"(?:(?:security|data|information|document)\s+)?classification\s*[:=]?",
        r"classified\s+as(?![A-Za-z])",
        r"sensitivity(?:\s+label)?\s*[:=]?",
        r"(?:protective(?:ly)?|security)\s+mark(?:ing|ed)\s*:?",
        r"(?:marking|label)\s*:",
        # page numbers, dates, versions
        r"(?:page|pg|p\.)(?![A-Za-z])(?:\s*[0-9]+(?:\s*(?:of|/)\s*[0-9]+)?)?",
        r"[0-9]+\s*(?:of|/)\s*[0-9]+",
        r"[0-9]{2,4}\s*年(?:\s*[0-9]{1,2}\s*月)?(?:\s*[0-9]{1,2}\s*日)?"
        r"|[0-9]{1,2}\s*月(?:\s*[0-9]{1,2}\s*日)?",
        rf"(?:{_MONTHS})(?![A-Za-z])\.?",
        r"(?:date(?:\s+of\s+issue)?|issue\s+date|issued|printed|version|ver|rev(?:ision)?|draft)"
        r"(?![A-Za-z])\.?\s*:?",
        # reference codes: DSTL/PUB137607, Dstl/MS/Ver, DOC-2024-001, v1.2
        r"[A-Za-z0-9][A-Za-z0-9_.\-]*(?:/[A-Za-z0-9_.\-]+)+",
        r"(?=[A-Za-z0-9_.\-]*[0-9])[A-Za-z][A-Za-z0-9_.\-]*",
        r"(?:ref(?:erence)?|doc(?:ument)?\s*(?:id|no|number|ref))(?![A-Za-z])\.?\s*[:#]?",
        r"[0-9]+",
        # handling instructions and copyright lines that travel with a marking
        r"(?:do\s+not\s+(?:distribute|forward|copy|share|disclose)"
        r"|not\s+for\s+(?:public\s+)?(?:distribution|release|circulation)"
        r"|uk\s+eyes\s+only|crown\s+copyright|copyright|all\s+rights\s+reserved)(?![A-Za-z])",
    ]
)
_FILLER_RE = re.compile(
    rf"(?<![A-Za-z0-9])(?:{_FILLER_WORDS})"
    r"|密级\s*:?|保密(?:等级|级别)\s*:?"
    r"|第\s*[0-9]+\s*页(?:\s*,?\s*共\s*[0-9]+\s*页)?|共\s*[0-9]+\s*页"
    r"|注意保存|妥善保管|请勿外传|严禁外传|不得外传|注意保密|严禁复制"
    r"|©|\(c\)",
    re.IGNORECASE,
)
#: What is left after terms and filler are removed: any letter, digit, CJK or masked prose.
_CONTENT_RE = re.compile(rf"[^\W_]|{_MASKED_PROSE}")
#: Decoration that sets a word off as a banner: "*** Secret ***", "[Secret]", "**Secret**".
#: Not sentence or CSV punctuation, nor the pipe that stands for a tab: "3,Restricted,2024"
#: is a row of data.
#: Quotes are not decoration either: ``"internal",`` is a value in a list.
_DECORATION_RE = re.compile(r"[*=_~#\[\](){}<>\-\u2013\u2014\u3010\u3011\u300a\u300b]")
#: Latin words of a term, for the case a banner is written in.
_LATIN_WORD_RE = re.compile(r"[A-Za-z]+")
#: Words a title leaves in lower case: "Commercial in Confidence", "Private and Confidential".
_MINOR_WORDS = frozenset({"and", "in", "of", "for", "the", "to"})
#: A word in capitals: two or more capital letters with no lower-case letter beside them.
_CAPITALS_WORD_RE = re.compile(r"(?<![A-Za-z])[A-Z]{2,}(?![a-z])")
#: Header/footer cells: tab stops, pipes, bullets, spaced dashes, brackets.
_CELL_SEPARATOR_RE = re.compile(
    r"\s[\-\u2013\u2014]+\s|[|\u2022\u00b7\[\]\u3010\u3011\u3014\u3015]"
)

#: A statement naming the marking that follows ("Classification: Confidential").
_STATED_BEFORE_RE = re.compile(
    r"(?:(?:(?:security|data|information|document)\s+)?classification|sensitivity(?:\s+label)?"
    r"|(?:security\s+)?marking)\s*[:=]\s*$"
    r"|(?:protective(?:ly)?\s+mark(?:ing|ed))\s*:?\s*$"
    r"|^[^A-Za-z0-9]*classified\s+as\s+$",
    re.IGNORECASE,
)

#: How far before a term a statement's key ("Security classification:") may start.
_STATEMENT_KEY_REACH = 48
#: US portion marks at the very start of a line: "(S//NF) text", "(U) text".
_PORTION_RE = re.compile(
    r"[ \t]*\((?P<level>TS|S|C|U|CUI)(?://(?P<caveats>[A-Z0-9][A-Z0-9 ,/\-]{0,40}?))?\)"
    r"[ \t]+(?P<next>\S)"
)
_PORTION_LEVELS = {
    "TS": "TOP SECRET",
    "S": "SECRET",
    "C": "CONFIDENTIAL",
    "U": "UNCLASSIFIED",
    "CUI": "CUI",
}

_NATO = {
    "COSMICTOPSECRET": "COSMIC TOP SECRET",
    "NATOUNCLASSIFIED": "NATO UNCLASSIFIED",
    "NATORESTRICTED": "NATO RESTRICTED",
    "NATOCONFIDENTIAL": "NATO CONFIDENTIAL",
    "NATOSECRET": "NATO SECRET",
}
_US_LEVELS = {
    "TOPSECRET": "TOP SECRET",
    "SECRET": "SECRET",
    "CONFIDENTIAL": "CONFIDENTIAL",
    "UNCLASSIFIED": "UNCLASSIFIED",
    "CUI": "CUI",
    "CONTROLLED": "CUI",
}
_UK_LEVELS = {
    "OFFICIAL": "OFFICIAL",
    "OFFICIALSENSITIVE": "OFFICIAL-SENSITIVE",
    "SECRET": "SECRET",
    "TOPSECRET": "TOP SECRET",
}
#: Single words: canonical marking, system, kind, everyday word.
_WORDS: dict[str, tuple[str, str, _Kind, bool]] = {
    "TOPSECRET": ("TOP SECRET", "classification", _Kind.LEVEL_WORD, True),
    "SECRET": ("SECRET", "classification", _Kind.LEVEL_WORD, True),
    "UNCLASSIFIED": ("UNCLASSIFIED", "classification", _Kind.LEVEL_WORD, True),
    "RESTRICTED": ("RESTRICTED", "classification", _Kind.LEVEL_WORD, True),
    "OFFICIAL": ("OFFICIAL", "uk", _Kind.LEVEL_WORD, True),
    "PUBLIC": ("Public", "corporate", _Kind.HF_BANNER, True),
    "GENERAL": ("General", "corporate", _Kind.STATED, True),
    "CUI": ("CUI", "us", _Kind.BANNER, False),
}
_CN_WORDS = {"内部文件": "内部"}


def _squash(text: str) -> str:
    return "".join(ch for ch in text.upper() if ch.isalnum())


def _collapse(text: str) -> str:
    return _WHITESPACE_RE.sub(" ", text).strip()


def _caveats(text: str) -> str:
    return re.sub(r"\s*//\s*", "//", _collapse(text))


def _organisation(match: re.Match[str], group: str) -> tuple[str | None, int]:
    """The organisation named before a corporate marking, and where the marking starts.

    An organisation's marking is capitalised ("Contoso Confidential"); before a lower-case
    word ("Contoso confidential data") the capitalised words are ordinary text.
    """
    org = match.group(group)
    if not org:
        return None, match.start()
    marking_start = match.end(group)
    while match.string[marking_start].isspace():
        marking_start += 1
    if match.string[marking_start].isupper():
        return _collapse(org), match.start()
    return None, marking_start


def _term(match: re.Match[str]) -> _Term | None:
    """The marking a term match stands for."""
    group = match.lastgroup
    start, end = match.span()
    text = match.group()

    def term(
        marking: str,
        system: str,
        kind: _Kind,
        everyday: bool = False,
        attributes: tuple[tuple[str, str], ...] = (),
        term_start: int = start,
    ) -> _Term:
        return _Term(term_start, end, marking, system, kind, everyday, attributes)

    if group == "tlp":
        colour = _squash(match.group("tlp_colour"))
        if colour == "WHITE":  # TLP 1.0; TLP 2.0 renamed it CLEAR
            return term("TLP:CLEAR", "tlp", _Kind.STRONG, attributes=(("version", "1.0"),))
        return term(
            "TLP:AMBER+STRICT" if colour == "AMBERSTRICT" else f"TLP:{colour}", "tlp", _Kind.STRONG
        )
    if group == "us":
        level = _US_LEVELS[_squash(match.group("us_level"))]
        caveats = (("caveats", _caveats(match.group("us_caveats"))),)
        return term(level, "us", _Kind.STRONG, attributes=caveats)
    if group == "nato":
        return term(_NATO[_squash(text)], "nato", _Kind.LEVEL_WORD)
    if group == "uk":
        return term(_UK_LEVELS[_squash(match.group("uk_level"))], "uk", _Kind.LEVEL_WORD)
    if group == "os":
        descriptor = match.group("os_descriptor") or match.group("os_bracketed")
        attributes = (("descriptor", descriptor.upper()),) if descriptor else ()
        return term("OFFICIAL-SENSITIVE", "uk", _Kind.LEVEL_WORD, attributes=attributes)
    if group == "cui_phrase":
        return term("CUI", "us", _Kind.LEVEL_WORD)
    if group == "private_conf":
        return term("Private & Confidential", "corporate", _Kind.PHRASE)
    if group == "proprietary":
        return term("Confidential", "corporate", _Kind.PHRASE)
    if group == "fouo":
        return term("FOUO", "us", _Kind.PHRASE)
    if group == "cic":
        return term("Commercial in Confidence", "corporate", _Kind.PHRASE)
    if group == "internal":
        org, start = _organisation(match, "internal_org")
        attributes = (("org", org),) if org else ()
        if _squash(text).endswith("ONLY"):
            return term("Internal Use Only", "corporate", _Kind.PHRASE, False, attributes, start)
        return term("Internal", "corporate", _Kind.BANNER, not org, attributes, start)
    if group == "confidential":
        org, start = _organisation(match, "conf_org")
        qualifier = _squash(match.group("conf_qualifier") or "")
        attributes = (("org", org),) if org else ()
        if qualifier in ("HIGHLY", "STRICTLY"):
            marking = f"{qualifier.title()} Confidential"
            return term(marking, "corporate", _Kind.PHRASE, False, attributes, start)
        if qualifier == "COMPANY" or org:
            return term("Confidential", "corporate", _Kind.PHRASE, False, attributes, start)
        return term("CONFIDENTIAL", "classification", _Kind.LEVEL_WORD, term_start=start)
    if group == "cn_star":
        period = match.group("cn_star_period") or match.group("cn_asterisk_period")
        attributes = (("period", _collapse(period)),) if period else ()
        return term(match.group("cn_star_level"), "cn", _Kind.STRONG, attributes=attributes)
    if group == "cn_stated":
        period = match.group("cn_stated_period")
        attributes = (("period", _collapse(period)),) if period else ()
        level_start = match.start("cn_stated_level")
        level = match.group("cn_stated_level")
        return term(level, "cn", _Kind.STRONG, attributes=attributes, term_start=level_start)
    if group == "word":
        marking, system, kind, everyday = _WORDS[_squash(text)]
        return term(marking, system, kind, everyday)
    if group == "cn_word":
        return term(_CN_WORDS.get(text, text), "cn", _Kind.BANNER)
    return None


# --- Lines ------------------------------------------------------------------------------------


def _normalise_line(line: str) -> str:
    # The masks are private-use characters; any in the input count as ordinary content.
    line = line.replace(_MASKED_TERM, _MASKED_PROSE)
    line = line.replace("\t", " | ")  # tab stops separate a Word footer's cells
    line = _CJK_GAP_RE.sub("", line)
    line = _SPACED_LETTERS_RE.sub(lambda found: found.group().replace(" ", ""), line)
    line = _collapse(line)
    return _NOT_A_MARKING_RE.sub(lambda found: _MASKED_PROSE * len(found.group()), line)


def _has_content(text: str) -> bool:
    """Whether anything but decoration and filler remains once terms are masked out."""
    rest = _FILLER_RE.sub(" ", text.replace(_MASKED_TERM, " "))
    return _CONTENT_RE.search(rest) is not None


def _cells(masked: str, zone: Zone) -> list[tuple[int, int]]:
    """The whole line, and in a header/footer each cell between separators."""
    cells = [(0, len(masked))]
    if zone is Zone.HEADER_FOOTER:
        start = 0
        for separator in _CELL_SEPARATOR_RE.finditer(masked):
            cells.append((start, separator.start()))
            start = separator.end()
        if start:
            cells.append((start, len(masked)))
    return cells


def _set_off(line: str, first: _Term, last: _Term) -> bool:
    """Whether decoration stands on both sides, as in ``*** Secret ***`` or ``[Restricted]``."""
    before = line[: first.start]
    after = line[last.end :]
    return bool(_DECORATION_RE.search(before)) and bool(_DECORATION_RE.search(after))


def _banner_case(text: str) -> bool:
    """Banners are capitalised ("Internal Use Only", "CONFIDENTIAL"); "For internal use
    only." is a sentence in a docstring. Scripts without case (CJK) always pass."""
    return all(word[0].isupper() or word in _MINOR_WORDS for word in _LATIN_WORD_RE.findall(text))


def _counts_in_banner(term: _Term, text: str, zone: Zone, upper_or_set_off: bool) -> bool:
    if term.kind is _Kind.STATED:
        return False
    if zone is Zone.HEADER_FOOTER:
        return True
    if term.kind is _Kind.HF_BANNER or not _banner_case(text):
        return False
    return not term.everyday or upper_or_set_off


def _is_stated(line: str, term: _Term) -> bool:
    # A statement's key sits just before the term; looking back a short way keeps this linear.
    return (
        _STATED_BEFORE_RE.search(line, max(0, term.start - _STATEMENT_KEY_REACH), term.start)
        is not None
    )


def _beside_capitals(rest: str, term: _Term) -> bool:
    """Whether an all-capitals word stands right beside ``term`` in its masked line."""
    before = rest[: term.start].split()
    after = rest[term.end :].split()
    neighbours = before[-1:] + after[:1]
    return any(_CAPITALS_WORD_RE.search(word) for word in neighbours)


def _line_terms(line: str, zone: Zone) -> list[tuple[_Term, str]]:
    """The markings in one normalised line, each with its text as it appears."""
    terms = [term for term in map(_term, _TERM_RE.finditer(line)) if term is not None]
    if not terms:
        return []
    masked_chars = list(line)
    for term in terms:
        masked_chars[term.start : term.end] = _MASKED_TERM * (term.end - term.start)
    masked = "".join(masked_chars)

    accepted: set[int] = set()
    for index, term in enumerate(terms):
        if term.kind is _Kind.STRONG or _is_stated(line, term):
            accepted.add(index)

    for cell_start, cell_end in _cells(masked, zone):
        inside = [
            index
            for index, term in enumerate(terms)
            if cell_start <= term.start and term.end <= cell_end
        ]
        if not inside or _has_content(masked[cell_start:cell_end]):
            continue
        set_off = _set_off(line, terms[inside[0]], terms[inside[-1]])
        for index in inside:
            term = terms[index]
            emphasised = set_off or line[term.start : term.end].isupper()
            if _counts_in_banner(term, line[term.start : term.end], zone, emphasised):
                accepted.add(index)

    if zone is Zone.HEADER_FOOTER and len(accepted) < len(terms):
        # An UPPER-CASE classification word stands out from mixed-case footer text; in an
        # all-capitals line, or beside other capitals ("ACME SECRET SAUCE Ltd"), it does not,
        # so there it needs a cell of its own.
        rest = _FILLER_RE.sub(lambda found: " " * len(found.group()), masked)
        mixed_case_line = any(ch.islower() for ch in rest)
        for index, term in enumerate(terms):
            if term.kind is _Kind.PHRASE or (
                term.kind is _Kind.LEVEL_WORD
                and mixed_case_line
                and line[term.start : term.end].isupper()
                and not _beside_capitals(rest, term)
            ):
                accepted.add(index)

    return [
        (terms[index], line[terms[index].start : terms[index].end]) for index in sorted(accepted)
    ]


def _portion_marks(lines: list[str]) -> list[tuple[int, _Term, str]]:
    """US portion marks, when there is enough evidence that they are not (C)opyright or file(S).

    One classified mark with a caveat ("(S//NF) text") is enough; otherwise two or more lines
    must open with portion marks, and not all of them a bare "(C)".
    """
    marks: list[tuple[int, re.Match[str]]] = []
    for line_number, line in enumerate(lines):
        found = _PORTION_RE.match(line[:_PORTION_HEAD])
        if found is None:
            continue
        if found.group("level") == "C" and not found.group("caveats"):
            after = line[found.start("next") :].lower()
            if after[:1].isdigit() or after.startswith(("copyright", "©")):
                continue  # "(C) 2024 Contoso" is a copyright notice
        marks.append((line_number, found))
    if not marks:
        return []
    strong = any(mark.group("caveats") and mark.group("level") != "U" for _, mark in marks)
    bare_c_only = all(mark.group("level") == "C" and not mark.group("caveats") for _, mark in marks)
    if not strong and (len(marks) < 2 or bare_c_only):
        return []
    found_terms: list[tuple[int, _Term, str]] = []
    for line_number, mark in marks:
        attributes = [("form", "portion")]
        if mark.group("caveats"):
            attributes.append(("caveats", _caveats(mark.group("caveats"))))
        term = _Term(
            start=0,
            end=0,
            marking=_PORTION_LEVELS[mark.group("level")],
            system="us",
            kind=_Kind.STRONG,
            attributes=tuple(sorted(attributes)),
        )
        value = mark.group()[: mark.start("next") - mark.start()].strip()
        found_terms.append((line_number, term, value))
    return found_terms


# --- Entry point ------------------------------------------------------------------------------


def _normalise_text(text: str) -> str:
    if text.isascii():
        return text
    # Full-width forms (ＣＯＮＦＩＤＥＮＴＩＡＬ) become ASCII under NFKC.
    return _INVISIBLE_RE.sub("", unicodedata.normalize("NFKC", text))


def _may_hold_marking(text: str) -> bool:
    squeezed = text.casefold().replace(" ", "")
    return _TRIGGER_RE.search(squeezed) is not None or _PORTION_HINT_RE.search(text) is not None


def find_markings(text: str, where: str, zone: Zone) -> list[Finding]:
    """Visible classification markings in ``text`` (may be several lines).

    Each finding has ``scheme=Scheme.MARKING``, ``where=(where,)``, ``value`` the marking as it
    appears (after NFKC and whitespace collapsing), ``marking`` the canonical term and
    ``system`` its marking system. One finding per distinct canonical marking, in order of
    first appearance; details (a TLP version, US caveats, a Chinese period, an organisation)
    are in ``attributes``. Pure, and never raises on any ``str``.
    """
    text = _normalise_text(text)
    if not _may_hold_marking(text):
        return []
    raw_lines = text.splitlines()
    found: list[tuple[int, _Term, str]] = []
    for line_number, raw_line in enumerate(raw_lines):
        if len(raw_line) > MAX_LINE and len(raw_line.strip()) > MAX_LINE:
            continue
        if not _may_hold_marking(raw_line):
            continue
        line = _normalise_line(raw_line)
        if line:
            found.extend((line_number, term, value) for term, value in _line_terms(line, zone))
    found.extend(_portion_marks(raw_lines))
    found.sort(key=lambda item: item[0])  # stable: keeps the order within a line

    findings: dict[tuple[str, str], Finding] = {}
    for _, term, value in found:
        key = (term.system, term.marking)
        finding = Finding(
            Scheme.MARKING,
            (where,),
            value=_collapse(value),
            marking=term.marking,
            system=term.system,
            attributes=term.attributes,
        )
        known = findings.get(key)
        findings[key] = finding if known is None else known.merged_with(finding)
    return list(findings.values())
