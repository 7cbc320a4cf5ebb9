"""Tests for the policy layer; helpers shared by its test modules."""

from __future__ import annotations

from pathlib import Path

from sendguard.policy import Policy, load_policy

MINIMAL = """\
[[groups]]
name = "Family"
folders = ["~/Dropbox/Family"]
clearance = "PUBLIC"
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def load(
    tmp_path: Path,
    system: str | None = None,
    user: str | None = None,
    *,
    discover: bool = False,
) -> Policy:
    """The effective policy from these texts (None: no such file), with `tmp_path` as home."""
    home = tmp_path / "home"
    home.mkdir(parents=True, exist_ok=True)
    system_path = tmp_path / "etc" / "policy.toml"
    user_path = tmp_path / "config" / "settings.toml"
    if system is not None:
        write(system_path, system)
    if user is not None:
        write(user_path, user)
    return load_policy(system_path, user_path, home=home, discover=discover)
