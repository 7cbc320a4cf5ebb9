"""Built-in < user settings < system policy: locking, tightening only, hold-everything, hashes."""

from __future__ import annotations

from pathlib import Path

import pytest

from sendguard.labels import Findings
from sendguard.policy import (
    Action,
    Group,
    decide,
    load_policy,
    system_policy_path,
    user_settings_path,
)
from tests.policy import MINIMAL, load, write

SYSTEM_RICH = (
    MINIMAL
    + """
[levels]
unscannable = "CONFIDENTIAL"

[mappings.markings.tlp]
"TLP:AMBER" = "CONFIDENTIAL"

[actions]
above_1 = "confirm"

[ui]
allow_quit = false

[discovery]
enabled = true
default_clearance = "INTERNAL"
exclude = ["Camera Uploads", "Apps"]
roots = ["~/Work"]
"""
)


# --- where the files are ---------------------------------------------------------------------


def test_system_policy_path_per_os() -> None:
    assert str(system_policy_path("linux", {})) == "/etc/sendguard/policy.toml"
    assert str(system_policy_path("win32", {"ProgramData": r"D:\PD"})) == (
        r"D:\PD\SendGuard\policy.toml"
    )
    assert str(system_policy_path("win32", {})) == r"C:\ProgramData\SendGuard\policy.toml"
    assert str(system_policy_path("darwin", {})) == (
        "/Library/Application Support/SendGuard/policy.toml"
    )


def test_user_settings_path_per_os(tmp_path: Path) -> None:
    home = Path("/home/ann")
    assert user_settings_path(home=home, platform="linux", environ={}) == Path(
        "/home/ann/.config/sendguard/settings.toml"
    )
    assert user_settings_path(
        home=home, platform="linux", environ={"XDG_CONFIG_HOME": "/xdg"}
    ) == Path("/xdg/sendguard/settings.toml")
    assert str(
        user_settings_path(home=home, platform="win32", environ={"APPDATA": r"C:\Users\ann\AD"})
    ) == (r"C:\Users\ann\AD\SendGuard\settings.toml")
    assert user_settings_path(home=home, platform="darwin", environ={}) == Path(
        "/home/ann/Library/Application Support/SendGuard/settings.toml"
    )
    assert user_settings_path(tmp_path) == tmp_path / "settings.toml"


def test_data_dir_holds_the_user_settings(tmp_path: Path) -> None:
    data = tmp_path / "data"
    write(data / "settings.toml", '[levels]\nunscannable = "SECRET"\n')
    policy = load_policy(tmp_path / "none.toml", data_dir=data, home=tmp_path, discover=False)
    assert policy.unscannable.name == "SECRET"


# --- no policy installed ---------------------------------------------------------------------


def test_with_no_policy_sendguard_still_protects(tmp_path: Path) -> None:
    (tmp_path / "home" / "Dropbox" / "Family").mkdir(parents=True)
    policy = load(tmp_path, None, None, discover=True)
    assert policy.error is None and not policy.managed
    assert [level.name for level in policy.levels] == [
        "PUBLIC",
        "INTERNAL",
        "CONFIDENTIAL",
        "SECRET",
        "TOP SECRET",
    ]
    assert policy.unknown_mip_label.name == "CONFIDENTIAL"
    assert policy.mappings.markings["tlp"]["TLP:RED"].name == "SECRET"
    [family] = policy.groups
    assert family.name == "Family" and family.discovered
    assert family.clearance.name == "PUBLIC"
    assert [source.status for source in policy.sources] == ["missing", "missing"]


def test_with_no_system_policy_the_users_settings_are_the_policy(tmp_path: Path) -> None:
    policy = load(
        tmp_path,
        None,
        '[levels]\norder = ["LOW", "HIGH"]\nunscannable = "LOW"\n\n'
        '[[groups]]\nname = "Team"\nfolders = ["~/Team"]\nclearance = "HIGH"\n',
    )
    assert policy.error is None
    assert [level.name for level in policy.levels] == ["LOW", "HIGH"]
    assert policy.unscannable.name == "LOW"
    assert not policy.is_locked("levels.unscannable")
    assert str(policy.source_of("levels.unscannable")).startswith("user settings ")


