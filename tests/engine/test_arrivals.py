"""Who put a file into a group folder. Each sync client's download is replayed on a real
folder, under the real watchdog observer, exactly as the client's source writes it: the
temporary name in the same folder, written and closed, then rename(2) into place (and the
journal row where the client keeps one). The clients themselves cannot run here (they need
their servers or clouds); Syncthing can, and runs for real in tests/integration.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from pathlib import Path

import pytest

from sendguard.engine.arrivals import Kind, Strength
from sendguard.engine.arrivals.clients import Nextcloud, Syncthing
from sendguard.store.journal import ArrivalRow, Journal
from tests.engine.conftest import CLEAN, TLP_RED, World, wait

SECRET_NOTE = b"SECRET\nThe names of the sources.\n"


def _download(folder: Path, temporary: str, name: str, data: bytes) -> Path:
    """A sync client's download: written under its temporary name, closed, renamed."""
    part = folder / temporary
    with open(part, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    final = folder / name
    os.rename(part, final)
    return final


def _kept_row(world: World, path: Path) -> ArrivalRow:
    """The arrival of `path` as the journal keeps it (once it is written there)."""
    rows = Journal(world.data_dir / "journal.sqlite3")
    try:
        wait(lambda: any(r.path == path for r in rows.arrivals()), timeout=15)
        [row] = [r for r in rows.arrivals() if r.path == path]
    finally:
        rows.close()
    return row


def _quiet_for(engine, decider, recorder, seconds: float = 1.0) -> None:
    """Nothing held, nothing asked, for a while after the last arrival."""
    time.sleep(seconds)
    assert decider.asked == []
    assert engine.held_files() == []
    assert [e for e in recorder.events if e[0] in ("held", "problem")] == []


# The clients' sequences, each from its own source (read at the commits named):
# - Syncthing (syncthing/syncthing 328d910a), lib/fs/tempname.go TempNameWithPrefix:
#   ".syncthing." + name + ".tmp", and for a name over 160 - 15 bytes
#   ".syncthing.<hex SHA-256 of the name>.tmp"; lib/model/folder_sendrecv.go performFinish:
#   the old file is removed (or archived by the versioner), then
#   osutil.RenameOrCopy(tempName, file.Name); renameFile: old → temporary → new.
# - ownCloud (owncloud/client 3bd29f73) and Nextcloud desktop, src/libsync/
#   propagatedownload.cpp createDownloadTmpFileName: "/." + name (cut to 242 characters) +
#   ".~" + hex of a random 32-bit number; downloadFinished: uncheckedRenameReplace(tmp, fn),
#   then updateMetadata writes the `metadata` row of the journal `.sync_<12 hex>.db`
#   (ownCloud since 2021: `.sync_journal.db`).
# - OneDrive for Linux (abraunegg/onedrive e7931933), src/onedrive.d downloadFile:
#   filename ~ ".partial"; src/sync.d downloadFileItem: safeRename(.partial, newItemPath).
# - Seafile (haiwen/seafile 25de2832), common/fs-mgr.c seaf_fs_manager_checkout_file:
#   tmp_path = file_path + "~" (SEAF_TMP_EXT); an existing file is first renamed to
#   file_path + ".sbak"; then seaf_util_rename(tmp_path, file_path); the .sbak is unlinked.
# - Resilio Sync (closed source): `<name>.!sync` is the file being received, renamed to its
#   name when complete (its makers' and users' documentation only: weak evidence).
LONG = "a" * 150 + ".docx"
SEQUENCES = [
    ("Syncthing", ".syncthing.plan.txt.tmp", "plan.txt", Strength.NAME),
    (
        "Syncthing",
        ".syncthing." + hashlib.sha256(LONG.encode()).hexdigest() + ".tmp",
        LONG,
        Strength.NAME,
    ),
    ("Nextcloud/ownCloud", ".plan.txt.~7f3a09c1", "plan.txt", Strength.NAME),
    ("OneDrive", "plan.txt.partial", "plan.txt", Strength.NAME),
    ("Seafile", "plan.txt~", "plan.txt", Strength.NAME),
    ("Resilio Sync", "plan.txt.!sync", "plan.txt", Strength.WEAK),
]


@pytest.mark.parametrize(("client", "temporary", "name", "strength"), SEQUENCES)
def test_a_colleagues_labelled_file_downloaded_by_the_client_stays_and_asks_nothing(
    world: World, running, client: str, temporary: str, name: str, strength: Strength
) -> None:
    engine, decider, recorder = running()
    path = _download(world.family, temporary, name, TLP_RED)
    wait(lambda: recorder.arrival(name) is not None)
    arrival = recorder.arrival(name)
    assert arrival is not None
    assert arrival.kind is Kind.DOWNLOAD
    assert arrival.client == client
    assert not arrival.may_move
    [evidence] = arrival.evidence
    assert evidence.source == client and temporary in evidence.detail
    assert evidence.strength is strength
    _quiet_for(engine, decider, recorder)
    assert path.read_bytes() == TLP_RED


def test_a_remote_update_and_a_remote_rename_stay_where_the_client_put_them(
    world: World, running
) -> None:
    """Syncthing's update replaces the file by a rename from its temporary name; its remote
    rename moves old → temporary → new (folder_sendrecv.go, renameFile)."""
    old = world.family / "old.txt"
    old.write_bytes(SECRET_NOTE)
    engine, decider, recorder = running()
    old.unlink()  # performFinish removes the old version first
    _download(world.family, ".syncthing.old.txt.tmp", "old.txt", TLP_RED)  # update
    wait(lambda: recorder.arrival("old.txt") is not None)
    os.rename(old, world.family / ".syncthing.new.txt.tmp")
    os.rename(world.family / ".syncthing.new.txt.tmp", world.family / "new.txt")
    wait(lambda: recorder.arrival("new.txt") is not None)
    assert recorder.arrival("old.txt").kind is Kind.DOWNLOAD  # type: ignore[union-attr]
    assert recorder.arrival("new.txt").kind is Kind.DOWNLOAD  # type: ignore[union-attr]
    _quiet_for(engine, decider, recorder)
    assert (world.family / "new.txt").read_bytes() == TLP_RED
    assert not old.exists()


def test_seafile_update_goes_through_its_backup_name_and_stays(world: World, running) -> None:
    plan = world.family / "plan.txt"
    plan.write_bytes(CLEAN)
    engine, decider, recorder = running()
    part = world.family / "plan.txt~"
    part.write_bytes(TLP_RED)
    os.rename(plan, world.family / "plan.txt.sbak")
    os.rename(part, plan)
    (world.family / "plan.txt.sbak").unlink()
    wait(lambda: recorder.arrival("plan.txt") is not None)
    assert recorder.arrival("plan.txt").kind is Kind.DOWNLOAD  # type: ignore[union-attr]
    _quiet_for(engine, decider, recorder)
    assert plan.read_bytes() == TLP_RED


def test_conflict_copies_of_every_client_are_left_alone(world: World, running) -> None:
    engine, decider, recorder = running()
    names = [
        "plan.sync-conflict-20261206-101010-ABCDEFG.txt",
        "plan (conflicted copy 2026-12-06 101010).txt",
        "plan (conflicted copy Ann 2026-12-06 101010).txt",
        "plan (case clash from 2026-12-06 101010).txt",
        "plan (SFConflict ann@example.com 2026-12-06-10-10-10).txt",
        "plan-laptop-safeBackup-0001.txt",
    ]
    for index, name in enumerate(names):
        _download(world.family, f"conflict{index}.part", name, TLP_RED)
    _quiet_for(engine, decider, recorder, 1.5)
    for name in names:
        assert (world.family / name).read_bytes() == TLP_RED


def test_the_users_own_labelled_file_is_still_held_beside_downloads(world: World, running) -> None:
    _engine, decider, recorder = running()
    _download(world.family, ".syncthing.theirs.txt.tmp", "theirs.txt", TLP_RED)
    (world.family / "mine.txt").write_bytes(TLP_RED)
    wait(lambda: bool(decider.asked))
    [batch] = decider.asked
    assert [item.name for item in batch.items] == ["mine.txt"]
    mine = recorder.arrival("mine.txt")
    assert mine is not None and mine.kind is Kind.SHARE and mine.may_move
    assert (world.family / "theirs.txt").read_bytes() == TLP_RED
    assert not (world.family / "mine.txt").exists()


def test_a_temporary_name_of_another_file_is_no_download(world: World, running) -> None:
    """Only the client's name *for this file* counts: `.syncthing.a.tmp` renamed to `b`
    (a program of the user's that happens to use such a name) is a share."""
    _engine, decider, recorder = running()
    _download(world.family, ".syncthing.other.txt.tmp", "plan.txt", TLP_RED)
    wait(lambda: bool(decider.asked))
    arrival = recorder.arrival("plan.txt")
    assert arrival is not None and arrival.kind is Kind.SHARE


def test_a_file_moved_in_from_a_temporary_name_elsewhere_is_a_share(
    world: World, running, tmp_path: Path
) -> None:
    """A client's temporary name counts only in the same folder as the file."""
    (world.family / "sub").mkdir()
    _engine, decider, recorder = running()
    temporary = world.family / ".syncthing.plan.txt.tmp"
    temporary.write_bytes(TLP_RED)
    os.rename(temporary, world.family / "sub" / "plan.txt")
    wait(lambda: bool(decider.asked))
    assert recorder.arrival("plan.txt").kind is Kind.SHARE  # type: ignore[union-attr]


def test_nextcloud_journal_row_confirms_the_download(world: World, running) -> None:
    """The client writes the file's row into `.sync_<hex>.db` (table `metadata`: path,
    inode, modtime, filesize) after the rename; SendGuard reads it read-only."""
    journal = world.family / ".sync_5e1f0c4a9b2d.db"  # makeDbName: 12 hex of an MD5
    db = sqlite3.connect(journal)
    db.execute(
        "CREATE TABLE metadata(phash INTEGER PRIMARY KEY, pathlen INTEGER, path VARCHAR(4096),"
        " inode INTEGER, uid INTEGER, gid INTEGER, mode INTEGER, modtime INTEGER(8),"
        " type INTEGER, md5 VARCHAR(32), fileid VARCHAR(128), remotePerm VARCHAR(128),"
        " filesize BIGINT)"
    )
    db.commit()
    engine, decider, recorder = running()
    path = _download(world.family, ".plan.txt.~1b2c", "plan.txt", TLP_RED)
    info = path.stat()
    db.execute(
        "INSERT INTO metadata(phash, pathlen, path, inode, modtime, type, filesize)"
        " VALUES (1, 8, 'plan.txt', ?, ?, 0, ?)",
        (info.st_ino, int(info.st_mtime), info.st_size),
    )
    db.commit()
    db.close()
    row = _kept_row(world, path)
    assert row.kind == "download" and not row.may_move
    assert row.evidence[0][0] == "Nextcloud/ownCloud"
    assert "journal" in row.evidence[0][1] and row.evidence[0][2] == Strength.STATE
    _quiet_for(engine, decider, recorder, 0.2)


def test_an_unconfirmed_download_stays_a_download_and_says_so(world: World, running) -> None:
    """Where the client's state never says (not running, locked), the name's evidence stands:
    SendGuard never moves what it cannot tell is the user's."""
    (world.family / ".sync_0000.db").write_bytes(b"not a database")
    engine, decider, recorder = running(confirm_seconds=0.5)
    path = _download(world.family, ".plan.txt.~99", "plan.txt", TLP_RED)
    row = _kept_row(world, path)
    assert row.kind == "download"
    assert "did not confirm within 0.5 s" in row.why
    _quiet_for(engine, decider, recorder, 0.2)
    assert path.read_bytes() == TLP_RED


# --- edits --------------------------------------------------------------------------------


def test_editing_a_file_the_group_has_in_place_is_quiet(world: World, running) -> None:
    notes = world.family / "notes.txt"
    notes.write_bytes(CLEAN)
    engine, decider, recorder = running()
    with open(notes, "ab") as out:
        out.write(b"eggs\n")
    wait(lambda: recorder.arrival("notes.txt") is not None)
    assert recorder.arrival("notes.txt").kind is Kind.EDIT  # type: ignore[union-attr]
    _quiet_for(engine, decider, recorder)
    assert notes.read_bytes() == CLEAN + b"eggs\n"


def test_an_editors_save_over_a_file_the_group_has_is_an_edit_not_a_share(
    world: World, running
) -> None:
    """LibreOffice, gedit and most editors save to a temporary file and rename it over the
    document: the group's file is replaced, never moved out."""
    report = world.family / "report.txt"
    report.write_bytes(CLEAN)
    engine, decider, recorder = running()
    saved = world.family / "lu4711abc.tmp"
    saved.write_bytes(CLEAN + b"more\n")
    os.rename(saved, report)
    wait(lambda: recorder.arrival("report.txt") is not None)
    arrival = recorder.arrival("report.txt")
    assert arrival is not None and arrival.kind is Kind.EDIT and not arrival.may_move
    _quiet_for(engine, decider, recorder)
    assert report.read_bytes() == CLEAN + b"more\n"


def test_an_edit_that_raises_the_label_is_said_at_once_and_never_moved(
    world: World, running
) -> None:
    report = world.family / "report.txt"
    report.write_bytes(CLEAN)
    engine, decider, recorder = running()
    report.write_bytes(TLP_RED)  # in place: the group's file now carries TLP:RED
    wait(lambda: bool(recorder.kept))
    [(arrival, decision, previous)] = recorder.kept
    assert arrival.kind is Kind.EDIT and arrival.path == report
    assert decision.level is not None and decision.level.name == "SECRET"
    assert previous is None  # no client here keeps versions
    _quiet_for(engine, decider, recorder, 0.3)
    assert report.read_bytes() == TLP_RED


def test_re_saving_a_confirmed_document_asks_nothing(world: World, running) -> None:
    from tests.engine.test_engine import _share

    _engine, decider, recorder = running(_share)
    plan = world.family / "plan.txt"
    plan.write_bytes(TLP_RED)
    wait(lambda: ("released", "plan.txt") in recorder.events)
    asked = len(decider.asked)
    time.sleep(0.3)
    with open(plan, "ab") as out:  # the same document, saved again
        out.write(b"A line more.\n")
    wait(
        lambda: (
            recorder.arrival("plan.txt") is not None
            and recorder.arrival("plan.txt").kind is Kind.EDIT
        )
    )  # type: ignore[union-attr]
    time.sleep(1.0)
    assert len(decider.asked) == asked
    assert recorder.kept == []
    assert plan.exists()


def test_a_downloaded_labelled_file_edited_at_the_same_level_is_quiet(
    world: World, running
) -> None:
    engine, decider, recorder = running()
    path = _download(world.family, ".syncthing.plan.txt.tmp", "plan.txt", TLP_RED)
    wait(lambda: recorder.arrival("plan.txt") is not None)
    time.sleep(0.5)  # its label is read on the decision thread
    with open(path, "ab") as out:
        out.write(b"My comment.\n")
    wait(lambda: recorder.arrival("plan.txt").kind is Kind.EDIT)  # type: ignore[union-attr]
    _quiet_for(engine, decider, recorder)
    assert recorder.kept == []


def test_downloads_are_kept_in_the_journal_and_shares_as_holds(world: World, running) -> None:
    """The journal keeps each download with its evidence; a share of this user's is a hold
    (held) or nothing at all (a clean file passes): a burst of shares writes nothing more."""
    engine, _decider, _recorder = running()
    _download(world.family, ".syncthing.theirs.txt.tmp", "theirs.txt", CLEAN)
    (world.family / "mine.txt").write_bytes(CLEAN)
    (world.family / "plan.txt").write_bytes(TLP_RED)
    row = _kept_row(world, world.family / "theirs.txt")
    assert row.kind == "download"
    assert row.why == "Syncthing: renamed into place from .syncthing.theirs.txt.tmp"
    wait(lambda: len(engine.held_files()) == 1)
    rows = Journal(world.data_dir / "journal.sqlite3")
    try:
        assert {r.path.name for r in rows.arrivals()} == {"theirs.txt"}
    finally:
        rows.close()


# --- the client rules themselves ----------------------------------------------------------


def test_syncthing_names() -> None:
    client = Syncthing()
    assert client.temporary_of(".syncthing.a.docx.tmp", "a.docx")
    assert client.temporary_of("~syncthing~a.docx.tmp", "a.docx")
    assert not client.temporary_of(".syncthing.a.docx.tmp", "b.docx")
    long = "é" * 80  # 160 bytes: hashed although only 80 characters
    hashed = ".syncthing." + hashlib.sha256(long.encode()).hexdigest() + ".tmp"
    assert client.temporary_of(hashed, long)
    assert not client.temporary_of(f".syncthing.{long}.tmp", long)


def test_nextcloud_names_cut_long_names() -> None:
    client = Nextcloud()
    assert client.temporary_of(".a.docx.~ffffffff", "a.docx")
    assert not client.temporary_of(".a.docx.~ffffffff", "b.docx")
    assert not client.temporary_of(".a.docx.~xyz", "a.docx")
    long = "b" * 250 + ".docx"
    assert client.temporary_of("." + long[:242] + ".~1a", long)
    assert not client.temporary_of("." + long[:100] + ".~1a", long)


# --- files that come without a write of their own ------------------------------------------


def test_a_folder_dragged_into_a_synced_folder_is_a_share(
    world: World, running, tmp_path: Path
) -> None:
    """watchdog reports the files of a folder moved in as "created": they were moved in with
    it by the user (no sync client moves a folder in from outside), so they are held."""
    (world.family / ".stfolder").mkdir()  # a folder Syncthing syncs
    dragged = tmp_path / "Desktop" / "Minutes"
    (dragged / "2026").mkdir(parents=True)
    (dragged / "2026" / "plan.txt").write_bytes(TLP_RED)
    (dragged / "list.txt").write_bytes(CLEAN)
    _engine, decider, recorder = running()
    os.rename(dragged, world.family / "Minutes")
    wait(lambda: bool(decider.asked))
    [batch] = decider.asked
    assert [item.name for item in batch.items] == ["plan.txt"]
    plan = recorder.arrival("plan.txt")
    assert plan is not None and plan.kind is Kind.SHARE and plan.may_move
    assert not (world.family / "Minutes" / "2026" / "plan.txt").exists()
    assert (world.family / "Minutes" / "list.txt").read_bytes() == CLEAN


def test_a_file_that_appears_without_a_write_in_a_synced_folder_is_left_and_told(
    world: World, running, tmp_path: Path
) -> None:
    """No close after writing (here a hard link; in life a sync client's file in a folder
    made a moment before its watch): who put it there is not known, so in a synced folder
    it is not moved; being labelled, the user is told."""
    (world.family / ".stfolder").mkdir()
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_bytes(TLP_RED)
    engine, decider, recorder = running(confirm_seconds=0.5)
    os.link(elsewhere, world.family / "plan.txt")
    wait(lambda: bool(recorder.kept))
    [(arrival, decision, _previous)] = recorder.kept
    assert arrival.kind is Kind.SHARE and not arrival.may_move
    assert "who put it there is not known" in arrival.why
    assert decision.level is not None and decision.level.name == "SECRET"
    _quiet_for(engine, decider, recorder, 0.3)
    assert (world.family / "plan.txt").read_bytes() == TLP_RED


# --- putting back the version the group had -------------------------------------------------


def _versioned_group_file(world: World) -> tuple[Path, Path]:
    """A Syncthing folder whose versioner kept an earlier notes.txt (lib/versioner/util.go,
    TagFilename: .stversions/<stem>~<YYYYMMDD-HHMMSS><ext>), and the file itself."""
    (world.family / ".stfolder").mkdir()
    versions = world.family / ".stversions"
    versions.mkdir()
    (versions / "notes~20261201-090000.txt").write_bytes(b"Shopping list\nold\n")
    (versions / "notes~20261205-090000.txt").write_bytes(CLEAN)
    (versions / "other~20261206-090000.txt").write_bytes(b"not this one\n")
    notes = world.family / "notes.txt"
    notes.write_bytes(CLEAN + b"eggs\n")
    return notes, versions / "notes~20261205-090000.txt"


def test_a_raised_edit_names_the_newest_kept_version(world: World, running) -> None:
    notes, newest = _versioned_group_file(world)
    _engine, _decider, recorder = running()
    notes.write_bytes(TLP_RED)
    wait(lambda: bool(recorder.kept))
    [(_arrival, _decision, previous)] = recorder.kept
    assert previous == newest


def test_putting_back_the_groups_version_is_an_update_and_keeps_the_changed_file(
    world: World, running
) -> None:
    notes, newest = _versioned_group_file(world)
    engine, decider, recorder = running()
    notes.write_bytes(TLP_RED)
    wait(lambda: bool(recorder.kept))
    inode_before = notes.stat().st_ino
    kept = engine.put_back(notes, newest)
    assert notes.read_bytes() == CLEAN  # the group's version, under the same name
    assert notes.stat().st_ino != inode_before  # replaced by one rename: never absent
    assert kept == world.not_shared / "Family" / "notes.txt"
    assert kept.read_bytes() == TLP_RED  # nothing lost
    assert newest.read_bytes() == CLEAN  # the kept version stays kept
    time.sleep(1.0)  # SendGuard's own replacement is no new arrival
    assert [a.kind for a in recorder.arrivals if a.path == notes][-1] is Kind.OWN
    assert decider.asked == [] and len(recorder.kept) == 1
    assert not [p for p in world.family.iterdir() if "sendguard-partial" in p.name]


def test_put_back_refuses_when_the_version_is_gone_and_changes_nothing(
    world: World, running
) -> None:
    notes, newest = _versioned_group_file(world)
    engine, _decider, recorder = running()
    notes.write_bytes(TLP_RED)
    wait(lambda: bool(recorder.kept))
    newest.unlink()
    with pytest.raises(FileNotFoundError, match="earlier version is gone"):
        engine.put_back(notes, newest)
    assert notes.read_bytes() == TLP_RED
    assert not (world.not_shared / "Family").exists()
