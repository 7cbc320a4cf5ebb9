"""The audit trail as the app and ``sendguard run`` use it.

    trail = open_audit_trail(data_dir, policy)       # never raises for a missing keyring
    trail.record("app.started")
    engine = Engine(trail.guard(policy), config, decider, FanOutListener(ui, trail.listener()))
    trail.listener().lookup = engine.journal.get     # optional: fresher hold records
    ...
    trail.status.problem          # None, or the sentence the tray shows as a warning
    trail.keyring_backend         # "Secret Service", for the Diagnostics window
    trail.forwarding              # one ForwardingState per collector
    trail.close()

Every call is safe from any thread. Recording never raises and never waits for the network
or the keyring: a record that cannot be written is reported through ``status``.
"""

from __future__ import annotations

import contextlib
import getpass
import secrets
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from keyring.backend import KeyringBackend

from sendguard import __version__
from sendguard.audit.chain import AuditStore, AuditStoreError, KeyState
from sendguard.audit.forward import (
    Forwarder,
    ForwardingState,
    HttpSender,
    Sender,
    SyslogSender,
    heartbeat_document,
    parse_http_target,
    parse_syslog_target,
)
from sendguard.audit.keys import (
    HTTP_TOKEN,
    KeyringProblem,
    SecretKeeper,
    backend_id,
    choose_backend,
    seal_key_name,
    verify_key_name,
)
from sendguard.audit.records import StoredRecord, canonical
from sendguard.engine.arrivals import Arrival
from sendguard.engine.arrivals.model import kept_in_place_text
from sendguard.engine.guard import EngineListener
from sendguard.policy import Action, Policy
from sendguard.policy.decide import Decision
from sendguard.policy.errors import PolicyError
from sendguard.store.journal import HoldRecord

AUDIT_FILE = "audit.sqlite3"
#: How long an epoch's key seals records before it is replaced by the next one.
EPOCH_SECONDS = 3600.0


def _broken_policy_fields(policy: Policy) -> dict[str, Any]:
    """A broken policy: what guards meanwhile, and where every new file is held."""
    return {
        "hold_everything": policy.hold_everything,
        "last_good": [
            {"role": k.role, "path": str(k.path), "sha256": k.sha256, "kept": k.kept}
            for k in policy.last_good
        ],
        "held_folders": [str(f) for g in policy.groups if policy.holds_all(g) for f in g.folders],
    }


@dataclass(frozen=True)
class AuditStatus:
    """Whether records are sealed, and if not, why, in words for the user."""

    sealed: bool
    #: The policy says ``refuse`` and there is no usable keyring: hold every file.
    hold_everything: bool
    #: None when all is well; otherwise the sentence the tray shows as a warning.
    problem: str | None
    #: ``unavailable``, ``locked`` or ``failed`` when the keyring is the problem.
    keyring_problem: str | None = None

    @property
    def message(self) -> str:
        if self.problem is not None:
            return self.problem
        return "Audit records are sealed with a key kept in the system keyring."


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in the environment (services, containers)
        return "unknown"


