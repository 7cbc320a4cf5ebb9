"""The Syncthing harness itself: two real instances on loopback really sync one folder.

Each test starts its own pair (about 3 s on an idle 2-core machine) and stops it on the way
out, whatever happened. Without Syncthing the tests fail, never skip: the harness is what the
integration tests stand on.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.integration.syncthing import (
    INSTALL_HINT,
    SyncthingPair,
    syncthing_available,
    syncthing_version,
)

MakePair = Callable[..., SyncthingPair]


@pytest.fixture
def make_pair(tmp_path: Path) -> Iterator[MakePair]:
    """Start a connected pair (A, B) sharing "Family"; stopped after the test."""
    pairs: list[SyncthingPair] = []

    def make(**options: object) -> SyncthingPair:
        if not syncthing_available():
            pytest.fail(INSTALL_HINT)  # in the test itself: reported as FAILED, not ERROR
        pair = SyncthingPair(
            tmp_path / f"syncthing{len(pairs)}",
            tmp_path / "A" / "Family",
            tmp_path / "B" / "Family",
            **options,  # type: ignore[arg-type]
        )
        pairs.append(pair)
        pair.start()
        pair.wait_connected(timeout=60)
        return pair

    try:
        yield make
    finally:
        for pair in pairs:
            pair.close()
    for pair in pairs:
        assert pair.running_instances == [], "Syncthing still runs after close()"


def test_syncthing_is_the_version_the_harness_was_written_for() -> None:
    if not syncthing_available():
        pytest.fail(INSTALL_HINT)
    version = syncthing_version()
    assert version.startswith("syncthing v1."), version


def test_a_file_from_b_arrives_on_a_identical_and_modified_by_b(
    make_pair: MakePair, tmp_path: Path
) -> None:
    pair = make_pair()
    plain = os.urandom(300_000)  # three 128 KiB blocks
    (pair.path("B") / "plain.bin").write_bytes(plain)
    # As an application saving atomically does: written elsewhere, renamed into the folder.
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "draft").write_bytes(b"TLP:RED\nthe plan\n")
    os.replace(outside / "draft", pair.path("B") / "note.txt")

    pair.wait_for("A", "plain.bin", plain, timeout=60)
    pair.wait_for("A", "note.txt", b"TLP:RED\nthe plan\n", timeout=60)
    pair.wait_in_sync(timeout=60)

    info = pair.file_info("A", "note.txt")
    assert info["global"]["modifiedBy"] == pair.b.short_id
    assert info["local"]["modifiedBy"] == pair.b.short_id
    assert pair.b.device_id.startswith(pair.b.short_id)
    assert len(pair.b.short_id) == 7
    assert info["local"]["size"] == len(b"TLP:RED\nthe plan\n")
    # Only the finished files: Syncthing's temporary names are gone once in sync.
    assert sorted(p.name for p in pair.path("A").iterdir()) == [
        ".stfolder",
        "note.txt",
        "plain.bin",
    ]


def test_a_rename_on_b_is_a_rename_on_a(make_pair: MakePair) -> None:
    pair = make_pair()
    (pair.path("B") / "note.txt").write_bytes(b"family recipes\n")
    arrived = pair.wait_for("A", "note.txt", b"family recipes\n", timeout=60)
    pair.wait_in_sync(timeout=60)
    inode = arrived.stat().st_ino

    os.rename(pair.path("B") / "note.txt", pair.path("B") / "recipes.txt")

    renamed = pair.wait_for("A", "recipes.txt", b"family recipes\n", timeout=60)
    pair.wait_gone("A", "note.txt", timeout=60)
    pair.wait_in_sync(timeout=60)
    # The same file moved (no versioning on A): not a fresh download.
    assert renamed.stat().st_ino == inode
    assert pair.file_info("A", "recipes.txt")["global"]["modifiedBy"] == pair.b.short_id
    assert pair.file_info("A", "note.txt")["global"]["deleted"] is True


def test_a_delete_on_b_removes_the_file_on_a_into_its_versions(make_pair: MakePair) -> None:
    pair = make_pair(versioning="simple")
    (pair.path("B") / "note.txt").write_bytes(b"first\n")
    pair.wait_for("A", "note.txt", b"first\n", timeout=60)
    (pair.path("B") / "note.txt").write_bytes(b"second\n")
    pair.wait_for("A", "note.txt", b"second\n", timeout=60)

    (pair.path("B") / "note.txt").unlink()

    pair.wait_gone("A", "note.txt", timeout=60)
    pair.wait_in_sync(timeout=60)
    assert pair.file_info("A", "note.txt")["global"]["deleted"] is True
    # Simple versioning on A kept both replaced contents; B has no versioning.
    versions = pair.path("A") / ".stversions"
    kept = sorted(p.read_bytes() for p in versions.glob("note~*.txt"))
    assert kept == [b"first\n", b"second\n"]
    assert not (pair.path("B") / ".stversions").exists()
