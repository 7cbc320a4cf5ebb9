"""The guard engine: notices shares into group folders, holds what needs a decision, and
releases or returns it.

Threads: watchdog's observer thread only queues paths. The intake thread decides fast (a
short scan in place) and holds what needs more; the decision thread classifies held files in
full, asks the Decider and carries out its answers. Every file operation goes through
`HoldArea`, which journals each step before doing it.
"""

from __future__ import annotations

import errno
import fcntl
import os
import queue
import stat
import sys
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from watchdog.events import (
    FileClosedEvent,
    FileCreatedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver

from sendguard.engine.answers import NOT_SHARED_REASON, AnswerRefused, carry_out, release_folder
from sendguard.engine.decider import Answer, Batch, Decider, PromptItem
from sendguard.engine.holdarea import ChangedWhileHeld, HoldArea
from sendguard.engine.names import is_temporary
from sendguard.labels import DEFAULT_LIMITS, Findings, Limits, detect
from sendguard.policy import Group, Policy
from sendguard.policy.decide import Decision, decide
from sendguard.store.journal import HoldRecord, Journal, State

#: How long our own release stays recognised when its event comes back to us.
_OWN_EVENT_TTL = 10.0


def tune_watchdog() -> None:
    """watchdog holds an unmatched move-out for 0.5 s to pair it with a move-in, and every
    later event waits behind it. Our holds move files out of watched folders, so each hold
    would delay the next arrival by 0.5 s. Moves within watched folders arrive from the
    kernel in one read, so a short wait still pairs them."""
    try:
        from watchdog.observers.inotify_move_event_grouper import InotifyMoveEventGrouper
    except ImportError:  # pragma: no cover - not Linux
        return
    InotifyMoveEventGrouper.delay = 0.02


@dataclass(frozen=True)
class EngineConfig:
    data_dir: Path
    #: Files not shared go here, one folder per group. Default: ``<data_dir>/Not shared``.
    not_shared: Path | None = None
    #: A file that gets no close event (other OS, odd writers) counts as complete when it has
    #: not changed for this long.
    settle_seconds: float = 1.0
    #: Files held for one group within this window are asked about together.
    batch_window: float = 0.4
    #: Full rescans of the group folders catch what the watcher missed.
    rescan_interval: float = 60.0
    #: The scan in place before a file is held: clean files decided within it are not moved.
    fast_budget: float = 0.05
    limits: Limits = DEFAULT_LIMITS
    #: Tests run without watchdog to drive arrivals and rescans themselves.
    watch: bool = True

    @property
    def not_shared_root(self) -> Path:
        return self.not_shared or self.data_dir / "Not shared"


class EngineListener:
    """What the engine tells the UI. Called from engine threads: adapters must marshal."""

    def held(self, record: HoldRecord, decision: Decision) -> None: ...
    def released(self, record: HoldRecord, target: Path, confirmed: bool) -> None: ...
    def returned(self, record: HoldRecord, target: Path, reason: str) -> None: ...
    def notified(self, path: Path, decision: Decision) -> None: ...
    def problem(self, message: str) -> None: ...


class WatchLimitError(OSError):
    """The OS would not watch another folder; the message says how to raise the limit."""


def watch_limit_message(exc: OSError, folder: Path) -> str:
    if exc.errno == errno.ENOSPC:
        current = _read_int("/proc/sys/fs/inotify/max_user_watches")
        return (
            f"cannot watch {folder}: the system's limit of {current} watched folders is used up."
            " Raise it with: sudo sysctl fs.inotify.max_user_watches=524288"
            " (and add that line to /etc/sysctl.conf to keep it)"
        )
    if exc.errno == errno.EMFILE:
        current = _read_int("/proc/sys/fs/inotify/max_user_instances")
        return (
            f"cannot watch {folder}: the system's limit of {current} watchers per user is used"
            " up. Raise it with: sudo sysctl fs.inotify.max_user_instances=1024"
        )
    return f"cannot watch {folder}: {exc.strerror or exc}"


def _read_int(path: str) -> str:
    try:
        return Path(path).read_text().strip()
    except OSError:
        return "unknown"


def _still_open_for_writing(path: Path) -> bool:
    """Linux: a read lease is refused while anyone has the file open for writing."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return False
    try:
        fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_RDLCK)
    except OSError as exc:
        return exc.errno == errno.EAGAIN
    else:
        fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_UNLCK)
        return False
    finally:
        os.close(fd)


@dataclass
class _Pending:
    group: Group
    last_seen: float
    outbox: bool = False


@dataclass
class _Waiting:
    """Held files of one group waiting for the batch window to close."""

    items: list[PromptItem] = field(default_factory=list)
    due: float = 0.0


class _Handler(FileSystemEventHandler):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory:
            return
        self.engine._on_event(event)


class Engine:
    def __init__(
        self,
        policy: Policy,
        config: EngineConfig,
        decider: Decider,
        listener: EngineListener | None = None,
    ) -> None:
        self.policy = policy
        self.config = config
        self.decider = decider
        self.listener = listener or EngineListener()
        config.data_dir.mkdir(parents=True, exist_ok=True)
        self.journal = Journal(config.data_dir / "journal.sqlite3")
        self.holds = HoldArea(self.journal, config.data_dir / "hold", config.not_shared_root)
        self.problems: list[str] = []
        self._fast_limits = replace(config.limits, time_budget=config.fast_budget)
        self._patterns = policy.name_patterns
        self._lock = threading.Lock()
        self._pending: dict[Path, _Pending] = {}
        self._own: dict[Path, float] = {}
        self._known: dict[Path, int] = {}
        self._waiting: dict[str, _Waiting] = defaultdict(_Waiting)
        self._intake: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._work: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._observer: BaseObserver | None = None
        self.watched: list[Path] = []

    # --- life cycle -----------------------------------------------------------------------

    def start(self) -> None:
        recovery = self.holds.recover()
        for folder, _group, _outbox in self._folders():
            folder.mkdir(parents=True, exist_ok=True)
            for path in self._files_in(folder):
                self._known[path] = self._inode(path)
        self._start_threads()
        if self.config.watch:
            self._start_observer()
        for record in recovery.requeue:
            where = self._where(record.origin)
            if where is not None and record.origin.exists():
                self._known.pop(record.origin, None)
                self._intake.put(("arrival", (record.origin, where[0], where[1])))
        for record in recovery.held:
            owner = self._group_named(record.group_name)
            if owner is not None:
                self._work.put(("classify", (record, owner)))

    def stop(self) -> None:
        self._stopping.set()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=10)
            self._observer = None
        self._intake.put(("stop", None))
        self._work.put(("stop", None))
        for thread in self._threads:
            thread.join(timeout=30)
        self._threads.clear()
        self.journal.close()

    def __enter__(self) -> Engine:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _start_threads(self) -> None:
        for name, target in (
            ("sendguard-intake", self._intake_loop),
            ("sendguard-decide", self._work_loop),
            ("sendguard-timer", self._timer_loop),
        ):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def _start_observer(self) -> None:
        tune_watchdog()
        observer = Observer()
        handler = _Handler(self)
        for folder, _group, _outbox in self._folders():
            try:
                observer.schedule(handler, str(folder), recursive=True)
            except OSError as exc:
                self._problem(watch_limit_message(exc, folder))
                continue
            self.watched.append(folder)
        observer.start()
        self._observer = observer

    def _folders(self) -> Iterable[tuple[Path, Group, bool]]:
        for group in self.policy.groups:
            for folder in group.folders:
                yield folder, group, False
            if group.outbox is not None:
                yield group.outbox, group, True

    def _group_named(self, name: str) -> Group | None:
        return next((g for g in self.policy.groups if g.name == name), None)

    def _where(self, path: Path) -> tuple[Group, bool] | None:
        """The group a path belongs to, and whether it is that group's outbox."""
        best: tuple[int, Group, bool] | None = None
        for folder, group, outbox in self._folders():
            if path == folder or folder in path.parents:
                depth = len(folder.parts)
                if best is None or depth > best[0]:
                    best = (depth, group, outbox)
        return (best[1], best[2]) if best else None

    # --- events (observer thread: queue only) --------------------------------------------

    def _on_event(self, event: FileSystemEvent) -> None:
        if isinstance(event, FileMovedEvent):
            source = Path(os.fsdecode(event.src_path))
            path = Path(os.fsdecode(event.dest_path))
            self._intake.put(("moved", (source, path)))
        elif isinstance(event, FileClosedEvent | FileCreatedEvent | FileModifiedEvent):
            path = Path(os.fsdecode(event.src_path))
            kind = "closed" if isinstance(event, FileClosedEvent) else "changed"
            self._intake.put((kind, path))

    # --- intake thread -------------------------------------------------------------------

    def _intake_loop(self) -> None:
        while True:
            kind, payload = self._intake.get()
            if kind == "stop":
                return
            try:
                self._intake_one(kind, payload)
            except Exception as exc:  # the engine must keep guarding whatever one file does
                self._problem(f"could not process an arrival: {type(exc).__name__}: {exc}")

    def _intake_one(self, kind: str, payload: Any) -> None:
        if kind == "moved":
            source, path = payload
            self._known.pop(source, None)
            where = self._where(path)
            if where is None or self._is_ours(path) or is_temporary(path.name):
                return
            came_from = self._where(source)
            if came_from is not None and came_from[0].name == where[0].name:
                # A rename inside one group's folders is no new share.
                self._known[path] = self._inode(path)
                return
            self._arrival(path, where[0], where[1])
        elif kind in ("closed", "changed"):
            path = payload
            where = self._where(path)
            if where is None or self._is_ours(path) or is_temporary(path.name):
                return
            if kind == "changed":
                if path not in self._known:
                    with self._lock:
                        self._pending[path] = _Pending(where[0], time.monotonic(), where[1])
                return
            with self._lock:
                self._pending.pop(path, None)
            if path in self._known and self._known[path] == self._inode(path):
                return  # an existing file was edited in place: not a new share
            self._arrival(path, where[0], where[1])
        elif kind == "arrival":
            path, group, outbox = payload
            self._arrival(path, group, outbox)
        elif kind == "rescan":
            self._rescan()

    def _is_ours(self, path: Path) -> bool:
        now = time.monotonic()
        with self._lock:
            expiry = self._own.get(path)
            if expiry is not None and expiry > now:
                del self._own[path]
                self._known[path] = self._inode(path)
                return True
        return self.holds.held_path_is_ours(path)

    @staticmethod
    def _inode(path: Path) -> int:
        try:
            return os.lstat(path).st_ino
        except OSError:
            return -1

    def _arrival(self, path: Path, group: Group, outbox: bool) -> None:
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            return
        if stat.S_ISDIR(info.st_mode):
            return
        if stat.S_ISREG(info.st_mode) and _still_open_for_writing(path):
            with self._lock:
                self._pending[path] = _Pending(group, time.monotonic(), outbox)
            return
        reason = None
        if stat.S_ISLNK(info.st_mode):
            reason = "a link: SendGuard never follows links out of a group folder"
        elif not stat.S_ISREG(info.st_mode):
            reason = "not a regular file"
        elif info.st_nlink > 1:
            reason = "a hard-linked file: its content is also elsewhere, under another name"
        if reason is None and not outbox and not self.policy.hold_everything:
            quick = self._scan(path, self._fast_limits)
            if quick is None:
                return
            decision = decide(quick, group, self.policy)
            if not quick.timed_out and not decision.prompt:
                self._known[path] = info.st_ino
                if decision.action is not None:
                    self.listener.notified(path, decision)
                return
        record = self.holds.hold(path, group.name, batch=uuid.uuid4().hex[:12])
        if record is None:
            return
        self._work.put(("classify", (record, group, reason)))

    def _scan(self, path: Path, limits: Limits) -> Findings | None:
        try:
            return detect(path, limits=limits, name_patterns=self._patterns)
        except FileNotFoundError:
            return None

    # --- timer thread: settle, batches, rescans ------------------------------------------

    def _timer_loop(self) -> None:
        next_rescan = time.monotonic() + self.config.rescan_interval
        while not self._stopping.wait(0.05):
            now = time.monotonic()
            settled: list[tuple[Path, _Pending]] = []
            with self._lock:
                for path, pending in list(self._pending.items()):
                    if now - pending.last_seen >= self.config.settle_seconds:
                        settled.append((path, pending))
                        del self._pending[path]
                for path, expiry in list(self._own.items()):
                    if expiry <= now:
                        del self._own[path]
            for path, pending in settled:
                self._intake.put(("arrival", (path, pending.group, pending.outbox)))
            self._work.put(("tick", now))
            if now >= next_rescan:
                next_rescan = now + self.config.rescan_interval
                self._intake.put(("rescan", None))

    def rescan(self) -> None:
        """Look for arrivals the watcher missed (queue overflow, events lost); asynchronous."""
        self._intake.put(("rescan", None))

    def _rescan(self) -> None:
        seen: set[Path] = set()
        for folder, group, outbox in self._folders():
            for path in self._files_in(folder):
                seen.add(path)
                if path in self._known or is_temporary(path.name):
                    continue
                with self._lock:
                    if path in self._pending:
                        continue
                self._arrival(path, group, outbox)
        for path in list(self._known):
            if path not in seen:
                self._known.pop(path, None)

    @staticmethod
    def _files_in(folder: Path) -> Iterable[Path]:
        for root, dirs, names in os.walk(folder):
            dirs[:] = [d for d in dirs if not is_temporary(d)]
            for name in names:
                yield Path(root, name)

    # --- decision thread -----------------------------------------------------------------

    def answer(self, answers: Sequence[Answer]) -> None:
        """The Decider's reply; callable from any thread."""
        self._work.put(("answers", list(answers)))

    def _work_loop(self) -> None:
        while True:
            kind, payload = self._work.get()
            if kind == "stop":
                return
            try:
                if kind == "classify":
                    self._classify(*payload)
                elif kind == "answers":
                    self._apply(payload)
                elif kind == "tick":
                    self._flush_batches(payload)
            except Exception as exc:  # keep guarding; the file stays where the journal says
                self._problem(f"could not finish a decision: {type(exc).__name__}: {exc}")

    def _classify(self, record: HoldRecord, group: Group, reason: str | None = None) -> None:
        findings = self._held_findings(record, reason)
        if findings is None:
            self._problem(f"{record.held} disappeared from the hold area")
            return
        decision = decide(findings, group, self.policy)
        self.journal.update(
            record.id,
            verdict=findings.verdict.value,
            level=decision.level.name if decision.level else None,
            action=decision.action.value if decision.action else None,
            findings=[label.to_dict() for label in findings.labels],
        )
        if decision.hold_reason is not None:
            self.listener.held(record, decision)  # stays held until the policy is fixed
            return
        if not decision.prompt:
            target = self._release(record, group)
            if decision.action is not None:
                self.listener.notified(target, decision)
            return
        self.listener.held(record, decision)
        item = PromptItem(record.id, record.origin.name, findings, decision)
        waiting = self._waiting[group.name]
        waiting.items.append(item)
        waiting.due = time.monotonic() + self.config.batch_window

    def _held_findings(self, record: HoldRecord, reason: str | None) -> Findings | None:
        if reason is not None:
            # A link or special file: never read through it (it may point out of the tree).
            findings = Findings(path=str(record.held), format="not a file")
            findings.mark_unscannable(reason)
            return findings
        return self._scan(record.held, self.config.limits)

    def _flush_batches(self, now: float) -> None:
        for name, waiting in list(self._waiting.items()):
            if waiting.items and waiting.due <= now:
                group = self._group_named(name)
                del self._waiting[name]
                if group is not None:
                    self.decider.ask(Batch(group, tuple(waiting.items)), self.answer)

    def _apply(self, answers: Sequence[Answer]) -> None:
        for answer in answers:
            record = self.journal.get(answer.hold_id)
            if record is None or record.state is not State.HELD:
                continue  # decided already (another window, the command line)
            group = self._group_named(record.group_name)
            if group is None:
                self._problem(f"{record.origin.name}: its group {record.group_name} is gone")
                continue
            self.decide_held(record, group, answer)

    def decide_held(self, record: HoldRecord, group: Group, answer: Answer) -> Path | None:
        """Carry out one answer; the confirmation is journaled before the file moves."""
        if answer.share:
            self._expect_own(release_folder(record, group) / record.origin.name)
        try:
            target = carry_out(self.holds, record, group, answer)
        except AnswerRefused as exc:
            self._problem(str(exc))
            return None
        if answer.share:
            self._expect_own(target)
            self.listener.released(record, target, True)
        else:
            self.listener.returned(record, target, NOT_SHARED_REASON)
        return target

    def _expect_own(self, path: Path) -> None:
        """Our own move into a watched folder must not come back to us as a new share."""
        with self._lock:
            self._own[path] = time.monotonic() + _OWN_EVENT_TTL
            if path.exists():
                self._known[path] = self._inode(path)

    def _release(self, record: HoldRecord, group: Group) -> Path:
        """Release without a prompt (clean, or within the group's clearance)."""
        self._expect_own(release_folder(record, group) / record.origin.name)
        try:
            target = self.holds.release(record, release_folder(record, group))
        except ChangedWhileHeld as exc:
            self._problem(str(exc))
            raise
        self._expect_own(target)
        self.listener.released(record, target, False)
        return target

    def held_files(self) -> list[HoldRecord]:
        return self.journal.in_states(State.HELD)

    def _problem(self, message: str) -> None:
        self.problems.append(message)
        self.listener.problem(message)


def run_until(predicate: Callable[[], bool], timeout: float, step: float = 0.01) -> bool:
    """Wait until `predicate()` holds or `timeout` passes (for the command line and tests)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()
