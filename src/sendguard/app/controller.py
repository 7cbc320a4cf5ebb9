"""The app's core: loads the policy, runs the engine, and keeps what the windows show.

Everything here runs in the GUI thread except the engine itself and the few blocking
steps (starting and stopping the engine), which run in short-lived threads and report
back through signals. Widgets read the controller; they never call the engine directly.
"""

from __future__ import annotations

import enum
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from pathlib import Path

from keyring.backend import KeyringBackend
from PySide6.QtCore import QCoreApplication, QObject, QTimer, Signal

from sendguard import __version__
from sendguard.audit import AuditStoreError, AuditTrail, open_audit_trail
from sendguard.display import visible
from sendguard.engine import control
from sendguard.engine.answers import AnswerRefused, NotNow
from sendguard.engine.arrivals import Arrival, Kind
from sendguard.engine.decider import DIALOG, HELD_FILES_WINDOW, Answer, Batch, PromptItem, Reply
from sendguard.engine.guard import Engine, EngineConfig, error_in_words
from sendguard.engine.listeners import FanOutListener
from sendguard.paths import resolve_paths
from sendguard.policy import Group, Policy, load_policy
from sendguard.policy.decide import Decision
from sendguard.policy.model import Source, _display_path
from sendguard.policy.watch import POLL_SECONDS, PolicyReloader
from sendguard.store.journal import HoldRecord, JournalError

from .bridge import EngineBridge
from .reasons import forwarded_text

translate = QCoreApplication.translate

#: Who holds the data folder's writer lock, as `sendguard held` names it when busy.
APP_HOLDER = "the desktop app (sendguard app)"

PAUSE_MINUTES = 15
APP_BATCH_WINDOW = 0.15
#: While files wait for a decision and no dialog is open, the tray reminds the user.
REMINDER_SECONDS = 10 * 60


class TrayState(enum.Enum):
    STARTING = "starting"
    WATCHING = "watching"
    PAUSED = "paused"
    HELD = "held"
    ATTENTION = "attention"


@dataclass
class HeldEntry:
    """A held file as the windows show it. `item` is set once the engine asked about it:
    only then can the file be shared from the app."""

    record: HoldRecord
    decision: Decision | None = None
    item: PromptItem | None = None
    group: Group | None = None
    since: float = field(default_factory=time.time)


@dataclass(frozen=True)
class PendingBatch:
    batch: Batch
    reply: Reply


@dataclass(frozen=True)
class Activity:
    """One line of recent activity (this session's events; history comes from the journal)."""

    when: float
    kind: str
    text: str


def source_in_words(source: Source) -> str:
    """Where a group or value comes from («system policy ~/policy.toml, line 4»), as
    `Source.__str__` says it for the command line, in the user's language."""
    if source.kind == "built-in":
        return translate("Policy", "built-in")
    where = _display_path(source.path) if source.path is not None else "?"
    if source.line is not None:
        where = translate("Policy", "{path}, line {line}").format(path=where, line=source.line)
    if source.kind == "system":
        return translate("Policy", "system policy {where}").format(where=where)
    if source.kind == "user":
        return translate("Policy", "user settings {where}").format(where=where)
    return translate("Policy", "discovered under {where}").format(where=where)


def missing_folder_text(folder: Path, policy: Policy) -> str | None:
    """The engine's sentence for a group folder that does not exist
    (`guard.missing_folder_message`), in the user's language; None when no group of
    `policy` names `folder`."""
    for group in policy.groups:
        if folder not in group.folders and folder != group.outbox:
            continue
        source = group.source
        if group.line is not None and source.line is None:
            source = replace(source, line=group.line)
        if folder in group.folders:
            text = translate(
                "Controller",
                'The folder of the group "{group}" does not exist: {folder} (named in'
                " {where}). Nothing there is guarded until it exists. Fix: correct the path in"
                " the policy, or create the folder where your sync client keeps the group.",
            )
        else:
            text = translate(
                "Controller",
                'The outbox of the group "{group}" does not exist: {folder} (named in'
                " {where}). Nothing there is guarded until it exists. Fix: correct the path in"
                " the policy, or create the folder where your sync client keeps the group.",
            )
        return text.format(
            group=visible(group.name),
            folder=visible(str(folder)),
            where=visible(source_in_words(source)),
        )
    return None


