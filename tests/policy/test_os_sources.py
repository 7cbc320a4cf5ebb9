"""Policy from the OS's management: Windows Group Policy values and macOS managed preferences.

The Windows registry cannot be read on Linux: these tests hand the reader a fake registry
object (the `RegistryAccess` protocol that `WindowsRegistry` implements with winreg), and the
winreg code itself runs only on Windows. macOS managed preferences are real plist files in
tmp_path, read with the same code that reads ``/Library/Managed Preferences``; what macOS
itself does (installing a profile's forced values there) is not run here.
"""

from __future__ import annotations

import os
import plistlib
from collections.abc import Iterable
from pathlib import Path

from sendguard.policy import Action, Policy, load_policy
from sendguard.policy.managed import (
    PREFERENCE_DOMAIN,
    REG_BINARY,
    REG_DWORD,
    REG_MULTI_SZ,
    REG_SZ,
    REGISTRY_KEY,
    ManagedValues,
    read_managed_preferences,
    read_registry,
)
from tests.policy import MINIMAL, write


class FakeRegistry:
    """HKEY_LOCAL_MACHINE as a dict: key → [(value name, data, type)]."""

    def __init__(self, keys: dict[str, list[tuple[str, object, int]]]) -> None:
        self.keys = keys

    def values(self, key: str) -> Iterable[tuple[str, object, int]] | None:
        return self.keys.get(key)


def load(
    tmp_path: Path, managed: list[ManagedValues], system: str | None = None, user: str = ""
) -> Policy:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    system_path = tmp_path / "etc" / "policy.toml"
    if system is not None:
        write(system_path, system)
    user_path = write(tmp_path / "config" / "settings.toml", user)
    return load_policy(
        system_path, user_path, home=home, discover=False, managed=managed, data_dir=tmp_path
    )


GROUP_POLICY_DOCUMENT = [
    "[[groups]]",
    'name = "Editors\' Desk"',
    'folders = ["~/Dropbox/Editors"]',
    'clearance = "INTERNAL"',
]


def test_group_policy_values_lock_settings_over_the_file(tmp_path: Path) -> None:
    registry = FakeRegistry(
        {
            REGISTRY_KEY: [
                ("Policy", GROUP_POLICY_DOCUMENT, REG_MULTI_SZ),
                ("ui.allow_quit", 0, REG_DWORD),
                ("levels.unscannable", "SECRET", REG_SZ),
                ("actions.above_1", "type-group-name", REG_SZ),
                ("discovery.exclude", ["Camera Uploads"], REG_MULTI_SZ),
            ]
        }
    )
    managed = read_registry(registry)
    assert managed is not None
    policy = load(
        tmp_path,
        [managed],
        system=MINIMAL + '\n[levels]\nunscannable = "INTERNAL"\n',
        user="[ui]\nallow_quit = true\n",
    )
    assert policy.error is None
    assert policy.managed
    assert policy.ui.allow_quit is False
    assert policy.is_locked("ui.allow_quit")
    # The registry's value wins over the file's.
    assert policy.unscannable.name == "SECRET"
    assert policy.action_for(1) is Action.TYPE_GROUP_NAME
    assert policy.discovery.exclude == ("Camera Uploads",)
    editors = policy.group("Editors' Desk")
    assert editors is not None and editors.clearance.name == "INTERNAL"
    assert policy.group("Family") is not None  # the file's group is still there
    source = str(policy.source_of("ui.allow_quit"))
    assert "HKLM" in source and "Policies" in source and "SendGuard" in source
    # The user's attempt to allow quitting is noted as ignored.
    assert any("allow_quit" in note and "ignored" in note for note in policy.notes)


def test_group_policy_alone_makes_a_managed_policy(tmp_path: Path) -> None:
    registry = FakeRegistry({REGISTRY_KEY: [("ui.allow_pause", 0, REG_DWORD)]})
    managed = read_registry(registry)
    assert managed is not None
    policy = load(tmp_path, [managed], user="[ui]\nallow_pause = true\n")
    assert policy.error is None and policy.managed
    assert policy.ui.allow_pause is False


def test_no_group_policy_key_means_no_managed_values() -> None:
    assert read_registry(FakeRegistry({})) is None
    assert read_registry(FakeRegistry({REGISTRY_KEY: []})) is None


