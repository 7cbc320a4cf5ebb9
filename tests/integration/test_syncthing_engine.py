"""SendGuard on a real synced group folder: two Syncthing instances on 127.0.0.1 (A, where
SendGuard runs, and B, a colleague's computer) share the folder of "Family" (cleared PUBLIC).

What the colleague sends — new labelled and clean files, updates, renames, deletions, a
conflict copy — arrives on A and stays on both sides: nothing is held, nothing is asked, and
Syncthing deletes nothing for anyone. What this user writes on A is still held, and a held
file never reaches B. Syncthing's own state (its REST API) is what the engine asks.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sendguard.engine.arrivals import Kind, default_clients
from sendguard.engine.arrivals.syncthing_api import SyncthingApi
from sendguard.engine.decider import ScriptedDecider
from sendguard.engine.guard import Engine, EngineConfig, run_until
from sendguard.policy import load_policy
from sendguard.store.journal import Journal
from tests.engine.conftest import CLEAN, TLP_RED, Recorder
from tests.integration.syncthing import SyncthingPair, syncthing_available

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "real"
#: Generous: CI machines are busy, and Syncthing's watcher waits a second before it scans.
SYNC = 90.0

POLICY = """
[[groups]]
name = "Family"
folders = ["{folder}"]
clearance = "PUBLIC"
members = 6
external = true

