"""The guard engine on real folders with the real watchdog observer."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sendguard.engine.decider import Answer, Batch, ScriptedDecider
from sendguard.engine.guard import Engine, EngineConfig, watch_limit_message
from sendguard.policy import load_policy
from sendguard.store.journal import State
from tests.engine.conftest import CLEAN, TLP_RED, World, digest, wait


def _share(batch: Batch) -> list[Answer]:
    return [
        Answer(item.hold_id, True, typed_name=batch.group.name, justification="agreed")
        for item in batch.items
    ]


def _dont(batch: Batch) -> list[Answer]:
    return [Answer(item.hold_id, False) for item in batch.items]


def test_labelled_file_into_group_cleared_below_is_held_and_asked(world: World, running) -> None:
    engine, decider, _ = running()
    (world.family / "plan.txt").write_bytes(TLP_RED)
    wait(lambda: bool(decider.asked))
    [batch] = decider.asked
    assert batch.group.name == "Family"
    [item] = batch.items
    assert item.name == "plan.txt"
    assert item.decision.level is not None and item.decision.level.name == "SECRET"
    assert not (world.family / "plan.txt").exists()
    [record] = engine.held_files()
    assert record.held.read_bytes() == TLP_RED


def test_share_puts_the_same_bytes_back_and_journals_the_confirmation(
    world: World, running
) -> None:
    engine, decider, recorder = running(_share)
    (world.family / "plan.txt").write_bytes(TLP_RED)
    wait(lambda: ("released", "plan.txt") in recorder.events)
    assert (world.family / "plan.txt").read_bytes() == TLP_RED
    [record] = engine.journal.in_states(State.RELEASED)
    assert record.decision == "share"
    assert record.typed_name == "Family"
    assert record.sha256 == digest(TLP_RED)
    time.sleep(0.5)  # our own release must not come back as a new share
    assert len(decider.asked) == 1


def test_dont_share_moves_the_file_to_not_shared_with_a_note(world: World, running) -> None:
    _engine, _, recorder = running(_dont)
    (world.family / "plan.txt").write_bytes(TLP_RED)
    wait(lambda: ("returned", "plan.txt") in recorder.events)
    kept = world.not_shared / "Family" / "plan.txt"
    assert kept.read_bytes() == TLP_RED
    note = kept.with_name("plan.txt.sendguard-note.txt").read_text()
    assert str(world.family / "plan.txt") in note
    assert not (world.family / "plan.txt").exists()


def test_clean_file_is_never_moved_or_asked_about(world: World, running) -> None:
    _engine, decider, _recorder = running()
    path = world.family / "list.txt"
    path.write_bytes(CLEAN)
    inode = path.stat().st_ino
    (world.family / "plan-sentinel.txt").write_bytes(TLP_RED)
    wait(lambda: bool(decider.asked))  # the later labelled file was handled, so this was too
    assert path.read_bytes() == CLEAN
    assert path.stat().st_ino == inode  # never moved, not even out and back
    assert [item.name for b in decider.asked for item in b.items] == ["plan-sentinel.txt"]


def test_label_within_clearance_is_not_asked_about(world: World, running) -> None:
    _, decider, _ = running()
    (world.work / "plan.txt").write_bytes(TLP_RED)  # Work is cleared for SECRET
    (world.family / "sentinel.txt").write_bytes(TLP_RED)
    wait(lambda: bool(decider.asked))
    assert (world.work / "plan.txt").read_bytes() == TLP_RED
    assert [b.group.name for b in decider.asked] == ["Family"]


def test_files_present_at_start_are_untouched(world: World, running) -> None:
    (world.family / "old-plan.txt").write_bytes(TLP_RED)
    _engine, decider, _ = running()
    (world.family / "sentinel.txt").write_bytes(TLP_RED)
    wait(lambda: bool(decider.asked))
    assert (world.family / "old-plan.txt").read_bytes() == TLP_RED
    assert [item.name for b in decider.asked for item in b.items] == ["sentinel.txt"]


def test_moving_a_labelled_file_from_one_group_to_another_asks_for_the_target(
    world: World, running
) -> None:
    (world.work / "plan.txt").write_bytes(TLP_RED)
    _, decider, _ = running()
    os.rename(world.work / "plan.txt", world.family / "plan.txt")
    wait(lambda: bool(decider.asked))
    assert decider.asked[0].group.name == "Family"


def test_rename_inside_a_group_folder_is_not_a_share(world: World, running) -> None:
    (world.family / "draft.txt").write_bytes(TLP_RED)
    _, decider, _ = running()
    os.rename(world.family / "draft.txt", world.family / "final.txt")
    (world.family / "sentinel.txt").write_bytes(TLP_RED)
    wait(lambda: bool(decider.asked))
    assert [item.name for b in decider.asked for item in b.items] == ["sentinel.txt"]
    assert (world.family / "final.txt").read_bytes() == TLP_RED


def test_copy_into_a_group_folder_is_a_share(world: World, running, tmp_path: Path) -> None:
    source = tmp_path / "elsewhere.txt"
    source.write_bytes(TLP_RED)
    _, decider, _ = running()
    shutil.copy(source, world.family / "copied.txt")
    wait(lambda: bool(decider.asked))
    assert decider.asked[0].items[0].name == "copied.txt"


def test_files_arriving_together_form_one_batch(world: World, running) -> None:
    _, decider, _ = running()
    for index in range(5):
        (world.family / f"plan{index}.txt").write_bytes(TLP_RED)
    wait(lambda: sum(len(b.items) for b in decider.asked) == 5)
    assert len(decider.asked) == 1


def test_temporary_files_are_ignored(world: World, running) -> None:
    _, decider, _ = running()
    (world.family / "~$plan.docx").write_bytes(TLP_RED)
    (world.family / "plan.txt.part").write_bytes(TLP_RED)
    (world.family / "sentinel.txt").write_bytes(TLP_RED)
    wait(lambda: bool(decider.asked))
    time.sleep(0.3)
    assert [item.name for b in decider.asked for item in b.items] == ["sentinel.txt"]
    assert (world.family / "~$plan.docx").exists()


def test_outbox_files_move_into_the_group_folder_when_clean(world: World, running) -> None:
    _, _, _recorder = running()
    outbox = world.root / "Outbox" / "Work"
    (outbox / "list.txt").write_bytes(CLEAN)
    wait(lambda: (world.work / "list.txt").exists())
    assert (world.work / "list.txt").read_bytes() == CLEAN
    assert not (outbox / "list.txt").exists()


def test_rescan_catches_what_the_watcher_missed(world: World, running) -> None:
    engine, decider, _ = running(watch=False)
    (world.family / "missed.txt").write_bytes(TLP_RED)
    engine.rescan()
    wait(lambda: bool(decider.asked))
    assert decider.asked[0].items[0].name == "missed.txt"


def test_a_wrong_typed_name_keeps_the_file_held(world: World, running) -> None:
    def wrong_name(batch: Batch) -> list[Answer]:
        return [Answer(i.hold_id, True, typed_name="Famly", justification="x") for i in batch.items]

    engine, _, recorder = running(wrong_name)
    (world.family / "plan.txt").write_bytes(TLP_RED)
    wait(lambda: any(kind == "problem" for kind, _ in recorder.events))
    assert [r.origin.name for r in engine.held_files()] == ["plan.txt"]
    assert not (world.family / "plan.txt").exists()


def test_a_file_still_open_for_writing_is_not_pulled_from_under_the_writer(
    world: World, running
) -> None:
    _, decider, _ = running(settle_seconds=0.2)
    path = world.family / "report.txt"
    with open(path, "wb") as writer:
        writer.write(TLP_RED)
        writer.flush()
        time.sleep(1.0)  # well past the settle time: the writer still has it open
        assert path.exists()
        assert not decider.asked
    wait(lambda: bool(decider.asked))  # closed: now it is a share
    assert not path.exists()


def test_a_link_into_a_group_folder_is_held_as_unscannable(
    world: World, running, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_bytes(CLEAN)
    _engine, decider, _ = running()
    (world.family / "link.txt").symlink_to(outside)
    wait(lambda: bool(decider.asked))
    [item] = decider.asked[0].items
    assert item.findings.verdict.value == "unscannable"
    assert "link" in (item.findings.unscannable_reason or "")
    assert outside.read_bytes() == CLEAN  # the link was never followed


def test_a_file_moved_in_from_outside_is_a_share(world: World, running, tmp_path: Path) -> None:
    outside = tmp_path / "Downloads"
    outside.mkdir()
    (outside / "plan.txt").write_bytes(TLP_RED)
    _, decider, _ = running()
    os.rename(outside / "plan.txt", world.family / "plan.txt")
    wait(lambda: bool(decider.asked))
    assert decider.asked[0].items[0].name == "plan.txt"


def test_the_watch_limit_message_says_how_to_raise_it(tmp_path: Path) -> None:
    # The kernel's ENOSPC from inotify_add_watch cannot be provoked here without lowering a
    # machine-wide limit, so the error is constructed; the message is what is under test.
    message = watch_limit_message(OSError(errno.ENOSPC, "No space left on device"), tmp_path)
    assert str(tmp_path) in message
    assert "fs.inotify.max_user_watches" in message
    limit = Path("/proc/sys/fs/inotify/max_user_watches").read_text().strip()
    assert f"limit of {limit} watched folders" in message


def test_a_save_through_a_temporary_name_is_a_share(world: World, running) -> None:
    # How GNOME, Qt, LibreOffice and browsers save: write a temporary file, rename it.
    _, decider, _ = running()
    temporary = world.family / ".goutputstream-ABC123"
    temporary.write_bytes(TLP_RED)
    os.rename(temporary, world.family / "plan.txt")
    wait(lambda: bool(decider.asked))
    assert decider.asked[0].items[0].name == "plan.txt"


def test_arrivals_lost_with_a_killed_engine_are_held_after_restart(world: World, running) -> None:
    policy_file = world.root / "policy.toml"
    engine = subprocess.Popen(
        [sys.executable, "-m", "sendguard", "run", "--headless", "--policy", str(policy_file),
         "--data-dir", str(world.data_dir)],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert engine.stdout is not None
    while "Press Ctrl-C" not in engine.stdout.readline():
        pass
    engine.send_signal(signal.SIGSTOP)  # frozen: the events of what comes now are queued...
    (world.family / "plan.txt").write_bytes(TLP_RED)
    engine.kill()  # ...and die with it, never journaled
    engine.wait(timeout=30)
    _, decider, _ = running()
    wait(lambda: bool(decider.asked))
    assert decider.asked[0].items[0].name == "plan.txt"


def test_files_added_while_cleanly_stopped_are_not_shares(world: World, running) -> None:
    first, _, _ = running()
    first.stop()
    (world.family / "while-off.txt").write_bytes(TLP_RED)
    _, decider, _ = running()
    (world.family / "sentinel.txt").write_bytes(TLP_RED)
    wait(lambda: bool(decider.asked))
    assert [item.name for b in decider.asked for item in b.items] == ["sentinel.txt"]


@contextlib.contextmanager
def _another_file_system(tmp_path: Path) -> Iterator[Path]:
    """A folder on another file system than `tmp_path`: a tmpfs of its own (root, as in CI),
    else /dev/shm when it is one (any user)."""
    from tests.engine.test_faults import Unavailable, tmpfs

    try:
        with tmpfs(tmp_path / "usb", "4m") as mount:
            yield mount
            return
    except Unavailable:
        pass
    shm = Path("/dev/shm")
    if not shm.is_dir() or os.stat(shm).st_dev == os.stat(tmp_path).st_dev:
        pytest.skip("no second file system here: not root, and /dev/shm is not one")
    folder = Path(tempfile.mkdtemp(dir=shm))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(shm / f".sendguard-hold-{os.getuid()}", ignore_errors=True)


def test_a_group_on_another_file_system_is_held_by_one_rename_there(tmp_path: Path) -> None:
    """A group folder on its own file system (a USB drive, a mounted share): the hold area
    is made at the top of that file system, so holding is an atomic rename, not a copy."""
    with _another_file_system(tmp_path) as other:
        family = other / "Family"
        family.mkdir()
        policy_file = tmp_path / "policy.toml"
        policy_file.write_text(
            f'[[groups]]\nname = "Family"\nfolders = ["{family}"]\nclearance = "PUBLIC"\n'
            "[discovery]\nenabled = false\n"
        )
        policy = load_policy(policy_file, tmp_path / "none.toml", system_required=True)
        decider = ScriptedDecider(lambda batch: None)
        engine = Engine(policy, EngineConfig(data_dir=tmp_path / "data"), decider)
        engine.start()
        try:
            (family / "plan.txt").write_bytes(TLP_RED)
            wait(lambda: bool(decider.asked))
            [record] = engine.held_files()
            top = record.held.parent.parent
            assert top.name == f".sendguard-hold-{os.getuid()}"
            assert os.stat(top).st_dev == os.stat(family).st_dev
            assert os.stat(top).st_dev != os.stat(tmp_path / "data").st_dev
            assert record.held.read_bytes() == TLP_RED
            assert (os.stat(top).st_mode & 0o777) == 0o700
        finally:
            engine.stop()