DEMO_GROUPS = (
    # (name, clearance, members, external, colour)
    ("Editors' Desk", "INTERNAL", 12, False, "#1f6feb"),
    ("Family", "PUBLIC", 6, True, "#c2410c"),
)


def add_demo_groups(policy: Policy, root: Path) -> Policy:
    """The embedded default with no groups anywhere: two demo group folders to try it on."""
    groups = []
    for name, clearance, members, external, colour in DEMO_GROUPS:
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        groups.append(
            Group(
                name=name,
                folders=(folder,),
                clearance=policy.level(clearance),
                members=members,
                external=external,
                colour=colour,
                source=Source("built-in"),
            )
        )
    return replace(policy, groups=tuple(groups))


class Controller(QObject):
    state_changed = Signal()
    batch_ready = Signal(object)  # PendingBatch
    held_changed = Signal()
    #: title, message, severity ("info" or "warning")
    notification = Signal(str, str, str)
    #: A labelled edit stays in the group folder, and the version the group had is kept:
    #: the path, that version, and the sentence that says so.
    put_back_offered = Signal(object, object, str)
    _engine_started = Signal(object, str)  # Engine | None, error text
    _audit_changed = Signal()
    _engine_stopped = Signal(object)  # callback to run after the stop

    def __init__(
        self,
        *,
        policy_path: Path | None = None,
        data_dir: Path | None = None,
        not_shared: Path | None = None,
        demo_root: Path | None = None,
        home: Path | None = None,
        engine_config: Callable[[EngineConfig], EngineConfig] | None = None,
        audit_keyring: KeyringBackend | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        #: Every path, from the options as given (None: the default) by the function the
        #: commands use too: the same "Not shared" folder, the same user settings file.
        self.paths = resolve_paths(data_dir, policy=policy_path, not_shared=not_shared, home=home)
        self.policy_path = policy_path
        self.data_dir = self.paths.data_dir
        self.not_shared = self.paths.not_shared
        self.demo_root = demo_root or self.paths.demo_groups
        self.home = home
        self._tune_config = engine_config
        #: None: the OS keyring the audit adapter chooses (tests pass an in-memory one).
        self._audit_keyring = audit_keyring
        self.bridge = EngineBridge(self)
        self.engine: Engine | None = None
        self.policy = self._load_policy()
        self.demo = False
        if (
            not self.policy.groups
            and policy_path is None
            and self.policy.error is None
            and not self.policy.managed  # IT installed a policy: its groups, or none
        ):
            self.policy = add_demo_groups(self.policy, self.demo_root)
            self.demo = True
        self.config = self._config()
        self.held: dict[int, HeldEntry] = {}
        self.pending: deque[PendingBatch] = deque()
        self.activity: deque[Activity] = deque(maxlen=500)
        self.start_error: str | None = None
        self.paused_until: float | None = None
        self.pause_reason: str | None = None
        self.started_at: float | None = None
        self.ready = False
        self._stopping = False
        self._start_lock = threading.Lock()
        self._start_thread: threading.Thread | None = None
        self._starting_engine: Engine | None = None
        self._resume_timer = QTimer(self)
        self._resume_timer.setSingleShot(True)
        self._resume_timer.timeout.connect(self.resume)
        self._reminder = QTimer(self)
        self._reminder.setInterval(REMINDER_SECONDS * 1000)
        self._reminder.timeout.connect(self._remind)
        self._reminder.start()
        self._reloader = PolicyReloader(self.policy, self._policy_now)
        self._started_with = self.policy
        self._policy_timer = QTimer(self)
        self._policy_timer.setInterval(int(POLL_SECONDS * 1000))
        self._policy_timer.timeout.connect(self.reload_policy)
        self._policy_timer.start()
        #: Set by the app: tells whether a confirmation dialog is on screen.
        self.dialog_open: Callable[[], bool] = lambda: False
        self.bridge.file_held.connect(self._on_held)
        self.bridge.file_released.connect(self._on_released)
        self.bridge.file_returned.connect(self._on_returned)
        self.bridge.file_notified.connect(self._on_notified)
        self.bridge.engine_problem.connect(self._on_problem)
        self.bridge.file_kept_in_place.connect(self._on_kept_in_place)
        self.bridge.batch_asked.connect(self._on_batch)
        self._engine_started.connect(self._on_engine_started)
        self._audit_changed.connect(self.state_changed)
        #: The audit trail, opened with the first start (its keyring may be slow to answer).
        self.trail: AuditTrail | None = None
        self.audit_error: str | None = None
        self._engine_stopped.connect(lambda then: then())
        #: The data folder's one-writer lock, and the control socket through which
        #: `sendguard held share/return` (and scripts) decide: from the first start to stop.
        self._writer: control.WriterLock | None = None
        self._control: control.ControlServer | None = None

    # --- policy and configuration -------------------------------------------------------

    def _load_policy(self) -> Policy:
        return load_policy(
            self.policy_path,
            system_required=self.policy_path is not None,
            data_dir=self.data_dir,
            home=self.home,
            last_good=self.paths.last_good,
        )

    def _policy_now(self) -> Policy:
        """The policy as its files say now, with the demo groups when they are in use."""
        policy = self._load_policy()
        if self.demo and not policy.groups and policy.error is None and not policy.managed:
            policy = add_demo_groups(policy, self.demo_root)
        return policy

    def reload_policy(self) -> bool:
        """Read the policy again when one of its files changed (polled every few seconds):
        the engine guards with it at once. True when the policy in force changed."""
        if self._stopping:
            return False
        new = self._reloader.poll()
        if new is None:
            return False
        was_broken = self.policy.error is not None
        self.policy = new
        in_force = new
        if self.trail is not None:
            self.trail.policy_loaded(new)
            in_force = self.trail.guard(new)
        if self.engine is not None:
            self.engine.set_policy(in_force)
        if new.error is not None:
            title = translate("Controller", "The policy cannot be used")
            self.notification.emit(title, self.policy_problem() or "", "warning")
            self._log("policy", title)
        elif was_broken:
            title = translate("Controller", "The policy is valid again")
            self.notification.emit(title, translate("Controller", "Guarding as it says."), "info")
            self._log("policy", title)
        else:
            self._log("policy", translate("Controller", "The policy changed and was read again"))
        self.state_changed.emit()
        return True

    def policy_problem(self) -> str | None:
        """What is wrong with the policy and what SendGuard does meanwhile, or None."""
        policy = self.policy
        if policy.error is None:
            return None
        if policy.hold_everything:
            return translate(
                "Controller", "The policy cannot be used, so every new file is held: {error}"
            ).format(error=str(policy.error))
        folders = [str(f) for g in policy.groups if g.hold_all for f in g.folders]
        return translate(
            "Controller",
            "The policy cannot be used: {error} Until it is fixed, the last valid policy"
            " guards, and every new file is held in: {folders}",
        ).format(
            error=str(policy.error),
            folders="; ".join(visible(f) for f in folders) or translate("Controller", "none"),
        )

    def _config(self) -> EngineConfig:
        # A short batch window: the dialog is on screen quickly, and files that arrive while
        # it is open join it (Shell._batch_ready), so a batch is still one dialog.
        config = EngineConfig(
            data_dir=self.data_dir, not_shared=self.not_shared, batch_window=APP_BATCH_WINDOW
        )
        return self._tune_config(config) if self._tune_config else config

    @property
    def not_shared_root(self) -> Path:
        return self.config.not_shared_root

    # --- engine life cycle ---------------------------------------------------------------

    def start(self) -> None:
        """Start the engine in the background; `state_changed` tells when it runs."""
        self.ready = False
        self.state_changed.emit()
        policy, config, bridge = self.policy, self.config, self.bridge
        self._started_with = policy

        def work() -> None:
            try:
                self._claim_data_folder()
                trail = self._open_trail(policy)
                listener = bridge.listener()
                if trail is not None:
                    listener = FanOutListener(listener, trail.listener())
                    policy_in_force = trail.guard(policy)  # "refuse" without a keyring: hold
                else:
                    policy_in_force = policy
                engine = Engine(policy_in_force, config, bridge, listener)
                if trail is not None:
                    trail.listener().lookup = engine.journal.get
                engine.start()
                if trail is not None:
                    trail.record("engine.started", groups=[g.name for g in policy.groups])
            except (JournalError, OSError) as exc:
                self._engine_started.emit(None, error_in_words(exc))
                return
            except (control.WriterBusy, control.ControlError) as exc:  # `run` guards it
                self._engine_started.emit(None, str(exc))
                return
            except Exception as exc:  # never die silently: say it in the tray
                self._engine_started.emit(None, f"{type(exc).__name__}: {exc}")
                return
            with self._start_lock:
                if not self._stopping:
                    # Until the GUI thread takes it (_on_engine_started), stop() finds it here.
                    self._starting_engine = engine
                    self._engine_started.emit(engine, "")
                    return
            engine.stop()  # the app quit while the engine started: stop it as at any quit
            if trail is not None:
                trail.record("engine.stopped")

        self._start_thread = threading.Thread(target=work, name="sendguard-start", daemon=True)
        self._start_thread.start()

    def _open_trail(self, policy: Policy) -> AuditTrail | None:
        """Once per run, in the start thread: the keyring may take a while to answer."""
        if self.trail is not None or self.audit_error is not None:
            return self.trail
        try:
            trail = open_audit_trail(
                self.data_dir,
                policy,
                keyring=self._audit_keyring,
                on_change=lambda: self._audit_changed.emit(),
            )
        except AuditStoreError as exc:
            self.audit_error = str(exc)
            return None
        trail.record("app.started", version=__version__)
        trail.policy_loaded(policy)
        self.trail = trail
        return trail

    def _claim_data_folder(self) -> None:
        """Once per run, in the start thread: this app becomes the data folder's one writer
        (engine/control.py), or WriterBusy says who is."""
        if self._writer is None:
            lock = control.WriterLock(self.paths.writer_lock)
            if not lock.acquire(APP_HOLDER, wait=5.0):
                raise control.WriterBusy(lock)
            self._writer = lock

    def _serve_control(self) -> None:
        """Decisions from the command line come to this app's engine, from the first start."""
        if self._control is not None:
            return
        server = control.ControlServer(
            self.paths.control_socket, self._decide_from_control, engine=APP_HOLDER
        )
        try:
            server.start()
        except control.ControlError as exc:
            self._log(
                "problem",
                translate("Controller", "The command line cannot reach SendGuard: {error}").format(
                    error=visible(str(exc))
                ),
            )
            return
        self._control = server

    def _decide_from_control(self, answer: Answer) -> Future[HoldRecord]:
        """A decision from the control socket (its thread): to the engine, as the dialog's."""
        engine = self.engine
        if engine is not None:
            return engine.decide(answer)
        if self.paused:
            raise AnswerRefused(control.paused_refusal(self.paused_until))
        raise NotNow("SendGuard is not guarding just now")

    def _on_engine_started(self, engine: Engine | None, error: str) -> None:
        self._starting_engine = None
        if self._stopping:
            if engine is not None:
                threading.Thread(target=engine.stop, daemon=True).start()
            return
        self.engine = engine
        self.start_error = error or None
        self.ready = True
        if engine is not None and engine.policy.error is not None and self.policy.error is None:
            self.policy = engine.policy  # held by the audit policy ("refuse", no keyring)
        if engine is not None and self.policy is not self._started_with:
            # The policy was read again while the engine started.
            engine.set_policy(self.trail.guard(self.policy) if self.trail else self.policy)
        if engine is not None:
            self.started_at = time.time()
            self._serve_control()
            for record in engine.held_files():
                self.held.setdefault(record.id, HeldEntry(record, since=record.created))
            self.held_changed.emit()
        else:
            self.notification.emit(
                translate("Controller", "SendGuard is not guarding"),
                translate("Controller", "The guard could not start: {error}").format(error=error),
                "warning",
            )
        self.state_changed.emit()

    def stop(self) -> None:
        """Stop the engine (at quit). Files stay where the journal says."""
        with self._start_lock:
            self._stopping = True
        # An engine still starting (SIGTERM at logout, a quit right after launch) is stopped
        # before the app exits: the start thread is a daemon, and dies with the process.
        if self._start_thread is not None and self._start_thread is not threading.current_thread():
            self._start_thread.join(timeout=60)
        if self.engine is None and self._starting_engine is not None:
            self.engine, self._starting_engine = self._starting_engine, None
        self._resume_timer.stop()
        self._reminder.stop()
        self._policy_timer.stop()
        if self._control is not None:
            self._control.close()  # decisions under way are finished first
            self._control = None
        if self.engine is not None:
            self.engine.stop()
            self.engine = None
            if self.trail is not None:
                self.trail.record("engine.stopped")
        if self.trail is not None:
            self.trail.record("app.stopped")
            self.trail.close()
            self.trail = None
        if self._writer is not None:
            self._writer.release()
            self._writer = None

    # --- pause -------------------------------------------------------------------------------

    @property
    def pause_allowed(self) -> bool:
        return self.policy.ui.allow_pause

    @property
    def quit_allowed(self) -> bool:
        return self.policy.ui.allow_quit

    @property
    def paused(self) -> bool:
        return self.paused_until is not None

    def pause(self, reason: str, minutes: float = PAUSE_MINUTES) -> bool:
        """Stop guarding for `minutes`; files shared meanwhile are not looked at. Refused
        (False) when the policy does not allow it or no reason is given."""
        if not self.pause_allowed or not reason.strip() or self.paused or self.engine is None:
            return False
        engine, self.engine = self.engine, None
        self.paused_until = time.time() + minutes * 60
        self.pause_reason = reason.strip()
        self._resume_timer.start(int(minutes * 60 * 1000))
        if self.trail is not None:
            self.trail.record("paused", reason=self.pause_reason, minutes=minutes)
        self._log(
            "paused",
            translate("Controller", "Paused for {minutes} minutes: {reason}").format(
                minutes=f"{minutes:g}", reason=visible(self.pause_reason)
            ),
        )
        self._stop_in_background(engine, lambda: None)
        self.state_changed.emit()
        return True

    def resume(self) -> None:
        if not self.paused:
            return
        self._resume_timer.stop()
        self.paused_until = None
        self.pause_reason = None
        if self.trail is not None:
            self.trail.record("resumed")
        self._log("resumed", translate("Controller", "Guarding again"))
        self.start()

    def _stop_in_background(self, engine: Engine, then: Callable[[], None]) -> None:
        def work() -> None:
            engine.stop()
            self._engine_stopped.emit(then)

        threading.Thread(target=work, name="sendguard-stop", daemon=True).start()

    # --- state ---------------------------------------------------------------------------

    @property
    def attention(self) -> list[str]:
        """What needs the user's (or IT's) attention, one sentence each."""
        reasons = []
        if (problem := self.policy_problem()) is not None:
            reasons.append(problem)
        if self.start_error:
            reasons.append(
                translate("Controller", "The guard could not start: {error}").format(
                    error=self.start_error
                )
            )
        if self.engine is not None:
            reasons.extend(self.engine.unwatched)  # the system's watch limit, mostly
            # A mistyped group folder: the engine's sentence, in the user's language.
            for folder, sentence in list(self.engine.missing.items()):
                reasons.append(missing_folder_text(folder, self.engine.policy) or sentence)
        if self.audit_error is not None:
            reasons.append(
                translate("Controller", "The audit trail cannot be written: {error}").format(
                    error=self.audit_error
                )
            )
        elif self.trail is not None and (problem := self.trail.status.problem) is not None:
            reasons.append(problem)
        return reasons

    @property
    def state(self) -> TrayState:
        if self.attention:
            return TrayState.ATTENTION
        if self.paused:
            return TrayState.PAUSED
        if not self.ready:
            return TrayState.STARTING
        if self.held:
            return TrayState.HELD
        return TrayState.WATCHING

    def status_line(self) -> str:
        state = self.state
        if state is TrayState.ATTENTION:
            return translate("Controller", "Needs attention: {reason}").format(
                reason=self.attention[0]
            )
        if state is TrayState.PAUSED and self.paused_until is not None:
            until = time.strftime("%H:%M", time.localtime(self.paused_until))
            return translate("Controller", "Paused until {time}").format(time=until)
        if state is TrayState.STARTING:
            return translate("Controller", "Starting…")
        if state is TrayState.HELD:
            return translate("Controller", "Files waiting for you: {count}").format(
                count=len(self.held)
            )
        folders = sum(len(group.folders) for group in self.policy.groups)
        return translate("Controller", "Watching {groups} groups, {folders} folders").format(
            groups=len(self.policy.groups), folders=folders
        )

    # --- answers ---------------------------------------------------------------------------

    def answer(self, reply: Reply, answers: list[Answer]) -> None:
        """Pass the user's answers to the engine (which does the file work in its thread)."""
        if answers:
            reply([replace(a, decided_via=a.decided_via or DIALOG) for a in answers])

    def answer_held(self, hold_id: int, share: bool) -> None:
        """Don't share from the Held files window (sharing goes through the dialog)."""
        if self.engine is not None and not share:
            self.engine.answer([Answer(hold_id, share=False, decided_via=HELD_FILES_WINDOW)])

    def batch_for(self, hold_id: int) -> PendingBatch | None:
        """A one-file batch for the dialog, for a held file the engine has asked about."""
        entry = self.held.get(hold_id)
        if entry is None or entry.item is None or entry.group is None or self.engine is None:
            return None
        return PendingBatch(Batch(entry.group, (entry.item,)), self.engine.answer)

    def next_pending(self) -> PendingBatch | None:
        while self.pending:
            pending = self.pending.popleft()
            still_held = [item for item in pending.batch.items if item.hold_id in self.held]
            if still_held:
                return PendingBatch(replace(pending.batch, items=tuple(still_held)), pending.reply)
        return None

    # --- engine events (GUI thread) -----------------------------------------------------------

    def _on_held(self, record: HoldRecord, decision: Decision) -> None:
        entry = self.held.get(record.id)
        if entry is None:
            entry = self.held[record.id] = HeldEntry(record, since=record.created)
            group = self.policy.group(record.group_name)
            level = decision.level.name if decision.level else translate("Controller", "unknown")
            forwarded = forwarded_text(decision)  # then that is the reason, not the level
            if forwarded is not None:
                logged = translate("Controller", 'Held {file} on its way to "{group}": {reason}')
                body = translate(
                    "Controller", "{file}: {reason}. Decide whether it should go there."
                )
            else:
                logged = translate("Controller", 'Held {file} ({level}) on its way to "{group}"')
                body = translate(
                    "Controller", "{file} is {level}. Decide whether it should go there."
                )
            words = {
                "file": visible(record.origin.name),
                "level": level,
                "group": visible(record.group_name),
                "reason": forwarded,
            }
            self._log("held", logged.format(**words))
            self.notification.emit(
                translate("Controller", 'Held before sharing with "{group}"').format(
                    group=visible(group.name if group else record.group_name)
                ),
                body.format(**words),
                "info",
            )
        entry.record = record
        entry.decision = decision
        entry.group = self.policy.group(record.group_name)
        self.held_changed.emit()
        self.state_changed.emit()

    def _on_batch(self, batch: Batch, reply: Reply) -> None:
        for item in batch.items:
            entry = self.held.get(item.hold_id)
            if entry is not None:
                entry.item = item
                entry.group = batch.group
        self.pending.append(PendingBatch(batch, reply))
        self.batch_ready.emit(self.pending[-1])

    def _on_released(self, record: HoldRecord, target: Path, confirmed: bool) -> None:
        was_held = self.held.pop(record.id, None) is not None
        if confirmed:
            text = translate(
                "Controller", 'Shared {file} with "{group}" after your confirmation'
            ).format(file=visible(record.origin.name), group=visible(record.group_name))
            self._log("shared", text)
            self.notification.emit(translate("Controller", "Shared"), text, "info")
        elif was_held:
            self._log(
                "passed",
                translate("Controller", '{file} passed into "{group}"').format(
                    file=visible(record.origin.name), group=visible(record.group_name)
                ),
            )
        if was_held:
            self.held_changed.emit()
            self.state_changed.emit()

    def _on_returned(self, record: HoldRecord, target: Path, reason: str) -> None:
        self.held.pop(record.id, None)
        text = translate("Controller", 'Not shared with "{group}": {file} is in {folder}').format(
            group=visible(record.group_name),
            file=visible(record.origin.name),
            folder=visible(str(target.parent)),
        )
        self._log("returned", text)
        self.notification.emit(translate("Controller", "Not shared"), text, "info")
        self.held_changed.emit()
        self.state_changed.emit()

    def _on_notified(self, path: Path, decision: Decision) -> None:
        level = decision.level.name if decision.level else translate("Controller", "unknown")
        forwarded = forwarded_text(decision)
        if forwarded is not None:
            text = translate(
                "Controller", "{file} was shared: {reason}. The policy asks only to tell you."
            ).format(file=visible(path.name), reason=forwarded)
        else:
            text = translate(
                "Controller", "{file} ({level}) was shared; the policy asks only to tell you."
            ).format(file=visible(path.name), level=level)
        self._log("notified", text)
        self.notification.emit(translate("Controller", "Shared"), text, "info")

    def _on_kept_in_place(
        self, arrival: Arrival, decision: Decision, previous: Path | None
    ) -> None:
        """A file above its group's clearance that SendGuard did not move: the group already
        has it (an edit), or who put it there is not known. Say so at once."""
        level = decision.level.name if decision.level else translate("Controller", "unknown")
        if arrival.kind is Kind.EDIT:
            text = translate(
                "Controller",
                '{file} in "{group}" was changed and now carries {level}, above what the group'
                " is cleared for ({clearance}). It was not moved: the group already has it.",
            )
        else:
            text = translate(
                "Controller",
                '{file} in "{group}" carries {level}, above what the group is cleared for'
                " ({clearance}), and SendGuard cannot tell who put it there, so it was not"
                " moved.",
            )
        text = text.format(
            file=visible(arrival.path.name),
            group=visible(arrival.group),
            level=level,
            clearance=decision.clearance.name,
        )
        if previous is not None:
            text += " " + translate(
                "Controller", "The version the group had is kept in {path}."
            ).format(path=visible(str(previous)))
        self._log("kept", text)
        self.notification.emit(translate("Controller", "Check this file"), text, "warning")
        if previous is not None:
            self.put_back_offered.emit(arrival.path, previous, text)

    def put_back(self, path: Path, previous: Path) -> None:
        """Put the version the group had back (in the background); the outcome is notified."""
        engine = self.engine
        if engine is None:
            return

        def work() -> None:
            try:
                kept = engine.put_back(path, previous)
            except OSError as exc:
                self.notification.emit(
                    translate("Controller", "Not put back"),
                    translate("Controller", "{file} was left as it is: {error}").format(
                        file=visible(path.name), error=error_in_words(exc)
                    ),
                    "warning",
                )
                return
            self.notification.emit(
                translate("Controller", "Put back"),
                translate(
                    "Controller",
                    "The group's earlier version of {file} is back; your changed file is in"
                    " {folder}.",
                ).format(file=visible(path.name), folder=visible(str(kept.parent))),
                "info",
            )

        threading.Thread(target=work, name="sendguard-put-back", daemon=True).start()

    def _on_problem(self, message: str) -> None:
        self._log("problem", visible(message))
        self.notification.emit(translate("Controller", "SendGuard"), visible(message), "warning")

    def _remind(self) -> None:
        if self.held and not self.dialog_open():
            self.notification.emit(
                translate("Controller", "Files are waiting"),
                translate("Controller", "Files waiting for your decision: {count}.").format(
                    count=len(self.held)
                ),
                "info",
            )

    def _log(self, kind: str, text: str) -> None:
        self.activity.append(Activity(time.time(), kind, text))

    # --- diagnostics ---------------------------------------------------------------------

    def diagnostics(self, tray_available: bool) -> list[tuple[str, str]]:
        """(name, value) pairs for the Diagnostics window; plain text, copied as is."""
        import platform
        import sys

        from PySide6 import __version__ as pyside_version
        from PySide6.QtCore import qVersion

        policy = self.policy
        rows: list[tuple[str, str]] = [
            (translate("Controller", "SendGuard"), __version__),
            (translate("Controller", "Python"), sys.version.split()[0]),
            (translate("Controller", "Qt / PySide6"), f"{qVersion()} / {pyside_version}"),
            (translate("Controller", "System"), platform.platform()),
            (translate("Controller", "State"), self.status_line()),
            (translate("Controller", "Policy hash (SHA-256)"), policy.sha256 or "-"),
        ]
        roles = {
            "system": translate("Controller", "system"),
            "user": translate("Controller", "user"),
        }
        statuses = {
            "missing": translate("Controller", "missing"),
            "loaded": translate("Controller", "loaded"),
            "invalid": translate("Controller", "invalid"),
        }
        for source in policy.sources:
            rows.append(
                (
                    translate("Controller", "Policy source ({role})").format(
                        role=roles.get(source.role, source.role)
                    ),
                    f"{source.path} — {statuses.get(source.status, source.status)}"
                    + (f" — SHA-256 {source.sha256}" if source.sha256 else ""),
                )
            )
        if policy.error is not None:
            rows.append((translate("Controller", "Policy error"), str(policy.error)))
        if self.demo:
            rows.append((translate("Controller", "Demo groups"), str(self.demo_root)))
        watched = self.engine.watched if self.engine is not None else []
        rows.append((translate("Controller", "Watched folders"), str(len(watched))))
        for group in policy.groups:
            for folder in group.folders:
                try:
                    files = translate(
                        "Controller", "{folder} — files: {count}, cleared for {level}"
                    ).format(
                        folder=visible(str(folder)),
                        count=_count_files(folder),
                        level=group.clearance,
                    )
                except OSError as exc:
                    files = translate(
                        "Controller", "{folder} — files: {error}, cleared for {level}"
                    ).format(
                        folder=visible(str(folder)),
                        error=translate("Controller", "the folder does not exist")
                        if isinstance(exc, FileNotFoundError)
                        else error_in_words(exc),
                        level=group.clearance,
                    )
                rows.append(
                    (
                        translate("Controller", 'Group "{group}"').format(
                            group=visible(group.name)
                        ),
                        files,
                    )
                )
        rows.append((translate("Controller", "Held files"), str(len(self.held))))
        # Every path, as `sendguard doctor` prints them for the same options.
        paths = self.paths
        for name, path in (
            (translate("Controller", "Data folder"), paths.data_dir),
            (translate("Controller", "Journal"), paths.journal),
            (translate("Controller", "Hold area"), paths.hold),
            (translate("Controller", "Audit trail"), paths.audit),
            (translate("Controller", "Last good policy copies"), paths.last_good),
            (translate("Controller", 'The "Not shared" folder'), self.not_shared_root),
            (translate("Controller", "User settings file"), paths.settings),
            (translate("Controller", "System policy file"), paths.system_policy),
        ):
            rows.append((name, str(path)))
        trail = self.trail
        if trail is not None:
            status = trail.status
            rows.append(
                (
                    translate("Controller", "Audit"),
                    status.problem
                    or translate(
                        "Controller",
                        "Audit records are sealed with a key kept in the system keyring.",
                    ),
                )
            )
            backend = trail.keyring_backend
            if backend == "none":
                backend = translate("Controller", "none")
            rows.append((translate("Controller", "Keyring backend"), backend))
            for state in trail.forwarding:
                rows.append((translate("Controller", "Audit forwarding"), state.message))
        else:
            rows.append(
                (
                    translate("Controller", "Audit"),
                    self.audit_error or translate("Controller", "not open yet"),
                )
            )
            rows.append((translate("Controller", "Keyring backend"), _keyring_backend()))
        rows.append(
            (
                translate("Controller", "System tray"),
                translate("Controller", "available")
                if tray_available
                else translate("Controller", "not available"),
            )
        )
        # This session's events (pauses, problems, holds): not in the journal's history.
        for activity in list(self.activity)[-10:]:
            when = time.strftime("%H:%M:%S", time.localtime(activity.when))
            rows.append((translate("Controller", "Recent event"), f"{when} {activity.text}"))
        return rows


def _count_files(folder: Path) -> int:
    return sum(1 for entry in folder.iterdir() if entry.is_file())


def _keyring_backend() -> str:
    try:
        import keyring

        backend = keyring.get_keyring()
    except Exception as exc:  # a broken keyring setup is a diagnosis, not a crash
        return f"{type(exc).__name__}: {exc}"
    return f"{type(backend).__module__}.{type(backend).__name__}"