[discovery]
enabled = false
"""


@dataclass
class Synced:
    pair: SyncthingPair
    engine: Engine
    decider: ScriptedDecider
    recorder: Recorder
    data_dir: Path

    @property
    def a(self) -> Path:
        return self.pair.path("A")

    @property
    def b(self) -> Path:
        return self.pair.path("B")

    def same_on_both_sides(self) -> bool:
        def files(root: Path) -> dict[str, bytes]:
            return {
                p.relative_to(root).as_posix(): p.read_bytes()
                for p in root.rglob("*")
                if p.is_file() and not p.relative_to(root).parts[0].startswith(".st")
            }

        return files(self.a) == files(self.b)

    def quiet(self) -> None:
        """Nothing held or asked on A; its journal has no open hold."""
        assert self.decider.asked == []
        assert self.engine.held_files() == []
        assert [e for e in self.recorder.events if e[0] in ("held", "kept")] == []


def _start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **pair_options: object
) -> Iterator[Synced]:
    assert syncthing_available(), (
        "Syncthing is needed for these tests: apt-get install syncthing (.ci/run installs it)"
    )
    pair = SyncthingPair(
        tmp_path / "syncthing",
        tmp_path / "A" / "Family",
        tmp_path / "B" / "Family",
        **pair_options,  # type: ignore[arg-type]
    )
    with pair:
        pair.wait_connected(SYNC)
        policy_file = tmp_path / "policy.toml"
        policy_file.write_text(POLICY.format(folder=pair.path("A")))
        policy = load_policy(
            policy_file, tmp_path / "none.toml", system_required=True, home=tmp_path
        )
        assert policy.error is None, policy.error
        # Found the way the app finds it: STHOMEDIR, the variable Syncthing itself reads.
        monkeypatch.setenv("STHOMEDIR", str(pair.a.home))
        decider = ScriptedDecider(lambda batch: None)
        recorder = Recorder()
        data_dir = tmp_path / "data"
        engine = Engine(
            policy, EngineConfig(data_dir=data_dir, batch_window=0.2), decider, recorder
        )
        engine.start()
        try:
            yield Synced(pair, engine, decider, recorder, data_dir)
        finally:
            engine.stop()


@pytest.fixture
def synced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Synced]:
    yield from _start(tmp_path, monkeypatch)


@pytest.fixture
def synced_with_versions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Synced]:
    yield from _start(tmp_path, monkeypatch, versioning="simple")


def wait(predicate: Callable[[], bool], timeout: float = SYNC) -> None:
    assert run_until(predicate, timeout, step=0.1), "timed out waiting"


def _journal_arrivals(data_dir: Path) -> dict[str, list[str]]:
    journal = Journal(data_dir / "journal.sqlite3", read_only=True)
    try:
        rows = journal.arrivals(5000)
    finally:
        journal.close()
    by_name: dict[str, list[str]] = {}
    for row in reversed(rows):
        by_name.setdefault(row.path.name, []).append(f"{row.kind}: {row.why}")
    return by_name


def test_what_a_colleague_sends_stays_on_both_sides_and_asks_nothing(synced: Synced) -> None:
    labelled = sorted(p for p in CORPUS.iterdir() if "nolabel" not in p.name)[:10]
    assert len(labelled) == 10
    for source in labelled:
        shutil.copyfile(source, synced.b / source.name)
    for n in range(5):
        (synced.b / f"note{n}.txt").write_bytes(CLEAN + f"{n}\n".encode())
    (synced.b / "minutes.txt").write_bytes(TLP_RED)
    for source in labelled:
        synced.pair.wait_for("A", source.name, source.read_bytes(), SYNC)
    synced.pair.wait_for("A", "minutes.txt", TLP_RED, SYNC)
    # The colleague edits, renames and deletes; every change reaches A as a download.
    (synced.b / "minutes.txt").write_bytes(TLP_RED + b"Agreed: yes.\n")
    os.rename(synced.b / labelled[0].name, synced.b / ("renamed " + labelled[0].name))
    (synced.b / labelled[1].name).unlink()
    synced.pair.wait_for("A", "minutes.txt", TLP_RED + b"Agreed: yes.\n", SYNC)
    synced.pair.wait_for("A", "renamed " + labelled[0].name, labelled[0].read_bytes(), SYNC)
    synced.pair.wait_gone("A", labelled[1].name, SYNC)
    synced.pair.wait_in_sync(SYNC)
    time.sleep(2)  # anything the engine would do to A's copies, it does within this
    synced.pair.wait_in_sync(SYNC)
    assert synced.same_on_both_sides()
    for source in labelled[2:]:
        assert (synced.b / source.name).read_bytes() == source.read_bytes()
        assert (synced.a / source.name).read_bytes() == source.read_bytes()
    synced.quiet()
    downloads = {a.path.name for a in synced.recorder.arrivals if a.kind is Kind.DOWNLOAD}
    assert {p.name for p in labelled[1:]} | {"minutes.txt"} <= downloads
    assert not [a for a in synced.recorder.arrivals if a.kind is Kind.SHARE]
    # Syncthing's own state confirmed them: modifiedBy is B's device, not this one.
    kept = {}
    wait(lambda: kept.update(_journal_arrivals(synced.data_dir)) or "minutes.txt" in kept)
    wait(
        lambda: (
            all(
                any(
                    f"records this version from device {synced.pair.b.short_id}" in line
                    for line in kept.get(p.name, [])
                )
                for p in labelled[2:]
            )
            or bool(kept.update(_journal_arrivals(synced.data_dir)))
        )
    )


def test_a_colleagues_new_folders_arrive_and_stay(synced: Synced) -> None:
    """Syncthing makes the folders, then downloads into them; a file it renames into place
    before the new folder is watched comes with no event of its own (watchdog reports it as
    created): Syncthing's own state says whose it is."""
    deep = synced.b / "Minutes" / "2026" / "December"
    deep.mkdir(parents=True)
    for n in range(5):
        (deep / f"plan{n}.txt").write_bytes(TLP_RED + f"{n}\n".encode())
    (synced.b / "Minutes" / "index.txt").write_bytes(TLP_RED)
    for n in range(5):
        synced.pair.wait_for(
            "A", f"Minutes/2026/December/plan{n}.txt", TLP_RED + f"{n}\n".encode(), SYNC
        )
    synced.pair.wait_for("A", "Minutes/index.txt", TLP_RED, SYNC)
    synced.pair.wait_in_sync(SYNC)
    time.sleep(2)
    synced.pair.wait_in_sync(SYNC)
    assert synced.same_on_both_sides()
    synced.quiet()


def test_a_conflict_copy_stays_on_both_sides(synced: Synced) -> None:
    (synced.b / "plan.txt").write_bytes(TLP_RED)
    synced.pair.wait_for("A", "plan.txt", TLP_RED, SYNC)
    synced.pair.wait_in_sync(SYNC)
    b_id = synced.pair.b.device_id
    synced.pair.a.post("/rest/system/pause", params={"device": b_id})
    try:
        (synced.a / "plan.txt").write_bytes(TLP_RED + b"A's comment.\n")  # this user's edit
        (synced.b / "plan.txt").write_bytes(TLP_RED + b"B's comment.\n")
        synced.pair.rescan("A")
        synced.pair.rescan("B")
        time.sleep(2)
    finally:
        synced.pair.a.post("/rest/system/resume", params={"device": b_id})

    def conflict_on_both() -> bool:
        return all(
            any(".sync-conflict-" in p.name for p in side.iterdir())
            for side in (synced.a, synced.b)
        )

    wait(conflict_on_both)
    synced.pair.wait_in_sync(SYNC)
    time.sleep(2)
    synced.pair.wait_in_sync(SYNC)
    assert synced.same_on_both_sides()
    contents = {p.read_bytes() for p in synced.a.iterdir() if p.is_file()}
    assert {TLP_RED + b"A's comment.\n", TLP_RED + b"B's comment.\n"} <= contents
    synced.quiet()


