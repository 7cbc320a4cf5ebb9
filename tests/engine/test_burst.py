"""A burst — a folder dragged in, a copy of many files — is held first and read after, in
batches with the durability of single holds. Real engine, real watchdog, real files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sendguard.engine.guard import run_until
from sendguard.engine.holdarea import HoldArea
from sendguard.store.journal import Journal, State
from tests.engine.conftest import CLEAN, TLP_RED, World

ROOT = Path(__file__).resolve().parents[2]


def test_a_burst_is_held_in_batches_and_clean_files_are_put_back(world: World) -> None:
    engine, _, recorder = world.engine()
    labelled = [f"plan-{index:03d}.txt" for index in range(400)]
    clean = [f"list-{index:03d}.txt" for index in range(100)]
    with engine:
        for index, name in enumerate(labelled):
            (world.family / name).write_bytes(TLP_RED)
            if index % 4 == 0:
                (world.family / clean[index // 4]).write_bytes(CLEAN)
        assert run_until(lambda: len(engine.held_files()) == len(labelled), 60)
        # The clean ones were held with the rest and read in the hold area: put back as they were.
        assert run_until(lambda: sorted(os.listdir(world.family)) == clean, 60)
        assert all((world.family / name).read_bytes() == CLEAN for name in clean)
        held = engine.held_files()
        assert sorted(record.origin.name for record in held) == labelled
        assert all(record.held.read_bytes() == TLP_RED for record in held)
        # Batched: many files share a slot of the hold area (one sync per folder per batch).
        slots = {record.held.parent for record in held}
        assert len(slots) < len(held) // 4, len(slots)
        states = [record.state for record in engine.journal.history(5000)]
        assert State.VANISHED not in states
        assert not [p for p in recorder.events if p[0] == "problem"], recorder.events


def test_a_lone_file_is_still_read_in_place_and_never_moved_when_clean(world: World) -> None:
    engine, _, recorder = world.engine()
    with engine:
        (world.family / "list.txt").write_bytes(CLEAN)
        # Decided in place: known to the engine without a hold.
        assert run_until(lambda: world.family / "list.txt" in engine._known, 10)
        (world.family / "plan.txt").write_bytes(TLP_RED)
        assert run_until(lambda: [r.origin.name for r in engine.held_files()] == ["plan.txt"], 10)
        assert ("held", "list.txt") not in recorder.events
        assert [r.origin.name for r in engine.journal.history()] == ["plan.txt"]
        assert (world.family / "list.txt").read_bytes() == CLEAN


CHILD = """
import sys
from pathlib import Path
from sendguard.engine.holdarea import HoldArea
from sendguard.store.journal import Journal
data, folder = Path(sys.argv[1]), Path(sys.argv[2])
holds = HoldArea(Journal(data / "journal.sqlite3"), data / "hold", data / "Not shared")
holds.hold_many([(path, "Family", "b") for path in sorted(folder.iterdir())])
print("finished")
"""


@pytest.mark.parametrize("point", ["hold.journaled", "hold.moved", "hold.recorded"])
def test_a_batch_cut_short_by_a_crash_is_finished_by_recovery(tmp_path: Path, point: str) -> None:
    """The process is killed (SIGKILL) at `point` inside a batch of 30 holds; recovery then
    leaves every file in exactly one place, held, with the journal saying so."""
    folder, data = tmp_path / "Family", tmp_path / "data"
    folder.mkdir()
    contents = {f"file {index:02d}.txt": f"TLP:RED\n{index}\n".encode() for index in range(30)}
    for name, content in contents.items():
        (folder / name).write_bytes(content)
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(data), str(folder)],
        env={**os.environ, "SENDGUARD_CRASH_AT": point},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == -9, (done.returncode, done.stdout, done.stderr)  # killed there
    journal = Journal(data / "journal.sqlite3")
    try:
        holds = HoldArea(journal, data / "hold", data / "Not shared")
        holds.recover()
        holds.recover()  # safe to repeat
        records = journal.in_states(State.HELD)
        assert sorted(record.origin.name for record in records) == sorted(contents)
        for record in records:
            assert record.held.read_bytes() == contents[record.origin.name]
            assert record.sha256 is not None
        assert not list(folder.iterdir())
        assert not journal.in_states(State.HOLDING)
    finally:
        journal.close()


def test_the_hold_of_one_file_of_a_batch_that_vanished_is_only_that_one(tmp_path: Path) -> None:
    folder, data = tmp_path / "Family", tmp_path / "data"
    folder.mkdir()
    for index in range(5):
        (folder / f"f{index}.txt").write_bytes(TLP_RED)
    journal = Journal(data / "journal.sqlite3")
    try:
        holds = HoldArea(journal, data / "hold", data / "Not shared")
        requests = [(folder / f"f{index}.txt", "Family", "b") for index in range(5)]
        (folder / "f2.txt").unlink()  # deleted before the hold got to it
        outcomes = holds.hold_many(requests)
        assert outcomes[2] is None
        assert [
            o.origin.name for o in outcomes if o is not None and not isinstance(o, Exception)
        ] == [
            "f0.txt",
            "f1.txt",
            "f3.txt",
            "f4.txt",
        ]
        assert [r.state for r in journal.history()].count(State.VANISHED) == 1
    finally:
        journal.close()
