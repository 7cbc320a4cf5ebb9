"""Kill -9 at every step of hold, release, return and recovery; restart; check nothing is lost.

Most trials fork this process (SendGuard already imported): the child arms a named crash
point and runs a scripted sequence of the engine's steps until it SIGKILLs itself there; the
parent recovers (twice), checks the invariants, finishes the script and checks them again
(see `crashworker`). A few trials run the whole engine, watchdog and all, in a subprocess
with ``SENDGUARD_CRASH_AT`` set, and restart it.

A failing trial prints its seed and script; replay it with
``.venv/bin/python bench/crash_soak.py --seed SEED --trials 1``.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from sendguard.engine import crashpoints, fsops, holdarea
from sendguard.engine.holdarea import HoldArea, Recovery
from sendguard.store.journal import HoldRecord, State
from tests.engine import crashworker
from tests.engine.conftest import TLP_RED, World
from tests.engine.crashworker import (
    AFTER_RECOVERY,
    POINTS,
    Layout,
    Mode,
    Tracked,
    TrialResult,
    check_crashed,
    check_recovered,
    digest,
    make_spec,
    modes_for,
    recovery_points,
    run_spec,
    run_trial,
)

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="fork, SIGKILL and the Linux rename paths"
)

#: 8 blocks of 30: 240 randomized trials. SENDGUARD_CRASH_SEED shifts them to explore.
BLOCKS, PER_BLOCK = 8, 30
BASE_SEED = int(os.environ.get("SENDGUARD_CRASH_SEED", "20261128"))


@pytest.fixture(scope="module")
def other_fs(tmp_path_factory: pytest.TempPathFactory) -> Path | None:
    """A second file system (``/dev/shm`` here) for real cross-file-system moves, if any."""
    return crashworker.find_other_filesystem(tmp_path_factory.getbasetemp())


def _report(results: Sequence[TrialResult], limit: int = 5, replay: bool = False) -> str:
    bad = [r for r in results if r.violations]
    lines = [f"{len(bad)} of {len(results)} trials broke an invariant:"]
    for result in bad[:limit]:
        lines += result.violations[:4]
        if replay:
            seed = result.spec.seed
            lines.append(f"  replay: .venv/bin/python bench/crash_soak.py --seed {seed} --trials 1")
    return "\n".join(lines)


# --- randomized trials ---------------------------------------------------------------------


@pytest.mark.parametrize("block", range(BLOCKS))
def test_randomized_crash_trials(block: int, tmp_path: Path, other_fs: Path | None) -> None:
    first = BASE_SEED + block * PER_BLOCK
    results = [run_trial(seed, tmp_path, other_fs) for seed in range(first, first + PER_BLOCK)]
    assert not any(r.violations for r in results), _report(results, replay=True)
    # The trials must really crash, or they test nothing.
    assert sum(r.killed for r in results) >= PER_BLOCK // 2


# --- every point, every way of moving --------------------------------------------------------


def _matrix(other_fs: bool) -> Iterator[tuple[str, Mode, str]]:
    """(point, mode, the step of file 0 before which it is armed) wherever the point lies on
    that step's path."""
    for point in POINTS:
        if point.startswith("hold."):
            steps = ["hold"]
        elif point.startswith("release."):
            steps = ["share"]
        elif point.startswith("return."):
            steps = ["dont-share"]
        else:
            steps = ["hold", "share", "dont-share"]
        for mode in modes_for(point, other_fs):
            for step in steps:
                yield point, mode, step


def test_every_point_is_reached_and_survived_in_every_mode(
    tmp_path: Path, other_fs: Path | None
) -> None:
    results: list[TrialResult] = []
    not_reached: list[str] = []
    for index, (point, mode, step) in enumerate(_matrix(other_fs is not None)):
        fate = "dont-share" if step == "dont-share" else "share"
        spec = make_spec(
            BASE_SEED + 10_000 + index,
            other_fs=other_fs is not None,
            point=point,
            mode=mode,
            fates=[fate, None, "dont-share"],
            arm_at=step,
            recovery_point=False,
        )
        result = run_spec(spec, tmp_path, other_fs)
        results.append(result)
        if not result.killed:
            not_reached.append(f"{point} in {mode.value} on {step}")
    assert len(results) >= 40
    assert not any(r.violations for r in results), _report(results)
    assert not not_reached, f"crash points never reached: {not_reached}"


