"""The guard engine: notices shares into group folders, holds what needs a decision, and
releases or returns it.

Threads: watchdog's observer thread only queues paths. The intake thread decides fast (a
short scan in place) and holds what needs more; the decision thread classifies held files in
full, asks the Decider and carries out its answers. Every file operation goes through
`HoldArea`, which journals each step before doing it.
"""

from __future__ import annotations

import contextlib
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
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Generic, TypeVar

from watchdog.events import (
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver, ObservedWatch
from watchdog.utils.delayed_queue import DelayedQueue

from sendguard.engine.answers import (
    NOT_SHARED_REASON,
    AnswerRefused,
    NotNow,
    carry_out,
    check_answer,
    release_folder,
)
from sendguard.engine.arrivals import (
    Arrival,
    ArrivalClassifier,
    Evidence,
    How,
    Kind,
    Observation,
    Strength,
    SyncClient,
    default_clients,
    own,
)
from sendguard.engine.arrivals.confirm import ArrivalLog
from sendguard.engine.arrivals.syncthing_api import SyncthingApi, syncthing_homes
from sendguard.engine.arrivals.versions import previous_version
from sendguard.engine.decider import Answer, Batch, Decider, PromptItem
from sendguard.engine.forwarding import (
    Forwarded,
    StoreError,
    forwarded_from,
    forwarding_sources,
    with_forwarding,
)
from sendguard.engine.fsops import copy_verified, free_name, fsync_dir, partial_name
from sendguard.engine.hints import HORIZON, Hint, PastShare, past_shares, wrong_group_hint
from sendguard.engine.holdarea import ChangedWhileHeld, HoldArea, same_content
from sendguard.engine.names import is_temporary
from sendguard.labels import DEFAULT_LIMITS, Findings, Limits, read_labels
from sendguard.labels.ocr import ocr_installed
from sendguard.labels.worker import ScanWorker
from sendguard.policy import Group, Policy
from sendguard.policy.decide import Decision, decide
from sendguard.store.fingerprints import (
    Fingerprint,
    FingerprintStore,
    fingerprint_file,
    remember_all,
)
from sendguard.store.journal import HoldRecord, Journal, JournalError, State

#: How long our own release stays recognised when its event comes back to us.
_OWN_EVENT_TTL = 10.0
#: How often the engine notes in the journal that it is alive.
_HEARTBEAT = 5.0
#: A burst is held in batches of at most this many files, gathered for at most this long
#: (a lone file is held at once: the batch ends when nothing else is queued).
_HOLD_BATCH = 256
_HOLD_BATCH_SECONDS = 0.05
#: How long the wrong-group hint's history is kept before it is read again.
_HISTORY_SECONDS = 60.0
#: Events queued behind the one at hand that make it a burst (see `_arrival`).
_BURST_QUEUE = 64
#: Or files already waiting to be held with it.
_BURST_HELD = 16
#: How often group folders named but missing are looked for (a sync client may make them).
_FOLDER_CHECK = 1.0
#: A held picture's OCR (about 1.5 s for a 12-megapixel photo, plus the model's first load).
OCR_TIMEOUT = 60.0
#: After a crash, files that changed folder this long before the last heartbeat are looked
#: at again: arrivals can wait that long in the queue during a burst.
_CRASH_LOOKBACK = 60.0


def tune_watchdog() -> None:
    """watchdog holds an unmatched move-out for 0.5 s to pair it with a move-in, and every
    later event waits behind it. Our holds move files out of watched folders, so each hold
    would delay the next arrival by 0.5 s. Moves within watched folders arrive from the
    kernel in one read, so a short wait still pairs them.

    Even 20 ms behind every hold was too much (bench/hold_latency.py: p50 7 ms, p99 22-51 ms
    for files arriving 2-40 ms apart), so later events now overtake a waiting move-out
    (`_OvertakingQueue`): only the unmatched move-out itself waits, and the engine ignores
    those (a file leaving the group folders is no share)."""
    try:
        from watchdog.observers import inotify_move_event_grouper as grouper
    except ImportError:  # pragma: no cover - not Linux
        return
    grouper.InotifyMoveEventGrouper.delay = 0.02
    # The grouper makes its queue with the name DelayedQueue from its own module.
    if getattr(grouper, "DelayedQueue", None) is DelayedQueue:
        grouper.DelayedQueue = _OvertakingQueue  # type: ignore[attr-defined]


_T = TypeVar("_T")


class _OvertakingQueue(DelayedQueue[_T], Generic[_T]):
    """watchdog's DelayedQueue, except that an element waiting out its delay (an unmatched
    move-out, kept to be paired with its move-in) does not hold back the elements behind it:
    `get` returns the first element that is not waiting, in order."""

    def get(self) -> _T | None:
        with self._not_empty:
            while True:
                if self._closed:
                    return None
                now = time.monotonic()
                wait: float | None = None
                for index, (element, inserted, delayed) in enumerate(self._queue):
                    due = inserted + self.delay if delayed else now
                    if due <= now:
                        del self._queue[index]
                        return element
                    wait = due - now if wait is None else min(wait, due - now)
                self._not_empty.wait(wait)


def _make_observer(on_overflow: Callable[[], None]) -> BaseObserver:
    """watchdog's observer; on Linux its inotify observer with two changes the engine needs:

    * a move whose other side is not watched comes as a move with an empty side
      (InotifyFullEmitter), not as "created": a file moved in from outside is an arrival at
      once instead of after `settle_seconds` (bench: moved-in files took 1,030 ms);
    * the engine hears when the kernel's event queue overflowed (`on_overflow`). watchdog
      then rebuilds its watches, but the lost events are gone: the engine must rescan
      (bench: 3,758 of 6,461 files written during an overflow were missed until the
      60-second rescan)."""
    if not sys.platform.startswith("linux"):
        return Observer()
    try:  # watchdog 7's inotify layer (InotifyFD); older ones: no overflow hook
        from watchdog.observers.api import DEFAULT_OBSERVER_TIMEOUT
        from watchdog.observers.inotify import InotifyFullEmitter
        from watchdog.observers.inotify_c import InotifyEvent, InotifyFD
    except ImportError:  # pragma: no cover - watchdog < 7
        return Observer()

    class _InotifyFD(InotifyFD):
        def handle_event(self, event: InotifyEvent) -> None:
            super().handle_event(event)  # on an overflow, watchdog rebuilds its watches first
            if event.is_queue_overflow:
                on_overflow()

    class _InotifyObserver(BaseObserver):
        """InotifyObserver, with the engine's own inotify reader (`_InotifyFD`)."""

        def __init__(self) -> None:
            self.inotify = _InotifyFD()
            self.inotify.start()
            super().__init__(
                InotifyFullEmitter, timeout=DEFAULT_OBSERVER_TIMEOUT, inotify_fd=self.inotify
            )

        def on_thread_stop(self) -> None:
            super().on_thread_stop()
            self.inotify.stop()
            self.inotify.join()

    return _InotifyObserver()


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
    #: A hold area on each file system a group lives on, so holding is one rename. False
    #: holds everything in `data_dir` (by copy across file systems; tests of that path).
    hold_per_file_system: bool = True
    #: The sync clients whose downloads are recognised; None: all that SendGuard knows
    #: (engine/arrivals/clients.py), Syncthing's API found where Syncthing keeps it.
    sync_clients: tuple[SyncClient, ...] | None = None
    #: How long the client's own state is awaited to confirm a download (it records one a
    #: second or two after the rename).
    confirm_seconds: float = 30.0

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
    def arrived(self, arrival: Arrival) -> None:
        """Every arrival, classified (downloads too), with its evidence."""

    def kept_in_place(self, arrival: Arrival, decision: Decision, previous: Path | None) -> None:
        """A file above the group's clearance that SendGuard did not move out: an edit that
        raised the label of a file the group already has, or a file whose author is not known.
        Moving it out would delete it for every member. `previous`: the version the group had,
        where the sync client keeps one."""

    def put_back(self, path: Path, previous: Path, kept: Path) -> None:
        """The version the group had (`previous`) is back in `path`; the changed one was
        kept in `kept` (the "Not shared" folder)."""


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


def _exists(folder: Path, outbox: bool) -> bool:
    """Whether the folder is there. An outbox is SendGuard's own folder, made when missing; a
    group folder belongs to the sync client and is never made (a mistyped path would become a
    folder no client syncs, and the guard would look fine)."""
    if outbox:
        with contextlib.suppress(OSError):
            folder.mkdir(parents=True, exist_ok=True)
    return folder.is_dir()


def missing_folder_message(folder: Path, group: Group, outbox: bool) -> str:
    """The group folder does not exist: where the policy names it and what to do."""
    where = str(group.source)
    if group.line is not None and group.source.line is None:
        where += f", line {group.line}"
    what = "outbox" if outbox else "folder"
    return (
        f'The {what} of the group "{group.name}" does not exist: {folder} (named in {where}).'
        " Nothing there is guarded until it exists. Fix: correct the path in the policy, or"
        " create the folder where your sync client keeps the group."
    )


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
    #: SETTLED: no close after writing was seen (a file that appeared in a new folder before
    #: its watch, or a writer without close); WRITTEN: closed, but still open elsewhere.
    how: How = How.SETTLED


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
            if isinstance(event, DirMovedEvent) and event.dest_path:
                # Its files come next as "created" (watchdog walks a folder moved in):
                # they were moved in with it, not written here.
                self.engine._intake.put(("folder moved in", Path(os.fsdecode(event.dest_path))))
            return
        self.engine._on_event(event)


class _SourceHandler(FileSystemEventHandler):
    """A work group's source folder (a chat app's downloads): what appears there is
    fingerprinted, never held."""

    def __init__(self, engine: Engine, group_name: str) -> None:
        self.engine = engine
        self.group_name = group_name

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory:
            return
        if isinstance(event, FileMovedEvent):
            path = event.dest_path
        elif isinstance(event, FileClosedEvent | FileCreatedEvent):
            path = event.src_path
        else:
            return
        if path:
            self.engine._index.put(("file", (Path(os.fsdecode(path)), self.group_name)))


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
        self.holds = HoldArea(
            self.journal,
            config.data_dir / "hold",
            config.not_shared_root,
            watched=[folder for folder, _group, _outbox in self._folders()],
            per_file_system=config.hold_per_file_system,
        )
        self.problems: list[str] = []
        # The scan in place never runs OCR (about a second): pictures that may show a page
        # are held and read in the hold area, where the full limits apply.
        self._fast_limits = replace(config.limits, time_budget=config.fast_budget, ocr=False)
        self._full_limits = replace(
            config.limits, ocr=policy.ocr.enabled, ocr_required=policy.ocr.required
        )
        self._hold_for_ocr = policy.ocr.enabled and (policy.ocr.required or ocr_installed())
        # Held pictures are read by OCR in a child process that exits after a quiet spell:
        # the model and its buffers (about 300 MB) leave with it, and a read that overruns
        # its time can be stopped (labels/worker.py).
        self._in_process_limits = replace(self._full_limits, ocr=False)
        self.scan_worker = ScanWorker() if self._full_limits.ocr else None
        #: Groups whose content is remembered, to recognise it when it is forwarded.
        self._work_sources = forwarding_sources(policy)
        self.fingerprints = self._open_fingerprints()
        self._index: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._patterns = policy.name_patterns
        self._lock = threading.Lock()
        self._pending: dict[Path, _Pending] = {}
        self._own: dict[Path, float] = {}
        self._known: dict[Path, int] = {}
        #: Folders moved into a group folder lately (monotonic time): the files watchdog then
        #: reports as created in them were moved in by the user, not written here.
        self._folders_moved_in: dict[Path, float] = {}
        #: The rank of the level each file in the group folders was last seen with, where it
        #: was read (arrivals, releases): an edit that keeps it is quiet.
        self._levels: dict[Path, int] = {}
        clients = config.sync_clients
        if clients is None:
            clients = tuple(default_clients(SyncthingApi(syncthing_homes(Path.home()))))
        self.classifier = ArrivalClassifier(clients)
        self.arrival_log = ArrivalLog(
            self.classifier,
            self.journal,
            confirm_seconds=config.confirm_seconds,
            contradicted=self._contradicted,
            resolved=lambda arrival, group: self._in_place_queue.put((arrival, group)),
            problem=self._problem,
        )
        self._waiting: dict[str, _Waiting] = defaultdict(_Waiting)
        self._intake: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._work: queue.Queue[tuple[str, Any]] = queue.Queue()
        #: Files left where they are (downloads, edits) whose label is read: a thread of their
        #: own, so that a sync of thousands of files never delays the user's held files.
        self._in_place_queue: queue.Queue[tuple[Arrival, Group] | None] = queue.Queue()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._observer: BaseObserver | None = None
        self.watched: list[Path] = []
        #: Why folders could not be watched (the watch limit, mostly): needs attention.
        self.unwatched: list[str] = []
        #: Times the kernel's event queue overflowed (events lost; each one rescans).
        self.overflows = 0
        self._overflow_rescan_queued = False
        #: Whether the hold area lies inside a watched folder (then events can be ours).
        self._hold_area_watched = True
        #: Group folders the policy names that do not exist, with the sentence that says so:
        #: never created (a mistyped path would be a folder no sync client sees); watched as
        #: soon as they appear.
        self.missing: dict[Path, str] = {}
        #: Files decided to be held, waiting for the rest of their burst (intake thread).
        self._to_hold: dict[Path, tuple[Group, str | None]] = {}
        self._to_hold_since = 0.0
        #: The wrong-group hint's history, and when it was read (monotonic).
        self._history: tuple[float, list[PastShare]] | None = None
        self._watches: dict[Path, ObservedWatch] = {}
        self._handler = _Handler(self)

    # --- life cycle -----------------------------------------------------------------------

    def start(self) -> None:
        recovery = self.holds.recover()
        recovery_arrivals: list[tuple[Path, Group, bool]] = []
        hold_root = self.holds.hold_root.resolve()
        self._hold_area_watched = any(
            hold_root.is_relative_to(folder.resolve()) for folder, _, _ in self._folders()
        )
        missed = self._arrivals_missed_by_a_crash()
        self._levels_from_history()
        for folder, group, outbox in self._folders():
            if not _exists(folder, outbox):
                self.missing[folder] = missing_folder_message(folder, group, outbox)
                continue
            for path in self._files_in(folder):
                if missed is not None and missed(path):
                    recovery_arrivals.append((path, group, outbox))
                else:
                    self._known[path] = self._inode(path)
        self._start_threads()
        if self.config.watch:
            self._start_observer()
        for record in recovery.requeue:
            where = self._where(record.origin)
            if where is not None and record.origin.exists():
                self._known.pop(record.origin, None)
                # Its hold was under way when SendGuard stopped: it was classified a share.
                arrival = Arrival(
                    record.origin,
                    where[0].name,
                    Kind.SHARE,
                    (Evidence("journal", "its hold was under way", Strength.STATE),),
                )
                self._intake.put(("share", (arrival, where[0], where[1])))
        for record in recovery.held:
            owner = self._group_named(record.group_name)
            if owner is not None:
                self._work.put(("classify", (record, owner)))
        for path, group, outbox in recovery_arrivals:
            self._intake.put(("arrival", (path, group, outbox, How.FOUND)))

    def _levels_from_history(self) -> None:
        """Files SendGuard released into group folders, with the level they were shared at:
        re-saving a confirmed document must not ask again after a restart."""
        try:
            released = [r for r in self.journal.history(5000) if r.state is State.RELEASED]
        except JournalError:
            return
        for record in reversed(released):  # oldest first: the newest release wins
            if record.target is not None:
                self._note_level(record.target, record.level)

    def _arrivals_missed_by_a_crash(self) -> Callable[[Path], bool] | None:
        """After a crash, files that arrived shortly before it (still queued, not yet
        journaled) or while it was down look like files present at start-up. A heartbeat
        in the journal tells when the engine was last alive: files that changed folder
        since then (a rename or a new file sets the change time) are arrivals. After a
        clean stop, nothing is: what came while SendGuard was off is not a share it saw."""
        clean = self.journal.get_meta("stopped_cleanly")
        alive = self.journal.get_meta("alive")
        started = self.journal.get_meta("started")
        now = repr(time.time())
        self.journal.set_meta(stopped_cleanly="0", alive=now, started=now)
        if clean != "0" or alive is None or started is None:
            return None
        # Files there before the crashed engine started were never shares.
        since = max(float(started), float(alive) - _CRASH_LOOKBACK)
        ours = self.journal.released_into(since)

        def missed(path: Path) -> bool:
            try:
                changed = os.lstat(path).st_ctime
            except OSError:
                return False
            return changed >= since and path not in ours and not is_temporary(path.name)

        return missed

    def stop(self) -> None:
        if self._stopping.is_set():
            return  # stopped already
        with self._lock:  # from here on `decide` queues nothing: what it queued is done
            self._stopping.set()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=10)
            self._observer = None
        self._intake.put(("stop", None))
        self._work.put(("stop", None))
        self._in_place_queue.put(None)
        self._index.put(("stop", None))
        for thread in self._threads:
            thread.join(timeout=30)
        self._threads.clear()
        self.arrival_log.stop()  # after intake: it keeps every arrival classified until now
        self.classifier.close()
        with contextlib.suppress(JournalError):
            self.journal.set_meta(stopped_cleanly="1", alive=repr(time.time()))
        self.journal.close()
        if self.fingerprints is not None:
            with contextlib.suppress(*StoreError):
                self.fingerprints.close()
        if self.scan_worker is not None:
            self.scan_worker.close()

    def __enter__(self) -> Engine:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _start_threads(self) -> None:
        self.arrival_log.start()
        loops = [
            ("sendguard-intake", self._intake_loop),
            ("sendguard-decide", self._work_loop),
            ("sendguard-timer", self._timer_loop),
            ("sendguard-in-place", self._in_place_loop),
        ]
        if self._work_sources and self.fingerprints is not None:
            loops.append(("sendguard-index", self._index_loop))
        for name, target in loops:
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def _start_observer(self) -> None:
        tune_watchdog()
        observer = _make_observer(self._overflowed)
        for folder, _group, _outbox in self._folders():
            if folder not in self.missing:
                self._watch(observer, folder)
        for group in self._work_sources:
            for source in group.sources:
                if not source.is_dir():
                    continue  # the chat app is not installed (yet): the rescan walks it later
                try:
                    observer.schedule(_SourceHandler(self, group.name), str(source), recursive=True)
                except OSError as exc:
                    self.unwatched.append(watch_limit_message(exc, source))
                    self._problem(self.unwatched[-1])
        observer.start()
        self._observer = observer

    def _watch(self, observer: BaseObserver, folder: Path) -> bool:
        try:
            self._watches[folder] = observer.schedule(self._handler, str(folder), recursive=True)
        except OSError as exc:
            self.unwatched.append(watch_limit_message(exc, folder))
            self._problem(self.unwatched[-1])
            return False
        self.watched.append(folder)
        return True

    def set_policy(self, policy: Policy) -> None:
        """Guard with `policy` from now on (a policy file changed while running). Callable
        from any thread: the intake thread watches the folders it adds — files already there
        are not arrivals — and lets go of folders it no longer names."""
        self._intake.put(("policy", policy))

    def _apply_policy(self, policy: Policy) -> None:
        """On the intake thread, where folders are walked and arrivals decided."""
        with self._lock:
            self.policy = policy
            self._patterns = policy.name_patterns
        self.holds.watched = tuple(folder for folder, _group, _outbox in self._folders())
        self._sync_folders()

    def _sync_folders(self) -> None:
        """Watch every folder the policy names that exists and is not watched yet; let go of
        folders it no longer names; note those that do not exist."""
        named: dict[Path, tuple[Group, bool]] = {}
        for folder, group, outbox in self._folders():
            named.setdefault(folder, (group, outbox))
        for folder in [f for f in self._watches if f not in named]:
            watch = self._watches.pop(folder)
            if self._observer is not None:
                with contextlib.suppress(KeyError, OSError):
                    self._observer.unschedule(watch)
            with contextlib.suppress(ValueError):
                self.watched.remove(folder)
            for path in [p for p in self._known if p == folder or folder in p.parents]:
                self._known.pop(path, None)
        for folder in [f for f in self.missing if f not in named]:
            del self.missing[folder]
        for folder, (group, outbox) in named.items():
            if folder in self._watches or (self._observer is None and folder not in self.missing):
                continue
            if not _exists(folder, outbox):
                self.missing[folder] = missing_folder_message(folder, group, outbox)
                continue
            was_missing = self.missing.pop(folder, None) is not None
            if self._observer is not None and not self._watch(self._observer, folder):
                continue
            for path in self._files_in(folder):
                if was_missing:
                    # Made after SendGuard started: what is in it now came in while it was
                    # not watched, and is decided like a file found by a rescan.
                    self._classified(path, group, outbox, How.FOUND)
                else:
                    self._known.setdefault(path, self._inode(path))

    def _folders(self) -> Iterable[tuple[Path, Group, bool]]:
        for group in self.policy.groups:
            for folder in group.folders:
                yield folder, group, False
            if group.outbox is not None:
                yield group.outbox, group, True

    def _group_named(self, name: str) -> Group | None:
        return next((g for g in self.policy.groups if g.name == name), None)

    def _watched_folder(self, path: Path) -> tuple[Path, Group, bool] | None:
        """The innermost group folder holding `path`, its group, and whether it is the
        group's outbox."""
        best: tuple[Path, Group, bool] | None = None
        for folder, group, outbox in self._folders():
            if (path == folder or folder in path.parents) and (
                best is None or len(folder.parts) > len(best[0].parts)
            ):
                best = (folder, group, outbox)
        return best

    def _where(self, path: Path) -> tuple[Group, bool] | None:
        """The group a path belongs to, and whether it is that group's outbox."""
        found = self._watched_folder(path)
        return (found[1], found[2]) if found else None

    # --- events (observer thread: queue only) --------------------------------------------

    def _on_event(self, event: FileSystemEvent) -> None:
        if isinstance(event, FileMovedEvent):
            # A side is empty when it is not watched: moved in from outside, or out.
            source = Path(os.fsdecode(event.src_path)) if event.src_path else None
            path = Path(os.fsdecode(event.dest_path)) if event.dest_path else None
            self._intake.put(("moved", (source, path)))
        elif isinstance(event, FileClosedEvent | FileCreatedEvent | FileModifiedEvent):
            path = Path(os.fsdecode(event.src_path))
            kind = "closed" if isinstance(event, FileClosedEvent) else "changed"
            self._intake.put((kind, path))
        elif isinstance(event, FileDeletedEvent):
            self._intake.put(("deleted", Path(os.fsdecode(event.src_path))))

    # --- intake thread -------------------------------------------------------------------

    def _intake_loop(self) -> None:
        while True:
            kind, payload = self._intake.get()
            if kind == "stop":
                self._flush_holds()
                return
            try:
                self._intake_one(kind, payload)
                if self._to_hold and self._intake.empty():
                    self._flush_holds()  # nothing else came: what waits goes now
            except Exception as exc:  # the engine must keep guarding whatever one file does
                self._problem(f"could not process an arrival: {type(exc).__name__}: {exc}")

    def _intake_one(self, kind: str, payload: Any) -> None:
        if kind == "moved":
            source, path = payload
            was_known = source is not None and self._forget(source)
            if path is None:
                return  # moved out of the group folders
            where = self._watched_folder(path)
            if where is None or self._ignored(path, where[0]):
                return
            folder, group, outbox = where
            if self._is_ours(path):
                self._arrived(own(path, group.name))
                return
            came_from = self._where(source) if source is not None else None
            if was_known and came_from is not None and came_from[0].name == group.name:
                # A rename inside one group's folders is no new share. Only of a file that was
                # there: a temporary or unfinished file renamed into place (an editor's or a
                # browser's save, a sync client's download) is classified below.
                self._known[path] = self._inode(path)
                return
            if source is not None:
                with self._lock:
                    self._pending.pop(source, None)
            how = How.RENAMED if source is not None and came_from is not None else How.MOVED_IN
            self._classified(path, group, outbox, how, source, folder)
        elif kind in ("closed", "changed"):
            path = payload
            where = self._watched_folder(path)
            if where is None or self._ignored(path, where[0]) or self._is_ours(path):
                return
            folder, group, outbox = where
            if kind == "changed":
                if path not in self._known:
                    how = How.MOVED_IN if self._in_folder_moved_in(path) else How.SETTLED
                    with self._lock:
                        pending = self._pending.get(path)
                        if pending is not None:
                            pending.last_seen = time.monotonic()
                        else:
                            self._pending[path] = _Pending(group, time.monotonic(), outbox, how)
                return
            with self._lock:
                self._pending.pop(path, None)
            self._classified(path, group, outbox, How.WRITTEN, folder=folder)
        elif kind == "folder moved in":
            now = time.monotonic()
            for folder, since in list(self._folders_moved_in.items()):
                if now - since > _OWN_EVENT_TTL:
                    del self._folders_moved_in[folder]
            self._folders_moved_in[payload] = now
        elif kind == "deleted":
            if self._forget(payload):
                self._levels.pop(payload, None)
        elif kind == "arrival":
            path, group, outbox, how = payload
            self._classified(path, group, outbox, how)
        elif kind == "share":
            arrival, group, outbox = payload
            self._arrived(arrival)
            self._arrival(arrival.path, group, outbox)
        elif kind == "rescan":
            self._rescan()
        elif kind == "policy":
            self._apply_policy(payload)
        elif kind == "folders":
            self._sync_folders()

    def _classified(
        self,
        path: Path,
        group: Group,
        outbox: bool,
        how: How,
        source: Path | None = None,
        folder: Path | None = None,
    ) -> None:
        """Classify an arrival (share, download, edit) and act on its class."""
        if outbox:
            # An outbox is not synced: whatever is dropped there is the user's share.
            self._arrival(path, group, outbox)
            return
        known = self._known.get(path)
        if how is How.WRITTEN and known is not None and known != self._inode(path):
            known = None  # the name was deleted and written anew: a new file
        if folder is None:
            found = self._watched_folder(path)
            folder = found[0] if found is not None else path.parent
        arrival = self.classifier.classify(
            Observation(path, group.name, folder, how, source, replaces_known=known is not None)
        )
        if arrival.kind is Kind.SHARE and arrival.may_move:
            self._arrived(arrival)
            self._arrival(path, group, outbox)
            return
        # A download, an edit, or a file whose author is not known: never moved out of the
        # folder (for every member that would be a deletion). Its label is still read: at
        # once, or once the sync client's state has said who wrote it (it may be a share).
        self._known[path] = self._inode(path)
        if arrival.kind is not Kind.EDIT and self.arrival_log.can_confirm(arrival):
            self.listener.arrived(arrival)
            self.arrival_log.confirm(arrival, group, outbox)  # kept once confirmed
        else:
            self._arrived(arrival)
            self._in_place_queue.put((arrival, group))

    def _in_folder_moved_in(self, path: Path) -> bool:
        return any(folder in path.parents for folder in self._folders_moved_in)

    def _forget(self, gone: Path) -> bool:
        """A known name was moved away or deleted: forget it; True when it was known. Where a
        newer file already holds the name — the event was overtaken by later ones (watchdog
        holds a move-out back to pair it; `_OvertakingQueue`) — the entry is the newer
        file's, and stays (else a sync client's update would look like a new file)."""
        known = self._known.get(gone)
        if known is None:
            return False
        if known == -1 or known != self._inode(gone):
            del self._known[gone]
        return True

    @staticmethod
    def _ignored(path: Path, folder: Path) -> bool:
        """Temporary files, and everything in the sync clients' own folders inside a group
        folder (Syncthing's `.stversions`, Dropbox's cache): never arrivals."""
        if is_temporary(path.name):
            return True
        try:
            parts = path.parent.relative_to(folder).parts
        except ValueError:
            return False
        return any(is_temporary(part) for part in parts)

    def _arrived(self, arrival: Arrival) -> None:
        self.arrival_log.record(arrival)
        self.listener.arrived(arrival)

    def _contradicted(self, arrival: Arrival, group: Group, outbox: bool) -> None:
        """The client's own state says this user wrote what looked like its download (a name
        can be forged): it is a share after all (arrivals thread)."""
        if self._known.get(arrival.path) == self._inode(arrival.path):
            self._known.pop(arrival.path, None)
            self._intake.put(("share", (arrival, group, outbox)))

    def _is_ours(self, path: Path) -> bool:
        now = time.monotonic()
        with self._lock:
            expiry = self._own.get(path)
            if expiry is not None and expiry > now:
                del self._own[path]
                self._known[path] = self._inode(path)
                return True
        # held_path_is_ours resolves the path (an lstat per component) on every event: only
        # worth it when the hold area is inside a watched folder.
        return self._hold_area_watched and self.holds.held_path_is_ours(path)

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
                self._pending[path] = _Pending(group, time.monotonic(), outbox, How.WRITTEN)
            return
        reason = None
        if stat.S_ISLNK(info.st_mode):
            reason = "a link: SendGuard never follows links out of a group folder"
        elif not stat.S_ISREG(info.st_mode):
            reason = "not a regular file"
        elif info.st_nlink > 1:
            reason = "a hard-linked file: its content is also elsewhere, under another name"
        # In a burst (a folder dragged in, a copy of many files) every file is held first
        # and read in the hold area after, where a clean one is put back: reading each one
        # in place first would keep the last in the group folder for seconds.
        in_burst = len(self._to_hold) >= _BURST_HELD or self._intake.qsize() >= _BURST_QUEUE
        if reason is None and not outbox and not self.policy.holds_all(group) and not in_burst:
            quick = self._scan(path, self._fast_limits)
            if quick is None:
                return
            decision = decide(quick, group, self.policy)
            needs_ocr = quick.ocr_pending and self._hold_for_ocr
            if not quick.timed_out and not decision.prompt and not needs_ocr:
                fingerprint = self._fingerprint(path)
                if fingerprint is None or self._forwarded(fingerprint, group) is None:
                    self._known[path] = info.st_ino
                    self._note_level(path, decision.level.name if decision.level else None)
                    self._remember(fingerprint, group, path.name, decision)
                    if decision.action is not None:
                        self.listener.notified(path, decision)
                    return
        self._queue_hold(path, group, reason)

    def _queue_hold(self, path: Path, group: Group, reason: str | None) -> None:
        """Hold `path` with the files arriving with it: a burst is moved out in batches, one
        journal commit and one sync per folder each, and classified after (issue: 2,000
        files out of the group folder within 2 s). A lone file goes at once."""
        if path in self._to_hold:
            return  # already on its way (a second event for the same file)
        if not self._to_hold:
            self._to_hold_since = time.monotonic()
        self._to_hold[path] = (group, reason)
        if (
            len(self._to_hold) >= _HOLD_BATCH
            or time.monotonic() - self._to_hold_since >= _HOLD_BATCH_SECONDS
            or self._intake.empty()
        ):
            self._flush_holds()

    def _flush_holds(self) -> None:
        if not self._to_hold:
            return
        waiting, self._to_hold = self._to_hold, {}
        batch = [(path, group.name, uuid.uuid4().hex[:12]) for path, (group, _) in waiting.items()]
        try:
            outcomes = self.holds.hold_many(batch)
        except JournalError as exc:
            outcomes = [exc] * len(batch)
        for (path, (group, reason)), outcome in zip(waiting.items(), outcomes, strict=True):
            if isinstance(outcome, Exception):
                # Say which file, and where it is: the user can act on that (test_faults: the
                # message named neither, or only the hold area's path).
                where = f" and is still in {path.parent}" if os.path.lexists(path) else ""
                self._problem(f"{path.name} could not be held{where}: {error_in_words(outcome)}")
                continue
            if outcome is None:
                continue
            if outcome.error:
                self._problem(f"{path.name}: {outcome.error}")
            self._work.put(("classify", (outcome, group, reason)))

    # --- what content was seen where: forwarding and the wrong-group hint ---------------

    def _open_fingerprints(self) -> FingerprintStore | None:
        path = self.config.data_dir / "fingerprints.sqlite3"
        try:
            return FingerprintStore(path)
        except StoreError as exc:
            # Forwarding cannot be recognised; labelled files are still decided by label.
            self._problem(f"forwarding between groups is not recognised: {path}: {exc}")
            return None

    def _fingerprint(self, path: Path) -> Fingerprint | None:
        """The content's fingerprint, when forwarding is in the policy (else no cost)."""
        if not self._work_sources or self.fingerprints is None:
            return None
        try:
            fingerprint = fingerprint_file(path)
        except OSError:
            return None
        return fingerprint if fingerprint.size > 0 else None  # every empty file is alike

    def _forwarded(self, fingerprint: Fingerprint | None, group: Group) -> Forwarded | None:
        if fingerprint is None or self.fingerprints is None:
            return None
        try:
            return forwarded_from(fingerprint, group, self.policy, self.fingerprints)
        except StoreError as exc:
            self._problem(f"forwarding could not be checked: {exc}")
            return None

    def _remember(
        self,
        fingerprint: Fingerprint | None,
        group: Group,
        name: str,
        in_place: Decision | None,
    ) -> None:
        """The content stays in `group`; `in_place`: decided without a hold (its level, if
        any, is history for the wrong-group hint; held files are in the journal)."""
        if self.fingerprints is None:
            return
        try:
            if fingerprint is not None:
                self.fingerprints.remember(fingerprint, group.name, name)
            if in_place is not None and in_place.level is not None:
                self.fingerprints.remember_share(group.name, in_place.level.name, name)
                self._add_history(group.name, in_place.level.name, name)
        except StoreError as exc:
            self._problem(f"could not remember where {name} was shared: {exc}")

    def _add_history(self, group_name: str, level: str | None, name: str) -> None:
        """A share just made joins the hint's history (no re-read: bursts release many)."""
        cached = self._history
        if cached is not None:
            cached[1].append(PastShare(group_name, level, name, time.time()))

    def _hint(self, group: Group, decision: Decision, name: str) -> Hint | None:
        # The history is read once and kept until a share changes it (or a minute passes:
        # a decision made elsewhere): read per file, a burst of 2,000 held files took 100 s
        # to classify, reading 2,000 journal rows for each.
        cached = self._history
        if cached is None or time.monotonic() - cached[0] > _HISTORY_SECONDS:
            try:
                shares = (
                    self.fingerprints.shares(time.time() - HORIZON) if self.fingerprints else []
                )
                cached = (time.monotonic(), past_shares(self.journal.released(2000), shares))
            except (JournalError, *StoreError):
                return None  # a hint is a nicety: without history there is none
            self._history = cached
        history = cached[1]
        level = decision.level.name if decision.level is not None else None
        return wrong_group_hint(history, group.name, level, name)

    def _index_loop(self) -> None:
        """Fingerprints of what work sources hold: at start, on every rescan, and as files
        appear in their source folders."""
        self._index.put(("walk", None))
        while True:
            kind, payload = self._index.get()
            if kind == "stop":
                return
            store = self.fingerprints
            if store is None:
                continue
            try:
                if kind == "walk":
                    remember_all(store, self._work_files(), self._stopping)
                elif kind == "file":
                    path, group_name = payload
                    if not is_temporary(path.name) and os.path.isfile(path):
                        remember_all(store, [(path, group_name)], self._stopping)
            except StoreError as exc:
                self._problem(f"could not remember what work groups hold: {exc}")

    def _work_files(self) -> Iterable[tuple[Path, str]]:
        for group in self._work_sources:
            for folder in (*group.folders, *group.sources):
                if folder.is_dir():
                    for path in self._files_in(folder):
                        if not is_temporary(path.name) and not path.is_symlink():
                            yield path, group.name

    def _scan(
        self, path: Path, limits: Limits, worker: ScanWorker | None = None
    ) -> Findings | None:
        """The file's labels (None: it is gone). OCR runs only with `limits.ocr`, in `worker`;
        a picture it could not read in time is unscannable, never clean."""
        try:
            return read_labels(path, limits, self._patterns, worker, timeout=OCR_TIMEOUT)
        except FileNotFoundError:
            return None

    # --- timer thread: settle, batches, rescans ------------------------------------------

    def _timer_loop(self) -> None:
        next_rescan = time.monotonic() + self.config.rescan_interval
        next_heartbeat = time.monotonic() + _HEARTBEAT
        next_folder_check = time.monotonic() + _FOLDER_CHECK
        while not self._stopping.wait(0.05):
            now = time.monotonic()
            if self.missing and now >= next_folder_check:
                next_folder_check = now + _FOLDER_CHECK
                if any(folder.is_dir() for folder in list(self.missing)):
                    self._intake.put(("folders", None))
            if now >= next_heartbeat:
                next_heartbeat = now + _HEARTBEAT
                try:
                    self.journal.set_meta(alive=repr(time.time()))
                except JournalError as exc:
                    self._problem(str(exc))
                if self.scan_worker is not None:
                    self.scan_worker.close_if_idle()
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
                self._intake.put(("arrival", (path, pending.group, pending.outbox, pending.how)))
            self._work.put(("tick", now))
            if now >= next_rescan:
                next_rescan = now + self.config.rescan_interval
                self._intake.put(("rescan", None))

    def rescan(self) -> None:
        """Look for arrivals the watcher missed (queue overflow, events lost); asynchronous."""
        self._intake.put(("rescan", None))

    def _overflowed(self) -> None:
        """The kernel dropped events (observer thread): rescan, once per burst of overflows."""
        with self._lock:
            self.overflows += 1
            if self._overflow_rescan_queued:
                return  # the queued rescan has not started walking yet: it will see all
            self._overflow_rescan_queued = True
        self.rescan()

    def _rescan(self) -> None:
        with self._lock:
            self._overflow_rescan_queued = False
        if self._work_sources:
            self._index.put(("walk", None))
        seen: set[Path] = set()
        for folder, group, outbox in self._folders():
            for path in self._files_in(folder):
                seen.add(path)
                if path in self._known or is_temporary(path.name):
                    continue
                with self._lock:
                    if path in self._pending:
                        continue
                self._classified(path, group, outbox, How.FOUND)
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

    def decide(self, answer: Answer) -> Future[HoldRecord]:
        """One answer from outside the Decider (the control socket: `sendguard held
        share/return`, a script; engine/control.py), carried out on the decision thread after
        what was queued before it, as the Decider's are. The future gives the hold's record
        once decided (`target`: where the file went), or raises AnswerRefused (no such held
        file, decided already, or not what the policy asks) or the error that kept it held.
        Raises NotNow once the engine is stopping. Callable from any thread."""
        future: Future[HoldRecord] = Future()
        with self._lock:
            if self._stopping.is_set():
                raise NotNow("SendGuard is stopping")
            self._work.put(("decide", (answer, future)))
        return future

    def _decide_one(self, answer: Answer, future: Future[HoldRecord]) -> None:
        if not future.set_running_or_notify_cancel():
            return  # withdrawn before its turn (the caller went away): nothing decided
        try:
            record, group = check_answer(self.journal.get(answer.hold_id), answer, self.policy)
            self.decide_held(record, group, answer, raising=True)
            for waiting in self._waiting.values():  # decided: no dialog will ask about it
                waiting.items = [item for item in waiting.items if item.hold_id != record.id]
            future.set_result(self.journal.get(record.id) or record)
        except Exception as exc:
            future.set_exception(exc)

    def _work_loop(self) -> None:
        while True:
            kind, payload = self._work.get()
            if kind == "stop":
                return
            if kind == "classify" and self._stopping.is_set():
                continue  # held, and journaled so: the next start classifies it
            try:
                if kind == "classify":
                    self._yield_to_intake()
                    self._classify(*payload)
                elif kind == "answers":
                    self._apply(payload)
                elif kind == "decide":
                    self._decide_one(*payload)
                elif kind == "tick":
                    self._flush_batches(payload)
            except Exception as exc:  # keep guarding; the file stays where the journal says
                self._problem(f"could not finish a decision: {type(exc).__name__}: {exc}")

    def _yield_to_intake(self) -> None:
        """Holding races the sync client, classifying a held file does not: while arrivals
        wait, leave the CPU (the GIL) and the journal to the intake thread. (bench: in a
        burst of 5,000 files the last one left the group folder 13.9 s after it was written,
        with both threads taking turns.)"""
        while not self._intake.empty() and not self._stopping.is_set():
            time.sleep(0.002)

    def _classify(self, record: HoldRecord, group: Group, reason: str | None = None) -> None:
        findings = self._held_findings(record, reason)
        if findings is None:
            self._problem(f"{record.held} disappeared from the hold area")
            return
        decision = decide(findings, group, self.policy)
        fingerprint = self._fingerprint(record.held) if reason is None else None
        forwarded = self._forwarded(fingerprint, group)
        if forwarded is not None:
            decision = with_forwarding(decision, forwarded, group, self.policy)
        self.journal.update(
            record.id,
            verdict=findings.verdict.value,
            level=decision.level.name if decision.level else None,
            action=decision.action.value if decision.action else None,
            findings=[label.to_dict() for label in findings.labels],
            came_from=decision.forwarded.source if decision.forwarded is not None else None,
        )
        if decision.hold_reason is not None:
            self.listener.held(record, decision)  # stays held until the policy is fixed
            return
        if not decision.prompt:
            target = self._release(record, group, decision.level.name if decision.level else None)
            if target is not None:
                self._remember(fingerprint, group, target.name, None)
                if decision.action is not None:
                    self.listener.notified(target, decision)
            return
        self.listener.held(record, decision)
        item = PromptItem(
            record.id,
            record.origin.name,
            findings,
            decision,
            came_from=forwarded.source if forwarded is not None else None,
            hint=self._hint(group, decision, record.origin.name),
        )
        waiting = self._waiting[group.name]
        waiting.items.append(item)
        waiting.due = time.monotonic() + self.config.batch_window

    def _in_place_loop(self) -> None:
        while (item := self._in_place_queue.get()) is not None:
            self._yield_to_intake()
            try:
                self._in_place(*item)
            except Exception as exc:  # keep reading; the file is where it was, untouched
                self._problem(f"could not read {item[0].path.name}: {type(exc).__name__}: {exc}")

    def _in_place(self, arrival: Arrival, group: Group) -> None:
        """A file that stays where it is (a download, an edit, a file whose author is not
        known): read its label, remember it, and say so when it is above the group's
        clearance and above what the group already had."""
        path = arrival.path
        findings = self._scan(path, self._in_process_limits)
        if findings is None:
            return  # gone already
        decision = decide(findings, group, self.policy)
        rank = decision.level.rank if decision.level is not None else None
        previous = self._levels.get(path)
        if rank is not None:
            self._levels[path] = rank
        if arrival.kind is Kind.DOWNLOAD:
            # The group sent it: content seen in the group is no forwarding into it.
            self._remember(self._fingerprint(path), group, path.name, None)
            return
        if not decision.prompt or self.policy.holds_all(group):
            # A broken policy holds this user's shares; what others put here stays unasked.
            return
        if (
            arrival.kind is Kind.EDIT
            and previous is not None
            and rank is not None
            and rank <= previous
        ):
            return  # the group already had it at this level: a re-save asks nothing
        self.listener.kept_in_place(arrival, decision, previous_version(path))

    def _held_findings(self, record: HoldRecord, reason: str | None) -> Findings | None:
        if reason is not None:
            # A link or special file: never read through it (it may point out of the tree).
            findings = Findings(path=str(record.held), format="not a file")
            findings.mark_unscannable(reason)
            return findings
        # The full read: a picture the quick scan could not read is read by OCR in the
        # scanning process (labels/read.py; the same answer `sendguard scan` gives).
        return self._scan(record.held, self._full_limits, self.scan_worker)

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

    def decide_held(
        self, record: HoldRecord, group: Group, answer: Answer, *, raising: bool = False
    ) -> Path | None:
        """Carry out one answer; the confirmation is journaled before the file moves.
        `raising`: a refusal or a failed move is raised to the caller (after it is
        reported as a problem, as always) instead of returning None."""
        expected = release_folder(record, group) / record.origin.name if answer.share else None
        if expected is not None:
            self._expect_own(expected)
        try:
            target = carry_out(self.holds, record, group, answer)
        except AnswerRefused as exc:
            self._problem(str(exc))
            if raising:
                raise
            return None
        except (OSError, JournalError) as exc:
            self._move_failed(record, exc, expected)
            if raising:
                raise
            return None
        if answer.share:
            self._expect_own(target)
            self._note_level(target, record.level)  # `_apply` read the record just now
            self._add_history(record.group_name, record.level, record.origin.name)
            self._remember(self._fingerprint(target), group, target.name, None)
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

    def _release(self, record: HoldRecord, group: Group, level: str | None) -> Path | None:
        """Release without a prompt (clean, or within the group's clearance, `level`)."""
        folder = release_folder(record, group)
        expected = folder / record.origin.name
        self._expect_own(expected)
        try:
            target = self.holds.release(record, folder)
        except ChangedWhileHeld as exc:
            self._problem(str(exc))
            raise
        except (OSError, JournalError) as exc:
            self._move_failed(record, exc, expected)
            return None
        self._expect_own(target)
        self._note_level(target, level)
        self._add_history(record.group_name, level, record.origin.name)
        self.listener.released(record, target, False)
        return target

    def _note_level(self, path: Path, level: str | None) -> None:
        """What level the group now has this file at (an edit that keeps it is quiet)."""
        if level is None:
            return
        with contextlib.suppress(KeyError):  # a level of an older policy: not comparable
            self._levels[path] = self.policy.level(level).rank

    def _move_failed(self, record: HoldRecord, exc: Exception, expected: Path | None) -> None:
        """A release or return failed: the folder is full or refuses files, an I/O error, the
        journal cannot be written. Moves never leave a file half-way, so unless the move got
        as far as placing the file, it is whole in the hold area: journal it as held again.
        (test_faults: it stayed "releasing", so it was not listed as held and a second answer
        was refused until a restart.)"""
        if expected is not None:
            with self._lock:
                self._own.pop(expected, None)  # no release of ours will arrive there
        current = self.journal.get(record.id) or record
        placed = current.target is not None and same_content(current.target, current.held)
        if os.path.lexists(current.held) and not placed:
            if current.state in (State.RELEASING, State.RETURNING):
                with contextlib.suppress(JournalError):  # else recovery does it at start-up
                    self.journal.update(
                        record.id,
                        state=State.HELD,
                        target=None,
                        error=f"not moved: {error_in_words(exc)}",
                    )
            self._problem(f"{record.origin.name} stays held: {error_in_words(exc)}")
        else:
            self._problem(
                f"{record.origin.name} was moved to {current.target}: {error_in_words(exc)}"
            )

    def put_back(self, path: Path, previous: Path) -> Path:
        """Put the version the group had back in place of the file at `path` (an edit that
        raised its label): the changed file is first copied, verified, into the "Not shared"
        folder, then the earlier version replaces it by one rename — the group sees an
        update, never a deletion. Returns where the changed file was kept. Raises OSError
        (nothing changed in the group folder) when a step cannot be done."""
        where = self._where(path)
        if where is None:
            raise FileNotFoundError(errno.ENOENT, "not in a group folder", str(path))
        group = where[0]
        if not previous.is_file():
            raise FileNotFoundError(errno.ENOENT, "the earlier version is gone", str(previous))
        folder = self.config.not_shared_root / group.name
        folder.mkdir(parents=True, exist_ok=True)
        kept = free_name(folder, path.name)
        copy_verified(path, kept)
        staged = partial_name(path)
        try:
            copy_verified(previous, staged)
            self._expect_own(path)
            os.replace(staged, path)
        except BaseException:
            staged.unlink(missing_ok=True)
            raise
        fsync_dir(path.parent)
        self._levels.pop(path, None)
        self.listener.put_back(path, previous, kept)
        return kept

    def held_files(self) -> list[HoldRecord]:
        return self.journal.in_states(State.HELD)

    def _problem(self, message: str) -> None:
        self.problems.append(message)
        self.listener.problem(message)


def error_in_words(exc: Exception) -> str:
    """An error in words, without the path (the message names the file itself); for the
    engine's problems and the command line's messages alike."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc)


def run_until(predicate: Callable[[], bool], timeout: float, step: float = 0.01) -> bool:
    """Wait until `predicate()` holds or `timeout` passes (for the command line and tests)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()
