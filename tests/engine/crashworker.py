"""Crash trials for the hold area: shared by the crash tests, the state machine and the soak.

A fork-based trial: the parent (which has imported SendGuard and runs no other thread)
writes labelled files into group folders, then forks a child that arms a named crash point
(`crashpoints.arm`) and runs a scripted sequence of the engine's steps — hold, confirm and
release, don't share and give back, and a user putting a file of their own under the same
name — until it SIGKILLs itself at that point. Sometimes a second child runs recovery with
another point armed ("recovery itself crashes"). The parent then runs recovery twice, checks
the invariants, finishes the script as a restarted engine would and checks them again.

The invariants (`check_recovered`): every file the trial created exists byte-identical in
exactly one place — a group folder, the hold area or "Not shared" — and the journal names
that place; no file that was there before (a bystander) is overwritten or gone; no partial
copy is left; no journal record is left half-way (holding, releasing, returning); nothing is
released without a recorded confirmation.

Run as a script, this module is one whole engine process for the whole-engine trials::

    python tests/engine/crashworker.py engine --root R --data-dir D --decide share

(``SENDGUARD_CRASH_AT`` in its environment arms a crash point).
"""

from __future__ import annotations

import argparse
import contextlib
import enum
import errno
import hashlib
import json
import os
import random
import select
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sendguard.engine import crashpoints, fsops
from sendguard.engine.fsops import PARTIAL_MARK
from sendguard.engine.holdarea import NOTE_SUFFIX, HoldArea, Recovery
from sendguard.store.journal import HoldRecord, Journal, State

POINTS: tuple[str, ...] = crashpoints.POINTS
GROUPS = ("Family", "Work")
#: States a record must never be left in after recovery.
TRANSIENT = (State.HOLDING, State.RELEASING, State.RETURNING)
#: File names for trial files: spaces, Unicode, glob metacharacters, no suffix, two suffixes.
NAMES = (
    "plan.txt",
    "Budget 2025.xlsx",
    "notes",
    "report.final.md",
    "机密 文件.txt",
    "[CONFIDENTIAL] minutes?.docx",
    "photo.JPG",
)
#: Not a named point: the process is killed right after `recover()` returns, before the
#: engine has acted on what it returned (a kill -9 or power loss during start-up).
AFTER_RECOVERY = "after-recovery"
#: How long a child may take before it counts as hung (and is killed).
CHILD_TIMEOUT = 60.0


# --- file systems -------------------------------------------------------------------------


class Mode(enum.StrEnum):
    """How moves are made in a trial (which code paths of `fsops` run)."""

    #: One atomic ``renameat2(RENAME_NOREPLACE)``.
    RENAME = "rename"
    #: No RENAME_NOREPLACE (some network and FUSE file systems): link, then unlink.
    LINK = "link"
    #: Every move between two folders crosses file systems (EXDEV simulated): copy to a
    #: partial name, fsync, verify, rename into place, unlink the source.
    EXDEV = "exdev"
    #: Both: the verified copy is put in place by link-then-unlink.
    LINK_EXDEV = "link-exdev"
    #: The group and "Not shared" folders really are on another file system.
    OTHER_FS = "other-fs"


def recovery_points(mode: Mode) -> tuple[str, ...]:
    """Where recovery can crash in `mode`: while finishing a step, or just after it ends."""
    return (*(p for p in POINTS if mode in modes_for(p, True)), AFTER_RECOVERY)


def modes_for(point: str, other_fs: bool) -> tuple[Mode, ...]:
    """The modes in which a move can pass `point`."""
    if point == "fsops.linked":
        return (Mode.LINK, Mode.LINK_EXDEV)
    if point in ("fsops.copied", "fsops.placed"):
        return (Mode.EXDEV, Mode.LINK_EXDEV, *((Mode.OTHER_FS,) if other_fs else ()))
    return tuple(m for m in Mode if other_fs or m is not Mode.OTHER_FS)