def test_recovery_itself_crashes_at_every_point_and_is_run_again(
    tmp_path: Path, other_fs: Path | None
) -> None:
    """A crash cuts a step short; recovery is killed while finishing it (or just after it
    returns); recovery runs again, twice."""
    modes = [Mode.RENAME, Mode.LINK_EXDEV, *([Mode.OTHER_FS] if other_fs else [])]
    results: list[TrialResult] = []
    not_reached: list[str] = []
    index = 0
    for first, step, prefixes in (
        ("hold.journaled", "hold", ("hold.moved", "fsops.")),
        ("release.journaled", "share", ("release.", "fsops.")),
        ("return.journaled", "dont-share", ("return.", "fsops.")),
    ):
        for mode in modes:
            for point in recovery_points(mode):
                if point != AFTER_RECOVERY and not point.startswith(prefixes):
                    continue
                index += 1
                spec = make_spec(
                    BASE_SEED + 20_000 + index,
                    other_fs=other_fs is not None,
                    point=first,
                    mode=mode,
                    fates=["dont-share" if step == "dont-share" else "share", "share"],
                    arm_at=step,
                    recovery_point=point,
                )
                result = run_spec(spec, tmp_path, other_fs)
                results.append(result)
                if not (result.killed and result.recovery_killed):
                    not_reached.append(f"{first} then {point} in {mode.value}")
    assert len(results) >= 20
    assert not any(r.violations for r in results), _report(results)
    assert not not_reached, f"recovery never crashed at: {not_reached}"


def test_a_hold_cut_short_survives_a_second_stop_before_the_engine_acts(tmp_path: Path) -> None:
    """Regression: recovery used to roll such a hold back and requeue the file in memory
    only; a second stop then lost it (the labelled file stayed in the group folder, never
    held: the next start took it as present at start-up)."""
    layout = Layout.create(tmp_path)
    origin = layout.folders["Family"] / "plan.txt"
    origin.write_bytes(TLP_RED)
    journal, holds = layout.open()
    # What a kill at hold.journaled leaves: the intent, nothing moved.
    journal.begin_hold(
        batch="b", group_name="Family", origin=origin, held=layout.hold_root / "s" / "plan.txt"
    )
    holds.recover()  # ... and the process stops before acting on what recovery returned
    again = holds.recover()
    assert [r.origin for r in again.held] == [origin]
    assert not origin.exists()
    [record] = journal.history()
    assert record.state is State.HELD and record.held.read_bytes() == TLP_RED
    journal.close()


def test_a_file_replaced_while_its_hold_was_cut_short_is_held_too(tmp_path: Path) -> None:
    """Copy-then-unlink stopped after the copy; meanwhile the user put a new file under the
    same name. Both are kept, and both are held (journaled), not requeued in memory."""
    layout = Layout.create(tmp_path)
    origin = layout.folders["Family"] / "plan.txt"
    journal, holds = layout.open()
    held = layout.hold_root / "slot" / "plan.txt"
    held.parent.mkdir(parents=True)
    held.write_bytes(TLP_RED)
    origin.write_bytes(b"TLP:RED\nthe new version\n")
    journal.begin_hold(batch="b", group_name="Family", origin=origin, held=held)
    first = holds.recover()
    assert sorted(r.held.read_bytes() for r in first.held) == sorted(
        [TLP_RED, b"TLP:RED\nthe new version\n"]
    )
    assert not origin.exists() and not first.requeue
    assert not holds.recover().finished
    journal.close()


# --- the checker and the harness can fail --------------------------------------------------


def _one_held_and_one_shared(layout: Layout) -> tuple[list[Tracked], dict[Path, str]]:
    journal, holds = layout.open()
    family = layout.folders["Family"]
    tracked: list[Tracked] = []
    for name, data, fate in (("held.txt", b"TLP:RED\none\n", None), ("ok.txt", TLP_RED, "share")):
        (family / name).write_bytes(data)
        tracked.append(Tracked(name, "Family", family / name, digest(data), fate))
        record = holds.hold(family / name, "Family", "b")
        assert record is not None
        if fate == "share":
            crashworker.decide_held(journal, holds, record, share=True)
    bystander = family / "mine.txt"
    bystander.write_bytes(b"the user's own\n")
    journal.close()
    return tracked, {bystander: digest(b"the user's own\n")}


def _violations(layout: Layout, tracked: list[Tracked], bystanders: dict[Path, str]) -> list[str]:
    journal, _holds = layout.open()
    try:
        return check_recovered(layout, journal, tracked, bystanders, final=True)
    finally:
        journal.close()


