"""Policy keys for photos (OCR), work sources and forwarding: read, checked, layered."""

from __future__ import annotations

from pathlib import Path

from sendguard.policy import Action
from tests.policy import load

NEWSROOM = """\
[[groups]]
name = "Work — Newsroom"
folders = ["~/Dropbox/Newsroom"]
sources = ["~/Downloads/Telegram Desktop", "~/Documents/WeChat Files/wxid_1/FileStorage/File"]
clearance = "CONFIDENTIAL"
forwarding = "confirm"

[[groups]]
name = "Family"
folders = ["~/Dropbox/Family"]

[ocr]
required = true
"""


def test_sources_forwarding_and_ocr_are_read(tmp_path: Path) -> None:
    policy = load(tmp_path, NEWSROOM)
    assert policy.error is None, policy.error
    newsroom, family = policy.groups
    home = tmp_path / "home"
    assert newsroom.sources == (
        home / "Downloads" / "Telegram Desktop",
        home / "Documents" / "WeChat Files" / "wxid_1" / "FileStorage" / "File",
    )
    assert newsroom.forwarding is Action.CONFIRM
    assert family.sources == () and family.forwarding is None
    assert policy.ocr.enabled and policy.ocr.required
    assert policy.is_locked('groups."Work — Newsroom".forwarding')


def test_the_built_in_policy_reads_photos_without_requiring_ocr(tmp_path: Path) -> None:
    policy = load(tmp_path)
    assert policy.ocr.enabled and not policy.ocr.required
    assert all(group.forwarding is None for group in policy.groups)


def test_bad_values_say_how_to_fix_them(tmp_path: Path) -> None:
    bad = NEWSROOM.replace('forwarding = "confirm"', 'forwarding = "confrim"').replace(
        '"~/Downloads/Telegram Desktop"', '"~/Dropbox/Newsroom/Telegram"'
    )
    policy = load(tmp_path, bad)
    assert policy.error is not None
    messages = [str(error) for error in policy.error.all()]
    assert any(
        "sources[0]: expected a source folder outside the group's folders" in m for m in messages
    )
    assert any(
        "forwarding: expected one of notify, confirm" in m and '"confirm"?' in m for m in messages
    )


def test_users_may_only_make_forwarding_stricter_and_add_sources(tmp_path: Path) -> None:
    user = """\
[[groups]]
name = "work — newsroom"
folders = ["~/Dropbox/Newsroom"]
sources = ["~/Downloads/Signal"]
forwarding = "notify"

[ocr]
required = false
"""
    policy = load(tmp_path, NEWSROOM, user)
    newsroom = policy.groups[0]
    assert newsroom.forwarding is Action.CONFIRM  # notify would be milder: ignored
    assert newsroom.sources[-1] == tmp_path / "home" / "Downloads" / "Signal"
    assert policy.ocr.required
    assert any("forwarding" in note and "stricter" in note for note in policy.notes)
    stricter = load(tmp_path, NEWSROOM, user.replace('"notify"', '"justify"'))
    assert stricter.groups[0].forwarding is Action.JUSTIFY