# --- user settings may only tighten the system policy ----------------------------------------


@pytest.mark.parametrize(
    ("user", "key", "kept"),
    [
        ('[[groups]]\nname = "Family"\nfolders = ["~/Dropbox/Family"]\nclearance = "SECRET"\n',
         "groups.Family.clearance", "PUBLIC"),
        ('[levels]\nunscannable = "PUBLIC"\n', "levels.unscannable", "CONFIDENTIAL"),
        ('[mappings.markings.tlp]\n"TLP:AMBER" = "PUBLIC"\n',
         'mappings.markings.tlp."TLP:AMBER"', "CONFIDENTIAL"),
        ('[actions]\nabove_1 = "notify"\n', "actions.above_1", "confirm"),
        ("[ui]\nallow_quit = true\n", "ui.allow_quit", False),
        ("[discovery]\nenabled = false\n", "discovery.enabled", True),
        ('[discovery]\ndefault_clearance = "SECRET"\n', "discovery.default_clearance", "INTERNAL"),
        ('[discovery]\nexclude = ["Camera Uploads", "Apps", "Team"]\n', "discovery.exclude",
         ["Camera Uploads", "Apps"]),
        ('[levels]\norder = ["A", "B"]\n', "levels.order",
         ["PUBLIC", "INTERNAL", "CONFIDENTIAL", "SECRET", "TOP SECRET"]),
    ],
)  # fmt: skip
def test_a_loosening_user_value_is_ignored_with_a_note(
    tmp_path: Path, user: str, key: str, kept: object
) -> None:
    policy = load(tmp_path, SYSTEM_RICH, user)
    assert policy.error is None
    assert policy.settings[key].value == kept
    if key != "levels.order":
        assert policy.is_locked(key)
        assert policy.settings[key].source.kind == "system"
    [note] = policy.notes
    assert key in note and "ignored" in note
    assert "settings.toml, line " in note


@pytest.mark.parametrize(
    ("user", "key", "value"),
    [
        ('[[groups]]\nname = "family"\nfolders = ["~/Dropbox/Family"]\nclearance = "public"\n'
         '\n[[groups]]\nname = "Work"\nfolders = ["~/Work"]\nclearance = "SECRET"\n',
         "groups.Work.clearance", "SECRET"),
        ('[levels]\nunscannable = "SECRET"\n', "levels.unscannable", "SECRET"),
        ('[mappings.markings.tlp]\n"TLP:AMBER" = "SECRET"\n',
         'mappings.markings.tlp."TLP:AMBER"', "SECRET"),
        ('[actions]\nabove_1 = "block"\n', "actions.above_1", "block"),
        ("[ui]\nallow_pause = false\n", "ui.allow_pause", False),
        ('[discovery]\ndefault_clearance = "PUBLIC"\n', "discovery.default_clearance", "PUBLIC"),
        ('[discovery]\nexclude = ["Apps"]\n', "discovery.exclude", ["Apps"]),
    ],
)  # fmt: skip
def test_a_tightening_user_value_is_used(
    tmp_path: Path, user: str, key: str, value: object
) -> None:
    policy = load(tmp_path, SYSTEM_RICH, user)
    assert policy.error is None
    assert policy.notes == ()
    assert policy.settings[key].value == value


def test_user_may_lower_a_groups_clearance_and_add_folders_and_groups(tmp_path: Path) -> None:
    system = MINIMAL.replace('"PUBLIC"', '"CONFIDENTIAL"')
    user = (
        '[[groups]]\nname = "FAMILY"\nfolders = ["~/Chat/Family"]\nclearance = "INTERNAL"\n\n'
        '[[groups]]\nname = "Club"\nfolders = ["~/Dropbox/Club"]\nclearance = "PUBLIC"\n'
    )
    policy = load(tmp_path, system, user)
    assert policy.notes == ()
    family = policy.group("Family")
    assert family is not None
    assert family.clearance.name == "INTERNAL"
    assert family.folders == (
        tmp_path / "home" / "Dropbox" / "Family",
        tmp_path / "home" / "Chat" / "Family",
    )
    folders = policy.settings["groups.Family.folders"]
    assert folders.source.kind == "system" and folders.locked
    assert folders.added_by is not None and folders.added_by.kind == "user"
    assert "+ user settings" in folders.provenance()
    club = policy.group("Club")
    assert club is not None and club.source.kind == "user"
    assert not policy.is_locked("groups.Club.clearance")


