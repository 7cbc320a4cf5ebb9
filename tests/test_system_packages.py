"""tools/system_packages.py, which `make test` runs first: the system packages the tests need
are looked up for real (dpkg-query on this machine), a missing one is named with the exact
command that installs it, and as root it is handed to apt-get (a stand-in here: nothing is
installed by these tests)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tools" / "system_packages.py"
LIST = ROOT / "tools" / "system-packages.txt"
MADE_UP = "sendguard-no-such-package-zz"
SUDO = "" if os.geteuid() == 0 else "sudo "
needs_dpkg = pytest.mark.skipif(
    shutil.which("dpkg-query") is None, reason="dpkg-query: Debian and Ubuntu only"
)


def check(
    listing: str, tmp_path: Path, *options: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "packages.txt"
    path.write_text(listing, encoding="utf-8")
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--list", str(path), *options],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )


@needs_dpkg
def test_an_installed_package_is_found(tmp_path: Path) -> None:
    done = check("dpkg   dpkg-query   # the package manager\n", tmp_path, "--no-install")
    assert done.returncode == 0, done.stderr
    assert "The 1 system packages the tests need are installed" in done.stdout
    assert done.stderr == ""


@needs_dpkg
def test_a_missing_package_is_named_with_the_command_that_installs_it(tmp_path: Path) -> None:
    listing = f"dpkg  # the package manager\n{MADE_UP}  zz-command  # a test made it up\n"
    done = check(listing, tmp_path, "--no-install")
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert lines[0] == "SendGuard's tests need system packages that are not installed (1):"
    assert lines[1].split() == [MADE_UP, "a", "test", "made", "it", "up"]
    assert f"  {SUDO}apt-get install -y {MADE_UP}" in lines  # the exact command
    assert "make test SYSTEM_CHECK=0" in done.stderr
    assert not any(line.split()[:1] == ["dpkg"] for line in lines)  # dpkg is installed


@needs_dpkg
def test_as_root_the_missing_packages_go_to_apt_get(tmp_path: Path) -> None:
    """A stand-in apt-get first on PATH records how it was called (and installs nothing, so
    the package is still missing afterwards and reported). Not root: apt-get is not called,
    the command with sudo is given instead."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "apt-get.calls"
    fake = bin_dir / "apt-get"
    fake.write_text(f'#!/bin/sh\necho "$DEBIAN_FRONTEND $*" >> "{calls}"\n', encoding="utf-8")
    fake.chmod(0o755)
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    env.pop("DEBIAN_FRONTEND", None)
    done = check(f"dpkg\n{MADE_UP}  # a test made it up\n", tmp_path, env=env)
    assert done.returncode == 1  # still missing after apt-get
    assert f"  {SUDO}apt-get install -y {MADE_UP}" in done.stderr.splitlines()
    if os.geteuid() == 0:
        assert f"Installing the system packages the tests need: {MADE_UP}" in done.stdout
        assert calls.read_text(encoding="utf-8").splitlines() == [
            "noninteractive update -qq",
            f"noninteractive install -y -qq --no-install-recommends {MADE_UP}",
        ]
    else:
        assert not calls.exists()


def test_without_dpkg_the_commands_are_looked_for(tmp_path: Path) -> None:
    listing = f"coreutils  ls  # everywhere\n{MADE_UP}  zz-sendguard-command  # made up\n"
    done = check(listing, tmp_path, "--by", "commands")
    assert done.returncode == 1
    assert "SendGuard's tests need commands that are not found (1):" in done.stderr
    assert f"zz-sendguard-command  (Debian package {MADE_UP}) made up" in done.stderr
    assert "  ls " not in done.stderr
    done = check("coreutils  ls  # everywhere\n", tmp_path, "--by", "commands")
    assert done.returncode == 0, done.stderr


def test_the_list_names_the_tools_the_tests_start() -> None:
    """Every line parses into a Debian package name, its commands and why it is needed, and
    the programs the tests start (and fail without) are among the commands."""
    packages: dict[str, list[str]] = {}
    for line in LIST.read_text(encoding="utf-8").splitlines():
        fields, _, why = line.partition("#")
        if words := fields.split():
            assert re.fullmatch(r"[a-z0-9][a-z0-9+.-]+", words[0]), line
            assert why.strip(), f"no reason given: {line}"
            assert words[0] not in packages, f"listed twice: {words[0]}"
            packages[words[0]] = words[1:]
    commands = {command for provided in packages.values() for command in provided}
    started = {
        "Xvfb",
        "dbus-daemon",
        "gnome-keyring-daemon",
        "rsyslogd",
        "syncthing",
        "desktop-file-validate",
        "appstreamcli",
        "fc-match",
    }
    assert started <= commands, started - commands
    assert "python3-venv" in packages  # before `make` can create .venv