@contextlib.contextmanager
def filesystem_mode(mode: Mode) -> Iterator[None]:
    """Make `fsops` behave as on a file system without RENAME_NOREPLACE and/or as if every
    move between two folders crossed file systems. Forked children inherit it."""
    if mode in (Mode.RENAME, Mode.OTHER_FS):
        yield
        return
    original = fsops._rename_noreplace_linux

    def patched(src: Path, dst: Path) -> bool:
        if mode in (Mode.EXDEV, Mode.LINK_EXDEV) and src.parent != dst.parent:
            raise OSError(errno.EXDEV, os.strerror(errno.EXDEV), str(dst))
        if mode in (Mode.LINK, Mode.LINK_EXDEV):
            return False  # "not supported here": rename_no_replace falls back to link+unlink
        return original(src, dst)

    fsops._rename_noreplace_linux = patched
    try:
        yield
    finally:
        fsops._rename_noreplace_linux = original


def find_other_filesystem(reference: Path) -> Path | None:
    """A writable folder on another file system than `reference` (``/dev/shm`` usually), for
    real cross-file-system moves; None when there is none."""
    candidates = [os.environ.get("SENDGUARD_OTHER_FS", ""), "/dev/shm", "/run/shm", "/var/tmp"]
    candidates.append(tempfile.gettempdir())
    device = reference.stat().st_dev
    for candidate in candidates:
        if not candidate or not os.path.isdir(candidate):
            continue
        try:
            if os.stat(candidate).st_dev == device:
                continue
            probe = tempfile.mkdtemp(prefix="sendguard-probe-", dir=candidate)
        except OSError:
            continue
        os.rmdir(probe)
        return Path(candidate)
    return None


# --- where things are -----------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """The folders of one trial: group folders, the hold area, "Not shared", the journal."""

    root: Path
    folders: dict[str, Path]
    data_dir: Path
    not_shared: Path

    @classmethod
    def create(cls, root: Path, shared_root: Path | None = None) -> Layout:
        """Group folders and "Not shared" under `shared_root` (another file system) or
        `root`; the data folder (journal, hold area) always under `root`."""
        base = shared_root or root
        folders = {name: base / "Dropbox" / name for name in GROUPS}
        for folder in folders.values():
            folder.mkdir(parents=True, exist_ok=True)
        (root / "data").mkdir(parents=True, exist_ok=True)
        return cls(root, folders, root / "data", base / "Not shared")

    @property
    def hold_root(self) -> Path:
        return self.data_dir / "hold"

    @property
    def journal_path(self) -> Path:
        return self.data_dir / "journal.sqlite3"

    def not_shared_for(self, group: str) -> Path:
        return self.not_shared / group

    def open(self) -> tuple[Journal, HoldArea]:
        journal = Journal(self.journal_path)
        # The "other-fs" mode tests the copy between file systems: one hold area only.
        return journal, HoldArea(journal, self.hold_root, self.not_shared, per_file_system=False)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Entry:
    """One file found in one of the places SendGuard can name."""

    path: Path
    #: "group", "hold" or "not-shared".
    area: str
    group: str | None
    digest: str

    @property
    def partial(self) -> bool:
        return PARTIAL_MARK in self.path.name


def snapshot(layout: Layout) -> tuple[list[Entry], list[Path]]:
    """Every file in the group folders, the hold area and "Not shared" (with its hash), and
    the notes beside the files not shared."""
    entries: list[Entry] = []
    notes: list[Path] = []
    areas: list[tuple[Path, str, str | None]] = [
        (folder, "group", name) for name, folder in layout.folders.items()
    ]
    areas += [(layout.hold_root, "hold", None), (layout.not_shared, "not-shared", None)]
    for top, area, group in areas:
        if not top.is_dir():
            continue
        for directory, _dirs, names in os.walk(top):
            for name in names:
                path = Path(directory, name)
                owner = group
                if area == "not-shared":
                    parts = path.relative_to(top).parts
                    owner = parts[0] if len(parts) > 1 else None
                    if name.endswith(NOTE_SUFFIX):
                        notes.append(path)
                        continue
                entries.append(Entry(path, area, owner, digest(path.read_bytes())))
    return entries, notes


def conflict_names(name: str, count: int = 20) -> set[str]:
    """`name` and the names `free_name` gives it when it is taken."""
    suffix = "".join(Path(name).suffixes[-1:])
    stem = name[: len(name) - len(suffix)] if suffix else name
    return {name} | {f"{stem} (SendGuard {n}){suffix}" for n in range(2, count)}