def test_user_cannot_move_a_system_groups_folder_into_another_group(tmp_path: Path) -> None:
    user = (
        '[[groups]]\nname = "Mine"\nfolders = ["~/Dropbox/Family", "~/Mine"]\n'
        'clearance = "SECRET"\n'
    )
    policy = load(tmp_path, MINIMAL, user)
    mine = policy.group("Mine")
    assert mine is not None and mine.folders == (tmp_path / "home" / "Mine",)
    [note] = policy.notes
    assert '"~/Dropbox/Family" ignored' in note and '"Family"' in note
    target = tmp_path / "home" / "Dropbox" / "Family" / "a.pdf"
    group = policy.group_for(target)
    assert group is not None and group.name == "Family"


def test_keys_the_system_policy_does_not_set_are_the_users(tmp_path: Path) -> None:
    policy = load(tmp_path, MINIMAL, '[levels]\nunscannable = "INTERNAL"\n')
    assert policy.notes == ()
    assert policy.unscannable.name == "INTERNAL"
    assert not policy.is_locked("levels.unscannable")
    assert policy.is_locked("groups.Family.clearance")
    assert policy.managed


def test_group_without_clearance_gets_the_default_clearance(tmp_path: Path) -> None:
    system = (
        '[discovery]\ndefault_clearance = "INTERNAL"\n\n[[groups]]\nname = "A"\nfolders = ["~/A"]\n'
    )
    policy = load(
        tmp_path, system, '[[groups]]\nname = "A"\nfolders = ["~/A"]\nclearance = "SECRET"\n'
    )
    group = policy.group("A")
    assert group is not None and group.clearance.name == "INTERNAL"
    assert policy.settings["groups.A.clearance"].source.kind == "system"
    # Its clearance is the organisation's even though the group does not state it.
    assert policy.is_locked("groups.A.clearance")
    [note] = policy.notes
    assert 'groups.A.clearance = "SECRET" ignored' in note


# --- hold everything -------------------------------------------------------------------------


def _held(tmp_path: Path, policy_text: str | None = None) -> None:
    findings = Findings(path=str(tmp_path / "clean.txt"), format="text")
    policy = load(tmp_path, policy_text)
    assert policy.hold_everything
    group = policy.group("Family") or next(iter(policy.groups), None)
    if group is None:
        group = Group("Anyone", (tmp_path,), policy.levels[-1])
    decision = decide(findings, group, policy)
    assert decision.action is Action.BLOCK
    assert decision.hold_reason == str(policy.error)
    assert str(policy.error) in decision.explanation


def test_invalid_system_policy_holds_everything_with_the_reason(tmp_path: Path) -> None:
    policy = load(tmp_path, MINIMAL.replace('"PUBLIC"', '"PUBLC"'))
    assert policy.error is not None
    assert policy.error.line == 4 and policy.error.key == "groups[0].clearance"
    assert "etc/policy.toml, line 4" in str(policy.error)
    assert [s.status for s in policy.sources] == ["invalid", "missing"]
    assert policy.sources[0].sha256 is not None
    _held(tmp_path, MINIMAL.replace('"PUBLIC"', '"PUBLC"'))


def test_unreadable_system_policy_holds_everything(tmp_path: Path) -> None:
    (tmp_path / "etc" / "policy.toml").mkdir(parents=True)
    policy = load(tmp_path)
    assert policy.error is not None and "got a folder" in str(policy.error)
    assert policy.managed
    _held(tmp_path)


def test_invalid_user_settings_hold_everything_too(tmp_path: Path) -> None:
    policy = load(tmp_path, MINIMAL, "[ui\n")
    assert policy.error is not None
    assert "settings.toml, line 1" in str(policy.error)
    assert "valid TOML" in str(policy.error)