def test_the_users_own_labelled_file_is_held_and_never_reaches_the_colleague(
    synced: Synced,
) -> None:
    (synced.a / "mine.txt").write_bytes(TLP_RED)
    (synced.a / "list.txt").write_bytes(CLEAN)  # a clean one is shared as usual
    wait(lambda: bool(synced.decider.asked))
    [batch] = synced.decider.asked
    assert [item.name for item in batch.items] == ["mine.txt"]
    synced.pair.wait_for("B", "list.txt", CLEAN, SYNC)
    synced.pair.wait_in_sync(SYNC)
    assert not (synced.b / "mine.txt").exists()
    assert not (synced.a / "mine.txt").exists()
    [record] = synced.engine.held_files()
    assert record.held.read_bytes() == TLP_RED
    mine = next(a for a in synced.recorder.arrivals if a.path.name == "mine.txt")
    assert mine.kind is Kind.SHARE and mine.may_move


def test_a_forged_temporary_name_is_found_out_by_syncthings_own_state(synced: Synced) -> None:
    """A program of this user's that writes Syncthing's temporary name and renames it into
    place looks like a download; Syncthing then records the change as this device's, and
    the state wins: the file is held."""
    forged = synced.a / ".syncthing.forged.txt.tmp"
    forged.write_bytes(TLP_RED)
    os.rename(forged, synced.a / "forged.txt")
    wait(lambda: bool(synced.decider.asked))
    [batch] = synced.decider.asked
    assert [item.name for item in batch.items] == ["forged.txt"]
    kinds = [a.kind for a in synced.recorder.arrivals if a.path.name == "forged.txt"]
    assert kinds == [Kind.DOWNLOAD, Kind.SHARE]
    share = [a for a in synced.recorder.arrivals if a.path.name == "forged.txt"][-1]
    assert "records this version as changed on this device" in share.why
    assert not (synced.a / "forged.txt").exists()
    assert synced.engine.held_files()[0].held.read_bytes() == TLP_RED


def test_an_edit_that_raises_the_label_stays_and_names_the_kept_version(
    synced_with_versions: Synced,
) -> None:
    synced = synced_with_versions
    (synced.b / "notes.txt").write_bytes(CLEAN)
    synced.pair.wait_for("A", "notes.txt", CLEAN, SYNC)
    (synced.b / "notes.txt").write_bytes(CLEAN + b"eggs\n")  # A's versioner keeps the first
    synced.pair.wait_for("A", "notes.txt", CLEAN + b"eggs\n", SYNC)
    wait(lambda: any((synced.a / ".stversions").glob("notes~*.txt")))
    time.sleep(1)
    (synced.a / "notes.txt").write_bytes(TLP_RED)  # this user's edit raises the label
    wait(lambda: bool(synced.recorder.kept))
    [(arrival, decision, previous)] = synced.recorder.kept
    assert arrival.kind is Kind.EDIT
    assert decision.level is not None and decision.level.name == "SECRET"
    assert previous is not None and previous.read_bytes() == CLEAN
    assert (synced.a / "notes.txt").read_bytes() == TLP_RED  # never moved out
    synced.pair.wait_for("B", "notes.txt", TLP_RED, SYNC)  # the group's copy is not deleted
    assert synced.decider.asked == []
    # Syncthing's kept version is its own, not an arrival.
    assert not [a for a in synced.recorder.arrivals if ".stversions" in a.path.parts]


def test_the_api_is_found_only_for_its_own_folders(synced: Synced, tmp_path: Path) -> None:
    api = SyncthingApi([synced.pair.a.home])
    try:
        (synced.b / "x.txt").write_bytes(CLEAN)
        synced.pair.wait_for("A", "x.txt", CLEAN, SYNC)
        assert api.knows(synced.a / "x.txt")
        assert not api.knows(tmp_path / "elsewhere" / "x.txt")
        wait(lambda: api.state_of(synced.a / "x.txt") is not None)
        verdict = api.state_of(synced.a / "x.txt")
        assert verdict is not None and verdict.kind is Kind.DOWNLOAD
        assert synced.pair.b.short_id in verdict.evidence.detail
    finally:
        api.close()
    assert default_clients()[0].keeps_state_of(synced.a / "x.txt") is False  # no API given