# --- what a trial put where -----------------------------------------------------------------


@dataclass(frozen=True)
class Tracked:
    """A file SendGuard was given: where it arrived and what the user decides about it."""

    key: str
    group: str
    origin: Path
    digest: str
    #: "share", "dont-share", or None: no answer, it stays held.
    fate: str | None


def live_record(journal: Journal, origin: Path) -> HoldRecord | None:
    """The hold of the file that arrived at `origin` (the newest that did not vanish)."""
    records = [r for r in journal.history(limit=100_000) if r.origin == origin]
    live = [r for r in records if r.state is not State.VANISHED]
    return max(live, key=lambda r: r.id) if live else None


def check_crashed(
    layout: Layout, tracked: Sequence[Tracked], bystanders: dict[Path, str]
) -> list[str]:
    """Straight after a crash, before recovery: every file still whole somewhere (two names
    or two copies are allowed until recovery removes the verified duplicate)."""
    violations: list[str] = []
    entries, _notes = snapshot(layout)
    whole: dict[str, list[Entry]] = defaultdict(list)
    for entry in entries:
        if not entry.partial:
            whole[entry.digest].append(entry)
    for item in tracked:
        if not whole[item.digest]:
            violations.append(f"after the crash, {item.key} is whole nowhere")
    violations += _check_bystanders(bystanders, whole)
    known = {item.digest for item in tracked} | set(bystanders.values())
    for entry in entries:
        if not entry.partial and entry.digest not in known:
            violations.append(f"after the crash, an unknown (altered?) file: {entry.path}")
    return violations


def _check_bystanders(bystanders: dict[Path, str], whole: dict[str, list[Entry]]) -> list[str]:
    violations: list[str] = []
    for path, expected in bystanders.items():
        try:
            found = digest(path.read_bytes())
        except FileNotFoundError:
            violations.append(f"a file that was already there is gone: {path}")
            continue
        if found != expected:
            violations.append(f"a file that was already there was overwritten: {path}")
        elif len(whole[expected]) != 1:
            places = ", ".join(str(e.path) for e in whole[expected])
            violations.append(f"a file that was already there is now in several places: {places}")
    return violations


def check_recovered(
    layout: Layout,
    journal: Journal,
    tracked: Sequence[Tracked],
    bystanders: dict[Path, str],
    *,
    final: bool = False,
    names_checked: bool = True,
) -> list[str]:
    """The invariants after recovery. `final`: the script was finished as well, so every
    file is where its answer sends it. `names_checked`: files have not been renamed or moved
    by the user since, so the journal's target is still the file's path."""
    violations: list[str] = []
    entries, _notes = snapshot(layout)
    by_digest: dict[str, list[Entry]] = defaultdict(list)
    for entry in entries:
        if entry.partial:
            violations.append(f"a partial copy was left behind: {entry.path}")
        else:
            by_digest[entry.digest].append(entry)
    records = list(journal.history(limit=1_000_000))
    violations += check_journal(records, {item.digest for item in tracked})
    for item in tracked:
        places = by_digest.get(item.digest, [])
        if not places:
            violations.append(f"{item.key} is lost: in no group folder, hold area or Not shared")
            continue
        if len(places) > 1:
            where = ", ".join(str(e.path) for e in places)
            violations.append(f"{item.key} is in {len(places)} places: {where}")
            continue
        violations += _check_place(item, places[0], records, final, names_checked)
    violations += _check_bystanders(bystanders, by_digest)
    known = {item.digest for item in tracked} | set(bystanders.values())
    for found, places in by_digest.items():
        if found not in known:
            where = ", ".join(str(e.path) for e in places)
            violations.append(f"an unknown file (a truncated or altered copy?): {where}")
    return violations