class AuditTrail:
    def __init__(
        self,
        store: AuditStore,
        policy: Policy,
        *,
        keyring: KeyringBackend | None,
        epoch_seconds: float,
        on_change: Callable[[], None] | None,
        retry_seconds: tuple[float, float],
        heartbeat_seconds: float | None,
    ) -> None:
        self.store = store
        self.policy = policy
        self.epoch_seconds = epoch_seconds
        self._on_change = on_change or (lambda: None)
        self._lock = threading.RLock()
        self._user = _user()
        self._host = socket.gethostname()
        self._policy_sha256 = policy.sha256
        self._key: KeyState | None = None
        self._keeper: SecretKeeper | None = None
        self._keyring_problem: KeyringProblem | None = None
        self._key_warning: str | None = None
        self._write_error: str | None = None
        self._stopping = threading.Event()
        self._listener: AuditListener | None = None
        self._forwarder: Forwarder | None = None
        self._open_key(keyring)
        self._note_unsealed()
        self._sealer: threading.Thread = threading.Thread(
            target=self._seal_loop, name="sendguard-audit-seal", daemon=True
        )
        self._sealer.start()
        self._forwarder = self._make_forwarder(retry_seconds, heartbeat_seconds)
        if self._forwarder is not None:
            self._forwarder.start()

    # --- the key -----------------------------------------------------------------------

    def _open_key(self, backend: KeyringBackend | None) -> None:
        remembered = self.store.get_meta("keyring_backend")
        try:
            chosen = backend if backend is not None else choose_backend(remembered)
            if backend is not None and remembered is not None and backend_id(chosen) != remembered:
                raise KeyringProblem(
                    "unavailable",
                    f"The audit key is in another keyring ({remembered}); SendGuard does not"
                    " switch keyrings.",
                )
            keeper = SecretKeeper(chosen)
            self._keeper = keeper
            self._key = self._load_or_create_key(keeper)
            if remembered is None:
                self.store.set_meta("keyring_backend", keeper.ident)
        except KeyringProblem as problem:
            self._keyring_problem = problem
            self._key = None
        except AuditStoreError as exc:
            self._write_error = str(exc)

    def _note_unsealed(self) -> None:
        if self._key is None and self._keyring_problem is not None:
            self.record("audit.unsealed", reason=str(self._keyring_problem))

    def _load_or_create_key(self, keeper: SecretKeeper) -> KeyState:
        trail = self.store.trail
        stored = keeper.get(seal_key_name(trail))
        state = KeyState.from_secret(stored) if stored is not None else None
        in_use = self.store.get_meta("generation")
        if state is not None and in_use is not None and state.generation == int(in_use):
            sealed = self.store.last_seal(state.generation)
            if sealed is not None and sealed > state.epoch:
                # The trail has epochs the key never reached: the trail is not this key's.
                self._key_warning = "the audit key in the keyring is older than the trail"
            while sealed is not None and sealed >= state.epoch:
                # Sealed, then stopped before the next key was stored: move on now.
                state.advance(time.time())
                keeper.set(seal_key_name(trail), state.to_secret())
            return state
        generation = 0 if in_use is None else int(in_use) + 1
        first = secrets.token_bytes(32)
        keeper.set(verify_key_name(trail, generation), first.hex())
        state = KeyState(generation, 0, bytearray(first), time.time())
        keeper.set(seal_key_name(trail), state.to_secret())
        self.store.set_meta("generation", str(generation))
        self._key = state
        reason = None
        if in_use is not None:
            reason = (
                "the previous audit key was not found in the keyring"
                if stored is None
                else "the audit key in the keyring belongs to another key generation"
            )
            self._key_warning = f"{reason}; a new key was created"
        self.record("audit.key_created", generation=generation, reason=reason)
        return state

    def _seal_loop(self) -> None:
        """Seals epochs when they are due, and once a second makes the records written
        since durable (a WAL checkpoint on a connection of its own, off the hot path)."""
        try:
            durable: AuditStore | None = AuditStore(self.store.path)
        except AuditStoreError:
            durable = None
        try:
            while True:
                with self._lock:
                    key = self._key
                    due = key.since + self.epoch_seconds - time.time() if key else 1.0
                stopping = self._stopping.wait(max(0.01, min(due, 1.0)))
                if durable is not None:
                    with contextlib.suppress(AuditStoreError):
                        durable.make_durable()
                if stopping:
                    return
                if key is not None and due <= 0:
                    self.seal_epoch()
        finally:
            if durable is not None:
                durable.close()

    def seal_epoch(self) -> None:
        """End the current epoch: a record sealed with its key, then the next key replaces it
        in the keyring and in memory. Runs by itself every ``epoch_seconds``, idle or not."""
        with self._lock:
            key = self._key
            if key is None:
                return
            if self.record("audit.epoch_sealed", epoch=key.epoch) is None:
                return  # not written: keep the key, try again later
            key.advance(time.time())
            secret = key.to_secret()
        try:
            if self._keeper is not None:
                self._keeper.set(seal_key_name(self.store.trail), secret)
            self._key_warning = None
        except KeyringProblem as problem:
            self._key_warning = (
                f"the next audit key could not be stored, so the old one is still in the"
                f" keyring: {problem}"
            )
            self._on_change()

    # --- recording ---------------------------------------------------------------------

    def record(self, event: str, **fields: Any) -> StoredRecord | None:
        """Append one record (``record("paused", reason="…")``). Never raises: a failure
        shows in ``status``. Returns the record, or None when it could not be written."""
        body: dict[str, Any] = {
            "time": time.time(),
            "event": event,
            "user": self._user,
            "host": self._host,
            "version": __version__,
            "policy_sha256": self._policy_sha256,
        }
        body.update(fields)
        try:
            text = canonical(body)
        except (TypeError, ValueError) as exc:
            text = canonical(
                {k: body[k] for k in ("time", "event", "user", "host", "version")}
                | {"message": f"the record's fields could not be written: {exc}"}
            )
        try:
            with self._lock:
                stored = self.store.append(text, self._key)
        except AuditStoreError as exc:
            first = self._write_error is None
            self._write_error = str(exc)
            if first:
                self._on_change()
            return None
        if self._write_error is not None:
            self._write_error = None
            self._on_change()
        if self._forwarder is not None:
            self._forwarder.wake()
        return stored

    def policy_loaded(self, policy: Policy) -> None:
        """Record a (re)loaded policy: its hash and each file's path and hash."""
        self.policy = policy
        self._policy_sha256 = policy.sha256
        self.record(
            "policy.loaded",
            policy_sources=[
                {"role": s.role, "path": str(s.path), "status": s.status, "sha256": s.sha256}
                for s in policy.sources
            ],
            reason=str(policy.error) if policy.error is not None else None,
            **(_broken_policy_fields(policy) if policy.error is not None else {}),
        )

    def listener(self) -> AuditListener:
        """The EngineListener that records every engine event (one per trail)."""
        if self._listener is None:
            self._listener = AuditListener(self)
        return self._listener

    def guard(self, policy: Policy) -> Policy:
        """`policy`, or, when the policy says ``refuse`` and records cannot be sealed, the
        same policy in hold-everything with the keyring problem as its reason."""
        status = self.status
        if not status.hold_everything or policy.hold_everything:
            return policy
        setting = policy.source_of("audit.keyring")
        path = setting.path if setting is not None and setting.path is not None else None
        error = PolicyError(
            path or Path("<built-in>"),
            line=None,
            key="audit.keyring",
            expected='a keyring to seal the audit records (the policy says "refuse")',
            got=status.problem,
            hint="unlock or start the system keyring, then restart SendGuard",
        )
        if policy.error is not None:
            error.others.extend(policy.error.all())
        return replace(policy, error=error, last_good=())

    # --- what the UI shows -------------------------------------------------------------

    @property
    def status(self) -> AuditStatus:
        refuse = self.policy.audit.keyring == "refuse"
        if self._write_error is not None:
            return AuditStatus(
                self._key is not None,
                False,
                f"Audit records cannot be written: {self._write_error}",
            )
        if self._key is None:
            problem = self._keyring_problem
            text = str(problem) if problem is not None else "no key"
            if refuse:
                sentence = f"Every file is held: audit records cannot be sealed. {text}"
            else:
                sentence = f"Audit records are not sealed (not tamper-evident). {text}"
            return AuditStatus(False, refuse, sentence, problem.kind if problem else None)
        if self._key_warning is not None:
            return AuditStatus(True, False, f"Audit records are sealed, but {self._key_warning}.")
        return AuditStatus(True, False, None)

    @property
    def keyring_backend(self) -> str:
        """The keyring in use (``Secret Service``), or why there is none."""
        if self._keeper is not None and self._key is not None:
            return self._keeper.name
        if self._keyring_problem is not None:
            return f"none ({self._keyring_problem.kind})"
        return "none"

    @property
    def forwarding(self) -> list[ForwardingState]:
        """One state per configured collector; empty when forwarding is not configured."""
        return self._forwarder.states() if self._forwarder is not None else []

    @property
    def trail_id(self) -> str:
        return self.store.trail

    # --- forwarding --------------------------------------------------------------------

    def _make_forwarder(
        self, retry: tuple[float, float], heartbeat_seconds: float | None
    ) -> Forwarder | None:
        settings = self.policy.audit
        senders: list[Sender] = []
        if settings.syslog and (target := parse_syslog_target(settings.syslog)) is not None:
            senders.append(SyslogSender(target, settings.ca_file))
        if settings.http and (target := parse_http_target(settings.http)) is not None:
            senders.append(
                HttpSender(
                    target,
                    token=self._http_token,
                    fmt=settings.http_format,
                    ca_file=settings.ca_file,
                )
            )
        if not senders:
            return None
        return Forwarder(
            self.store.path,
            senders,
            spool_limit=settings.spool_limit,
            heartbeat_seconds=heartbeat_seconds or settings.heartbeat_seconds,
            heartbeat=self._heartbeat,
            on_skipped=self._skipped,
            on_change=self._on_change,
            retry_seconds=retry,
        )

    def _http_token(self) -> str | None:
        if self._keeper is None:
            return None
        try:
            return self._keeper.get(HTTP_TOKEN)
        except KeyringProblem:
            return None

    def _heartbeat(self, last: StoredRecord | None) -> dict[str, Any]:
        return heartbeat_document(
            last,
            trail=self.store.trail,
            user=self._user,
            host=self._host,
            version=__version__,
            sealed=self._key is not None,
        )

    def _skipped(self, target: str, first: int, last: int) -> None:
        self.record(
            "forwarding.skipped",
            target=target,
            first_seq=first,
            last_seq=last,
            reason=f"the collector was away for more than {self.policy.audit.spool_limit} records",
        )
        self._on_change()

    def close(self) -> None:
        """Stop sealing and forwarding (after a short last attempt to deliver)."""
        self._stopping.set()
        if self._sealer.is_alive():
            self._sealer.join(timeout=5)
        if self._forwarder is not None:
            self._forwarder.stop()
        with self._lock:
            if self._key is not None:
                self._key.key[:] = b"\0" * len(self._key.key)
            self.store.close()

    def __enter__(self) -> AuditTrail:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_audit_trail(
    data_dir: Path,
    policy: Policy,
    *,
    keyring: KeyringBackend | None = None,
    epoch_seconds: float = EPOCH_SECONDS,
    on_change: Callable[[], None] | None = None,
    retry_seconds: tuple[float, float] = (1.0, 60.0),
    heartbeat_seconds: float | None = None,
) -> AuditTrail:
    """The trail in ``<data_dir>/audit.sqlite3``, sealing with a key in `keyring` (default:
    the best allowlisted OS keyring, and after the first run always the same one).

    Without a usable keyring it still opens: records are unsealed and ``status`` says why
    (``policy.audit.keyring`` decides whether files are then held: see ``guard``).
    `on_change` is called (from a background thread) when ``status`` or ``forwarding``
    changes. Raises AuditStoreError only when the database itself cannot be opened.
    """
    store = AuditStore(data_dir / AUDIT_FILE, checkpoints=False)
    return AuditTrail(
        store,
        policy,
        keyring=keyring,
        epoch_seconds=epoch_seconds,
        on_change=on_change,
        retry_seconds=retry_seconds,
        heartbeat_seconds=heartbeat_seconds,
    )


