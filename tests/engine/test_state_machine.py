"""A Hypothesis state machine: users drop, modify, delete, rename and move files between
groups, answer share / don't share, and the engine crashes (SIGKILL at a named point, in a
forked child) and restarts; the invariants are checked after every step.

The engine is driven through the same steps it takes itself, without watchdog, so every run
is deterministic: an arrival (a drop, or a move from another group, while the engine runs)
is classified with the real label engine and policy and held when the group is cleared
below its label; an answer is journaled and carried out as `Engine.decide_held` does; a
restart runs recovery (sometimes crashing inside it, or stopping right after it), then
looks again at what recovery requeued, as `Engine.start` does. Files dropped or moved while
the engine is down are present at start-up: not shares.

The model knows every file by its (unique) bytes and where it must be. After every step,
with the engine up: each file is in exactly one place, the one the model says, and the
journal names it; nothing unknown, no partial copy, nothing half-way in the journal, nothing
released without a confirmation. With the engine down (crashed, not yet restarted): each file
is still whole somewhere.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from sendguard.engine import crashpoints
from sendguard.engine.holdarea import HoldArea, Recovery
from sendguard.labels import detect
from sendguard.policy import Policy, load_policy
from sendguard.policy.decide import decide
from sendguard.store.journal import HoldRecord, Journal, State
from tests.engine.conftest import POLICY
from tests.engine.crashworker import (
    AFTER_RECOVERY,
    GROUPS,
    POINTS,
    Entry,
    Layout,
    Mode,
    Report,
    check_journal,
    decide_held,
    digest,
    filesystem_mode,
    find_other_filesystem,
    run_in_child,
    snapshot,
)

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="fork, SIGKILL and the Linux rename paths"
)

#: First lines that make a file clean, SECRET (held in Family only) or TOP SECRET (held in
#: both groups: Family is cleared for PUBLIC, Work for SECRET).
CONTENT = {"clean": "Shopping list\n", "red": "TLP:RED\n", "top": "TOP SECRET\n"}
HELD_IN = {"clean": (), "red": ("Family",), "top": ("Family", "Work")}
#: A small pool, so names collide: conflict names on release and return, taken targets.
NAMES = ("plan.txt", "notes", "[x] a?.md", "机密.txt")
OTHER_FS = find_other_filesystem(Path(tempfile.gettempdir()))
MODES = [m for m in Mode if m is not Mode.OTHER_FS or OTHER_FS is not None]
EXAMPLES = int(os.environ.get("SENDGUARD_SM_EXAMPLES", "60"))
STEPS = int(os.environ.get("SENDGUARD_SM_STEPS", "40"))
picks = st.integers(min_value=0, max_value=10_000)
#: What the runs did, to show they crash, restart and answer (asserted by the test).
STATS: Counter[str] = Counter()


@dataclass(frozen=True)
class File:
    """One file as the model knows it."""

    data: bytes
    kind: str
    group: str
    #: "group", "hold", "not-shared"; "unknown" while a crash left its step cut short.
    area: str
    #: Its path, in a group folder or in Not shared.
    path: Path | None = None
    #: While unknown: the areas recovery may legitimately leave it in.
    allowed: frozenset[str] = frozenset()
    #: Where it arrived, for an arrival cut short (it can only be there or held).
    origin: Path | None = None
    #: The user overwrote it while its hold was cut short: it may be gone (their doing).
    optional: bool = False
    #: For an arrival cut short: the engine had to hold it (by its bytes on arrival).
    must_hold: bool = False

    @property
    def digest(self) -> str:
        return digest(self.data)


class GuardMachine(RuleBasedStateMachine):
    def __init__(self, base: Path, policy: Policy) -> None:
        super().__init__()
        self.base = base
        self.policy = policy
        self.root = Path(tempfile.mkdtemp(prefix="machine-", dir=base))
        self.shared: Path | None = None
        self.layout: Layout | None = None
        self.journal: Journal | None = None
        self.holds: HoldArea | None = None
        self.files: dict[str, File] = {}
        self.down = False
        #: The user already overwrote a file since the last crash (once is enough).
        self.overwrote = False
        self.made = 0
        self.stack = contextlib.ExitStack()

    # --- plumbing -----------------------------------------------------------------------

    @initialize(mode=st.sampled_from(MODES))
    def start(self, mode: Mode) -> None:
        self.stack.enter_context(filesystem_mode(mode))
        if mode is Mode.OTHER_FS:
            self.shared = Path(tempfile.mkdtemp(prefix="sendguard-machine-", dir=OTHER_FS))
        self.layout = Layout.create(self.root, self.shared)
        self._open()

    def teardown(self) -> None:
        self._close()
        self.stack.close()
        shutil.rmtree(self.root, ignore_errors=True)
        if self.shared is not None:
            shutil.rmtree(self.shared, ignore_errors=True)

    def _open(self) -> None:
        assert self.layout is not None
        self.journal, self.holds = self.layout.open()

    def _close(self) -> None:
        if self.journal is not None:
            self.journal.close()
        self.journal = self.holds = None

    def _engine(self) -> tuple[Layout, Journal, HoldArea]:
        assert self.layout and self.journal and self.holds
        return self.layout, self.journal, self.holds

    def _data(self, kind: str) -> bytes:
        self.made += 1
        return f"{CONTENT[kind]}machine file {self.made}\n".encode()

    def _free(self, folder: Path, name: str) -> Path:
        """A name nothing has; nor one where an arrival cut short by a crash was (a new
        file there would be taken for it: `overwrite_while_down` does that on purpose)."""
        taken = {f.origin for f in self.files.values() if f.origin is not None}
        path, number = folder / name, 1
        while path.exists() or path.is_symlink() or path in taken:
            number += 1
            path = folder / f"{number} {name}"
        return path

    def _certain(self, area: str) -> list[File]:
        return sorted((f for f in self.files.values() if f.area == area), key=lambda f: str(f.path))

    def _set(self, old: File | None, new: File | None) -> None:
        if old is not None:
            del self.files[old.digest]
        if new is not None:
            self.files[new.digest] = new

    def _arrive(self, path: Path, group: str) -> bool:
        """The engine's intake for an arrival: hold it when the group is cleared below it."""
        _layout, _journal, holds = self._engine()
        owner = next(g for g in self.policy.groups if g.name == group)
        decision = decide(detect(path, name_patterns=self.policy.name_patterns), owner, self.policy)
        if decision.prompt:
            record = holds.hold(path, group, batch="machine")
            assert record is not None
        return decision.prompt

    def _arrival(self, file: File, group: str) -> File:
        assert file.path is not None
        held = self._arrive(file.path, group)
        assert held == (group in HELD_IN[file.kind]), f"{file.path}: held={held}"
        return replace(file, area="hold", path=None) if held else file

    # --- what users do ------------------------------------------------------------------

    @rule(
        group=st.sampled_from(GROUPS),
        kind=st.sampled_from(list(CONTENT)),
        name=st.sampled_from(NAMES),
    )
    def drop(self, group: str, kind: str, name: str) -> None:
        """A new file in a group folder (while the engine is down: present at start-up)."""
        assert self.layout is not None
        path = self._free(self.layout.folders[group], name)
        file = File(self._data(kind), kind, group, "group", path)
        path.write_bytes(file.data)
        self._set(None, file if self.down else self._arrival(file, group))

    @precondition(lambda self: bool(self._certain("group")))
    @rule(pick=picks, kind=st.sampled_from(list(CONTENT)))
    def modify(self, pick: int, kind: str) -> None:
        """Rewritten in place (same inode): an edit, not a new share."""
        files = self._certain("group")
        old = files[pick % len(files)]
        assert old.path is not None
        new = replace(old, data=self._data(kind), kind=kind)
        with open(old.path, "wb") as handle:
            handle.write(new.data)
        self._set(old, new)

    @precondition(lambda self: bool(self._certain("group")))
    @rule(pick=picks)
    def delete(self, pick: int) -> None:
        files = self._certain("group")
        old = files[pick % len(files)]
        assert old.path is not None
        old.path.unlink()
        self._set(old, None)

    @precondition(lambda self: bool(self._certain("group")))
    @rule(pick=picks, name=st.sampled_from(NAMES))
    def rename(self, pick: int, name: str) -> None:
        """Inside one group folder: not a share."""
        files = self._certain("group")
        old = files[pick % len(files)]
        assert old.path is not None
        path = self._free(old.path.parent, name)
        os.rename(old.path, path)
        self._set(old, replace(old, path=path))

    @precondition(lambda self: bool(self._certain("group")))
    @rule(pick=picks)
    def move_to_other_group(self, pick: int) -> None:
        """Forwarding: a share into the other group (while the engine runs)."""
        assert self.layout is not None
        files = self._certain("group")
        old = files[pick % len(files)]
        assert old.path is not None
        group = next(g for g in GROUPS if g != old.group)
        path = self._free(self.layout.folders[group], old.path.name)
        os.rename(old.path, path)
        moved = replace(old, group=group, path=path)
        self._set(old, moved if self.down else self._arrival(moved, group))

    def _held(self) -> list[tuple[int, File]]:
        if self.down or self.journal is None:
            return []
        return [(r.id, self.files[r.sha256 or ""]) for r in self.journal.in_states(State.HELD)]

    @precondition(lambda self: bool(self._held()))
    @rule(pick=picks, share=st.booleans())
    def answer(self, pick: int, share: bool) -> None:
        """Share (confirmed) or don't share a held file."""
        _layout, journal, holds = self._engine()
        held = self._held()
        hold_id, old = held[pick % len(held)]
        record = journal.get(hold_id)
        assert record is not None and old.area == "hold"
        target = decide_held(journal, holds, record, share)
        STATS["answer"] += 1
        self._set(old, replace(old, area="group" if share else "not-shared", path=target))

    # --- crash and restart --------------------------------------------------------------

    @precondition(lambda self: not self.down)
    @rule(
        op=st.sampled_from(["drop", "move", "share", "dont-share"]),
        which=picks,
        pick=picks,
        kind=st.sampled_from(["red", "top"]),
    )
    def crash(self, op: str, which: int, pick: int, kind: str) -> None:
        """The engine's next step runs in a child that SIGKILLs itself at a point on that
        step's way (or finishes, when the way does not pass it); then the engine is down."""
        layout, _journal, _holds = self._engine()
        held = self._held()
        movable = [f for f in self._certain("group") if f.kind != "clean"]
        if op in ("share", "dont-share") and not held:
            op = "drop"
        way = {"share": "release.", "dont-share": "return."}.get(op, "hold.")
        on_way = [p for p in POINTS if p.startswith((way, "fsops."))]
        point = on_way[which % len(on_way)]
        if op in ("share", "dont-share"):
            hold_id, old = held[pick % len(held)]
            allowed = {"hold", "group" if op == "share" else "not-shared"}
            new = replace(old, area="unknown", path=None, allowed=frozenset(allowed))

            def step() -> None:
                child_journal, child_holds = layout.open()
                record = child_journal.get(hold_id)
                assert record is not None
                crashpoints.arm(point)
                decide_held(child_journal, child_holds, record, op == "share")

        else:
            if op == "move" and movable:
                old = movable[pick % len(movable)]
                assert old.path is not None
                group = next(g for g in GROUPS if g != old.group)
                path = self._free(layout.folders[group], old.path.name)
                os.rename(old.path, path)
            else:  # a drop of a file that will be held
                old = None
                group = "Family" if kind == "red" else GROUPS[pick % 2]
                path = self._free(layout.folders[group], NAMES[pick % len(NAMES)])
                path.write_bytes(self._data(kind))
            data = path.read_bytes()
            arrived = old.kind if old else kind
            new = File(
                data,
                arrived,
                group,
                "unknown",
                allowed=frozenset({"group", "hold"}),
                origin=path,
                must_hold=group in HELD_IN[arrived],
            )

            def step() -> None:
                self._open()  # the child's own connection
                crashpoints.arm(point)
                self._arrive(path, group)

        self._set(old, new)
        self._close()
        self._child(step, f"{op} step")
        self.down = True
        self.overwrote = False

    def _child(self, step: Callable[[], None], what: str) -> None:
        def body(report: Report) -> None:
            step()
            report("done")

        outcome = run_in_child(body)
        assert outcome.error is None, outcome.error
        assert not outcome.hung
        STATS[f"{what} killed" if outcome.killed else f"{what} not killed"] += 1

    @precondition(lambda self: self.down and not self.overwrote and bool(self._tamperable()))
    @rule(pick=picks, kind=st.sampled_from(list(CONTENT)))
    def overwrite_while_down(self, pick: int, kind: str) -> None:
        """While the engine is down, the user rewrites a file whose hold was cut short (in
        place: with a half-done link-then-unlink, the held name is the same file)."""
        files = self._tamperable()
        old = files[pick % len(files)]
        assert old.origin is not None
        new = replace(old, data=self._data(kind), kind=kind)
        with open(old.origin, "wb") as handle:
            handle.write(new.data)
        self._set(old, replace(old, optional=True))
        self._set(None, new)
        self.overwrote = True
        STATS["overwrite while down"] += 1

    def _tamperable(self) -> list[File]:
        return sorted(
            (
                f
                for f in self.files.values()
                if f.area == "unknown"
                and f.origin is not None
                and not f.optional
                and f.origin.is_file()
            ),
            key=lambda f: str(f.origin),
        )

    @precondition(lambda self: self.down)
    @rule(recovery_point=st.sampled_from([None, AFTER_RECOVERY, *POINTS]))
    def restart(self, recovery_point: str | None) -> None:
        """Recovery (perhaps killed part-way, or right after it returns, in a child), then
        the engine's start: recovery again, and another look at what it requeued."""
        layout = self.layout
        assert layout is not None and self.journal is None
        if recovery_point is not None:

            def step() -> None:
                _journal, holds = layout.open()
                if recovery_point != AFTER_RECOVERY:
                    crashpoints.arm(recovery_point)
                holds.recover()
                if recovery_point == AFTER_RECOVERY:
                    os.kill(os.getpid(), signal.SIGKILL)

            self._child(step, "recovery")
        self._open()
        _layout, _journal, holds = self._engine()
        recovery = holds.recover()
        again = holds.recover()
        assert not again.finished and not again.requeue, again
        for record in recovery.requeue:
            if record.origin.exists():
                self._arrive(record.origin, record.group_name)
        self.down = False
        STATS["restart"] += 1
        self._resolve()

    def _resolve(self) -> None:
        """Where did the files whose step was cut short end up, and may they be there?"""
        assert self.layout is not None and self.journal is not None
        entries, _notes = snapshot(self.layout)
        records = list(self.journal.history(limit=100_000))
        for file in [f for f in self.files.values() if f.area == "unknown"]:
            places = [e for e in entries if e.digest == file.digest and not e.partial]
            if not places and file.optional:
                self._set(file, None)
                continue
            assert len(places) == 1, f"{file.data!r} after restart: {places}"
            place = places[0]
            assert place.area in file.allowed, f"{file.data!r} ended in {place.path}"
            if place.area == "group" and file.origin is not None:
                # An arrival cut short may only stay put if it never needed holding.
                assert place.path == file.origin, place
                assert not file.must_hold, f"{place.path} was left in the group folder unheld"
            if place.area == "group" and file.origin is None:
                mine = [r for r in records if r.target == place.path and r.sha256 == file.digest]
                assert mine and max(mine, key=lambda r: r.id).decision == "share", mine
            self._set(
                file,
                replace(
                    file,
                    area=place.area,
                    group=place.group or file.group,
                    path=None if place.area == "hold" else place.path,
                    allowed=frozenset(),
                    origin=None,
                    optional=False,
                    must_hold=False,
                ),
            )

    # --- invariants ---------------------------------------------------------------------

    @invariant()
    def nothing_is_lost(self) -> None:
        if self.layout is None:
            return
        entries, _notes = snapshot(self.layout)
        violations = self._weak(entries) if self.down else self._strict(entries)
        assert not violations, "\n".join(violations)

    def _weak(self, entries: list[Entry]) -> list[str]:
        whole = {e.digest for e in entries if not e.partial}
        violations = [
            f"after the crash, {f.data!r} is whole nowhere"
            for f in self.files.values()
            if not f.optional and f.digest not in whole
        ]
        for entry in entries:
            if not entry.partial and entry.digest not in self.files:
                violations.append(f"after the crash, an unknown file: {entry.path}")
        return violations

    def _strict(self, entries: list[Entry]) -> list[str]:
        assert self.journal is not None
        violations: list[str] = []
        found: dict[str, list[Entry]] = {}
        for entry in entries:
            if entry.partial:
                violations.append(f"a partial copy was left: {entry.path}")
            elif entry.digest not in self.files:
                violations.append(f"an unknown file (altered? a stray copy?): {entry.path}")
            else:
                found.setdefault(entry.digest, []).append(entry)
        records = list(self.journal.history(limit=100_000))
        violations += check_journal(records, set(self.files))
        held = {r.sha256: r for r in records if r.state is State.HELD}
        for key, file in self.files.items():
            places = found.get(key, [])
            if len(places) != 1:
                if not (file.optional and not places):
                    where = [str(e.path) for e in places]
                    violations.append(f"{file.data!r} is in {len(places)} places: {where}")
                continue
            place = places[0]
            if place.area != file.area:
                violations.append(f"{file.data!r} is in {place.path}, expected in {file.area}")
            elif file.area == "hold":
                record = held.get(key)
                if record is None or record.held != place.path:
                    violations.append(f"{place.path} is held, but no held record names it")
            elif place.path != file.path:
                violations.append(f"{file.data!r} is at {place.path}, expected at {file.path}")
        return violations


