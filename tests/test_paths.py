"""``sendguard.paths.resolve_paths``: every path SendGuard uses, from one function.

Pure: computed for a made-up home, OS and environment; nothing here reads the real home."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import sendguard.policy
from sendguard import paths
from sendguard.audit.trail import AUDIT_FILE
from sendguard.paths import (
    default_data_dir,
    resolve_paths,
    system_policy_path,
    user_settings_path,
)
from sendguard.policy import load_policy
from sendguard.policy.last_good import LAST_GOOD_DIR

HOME = Path("/home/ann")


def test_linux_defaults_are_the_documented_ones() -> None:
    found = resolve_paths(home=HOME, platform="linux", environ={})
    data = HOME / ".local" / "share" / "SendGuard"
    assert found.data_dir == data
    assert found.journal == data / "journal.sqlite3"
    assert found.hold == data / "hold"
    assert found.audit == data / "audit.sqlite3"
    assert found.last_good == data / "last-good"
    assert found.not_shared == HOME / "SendGuard" / "Not shared"
    assert found.settings == HOME / ".config" / "sendguard" / "settings.toml"
    assert found.system_policy == Path("/etc/sendguard/policy.toml")
    assert found.demo_groups == HOME / "SendGuard" / "Demo groups"
    assert not found.policy_given and found.policy_option is None


def test_xdg_variables_move_data_and_settings_but_not_the_not_shared_folder() -> None:
    environ = {"XDG_DATA_HOME": "/xdg/data", "XDG_CONFIG_HOME": "/xdg/config"}
    found = resolve_paths(home=HOME, platform="linux", environ=environ)
    assert found.data_dir == Path("/xdg/data/SendGuard")
    assert found.settings == Path("/xdg/config/sendguard/settings.toml")
    assert found.not_shared == HOME / "SendGuard" / "Not shared"
    # The XDG spec: a relative path in these variables is ignored.
    relative = {"XDG_DATA_HOME": "data", "XDG_CONFIG_HOME": "config"}
    assert resolve_paths(home=HOME, platform="linux", environ=relative) == resolve_paths(
        home=HOME, platform="linux", environ={}
    )


def test_windows_and_macos_defaults() -> None:
    windows = resolve_paths(
        home=HOME,
        platform="win32",
        environ={
            "LOCALAPPDATA": r"C:\Users\ann\AppData\Local",
            "APPDATA": r"C:\Users\ann\AppData\Roaming",
            "ProgramData": r"D:\PD",
        },
    )
    assert str(windows.data_dir) == r"C:\Users\ann\AppData\Local\SendGuard"
    assert str(windows.settings) == r"C:\Users\ann\AppData\Roaming\SendGuard\settings.toml"
    assert str(windows.system_policy) == r"D:\PD\SendGuard\policy.toml"
    mac = resolve_paths(home=HOME, platform="darwin", environ={})
    support = HOME / "Library" / "Application Support" / "SendGuard"
    assert mac.data_dir == support
    assert mac.settings == support / "settings.toml"
    assert mac.system_policy == Path("/Library/Application Support/SendGuard/policy.toml")
    assert mac.not_shared == HOME / "SendGuard" / "Not shared"


def test_a_data_dir_moves_the_data_and_the_settings_not_the_not_shared_folder(
    tmp_path: Path,
) -> None:
    found = resolve_paths(tmp_path / "data", home=HOME, platform="linux", environ={})
    assert found.data_dir == tmp_path / "data"
    assert found.journal == tmp_path / "data" / "journal.sqlite3"
    assert found.settings == tmp_path / "data" / "settings.toml"
    assert found.not_shared == HOME / "SendGuard" / "Not shared"


def test_the_default_data_dir_given_explicitly_never_holds_the_settings() -> None:
    """The app passes its data folder along: that must not move the settings file."""
    default = default_data_dir(HOME, platform="linux", environ={})
    assert user_settings_path(default, home=HOME, platform="linux", environ={}) == (
        HOME / ".config" / "sendguard" / "settings.toml"
    )
    assert resolve_paths(default, home=HOME, platform="linux", environ={}) == resolve_paths(
        home=HOME, platform="linux", environ={}
    )


def test_options_win(tmp_path: Path) -> None:
    found = resolve_paths(
        tmp_path / "data",
        policy=tmp_path / "policy.toml",
        settings=tmp_path / "mine.toml",
        not_shared=tmp_path / "kept",
        home=HOME,
        platform="linux",
        environ={},
    )
    assert found.system_policy == tmp_path / "policy.toml"
    assert found.policy_given and found.policy_option == tmp_path / "policy.toml"
    assert found.settings == tmp_path / "mine.toml"
    assert found.not_shared == tmp_path / "kept"
    assert found.as_strings()["not_shared"] == str(tmp_path / "kept")
    assert [name for name, _ in found.listed()] == [
        "data folder",
        "journal",
        "hold area",
        "audit trail",
        "last good policy copies",
        '"Not shared" folder',
        "user settings",
        "system policy",
    ]


def test_the_names_are_those_the_engine_audit_and_policy_use() -> None:
    assert paths.AUDIT_FILE == AUDIT_FILE
    assert paths.LAST_GOOD_DIR == LAST_GOOD_DIR


def test_the_policy_package_re_exports_the_same_functions() -> None:
    assert sendguard.policy.user_settings_path is user_settings_path
    assert sendguard.policy.system_policy_path is system_policy_path


def test_load_policy_with_the_default_data_dir_reads_the_documented_settings_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the app does: it gives load_policy its data folder, the default one."""
    home = tmp_path / "home"
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    settings = home / ".config" / "sendguard" / "settings.toml"
    settings.parent.mkdir(parents=True)
    settings.write_text('[levels]\nunscannable = "SECRET"\n', encoding="utf-8")
    policy = load_policy(
        tmp_path / "none.toml", data_dir=default_data_dir(home), home=home, discover=False
    )
    [user] = [source for source in policy.sources if source.role == "user"]
    assert (user.path, user.status) == (settings, "loaded")
    assert policy.unscannable.name == "SECRET"


def test_paths_loads_neither_qt_nor_the_policy_package() -> None:
    code = (
        "import sys, sendguard.paths\n"
        "heavy = [m for m in sys.modules if m.startswith(('PySide6', 'sendguard.policy'))]\n"
        "print(heavy)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"