def test_the_checker_passes_a_good_state_and_flags_every_kind_of_violation(
    tmp_path: Path,
) -> None:
    layout = Layout.create(tmp_path)
    tracked, bystanders = _one_held_and_one_shared(layout)
    assert _violations(layout, tracked, bystanders) == []
    family = layout.folders["Family"]
    journal, _ = layout.open()
    [held] = journal.in_states(State.HELD)
    [shared] = journal.in_states(State.RELEASED)

    def flagged(words: str, undo: Callable[[], object]) -> None:
        found = _violations(layout, tracked, bystanders)
        undo()
        assert any(words in v for v in found), found
        assert _violations(layout, tracked, bystanders) == []

    shutil.copy(held.held, family / "copy.txt")  # a duplicate
    flagged("in 2 places", (family / "copy.txt").unlink)
    held.held.rename(tmp_path / "away")  # a lost file
    flagged("is lost", lambda: (tmp_path / "away").rename(held.held))
    (family / "mine.txt").write_bytes(b"overwritten\n")  # a bystander overwritten
    flagged("was overwritten", lambda: (family / "mine.txt").write_bytes(b"the user's own\n"))
    partial = fsops.partial_name(family / "ok.txt")
    partial.write_bytes(b"TLP:RED\n")  # a partial copy left behind
    flagged("partial copy", partial.unlink)
    journal.update(shared.id, decision=None)  # released without a recorded confirmation
    flagged("without a recorded confirmation", lambda: journal.update(shared.id, decision="share"))
    journal.update(held.id, state=State.RELEASING)  # a step left half-way
    flagged("left releasing", lambda: journal.update(held.id, state=State.HELD))
    journal.close()
    assert not check_crashed(layout, tracked, bystanders)
    held.held.unlink()
    assert any("whole nowhere" in v for v in check_crashed(layout, tracked, bystanders))


def _unlink_source_before_placing(src: Path, dst: Path) -> str:
    """A plausible bug: the source goes before the copy is in place."""
    partial = fsops.partial_name(dst)
    shutil.copyfile(src, partial)
    os.unlink(src)
    crashpoints.point("fsops.copied")
    os.rename(partial, dst)
    return digest(dst.read_bytes())


def _replacing_rename(src: Path, dst: Path) -> None:
    """A plausible bug: a plain rename, which replaces whatever has the name."""
    os.replace(src, dst)
    fsops.fsync_dir(dst.parent)


def _release_forgets_the_move(self: HoldArea, record: HoldRecord, result: Recovery) -> None:
    """A plausible bug: recovery records a release or return as done without moving it."""
    done = State.RELEASED if record.state is State.RELEASING else State.RETURNED
    self.journal.update(record.id, state=done)


MUTANTS: dict[str, tuple[Callable[[pytest.MonkeyPatch], object], dict[str, object]]] = {
    "copy unlinks the source before placing": (
        lambda mp: mp.setattr(fsops, "copy_verify_move", _unlink_source_before_placing),
        {"point": "fsops.copied", "mode": Mode.EXDEV, "arm_at": "hold"},
    ),
    "moves replace and take the first name": (
        lambda mp: (
            mp.setattr(fsops, "rename_no_replace", _replacing_rename),
            mp.setattr(holdarea, "free_name", lambda folder, name: folder / name),
        ),
        {"point": "release.recorded", "mode": Mode.RENAME, "arm_at": "share"},
    ),
    "recovery marks a move done without making it": (
        lambda mp: mp.setattr(HoldArea, "_recover_moving_out", _release_forgets_the_move),
        {"point": "release.journaled", "mode": Mode.RENAME, "arm_at": "share"},
    ),
    "recovery rolls a cut-short hold back (the old behaviour)": (
        lambda mp: mp.setattr(HoldArea, "_can_finish_hold", staticmethod(lambda origin: False)),
        {"point": "hold.journaled", "mode": Mode.RENAME, "arm_at": "hold"},
    ),
}


