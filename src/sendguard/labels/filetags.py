"""Labels a file carries outside its content: file-system tags and its name."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import plistlib
import re
import sys
from collections.abc import Sequence

from sendguard.labels.markings import Zone, find_markings
from sendguard.labels.model import Finding, Scheme

XDG_TAGS = "user.xdg.tags"
FINDER_TAGS = "com.apple.metadata:_kMDItemUserTags"
_MAX_XATTR = 64 * 1024
#: Bracketed groups in a file name: ``report [CONFIDENTIAL].docx``, ``(TLP-AMBER) notes.txt``.
_BRACKETED = re.compile(r"[\[(【（{]([^\])】）}]{1,60})[\])】）}]")
#: TLP is unambiguous wherever it stands in a name: ``brief_TLP-RED.pdf``.
_TLP_IN_NAME = re.compile(
    r"(?i)(?<![A-Za-z])TLP[-_ :]?(RED|AMBER\+STRICT|AMBER|GREEN|CLEAR|WHITE)(?![A-Za-z])"
)


def _as_marking(scheme: Scheme, text: str, where: str) -> list[Finding]:
    return [
        Finding(
            scheme,
            (where,),
            value=text,
            marking=found.marking,
            system=found.system,
            attributes=found.attributes,
        )
        for found in find_markings(text, where, Zone.EDGE_LINE)
    ]


def findings_from_name(name: str, patterns: Sequence[re.Pattern[str]] = ()) -> list[Finding]:
    """Markings in a file name's bracketed groups or TLP tokens, and policy-defined patterns."""
    stem = os.path.basename(name)
    where = "file name"
    findings: list[Finding] = []
    for group in _BRACKETED.findall(stem):
        findings.extend(_as_marking(Scheme.FILE_NAME, group.strip(), where))
    for colour in _TLP_IN_NAME.findall(stem):
        findings.extend(_as_marking(Scheme.FILE_NAME, f"TLP:{colour.upper()}", where))
    findings = list({finding.identity(): finding for finding in findings}.values())
    for pattern in patterns:
        match = pattern.search(stem)
        if match:
            findings.append(
                Finding(Scheme.FILE_NAME, (where,), name=pattern.pattern, value=match.group(0))
            )
    return findings


def parse_xdg_tags(raw: bytes) -> list[str]:
    """``user.xdg.tags`` holds comma-separated tags (freedesktop.org's common attributes)."""
    text = raw.decode("utf-8", "replace").strip("\x00")
    return [tag.strip() for tag in text.split(",") if tag.strip()]


def parse_finder_tags(raw: bytes) -> list[str]:
    """Finder tags are a binary plist of strings, each ``name`` or ``name\\n<colour index>``."""
    try:
        value = plistlib.loads(raw)
    except (plistlib.InvalidFileException, ValueError, OverflowError, TypeError):
        return []
    if not isinstance(value, list):
        return []
    return [item.split("\n", 1)[0].strip() for item in value if isinstance(item, str)]


def _read_xattr(path: str, name: str) -> bytes | None:
    if hasattr(os, "getxattr"):
        try:
            return os.getxattr(path, name)
        except OSError:
            return None  # no such attribute, or the file system has none
    if sys.platform == "darwin":  # pragma: no cover - exercised on macOS only
        return _darwin_getxattr(path, name)
    return None


def _darwin_getxattr(path: str, name: str) -> bytes | None:  # pragma: no cover - macOS only
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    buffer = ctypes.create_string_buffer(_MAX_XATTR)
    size = libc.getxattr(path.encode(), name.encode(), buffer, _MAX_XATTR, 0, 0)
    return buffer.raw[:size] if size >= 0 else None


def findings_from_tags(path: str) -> list[Finding]:
    """Tags that are markings (``Confidential``, ``TLP:AMBER``); colours like ``Red`` are not."""
    findings: list[Finding] = []
    raw = _read_xattr(path, XDG_TAGS)
    if raw:
        for tag in parse_xdg_tags(raw):
            findings.extend(_as_marking(Scheme.FILE_TAG, tag, f"file tag ({XDG_TAGS})"))
    raw = _read_xattr(path, FINDER_TAGS) if sys.platform == "darwin" else None
    if raw:  # pragma: no cover - macOS only
        for tag in parse_finder_tags(raw):
            findings.extend(_as_marking(Scheme.FILE_TAG, tag, "Finder tag"))
    return findings