def check_journal(records: Sequence[HoldRecord], digests: set[str]) -> list[str]:
    """Journal-wide rules: nothing half-way, nothing released without a confirmation."""
    violations: list[str] = []
    for record in records:
        name = f"journal record {record.id} ({record.origin.name})"
        if record.state in TRANSIENT:
            violations.append(f"{name} was left {record.state.value} after recovery")
        if record.state is State.RELEASED and record.decision != "share":
            violations.append(f"{name} was released without a recorded confirmation")
        if record.state is State.RETURNED and record.decision != "dont-share":
            violations.append(f"{name} was returned though the answer was {record.decision}")
        if record.state is State.VANISHED and record.sha256 in digests:
            violations.append(f"{name}: the journal lost track of a held file (vanished)")
    return violations


def _check_place(
    item: Tracked, place: Entry, records: Sequence[HoldRecord], final: bool, names_checked: bool
) -> list[str]:
    mine = [r for r in records if r.origin == item.origin and r.state is not State.VANISHED]
    if len(mine) > 1:
        return [f"{item.key} has {len(mine)} live journal records: {[r.id for r in mine]}"]
    record = mine[0] if mine else None
    where = f"{item.key} at {place.path}"
    problems: list[str] = []
    if record is not None and record.sha256 != item.digest:
        problems.append(f"{where}: the journal has another hash for it")
    if place.area == "hold":
        if record is None or record.state is not State.HELD or record.held != place.path:
            problems.append(f"{where} is in the hold area, but the journal says {_says(record)}")
    elif place.area == "group":
        if record is None:
            if place.path != item.origin:
                problems.append(f"{where} moved inside the group folders without a record")
        elif record.state is not State.RELEASED or record.decision != "share":
            problems.append(f"{where} is in a group folder, but the journal says {_says(record)}")
        elif names_checked and record.target != place.path:
            problems.append(f"{where}: the journal released it to {record.target}")
        elif place.group != item.group or place.path.parent != item.origin.parent:
            problems.append(f"{where} was released into another folder than it arrived in")
        elif place.path.name not in conflict_names(item.origin.name):
            problems.append(f"{where} was released under an unexpected name")
    elif place.area == "not-shared":
        if record is None or record.state is not State.RETURNED:
            problems.append(f"{where} is in Not shared, but the journal says {_says(record)}")
        elif names_checked and record.target != place.path:
            problems.append(f"{where}: the journal returned it to {record.target}")
        elif place.group != item.group:
            problems.append(f"{where} is in the Not shared folder of another group")
    if final:
        expected = {"share": "group", "dont-share": "not-shared", None: "hold"}[item.fate]
        if place.area != expected or (expected == "group" and record is None):
            problems.append(f"{where}: after the answer {item.fate!r} it belongs in {expected}")
    return problems


def _says(record: HoldRecord | None) -> str:
    if record is None:
        return "it was never held"
    return f"{record.state.value} (held {record.held}, target {record.target})"


def signature(layout: Layout, journal: Journal) -> tuple[object, ...]:
    """Files and journal rows, to tell whether a second recovery changed anything."""
    entries, notes = snapshot(layout)
    files = sorted((str(e.path), e.digest) for e in entries)
    rows = sorted(
        (r.id, r.state.value, str(r.held), str(r.target), r.sha256, r.decision)
        for r in journal.history(limit=1_000_000)
    )
    return (files, sorted(map(str, notes)), rows)


def recover_twice(layout: Layout) -> tuple[Recovery, list[str]]:
    """Recovery as a restarted engine runs it, then once more: the second run must find
    nothing to finish and change nothing."""
    journal, holds = layout.open()
    try:
        first = holds.recover()
        before = signature(layout, journal)
        second = holds.recover()
        violations: list[str] = []
        if second.finished or second.requeue:
            violations.append(
                f"a second recovery found more to do: {second.finished}"
                f" (requeued {[r.id for r in second.requeue]})"
            )
        if signature(layout, journal) != before:
            violations.append("a second recovery changed files or the journal")
        return first, violations
    finally:
        journal.close()


# --- children ------------------------------------------------------------------------------


@dataclass
class ChildOutcome:
    #: Died by SIGKILL: the armed crash point was reached.
    killed: bool
    exit_code: int | None
    #: Lines the child reported (``done 3``), in order.
    lines: list[str]
    #: The child's traceback, when its script raised.
    error: str | None = None
    hung: bool = False


Report = Callable[[str], None]