# --- the engine's events -----------------------------------------------------------------


def _labels_from_decision(decision: Decision) -> list[dict[str, Any]]:
    return [
        {
            "label": label.finding.describe(),
            "where": list(label.finding.where),
            "level": label.level.name,
            "rule": label.rule,
        }
        for label in decision.labels
    ]


def _labels_from_record(record: HoldRecord) -> list[dict[str, Any]] | None:
    if not record.findings:
        return None
    keep = ("scheme", "guid", "name", "value", "marking", "system", "where")
    return [{k: f[k] for k in keep if k in f} for f in record.findings]


def _file_fields(record: HoldRecord) -> dict[str, Any]:
    return {
        "hold_id": record.id,
        "file": record.origin.name,
        "path": str(record.origin),
        "group": record.group_name,
        "sha256": record.sha256,
        "size": record.size,
    }


class AuditListener(EngineListener):
    """Records every engine event. Called from engine threads; never raises.

    `lookup` (``engine.journal.get``) re-reads a hold before recording a release, so the
    typed name and justification journaled just before it are in the record."""

    def __init__(self, trail: AuditTrail) -> None:
        self.trail = trail
        self.lookup: Callable[[int], HoldRecord | None] | None = None

    def _fresh(self, record: HoldRecord) -> HoldRecord:
        if self.lookup is None:
            return record
        try:
            return self.lookup(record.id) or record
        except Exception:  # the journal is closing: the record we have will do
            return record

    def held(self, record: HoldRecord, decision: Decision) -> None:
        event = "blocked" if decision.action is Action.BLOCK else "held"
        self.trail.record(
            event,
            **_file_fields(self._fresh(record)),
            level=decision.level.name if decision.level else None,
            action=decision.action.value if decision.action else None,
            clearance=decision.clearance.name,
            labels=_labels_from_decision(decision) or None,
            # Forwarded content: the forwarding is the reason (its level may be None).
            reason=decision.hold_reason or (decision.headline if decision.forwarded else None),
            came_from=decision.forwarded.source if decision.forwarded else None,
            policy_sha256=decision.policy_sha256 or self.trail.policy.sha256,
        )

    def released(self, record: HoldRecord, target: Path, confirmed: bool) -> None:
        fresh = self._fresh(record)
        self.trail.record(
            "shared" if confirmed else "passed",
            **_file_fields(fresh),
            target=str(target),
            level=fresh.level,
            action=fresh.action,
            labels=_labels_from_record(fresh),
            decision=fresh.decision,
            typed_name=fresh.typed_name,
            justification=fresh.justification,
            decided_by=fresh.decided_by if confirmed else None,
            decided_via=fresh.decided_via if confirmed else None,
            came_from=fresh.came_from,
        )

    def returned(self, record: HoldRecord, target: Path, reason: str) -> None:
        fresh = self._fresh(record)
        self.trail.record(
            "returned",
            **_file_fields(fresh),
            target=str(target),
            level=fresh.level,
            action=fresh.action,
            labels=_labels_from_record(fresh),
            decision=fresh.decision,
            reason=reason,
            justification=fresh.justification,
            decided_by=fresh.decided_by,
            decided_via=fresh.decided_via,
            came_from=fresh.came_from,
        )

    def notified(self, path: Path, decision: Decision) -> None:
        self.trail.record(
            "notified",
            file=path.name,
            path=str(path),
            group=decision.group or None,
            level=decision.level.name if decision.level else None,
            action=decision.action.value if decision.action else None,
            labels=_labels_from_decision(decision) or None,
            reason=decision.headline if decision.forwarded else None,
            came_from=decision.forwarded.source if decision.forwarded else None,
        )

    def problem(self, message: str) -> None:
        self.trail.record("problem", message=message)

    def kept_in_place(self, arrival: Arrival, decision: Decision, previous: Path | None) -> None:
        level = decision.level.name if decision.level else "unknown"
        self.trail.record(
            "kept_in_place",
            file=arrival.path.name,
            path=str(arrival.path),
            group=arrival.group,
            arrival=arrival.kind.value,
            evidence=arrival.why,
            level=level,
            clearance=decision.clearance.name,
            action=decision.action.value if decision.action else None,
            labels=_labels_from_decision(decision) or None,
            previous_version=str(previous) if previous is not None else None,
            message=kept_in_place_text(arrival, level, decision.clearance.name, previous),
        )

    def put_back(self, path: Path, previous: Path, kept: Path) -> None:
        self.trail.record(
            "put_back",
            file=path.name,
            path=str(path),
            previous_version=str(previous),
            target=str(kept),
        )


def first_keys_from_keyring(
    trail: str, backend: KeyringBackend | None, remembered: str | None
) -> tuple[Callable[[int], bytes | None], str | None]:
    """For verifying: each generation's first key from the keyring, and a note when the
    keyring cannot be used (then only escrowed keys can check the seals)."""
    try:
        keeper = SecretKeeper(backend if backend is not None else choose_backend(remembered))
    except KeyringProblem as problem:
        return (lambda generation: None), str(problem)

    def first_key(generation: int) -> bytes | None:
        with contextlib.suppress(KeyringProblem, ValueError):
            text = keeper.get(verify_key_name(trail, generation))
            return bytes.fromhex(text) if text else None
        return None

    return first_key, None


def read_escrow(path: Path, trail: str) -> dict[int, bytes]:
    """Escrowed first keys: lines of ``audit-verify-key:<trail>:<generation> <hex>``."""
    keys: dict[int, bytes] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) != 2:
            continue
        name, value = parts
        prefix = f"audit-verify-key:{trail}:"
        if name.startswith(prefix) and name[len(prefix) :].isdigit():
            with contextlib.suppress(ValueError):
                keys[int(name[len(prefix) :])] = bytes.fromhex(value)
    return keys