def test_a_policy_named_on_the_command_line_must_exist(tmp_path: Path) -> None:
    policy = load_policy(
        tmp_path / "typo.toml", tmp_path / "none.toml", system_required=True, home=tmp_path
    )
    assert policy.error is not None and "no file there" in str(policy.error)
    quiet = load_policy(tmp_path / "typo.toml", tmp_path / "none.toml", home=tmp_path)
    assert quiet.error is None


# --- hash, custom ladders, lookups -----------------------------------------------------------


def test_policy_hash_is_of_the_effective_values(tmp_path: Path) -> None:
    first = load(tmp_path / "a", MINIMAL)
    reformatted = load(tmp_path / "b", "# a comment\n" + MINIMAL.replace(" = ", "="))
    changed = load(tmp_path / "c", MINIMAL.replace('"PUBLIC"', '"INTERNAL"'))
    assert len(first.sha256) == 64
    # Same values, another home folder and other bytes: the same effective hash...
    assert first.sha256 == reformatted.sha256
    # ...but each file's own hash differs, and the audit records both.
    assert first.sources[0].sha256 != reformatted.sources[0].sha256
    assert first.sha256 != changed.sha256
    held = load(tmp_path / "d", MINIMAL.replace('"PUBLIC"', '"X"'))
    assert held.sha256 not in (first.sha256, changed.sha256)


def test_custom_ladder_rounds_built_in_levels_up_with_a_note(tmp_path: Path) -> None:
    policy = load(tmp_path, '[levels]\norder = ["OPEN", "CONFIDENTIAL", "STRICTLY CONFIDENTIAL"]\n')
    assert policy.error is None
    tlp = policy.mappings.markings["tlp"]
    assert tlp["TLP:CLEAR"].name == "CONFIDENTIAL"  # no PUBLIC, no INTERNAL: rounds up
    assert tlp["TLP:RED"].name == "STRICTLY CONFIDENTIAL"  # no SECRET or above: the top
    assert policy.unscannable.name == "CONFIDENTIAL"
    assert len(policy.actions) == 2
    assert any("no level SECRET" in note for note in policy.notes)


def test_name_patterns_and_group_for(tmp_path: Path) -> None:
    system = (
        "[mappings.patterns]\n'\\[ORCHID\\]' = \"SECRET\"\n\n"
        + MINIMAL
        + '\n[[groups]]\nname = "Inner"\nfolders = ["~/Dropbox/Family/Inner"]\n'
    )
    policy = load(tmp_path, system)
    [pattern] = policy.name_patterns
    assert pattern.search("plan [ORCHID].docx")
    home = tmp_path / "home"
    inner = policy.group_for(home / "Dropbox" / "Family" / "Inner" / "x.pdf")
    outer = policy.group_for(home / "Dropbox" / "Family" / "x.pdf")
    assert inner is not None and inner.name == "Inner"
    assert outer is not None and outer.name == "Family"
    assert policy.group_for(home / "Elsewhere" / "x.pdf") is None


def test_action_ladder_never_gets_milder_across_layers(tmp_path: Path) -> None:
    policy = load(tmp_path, '[actions]\nabove_3 = "justify"\n', '[actions]\nabove_2 = "block"\n')
    assert [a.value for a in policy.actions] == ["confirm", "block", "block", "block"]
    assert policy.action_for(0) is None
    assert policy.action_for(9) is Action.BLOCK


def test_invalid_system_policy_keeps_its_group_folders_watched(tmp_path: Path) -> None:
    # A typo in one value must not leave the group's folder unwatched (that would fail open).
    system = tmp_path / "policy.toml"
    system.write_text(
        '[[groups]]\nname = "Family"\nfolders = ["~/Dropbox/Family"]\nclearance = "SECRTE"\n'
    )
    policy = load_policy(system, tmp_path / "none.toml", system_required=True, home=tmp_path)
    assert policy.hold_everything
    family = policy.group("Family")
    assert family is not None
    assert family.folders == (tmp_path / "Dropbox" / "Family",)
