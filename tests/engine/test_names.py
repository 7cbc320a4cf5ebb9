"""Which names are never shares, and which of our own files recovery may remove."""

from __future__ import annotations

from pathlib import Path

import pytest

from sendguard.engine.fsops import partial_name
from sendguard.engine.holdarea import HoldArea
from sendguard.engine.names import is_temporary
from sendguard.store.journal import Journal


@pytest.mark.parametrize(
    "name",
    [
        "~$report.docx",
        ".~lock.report.odt#",
        "report.docx.part",
        "film.mp4.crdownload",
        ".syncthing.report.docx.tmp",
        "report (Ann's conflicted copy 2026-01-02).docx",
        "report.sync-conflict-20260102-101010-ABCDEFG.docx",
        partial_name(Path("/x/report.docx")).name,
    ],
)
def test_work_in_progress_is_not_a_share(name: str) -> None:
    assert is_temporary(name)


@pytest.mark.parametrize(
    "name", ["report.docx", "plan.txt", "notes.sendguard-partial-mine.txt", "secret.tmp.docx"]
)
def test_ordinary_names_are_shares(name: str) -> None:
    assert not is_temporary(name)


def test_recovery_removes_our_partial_copies_but_not_a_users_lookalike(tmp_path: Path) -> None:
    not_shared = tmp_path / "Not shared" / "Family"
    not_shared.mkdir(parents=True)
    ours = partial_name(not_shared / "plan.txt")
    ours.write_bytes(b"half a copy")
    theirs = not_shared / "notes.sendguard-partial-mine.txt"
    theirs.write_bytes(b"the user's own")
    journal = Journal(tmp_path / "data" / "journal.sqlite3")
    try:
        HoldArea(journal, tmp_path / "data" / "hold", tmp_path / "Not shared").recover()
    finally:
        journal.close()
    assert not ours.exists()
    assert theirs.read_bytes() == b"the user's own"