def run_in_child(body: Callable[[Report], None], timeout: float = CHILD_TIMEOUT) -> ChildOutcome:
    """Run `body` in a forked child; it reports progress through `report(line)`. The child
    never returns into the caller: it ends by `os._exit` or by a crash point's SIGKILL."""
    others = [t.name for t in threading.enumerate() if t is not threading.current_thread()]
    if others:
        raise RuntimeError(f"cannot fork a crash trial while other threads run: {others}")
    read_fd, write_fd = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child
        code = 0
        try:
            os.close(read_fd)

            def report(line: str) -> None:
                os.write(write_fd, (line.replace("\n", "\\n") + "\n").encode())

            body(report)
        except BaseException:
            code = 1
            with contextlib.suppress(BaseException):
                os.write(
                    write_fd, ("error " + traceback.format_exc()).replace("\n", "\\n").encode()
                )
        finally:
            os._exit(code)
    os.close(write_fd)
    chunks: list[bytes] = []
    hung = False
    deadline = time.monotonic() + timeout
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                hung = True
                os.kill(pid, signal.SIGKILL)
                break
            ready, _, _ = select.select([read_fd], [], [], remaining)
            if ready:
                chunk = os.read(read_fd, 65536)
                if not chunk:
                    break
                chunks.append(chunk)
    finally:
        os.close(read_fd)
        _, status = os.waitpid(pid, 0)
    lines = b"".join(chunks).decode(errors="replace").splitlines()
    error = next(
        (line[6:].replace("\\n", "\n") for line in lines if line.startswith("error ")), None
    )
    killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL and not hung
    exit_code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
    return ChildOutcome(killed, exit_code, lines, error, hung)


# --- scripted trials ----------------------------------------------------------------------


@dataclass(frozen=True)
class TrialFile:
    group: str
    name: str
    data: bytes
    fate: str | None


@dataclass(frozen=True)
class Bystander:
    """A file of the user's own, in a group folder or in Not shared, with a name SendGuard
    will want: it must never be overwritten."""

    area: str  # "group" or "not-shared"
    group: str
    name: str
    data: bytes

    def path(self, layout: Layout) -> Path:
        folder = (
            layout.folders[self.group]
            if self.area == "group"
            else layout.not_shared_for(self.group)
        )
        return folder / self.name


@dataclass(frozen=True)
class Step:
    #: "hold", "share", "dont-share", or "plant" (a user puts `bystander` in place).
    kind: str
    file: int
    bystander: Bystander | None = None


@dataclass(frozen=True)
class TrialSpec:
    seed: int
    mode: Mode
    point: str
    #: The crash point is armed before this step (0: from the start).
    arm_before: int
    #: When set, recovery first runs in a child with this point armed.
    recovery_point: str | None
    files: tuple[TrialFile, ...]
    steps: tuple[Step, ...]
    #: Files of the user's own that are there before the trial starts.
    present: tuple[Bystander, ...]
    #: While the engine is down, the user puts a file of their own at the name a cut-short
    #: release or return was headed for.
    squat: bool = False

    def describe(self) -> str:
        script = ", ".join(f"{s.kind} {s.file}" for s in self.steps)
        text = f"seed {self.seed}: {self.mode.value}, crash at {self.point} before step"
        text += f" {self.arm_before} of [{script}]"
        if self.squat:
            text += ", a file of the user's takes the target's name"
        if self.recovery_point:
            text += f", then recovery crashes at {self.recovery_point}"
        return text


