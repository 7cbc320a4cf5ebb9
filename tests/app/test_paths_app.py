"""One truth for paths: the app's controller and the commands find the same "Not shared"
folder, data folder and user settings file for the same options; Diagnostics lists them.

A temporary home throughout (HOME and the XDG variables): nothing reads the real user's."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from sendguard.app.controller import Controller
from sendguard.cli import build_parser
from sendguard.cli.engine import _config, _policy
from sendguard.cli.locations import paths_from
from sendguard.policy import Policy
from tests.app.conftest import TLP_RED, AppWorld

POLICY = """
[discovery]
enabled = false

[[groups]]
name = "Family"
folders = ["{root}/Dropbox/Family"]
clearance = "PUBLIC"
"""


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary home, as HOME, with no XDG variables: the documented defaults apply."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME"):
        monkeypatch.delenv(name, raising=False)
    return home


def user_source(policy: Policy) -> Path:
    [source] = [source for source in policy.sources if source.role == "user"]
    return source.path


def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(POLICY.format(root=tmp_path), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"data_dir": "data"},
        {"data_dir": "data", "not_shared": "kept"},
        {"policy": True, "not_shared": "kept"},
        {"policy": True, "data_dir": "data"},
        {"data_dir": "<default>"},  # the default data folder, given explicitly
    ],
)
def test_the_app_and_the_commands_resolve_the_same_paths(
    qtbot: QtBot, tmp_path: Path, home: Path, options: dict[str, object]
) -> None:
    policy = policy_file(tmp_path) if options.get("policy") else None
    raw = options.get("data_dir")
    data_dir = None
    if raw == "<default>":
        data_dir = home / ".local" / "share" / "SendGuard"
    elif raw is not None:
        data_dir = tmp_path / str(raw)
    not_shared = tmp_path / str(options["not_shared"]) if "not_shared" in options else None
    argv = ["held", "list"]
    for flag, value in (
        ("--policy", policy),
        ("--data-dir", data_dir),
        ("--not-shared", not_shared),
    ):
        if value is not None:
            argv += [flag, str(value)]
    args = build_parser().parse_args(argv)

    controller = Controller(policy_path=policy, data_dir=data_dir, not_shared=not_shared)
    try:
        assert controller.paths == paths_from(args)
        assert controller.not_shared_root == _config(args).not_shared_root
        assert controller.data_dir == _config(args).data_dir
        assert user_source(controller.policy) == user_source(_policy(args))
    finally:
        controller.stop()
    expected_not_shared = not_shared or home / "SendGuard" / "Not shared"
    assert controller.not_shared_root == expected_not_shared
    documented = home / ".config" / "sendguard" / "settings.toml"
    if raw == "data":
        assert user_source(controller.policy) == tmp_path / "data" / "settings.toml"
    else:
        assert user_source(controller.policy) == documented


def test_the_app_reads_the_user_settings_file_where_the_docs_say(
    qtbot: QtBot, tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/policy.md: ``$XDG_CONFIG_HOME/sendguard/settings.toml``, by default
    ``~/.config/sendguard/settings.toml`` — not a file in the data folder."""
    policy = policy_file(tmp_path)
    default = home / ".config" / "sendguard" / "settings.toml"
    default.parent.mkdir(parents=True)
    default.write_text('[levels]\nunscannable = "SECRET"\n', encoding="utf-8")
    controller = Controller(policy_path=policy)
    assert controller.data_dir == home / ".local" / "share" / "SendGuard"
    assert user_source(controller.policy) == default
    assert controller.policy.unscannable.name == "SECRET"
    controller.stop()

    config = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    moved = config / "sendguard" / "settings.toml"
    moved.parent.mkdir(parents=True)
    moved.write_text('[levels]\nunscannable = "TOP SECRET"\n', encoding="utf-8")
    controller = Controller(policy_path=policy, home=home)
    assert user_source(controller.policy) == moved
    assert controller.policy.unscannable.name == "TOP SECRET"
    controller.stop()


def test_diagnostics_show_every_path(make_app, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    world: AppWorld = make_app()
    text = world.shell.open_diagnostics().text.toPlainText()
    data = tmp_path / "data"
    for line in (
        f"Data folder: {data}",
        f"Journal: {data / 'journal.sqlite3'}",
        f"Hold area: {data / 'hold'}",
        f"Audit trail: {data / 'audit.sqlite3'}",
        f"Last good policy copies: {data / 'last-good'}",
        f'The "Not shared" folder: {tmp_path / "Not shared"}',
        f"User settings file: {data / 'settings.toml'}",
        f"System policy file: {tmp_path / 'policy.toml'}",
    ):
        assert line in text.splitlines()


def test_a_file_the_command_returns_is_where_the_app_says(
    qtbot: QtBot, tmp_path: Path, home: Path
) -> None:
    """The measured problem: `sendguard held return` put the file in ~/SendGuard/Not shared
    while the app's menu opened <data dir>/Not shared. Both with no location option."""
    policy = policy_file(tmp_path)
    family = tmp_path / "Dropbox" / "Family"
    family.mkdir(parents=True)
    env = {key: value for key, value in os.environ.items() if not key.startswith("XDG_")} | {
        "HOME": str(home),
        "PYTHONIOENCODING": "utf-8",
        "DBUS_SESSION_BUS_ADDRESS": f"unix:path={tmp_path}/no-bus",  # no real keyring
    }
    command = [sys.executable, "-m", "sendguard"]
    engine = subprocess.Popen(
        [*command, "run", "--headless", "--policy", str(policy)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert engine.stdout is not None
    try:
        line = ""
        while "Press Ctrl-C" not in line:
            line = engine.stdout.readline()
            assert line, engine.stderr.read() if engine.stderr else "engine ended"
        (family / "plan.txt").write_bytes(TLP_RED)
        while "held #1" not in line:
            line = engine.stdout.readline()
            assert line, "engine ended before holding the file"
    finally:
        engine.send_signal(signal.SIGINT)
        engine.communicate(timeout=30)
    returned = subprocess.run(
        [*command, "held", "return", "1", "--policy", str(policy)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert returned.returncode == 0, returned.stderr

    controller = Controller(policy_path=policy)
    assert (controller.not_shared_root / "Family" / "plan.txt").read_bytes() == TLP_RED
    assert controller.not_shared_root == home / "SendGuard" / "Not shared"
    assert controller.paths.journal.is_file()  # the journal the command wrote
    controller.stop()