@pytest.mark.parametrize("mutant", sorted(MUTANTS))
def test_the_harness_catches_a_broken_hold_area(
    mutant: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each plausible bug, patched in (the forked children inherit it), breaks trials."""
    patch, pins = MUTANTS[mutant]
    patch(monkeypatch)
    recovery = AFTER_RECOVERY if "rolls" in mutant else False
    results = []
    for seed in range(BASE_SEED + 30_000, BASE_SEED + 30_010):
        spec = make_spec(
            seed,
            other_fs=False,
            fates=["share", "share", "dont-share"],
            recovery_point=recovery,
            **pins,  # type: ignore[arg-type]
        )
        # Every trial plants a file of the user's own under the released file's name.
        results.append(run_spec(spec, tmp_path))
    assert sum(bool(r.violations) for r in results) >= 3, _report(results)


# --- the whole engine, as processes ------------------------------------------------------

WORKER = Path(crashworker.__file__)

#: (first crash point, answer, how files move, recovery crash point or None)
ENGINE_TRIALS = [
    ("hold.journaled", "share", "rename", None),
    ("hold.moved", "share", "rename", None),
    ("hold.recorded", "dont-share", "rename", None),
    ("release.journaled", "share", "rename", None),
    ("release.moved", "share", "rename", None),
    ("release.recorded", "share", "rename", None),
    ("return.journaled", "dont-share", "rename", None),
    ("return.moved", "dont-share", "rename", None),
    ("return.recorded", "dont-share", "rename", None),
    ("fsops.linked", "share", "link", None),
    ("fsops.copied", "dont-share", "other-fs", None),
    ("fsops.placed", "share", "exdev", None),
    ("hold.journaled", "share", "rename", "hold.moved"),
    ("release.journaled", "share", "exdev", "fsops.placed"),
    ("return.journaled", "dont-share", "rename", "return.moved"),
]


def _engine(
    world: World, not_shared: Path, decide: str, mode: str, crash_at: str | None
) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "SENDGUARD_CRASH_AT"}
    if crash_at:
        env["SENDGUARD_CRASH_AT"] = crash_at
    command = [sys.executable, str(WORKER), "engine", "--root", str(world.root)]
    command += ["--data-dir", str(world.data_dir), "--not-shared", str(not_shared)]
    command += ["--decide", decide, "--mode", mode, "--timeout", "30"]
    return subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


@pytest.mark.parametrize(("point", "decide", "mode", "recovery_point"), ENGINE_TRIALS)
def test_whole_engine_killed_and_restarted(
    point: str,
    decide: str,
    mode: str,
    recovery_point: str | None,
    world: World,
    other_fs: Path | None,
    tmp_path: Path,
) -> None:
    if mode == "other-fs" and other_fs is None:
        mode = "exdev"  # no second file system here: simulate crossing one
    shared = Path(tempfile.mkdtemp(dir=other_fs)) if mode == "other-fs" else None
    not_shared = (shared or world.data_dir) / "Not shared"
    layout = Layout(
        world.root, {"Family": world.family, "Work": world.work}, world.data_dir, not_shared
    )
    try:
        old = world.family / "old-plan.txt"  # there before the engine starts: never touched
        old.write_bytes(b"TLP:RED\nlast year's plan\n")
        bystanders = {old: digest(old.read_bytes())}
        if decide == "dont-share":  # "Not shared" already has a file of that name
            mine = not_shared / "Family" / "plan.txt"
            mine.parent.mkdir(parents=True)
            mine.write_bytes(b"an older file, kept by the user\n")
            bystanders[mine] = digest(mine.read_bytes())
        plan = Tracked("plan.txt", "Family", world.family / "plan.txt", digest(TLP_RED), decide)

        crashing = _engine(world, not_shared, decide, mode, point)
        assert crashing.stdout is not None
        assert crashing.stdout.readline().strip() == "ready", crashing.communicate()[1]
        plan.origin.write_bytes(TLP_RED)
        out, err = crashing.communicate(timeout=60)
        assert crashing.returncode == -9, f"{point} was not reached: {out}\n{err}"
        assert check_crashed(layout, [plan], bystanders) == []

        if recovery_point is not None:  # the restart is killed too, while recovering
            again = _engine(world, not_shared, decide, mode, recovery_point)
            out, err = again.communicate(timeout=60)
            assert again.returncode == -9, f"{recovery_point} not reached: {out}\n{err}"
            assert check_crashed(layout, [plan], bystanders) == []

        restart = _engine(world, not_shared, decide, mode, None)
        out, err = restart.communicate(timeout=60)
        assert restart.returncode == 0, f"{out}\n{err}"
        summary = json.loads(out.splitlines()[-1])
        assert summary["problems"] == []
        journal, _holds = layout.open()
        try:
            assert check_recovered(layout, journal, [plan], bystanders, final=True) == []
        finally:
            journal.close()
    finally:
        if shared is not None:
            shutil.rmtree(shared, ignore_errors=True)


def test_no_second_file_system_falls_back_to_a_simulated_one(tmp_path: Path) -> None:
    """`find_other_filesystem` never offers the same device; EXDEV mode makes every move
    between folders take the copy path even then."""
    other = crashworker.find_other_filesystem(tmp_path)
    if other is not None:
        assert other.stat().st_dev != tmp_path.stat().st_dev
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "f").write_bytes(b"x")
    with crashworker.filesystem_mode(Mode.EXDEV), pytest.raises(fsops.CrossDevice) as caught:
        fsops.rename_no_replace(tmp_path / "a" / "f", tmp_path / "f")
    assert caught.value.errno == errno.EXDEV
