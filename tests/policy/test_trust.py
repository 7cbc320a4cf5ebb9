"""A system policy that others than root could write is refused, says why, and holds
everything. Real files with real modes; the trusted owner is the test's own user (so the
test runs with and without root), except where root itself is the point."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sendguard.policy import Policy, load_policy
from sendguard.policy.trust import untrusted_reason
from tests.policy import MINIMAL, write

ME = (os.getuid(),)


def install(tmp_path: Path, mode: int = 0o644, folder_mode: int = 0o755) -> Path:
    policy = write(tmp_path / "etc" / "sendguard" / "policy.toml", MINIMAL)
    policy.chmod(mode)
    policy.parent.chmod(folder_mode)
    return policy


def load(tmp_path: Path, policy: Path, owners: tuple[int, ...] = ME) -> Policy:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return load_policy(
        policy,
        tmp_path / "none.toml",
        home=home,
        discover=False,
        data_dir=tmp_path / "data",
        trusted_owners=owners,
    )


def test_a_policy_only_its_owner_can_write_is_used(tmp_path: Path) -> None:
    policy = load(tmp_path, install(tmp_path))
    assert policy.error is None
    assert policy.is_locked("groups.Family.clearance")


@pytest.mark.parametrize(
    ("mode", "folder_mode", "said"),
    [
        (0o664, 0o755, "the file is writable by its group"),
        (0o646, 0o755, "the file is writable by everyone"),
        (0o644, 0o775, "the folder is writable by its group"),
        (0o644, 0o757, "the folder is writable by everyone"),
    ],
)
def test_a_policy_others_can_write_holds_everything(
    tmp_path: Path, mode: int, folder_mode: int, said: str
) -> None:
    path = install(tmp_path, mode, folder_mode)
    policy = load(tmp_path, path)
    assert policy.hold_everything
    message = str(policy.error)
    assert said in message
    assert "sudo chown root:root" in message and "sudo chmod" in message
    assert policy.sources[0].status == "invalid"
    assert policy.group("Family") is not None  # its folders are watched, files held


def test_a_policy_not_owned_by_root_is_refused(tmp_path: Path) -> None:
    path = install(tmp_path)
    someone_else = (os.getuid() + 1,)
    error = untrusted_reason(path, someone_else)
    assert error is not None
    assert f"owned by user id {os.getuid()}, not root" in str(error)
    assert load(tmp_path, path, someone_else).hold_everything


def test_root_is_the_only_default_owner(tmp_path: Path) -> None:
    path = install(tmp_path)
    error = untrusted_reason(path)
    if os.getuid() == 0:
        assert error is None
    else:
        assert error is not None and "not root" in str(error)


def test_a_policy_given_with_an_explicit_path_is_not_checked_by_default(tmp_path: Path) -> None:
    """`--policy FILE` is for trials: whoever runs it chose the file."""
    path = install(tmp_path, 0o666)
    home = tmp_path / "home"
    home.mkdir()
    policy = load_policy(path, tmp_path / "none.toml", home=home, discover=False)
    assert policy.error is None