def make_spec(
    seed: int,
    *,
    other_fs: bool,
    point: str | None = None,
    mode: Mode | None = None,
    fates: Sequence[str | None] | None = None,
    arm_at: str | None = None,
    recovery_point: str | bool | None = True,
) -> TrialSpec:
    """A random trial from `seed`; the keywords pin parts of it (for the point/mode matrix).
    `arm_at` arms the point before file 0's step of that kind; `recovery_point=True` lets
    the seed decide whether recovery crashes too."""
    rng = random.Random(seed)
    point = point or rng.choice(POINTS)
    mode = mode or rng.choice(modes_for(point, other_fs))
    if fates is None:
        options: list[str | None] = ["share", "dont-share", None]
        fates = [rng.choices(options, weights=(45, 45, 10))[0] for _ in range(rng.randint(1, 4))]
    files: list[TrialFile] = []
    used: set[tuple[str, str]] = set()
    for index, fate in enumerate(fates):
        group = rng.choice(GROUPS)
        name = rng.choice([n for n in NAMES if (group, n) not in used])
        used.add((group, name))
        size = 1_300_000 if rng.random() < 0.03 else rng.choice((0, 40, 4000, 70_000))
        data = f"TLP:RED\ntrial {seed} file {index}\n".encode() + rng.randbytes(size)
        files.append(TrialFile(group, name, data, fate))

    made = 0

    def bystander(area: str, group: str, name: str) -> Bystander:
        nonlocal made
        made += 1
        data = f"the user's own file {made} of trial {seed}\n".encode() + rng.randbytes(30)
        return Bystander(area, group, name, data)

    present: list[Bystander] = [bystander("group", g, "unrelated.txt") for g in GROUPS]
    sequences: list[list[Step]] = []
    for index, item in enumerate(files):
        sequence = [Step("hold", index)]
        if item.fate is not None and rng.random() < 0.4:
            # The user puts another file under the same name while this one is held.
            sequence.append(Step("plant", index, bystander("group", item.group, item.name)))
        if rng.random() < 0.2:
            taken = sorted(conflict_names(item.name, 3) - {item.name})[0]
            present.append(bystander("group", item.group, taken))
        if item.fate == "dont-share":
            chance = rng.random()
            if chance < 0.3:
                plant = Step("plant", index, bystander("not-shared", item.group, item.name))
                sequence.insert(rng.randint(0, len(sequence)), plant)
            elif chance < 0.5:
                present.append(bystander("not-shared", item.group, item.name))
        if item.fate is not None:
            sequence.append(Step(item.fate, index))
        sequences.append(sequence)
    steps: list[Step] = []
    while any(sequences):
        sequence = rng.choice([s for s in sequences if s])
        steps.append(sequence.pop(0))
    if arm_at is not None:
        arm_before = next(i for i, s in enumerate(steps) if s.file == 0 and s.kind == arm_at)
    else:
        arm_before = 0 if rng.random() < 0.5 else rng.randrange(len(steps))
    if recovery_point is True:
        recovery_point = rng.choice(recovery_points(mode)) if rng.random() < 0.35 else None
    elif recovery_point is False:
        recovery_point = None
    squat = rng.random() < 0.3
    return TrialSpec(
        seed,
        mode,
        point,
        arm_before,
        recovery_point,
        tuple(files),
        tuple(steps),
        tuple(present),
        squat,
    )


class TrialError(Exception):
    """The script cannot go on: the journal or the files are not as they must be."""


def decide_held(journal: Journal, holds: HoldArea, record: HoldRecord, share: bool) -> Path:
    """What `Engine.decide_held` does with an answer: the decision is journaled first."""
    if share:
        journal.update(
            record.id,
            decision="share",
            typed_name=record.group_name,
            justification="crash trial",
        )
        return holds.release(record, record.origin.parent)
    journal.update(record.id, decision="dont-share")
    return holds.give_back(record, "you chose not to share it with this group")


def apply_step(
    spec: TrialSpec, layout: Layout, journal: Journal, holds: HoldArea, step: Step
) -> None:
    item = spec.files[step.file]
    origin = layout.folders[item.group] / item.name
    if step.kind == "plant":
        assert step.bystander is not None
        path = step.bystander.path(layout)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "xb") as handle:
            handle.write(step.bystander.data)
        return
    record = live_record(journal, origin)
    if step.kind == "hold":
        # A record already: recovery finished the hold that the crash cut short.
        if record is None and holds.hold(origin, item.group, f"trial-{spec.seed}") is None:
            raise TrialError(f"{origin} vanished before it could be held")
        return
    if record is None:
        raise TrialError(f"no journal record for {origin} when answering {step.kind}")
    if record.state is State.HELD:
        decide_held(journal, holds, record, share=step.kind == "share")
    elif record.state is not (State.RELEASED if step.kind == "share" else State.RETURNED):
        raise TrialError(f"{origin} is {record.state.value} when answering {step.kind}")


