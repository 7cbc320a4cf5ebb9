"""``sendguard run --headless`` and ``sendguard held`` as an administrator or a script uses them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

POLICY = """
[[groups]]
name = "Family"
folders = ["{root}/Dropbox/Family"]
clearance = "PUBLIC"

[discovery]
enabled = false
"""


def _args(root: Path) -> list[str]:
    return [
        "--policy",
        str(root / "policy.toml"),
        "--data-dir",
        str(root / "data"),
        "--not-shared",
        str(root / "Not shared"),
    ]


def _sendguard(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sendguard", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )


@pytest.fixture
def held_file(tmp_path: Path) -> Path:
    """A real engine process holds one labelled file, then is stopped with Ctrl-C."""
    (tmp_path / "policy.toml").write_text(POLICY.format(root=tmp_path))
    family = tmp_path / "Dropbox" / "Family"
    family.mkdir(parents=True)
    engine = subprocess.Popen(
        [sys.executable, "-m", "sendguard", "run", "--headless", *_args(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert engine.stdout is not None
    try:
        line = ""
        while "Press Ctrl-C" not in line:
            line = engine.stdout.readline()
            assert line, engine.stderr.read() if engine.stderr else "engine ended"
        (family / "plan.txt").write_bytes(b"TLP:RED\nThe plan.\n")
        while "held #1" not in line:
            line = engine.stdout.readline()
            assert line, "engine ended before holding the file"
        assert 'plan.txt for "Family": SECRET is above PUBLIC' in line
    finally:
        engine.send_signal(signal.SIGINT)
        out, err = engine.communicate(timeout=30)
    assert engine.returncode == 0, err
    assert "Stopped." in out
    assert not (family / "plan.txt").exists()
    return tmp_path


def test_held_list_shows_the_held_file(held_file: Path) -> None:
    result = _sendguard("held", "list", *_args(held_file))
    assert result.returncode == 0
    assert "Family" in result.stdout and "SECRET" in result.stdout and "plan.txt" in result.stdout
    as_json = _sendguard("held", "list", "--json", *_args(held_file))
    [record] = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert (record["id"], record["group"], record["file"]) == (1, "Family", "plan.txt")


def test_held_share_needs_the_group_name_then_releases(held_file: Path) -> None:
    refused = _sendguard("held", "share", "1", *_args(held_file))
    assert refused.returncode == 1
    assert "stays held" in refused.stderr and '"Family"' in refused.stderr
    shared = _sendguard(
        "held", "share", "1", "--group-name", "FAMILY", "--reason", "agreed", *_args(held_file)
    )
    assert shared.returncode == 0, shared.stderr
    assert (held_file / "Dropbox" / "Family" / "plan.txt").read_bytes() == b"TLP:RED\nThe plan.\n"
    assert "No files are held." in _sendguard("held", "list", *_args(held_file)).stdout


def test_held_return_moves_to_not_shared(held_file: Path) -> None:
    result = _sendguard("held", "return", "1", *_args(held_file))
    assert result.returncode == 0, result.stderr
    kept = held_file / "Not shared" / "Family" / "plan.txt"
    assert kept.read_bytes() == b"TLP:RED\nThe plan.\n"
    again = _sendguard("held", "return", "1", *_args(held_file))
    assert again.returncode == 1
    assert "not held" in again.stderr


def test_unknown_id_is_refused(held_file: Path) -> None:
    result = _sendguard("held", "share", "99", *_args(held_file))
    assert result.returncode == 1  # a refusal, like a file decided already: not a usage error
    assert "no held file #99" in result.stderr


def test_run_without_headless_explains(tmp_path: Path) -> None:
    result = _sendguard("run")
    assert result.returncode == 2
    assert "--headless" in result.stderr


def test_run_with_an_invalid_policy_says_everything_is_held(tmp_path: Path) -> None:
    bad = tmp_path / "policy.toml"
    family = tmp_path / "Family"
    family.mkdir()
    bad.write_text(f'[[groups]]\nname = "Family"\nfolders = ["{family}"]\nclearance = "SECRTE"\n')
    engine = subprocess.Popen(
        [sys.executable, "-m", "sendguard", "run", "--headless", "--policy", str(bad),
         "--data-dir", str(tmp_path / "data")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert engine.stdout is not None
    line, shown = "", ""
    while "Press Ctrl-C" not in line:
        line = engine.stdout.readline()
        assert line, "engine ended"
        shown += line
    # Even a clean file is held: the policy that would let it pass cannot be trusted.
    (family / "list.txt").write_text("milk\n")
    while "held #1" not in line:  # the line is printed once the file is held
        line = engine.stdout.readline()
        assert line, "engine ended"
        shown += line
    engine.send_signal(signal.SIGINT)
    out, _ = engine.communicate(timeout=30)
    out = shown + out
    assert "every new file is held" in out
    assert "line 4" in out and "SECRTE" in out
    assert 'Watching "Family"' in out  # a typo in one value does not leave the folder unwatched
    assert 'held #1 list.txt for "Family"' in out
    assert not (family / "list.txt").exists()


def test_held_share_into_a_folder_that_refuses_files_keeps_it_safe(held_file: Path) -> None:
    from tests.engine.test_faults import Unavailable, attribute

    family = held_file / "Dropbox" / "Family"
    try:
        context = attribute(family, "i")  # immutable: nothing can be moved in, even by root
        context.__enter__()
    except Unavailable as exc:
        pytest.skip(f"needs chattr (root, as in CI): {exc}")
    try:
        result = _sendguard(
            "held", "share", "1", "--group-name", "Family", "--reason", "ok", *_args(held_file)
        )
    finally:
        context.__exit__(None, None, None)
    assert result.returncode == 1
    assert "could not be moved" in result.stderr and "safe in the hold area" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (family / "plan.txt").exists()
    # The next start finishes the share the user asked for.
    engine = subprocess.Popen(
        [sys.executable, "-m", "sendguard", "run", "--headless", *_args(held_file)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert engine.stdout is not None
    while "Press Ctrl-C" not in engine.stdout.readline():
        pass
    engine.send_signal(signal.SIGINT)
    engine.communicate(timeout=30)
    assert (family / "plan.txt").read_bytes() == b"TLP:RED\nThe plan.\n"


def _run_until_lines(root: Path, extra: list[str], act, wanted: list[str]) -> str:  # type: ignore[no-untyped-def]
    """Run the headless engine, do `act`, read stdout until every `wanted` text was seen."""
    engine = subprocess.Popen(
        [sys.executable, "-m", "sendguard", "run", "--headless", *extra, *_args(root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )
    assert engine.stdout is not None
    seen: list[str] = []
    try:
        line = ""
        while "Press Ctrl-C" not in line:
            line = engine.stdout.readline()
            assert line, engine.stderr.read() if engine.stderr else "engine ended"
        act()
        while not all(any(w in s for s in seen) for w in wanted):
            line = engine.stdout.readline()
            assert line, f"engine ended; it printed: {seen}"
            seen.append(line)
    finally:
        engine.send_signal(signal.SIGINT)
        out, _err = engine.communicate(timeout=30)
    return "".join(seen) + out


def _download_and_share(family: Path) -> None:
    part = family / ".syncthing.theirs.txt.tmp"  # Syncthing's download, renamed into place
    part.write_bytes(b"TLP:RED\nTheir plan.\n")
    os.rename(part, family / "theirs.txt")
    (family / "mine.txt").write_bytes(b"TLP:RED\nMy plan.\n")


def test_run_prints_each_arrivals_class_and_evidence_downloads_only_when_asked(
    tmp_path: Path,
) -> None:
    (tmp_path / "policy.toml").write_text(POLICY.format(root=tmp_path))
    family = tmp_path / "Dropbox" / "Family"
    family.mkdir(parents=True)
    everything = _run_until_lines(
        tmp_path,
        ["--arrivals", "all"],
        lambda: _download_and_share(family),
        ["download: ", "held #"],
    )
    assert (
        f'download: {family / "theirs.txt"} in "Family" (Syncthing: renamed into place from'
        " .syncthing.theirs.txt.tmp)" in everything
    )
    assert f'share: {family / "mine.txt"} in "Family" (file system: created here)' in everything
    assert (family / "theirs.txt").exists() and not (family / "mine.txt").exists()

    (family / "theirs.txt").unlink()
    default = _run_until_lines(tmp_path, [], lambda: _download_and_share(family), ["held #2"])
    assert "share: " in default and "download: " not in default
