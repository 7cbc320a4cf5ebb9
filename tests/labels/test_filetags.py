"""Labels outside the content: file-system tags and file names."""

from __future__ import annotations

import os
import plistlib
import re
from pathlib import Path

import pytest

from sendguard.labels import Scheme, Verdict, detect
from sendguard.labels.filetags import findings_from_name, parse_finder_tags, parse_xdg_tags


def _xattrs_supported(folder: Path) -> bool:
    probe = folder / "probe"
    probe.write_text("x")
    try:
        os.setxattr(probe, "user.sendguard.probe", b"1")
    except OSError:
        return False
    return True


@pytest.mark.skipif(not hasattr(os, "setxattr"), reason="extended attributes are Linux-only here")
def test_xdg_tag_that_is_a_marking_labels_the_file(tmp_path: Path) -> None:
    if not _xattrs_supported(tmp_path):
        pytest.fail(f"the test folder {tmp_path} does not support user xattrs")
    path = tmp_path / "plain.bin"
    path.write_bytes(b"\x00\x01\x02")
    os.setxattr(path, "user.xdg.tags", b"project-x,Confidential")
    result = detect(path)
    assert result.verdict is Verdict.LABELLED
    [label] = result.labels
    assert label.scheme is Scheme.FILE_TAG
    assert label.value == "Confidential"
    assert label.where == ("file tag (user.xdg.tags)",)


@pytest.mark.skipif(not hasattr(os, "setxattr"), reason="extended attributes are Linux-only here")
def test_ordinary_tags_are_not_labels(tmp_path: Path) -> None:
    path = tmp_path / "plain.bin"
    path.write_bytes(b"\x00\x01\x02")
    os.setxattr(path, "user.xdg.tags", b"holiday,Red,2024")
    assert detect(path).verdict is Verdict.CLEAN


def test_tag_lists_parse() -> None:
    assert parse_xdg_tags(b"a, b ,,c\x00") == ["a", "b", "c"]
    # Finder writes each tag as "name\n<colour index>" in a binary plist.
    raw = plistlib.dumps(["Confidential\n6", "Work"], fmt=plistlib.FMT_BINARY)
    assert parse_finder_tags(raw) == ["Confidential", "Work"]
    assert parse_finder_tags(b"not a plist") == []


@pytest.mark.parametrize(
    ("name", "marking"),
    [
        ("Budget [CONFIDENTIAL].xlsx", "CONFIDENTIAL"),
        ("(TLP-AMBER) incident notes.txt", "TLP:AMBER"),
        ("brief_TLP_RED_v2.pdf", "TLP:RED"),
        ("【机密★1年】通知.docx", "机密"),
    ],
)
def test_markings_in_file_names(name: str, marking: str) -> None:
    [finding] = findings_from_name(name)
    assert finding.scheme is Scheme.FILE_NAME
    assert finding.marking == marking


@pytest.mark.parametrize(
    "name", ["secret-santa-list.xlsx", "Confidentiality agreement.docx", "report (2).pdf"]
)
def test_ordinary_names_are_not_labels(name: str) -> None:
    assert findings_from_name(name) == []


def test_policy_pattern_in_a_file_name() -> None:
    [finding] = findings_from_name("Q3 DRAFT-EYES-ONLY.docx", [re.compile(r"EYES-ONLY")])
    assert finding.scheme is Scheme.FILE_NAME
    assert finding.value == "EYES-ONLY"