@dataclass
class TrialResult:
    spec: TrialSpec
    killed: bool = False
    recovery_killed: bool = False
    violations: list[str] = field(default_factory=list)
    seconds: float = 0.0


def run_trial(
    seed: int, workdir: Path, other_fs: Path | None = None, **pins: object
) -> TrialResult:
    """One fork-based trial in a fresh folder under `workdir` (removed afterwards)."""
    spec = make_spec(seed, other_fs=other_fs is not None, **pins)  # type: ignore[arg-type]
    return run_spec(spec, workdir, other_fs)


def run_spec(spec: TrialSpec, workdir: Path, other_fs: Path | None = None) -> TrialResult:
    started = time.perf_counter()
    root = Path(tempfile.mkdtemp(prefix=f"trial-{spec.seed}-", dir=workdir))
    shared_root = None
    if spec.mode is Mode.OTHER_FS:
        assert other_fs is not None, "an other-fs trial needs a second file system"
        shared_root = Path(tempfile.mkdtemp(prefix="sendguard-trial-", dir=other_fs))
    result = TrialResult(spec)
    try:
        with filesystem_mode(spec.mode):
            _run(spec, Layout.create(root, shared_root), result)
    except Exception:
        result.violations.append(f"the trial itself failed:\n{traceback.format_exc()}")
    finally:
        shutil.rmtree(root, ignore_errors=True)
        if shared_root is not None:
            shutil.rmtree(shared_root, ignore_errors=True)
    result.violations = [f"{spec.describe()}: {v}" for v in result.violations]
    result.seconds = time.perf_counter() - started
    return result


def _run(spec: TrialSpec, layout: Layout, result: TrialResult) -> None:
    tracked = [
        Tracked(
            key=f"file {i} ({f.group}/{f.name})",
            group=f.group,
            origin=layout.folders[f.group] / f.name,
            digest=digest(f.data),
            fate=f.fate,
        )
        for i, f in enumerate(spec.files)
    ]
    bystanders: dict[Path, str] = {}
    for item, trial_file in zip(tracked, spec.files, strict=True):
        item.origin.write_bytes(trial_file.data)
    for present in spec.present:
        path = present.path(layout)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(present.data)
        bystanders[path] = digest(present.data)

    def script(report: Report) -> None:
        journal, holds = layout.open()
        for index, step in enumerate(spec.steps):
            if index == spec.arm_before:
                crashpoints.arm(spec.point)
            apply_step(spec, layout, journal, holds, step)
            report(f"done {index}")

    outcome = run_in_child(script)
    result.killed = outcome.killed
    result.violations += _child_problems("the script", outcome)
    done = {int(line.split()[1]) for line in outcome.lines if line.startswith("done ")}
    for index in sorted(done):
        planted = spec.steps[index].bystander
        if planted is not None:
            bystanders[planted.path(layout)] = digest(planted.data)
    result.violations += check_crashed(layout, tracked, bystanders)
    if spec.squat:
        bystanders.update(_squat(spec, layout))

    if spec.recovery_point is not None:

        def crashing_recovery(report: Report) -> None:
            _journal, holds = layout.open()
            if spec.recovery_point == AFTER_RECOVERY:
                holds.recover()
                os.kill(os.getpid(), signal.SIGKILL)
            crashpoints.arm(spec.recovery_point or "")
            holds.recover()
            report("recovered")

        outcome = run_in_child(crashing_recovery)
        result.recovery_killed = outcome.killed
        result.violations += _child_problems("recovery", outcome)
        result.violations += check_crashed(layout, tracked, bystanders)

    recovery, violations = recover_twice(layout)
    result.violations += violations
    journal, holds = layout.open()
    try:
        result.violations += check_recovered(layout, journal, tracked, bystanders)
        result.violations += _check_requeued(spec, layout, journal, done, recovery)
        # Go on as the restarted engine would: hold again what was rolled back, answer.
        for index, step in enumerate(spec.steps):
            if index not in done:
                apply_step(spec, layout, journal, holds, step)
                if step.bystander is not None:
                    bystanders[step.bystander.path(layout)] = digest(step.bystander.data)
        result.violations += check_recovered(layout, journal, tracked, bystanders, final=True)
        if holds.recover().finished:
            result.violations.append("recovery after a clean finish found work to do")
    finally:
        journal.close()