@pytest.fixture
def policy(tmp_path: Path) -> Policy:
    """The engine tests' policy: Family cleared for PUBLIC, Work for SECRET."""
    policy_file = tmp_path / "policy.toml"
    policy_file.write_text(POLICY.format(root=tmp_path))
    loaded = load_policy(
        policy_file, tmp_path / "no-user.toml", system_required=True, home=tmp_path
    )
    assert loaded.error is None, loaded.error
    return loaded


def _run(base: Path, policy: Policy, **options: object) -> None:
    run_state_machine_as_test(
        lambda: GuardMachine(base, policy),  # type: ignore[arg-type]  # a factory is fine
        settings=settings(
            **{
                "max_examples": EXAMPLES,
                "stateful_step_count": STEPS,
                "deadline": None,
                "suppress_health_check": [HealthCheck.too_slow, HealthCheck.filter_too_much],
                **options,
            }  # type: ignore[arg-type]
        ),
    )


def test_users_crashes_and_restarts_never_lose_a_file(tmp_path: Path, policy: Policy) -> None:
    STATS.clear()
    _run(tmp_path, policy)
    # The runs must really crash, restart and answer, or they prove little. (Which step
    # each crash cuts short varies from run to run; test_crash's matrix covers them all.)
    killed = sum(n for what, n in STATS.items() if what.endswith("step killed"))
    assert killed >= 5 and STATS["restart"] >= 5 and STATS["answer"] >= 5, STATS


def _forgets_a_hold(origin: Path) -> bool:
    return False  # recovery rolls a hold cut short back and requeues it in memory only


def _marks_moves_done(self: HoldArea, record: HoldRecord, result: Recovery) -> None:
    done = State.RELEASED if record.state is State.RELEASING else State.RETURNED
    self.journal.update(record.id, state=done)


@pytest.mark.parametrize(
    ("attribute", "broken"),
    [
        ("_can_finish_hold", staticmethod(_forgets_a_hold)),
        ("_recover_moving_out", _marks_moves_done),
    ],
    ids=["recovery-forgets-a-hold", "recovery-marks-moves-done"],
)
def test_the_machine_catches_a_broken_recovery(
    attribute: str, broken: object, tmp_path: Path, policy: Policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(HoldArea, attribute, broken)
    with pytest.raises(AssertionError):
        _run(
            tmp_path,
            policy,
            max_examples=200,
            derandomize=True,
            database=None,
            phases=[Phase.generate],
        )