def test_a_bad_group_policy_value_holds_everything(tmp_path: Path) -> None:
    registry = FakeRegistry({REGISTRY_KEY: [("levels.unscannable", "SECRTE", REG_SZ)]})
    managed = read_registry(registry)
    assert managed is not None
    policy = load(tmp_path, [managed], system=MINIMAL)
    assert policy.hold_everything
    message = str(policy.error)
    assert "HKLM" in message and "SECRTE" in message and 'did you mean "SECRET"' in message
    assert policy.group("Family") is not None  # still watched


def test_an_unknown_or_mistyped_group_policy_value_is_named(tmp_path: Path) -> None:
    unknown = read_registry(FakeRegistry({REGISTRY_KEY: [("ui.allow_quitt", 0, REG_DWORD)]}))
    assert unknown is not None
    policy = load(tmp_path, [unknown])
    assert policy.hold_everything and "allow_quitt" in str(policy.error)

    binary = read_registry(FakeRegistry({REGISTRY_KEY: [("ui.allow_quit", b"\0", REG_BINARY)]}))
    assert binary is not None
    policy = load(tmp_path, [binary])
    assert policy.hold_everything and "registry value type 3" in str(policy.error)

    bare = read_registry(FakeRegistry({REGISTRY_KEY: [("Quit", 0, REG_DWORD)]}))
    assert bare is not None
    policy = load(tmp_path, [bare])
    assert policy.hold_everything and "a setting's key such as ui.allow_quit" in str(policy.error)


def test_a_dword_that_is_not_0_or_1_is_not_a_boolean(tmp_path: Path) -> None:
    managed = read_registry(FakeRegistry({REGISTRY_KEY: [("ui.allow_quit", 2, REG_DWORD)]}))
    assert managed is not None
    policy = load(tmp_path, [managed])
    assert policy.hold_everything
    assert "true or false" in str(policy.error)


# --- macOS managed preferences ---------------------------------------------------------------


def write_plist(path: Path, values: dict[str, object]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(plistlib.dumps(values))
    return path


def test_forced_managed_preferences_lock_settings(tmp_path: Path) -> None:
    root = tmp_path / "Managed Preferences"
    write_plist(
        root / f"{PREFERENCE_DOMAIN}.plist",
        {
            "PayloadUUID": "ignored: about the profile, not a setting",
            "ui.allow_quit": False,
            "Policy": "\n".join(GROUP_POLICY_DOCUMENT),
        },
    )
    write_plist(root / "ann" / f"{PREFERENCE_DOMAIN}.plist", {"levels.unscannable": "SECRET"})
    found = read_managed_preferences("ann", root, trusted_owners=(os.getuid(),))
    assert [m.where.name for m in found] == [f"{PREFERENCE_DOMAIN}.plist"] * 2
    policy = load(tmp_path, found, user="[ui]\nallow_quit = true\n")
    assert policy.error is None
    assert policy.ui.allow_quit is False and policy.is_locked("ui.allow_quit")
    assert policy.unscannable.name == "SECRET"
    assert policy.group("Editors' Desk") is not None


def test_managed_preferences_someone_else_could_write_are_not_read(tmp_path: Path) -> None:
    root = tmp_path / "Managed Preferences"
    write_plist(root / f"{PREFERENCE_DOMAIN}.plist", {"ui.allow_quit": False})
    not_root = os.getuid() + 1
    assert read_managed_preferences(None, root, trusted_owners=(not_root,)) == []


def test_user_preferences_are_not_managed_preferences(tmp_path: Path) -> None:
    """Only the forced values under Managed Preferences count: a user's own preferences
    (where "set once" values and the user's choices live) are never read."""
    root = tmp_path / "Managed Preferences"
    write_plist(
        tmp_path / "home" / "Library" / "Preferences" / f"{PREFERENCE_DOMAIN}.plist",
        {"ui.allow_quit": False},
    )
    assert read_managed_preferences("ann", root, trusted_owners=(os.getuid(),)) == []


def test_a_damaged_managed_preferences_file_holds_everything(tmp_path: Path) -> None:
    root = tmp_path / "Managed Preferences"
    (root).mkdir()
    (root / f"{PREFERENCE_DOMAIN}.plist").write_bytes(b"<?xml version='1.0'?><plist><dict>")
    found = read_managed_preferences(None, root, trusted_owners=(os.getuid(),))
    policy = load(tmp_path, found, system=MINIMAL)
    assert policy.hold_everything
    assert "a readable property list" in str(policy.error)