def _squat(spec: TrialSpec, layout: Layout) -> dict[Path, str]:
    """Files of the user's own at the targets of releases and returns a crash cut short."""
    rng = random.Random(spec.seed * 7 + 1)
    journal = Journal(layout.journal_path)
    try:
        moving = journal.in_states(State.RELEASING, State.RETURNING)
    finally:
        journal.close()
    planted: dict[Path, str] = {}
    for record in moving:
        if record.target is None or record.target.exists():
            continue
        data = f"the user's file at {record.target.name}\n".encode() + rng.randbytes(20)
        record.target.parent.mkdir(parents=True, exist_ok=True)
        record.target.write_bytes(data)
        planted[record.target] = digest(data)
    return planted


def _check_requeued(
    spec: TrialSpec, layout: Layout, journal: Journal, done: set[int], recovery: Recovery
) -> list[str]:
    """A hold the crash cut short and recovery rolled back must come back to the engine in
    `Recovery.requeue`, or the labelled file stays in the group folder, never held again
    (the next start counts it as present at start-up, not as a share)."""
    started = min(set(range(len(spec.steps))) - done, default=None)
    if started is None or spec.steps[started].kind != "hold":
        return []
    item = spec.files[spec.steps[started].file]
    origin = layout.folders[item.group] / item.name
    if live_record(journal, origin) is not None or not origin.exists():
        return []  # held after all (or not there: the place checks say more)
    if any(record.origin == origin for record in recovery.requeue):
        return []
    return [
        f"the hold of {origin} was rolled back, but recovery does not requeue it: it stays"
        " in the group folder unheld, and the next start takes it as present at start-up"
    ]


def _child_problems(what: str, outcome: ChildOutcome) -> list[str]:
    if outcome.hung:
        return [f"{what} hung for {CHILD_TIMEOUT} s and was killed"]
    if outcome.error is not None:
        return [f"{what} raised in the child:\n{outcome.error}"]
    if not outcome.killed and outcome.exit_code != 0:
        return [f"{what} ended with exit code {outcome.exit_code}"]
    return []


# --- a whole engine, as a process -----------------------------------------------------------


def _settled(journal: Journal) -> bool:
    """Something was released or returned and nothing is half-way or waiting."""
    records = list(journal.history())
    done = any(r.state in (State.RELEASED, State.RETURNED) for r in records)
    return done and not journal.open_holds()


def engine_main(argv: Sequence[str]) -> int:
    """Run the real Engine (watchdog and all) until a dropped file is decided, then stop."""
    from sendguard.engine.decider import FixedDecider
    from sendguard.engine.guard import Engine, EngineConfig, run_until
    from sendguard.policy import load_policy

    parser = argparse.ArgumentParser(prog="crashworker.py engine")
    parser.add_argument("--root", type=Path, required=True, help="holds policy.toml")
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--not-shared", type=Path)
    parser.add_argument("--decide", choices=("share", "dont-share"), required=True)
    parser.add_argument("--mode", choices=[m.value for m in Mode], default=Mode.RENAME.value)
    parser.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args(argv)
    policy = load_policy(
        args.root / "policy.toml", args.root / "no-user.toml", system_required=True, home=args.root
    )
    if policy.error is not None:
        print(json.dumps({"error": str(policy.error)}), flush=True)
        return 2
    config = EngineConfig(
        data_dir=args.data_dir,
        not_shared=args.not_shared,
        batch_window=0.05,
        settle_seconds=0.3,
        hold_per_file_system=False,
    )
    with filesystem_mode(Mode(args.mode)):
        engine = Engine(policy, config, FixedDecider(share=args.decide == "share"))
        engine.start()
        print("ready", flush=True)
        settled = run_until(lambda: _settled(engine.journal), args.timeout)
        engine.stop()
    print(json.dumps({"settled": settled, "problems": engine.problems}), flush=True)
    return 0 if settled else 3


if __name__ == "__main__":
    if sys.argv[1:2] != ["engine"]:
        sys.exit("usage: crashworker.py engine --root R --data-dir D --decide share|dont-share")
    sys.exit(engine_main(sys.argv[2:]))
