"""One writer per data folder, and the control socket that takes decisions to it.

The journal and the audit trail of a data folder have one writer at a time. The process
that guards — the desktop app, or ``sendguard run --headless`` — holds the folder's
**writer lock** (an exclusive lock on ``engine.lock``) from start to stop, and serves the
**control socket** (``control/engine.sock``: a Unix socket, ``0600``, in a folder only its
user can open). Every decision taken outside the engine's own Decider — ``sendguard held
share/return``, a helpdesk script — goes through the socket to the engine, which carries it
out on its decision thread exactly as it does the dialog's answers (``Engine.decide``: the
same checks, journaled and audited with who decided, how and why). When no engine answers
(no socket, or a stale one nobody listens on), ``sendguard held`` takes the writer lock
itself and decides alone (``decide_alone``), so two writers never act at once.

The protocol: one JSON object per line (requests UTF-8, answers ASCII with JSON escapes),
each request answered by one line.

    → {"op": "ping"}
    ← {"ok": true, "protocol": 1, "pid": 4242, "engine": "sendguard run --headless"}
    → {"op": "decide", "id": 7, "share": true, "group_name": "Family", "reason": "agreed"}
    ← {"ok": true, "id": 7, "file": "plan.docx", "decision": "share", "target": "/…/plan.docx",
       "group": "Family", "decided_by": "ann", "decided_via": "command line"}
    ← {"ok": false, "kind": "refused", "error": "#7 plan.docx is not held: it was shared …"}

``kind`` is ``refused`` (nothing moved: not held, decided already, or not what the policy
asks), ``failed`` (the move failed; the file is safe in the hold area), ``retry`` (the
engine is starting or stopping), ``request`` (a malformed request) or ``forbidden`` (the
peer is not this user). Peers are checked with ``SO_PEERCRED`` (Linux) or
``LOCAL_PEERCRED`` (macOS): only the user the engine runs as is answered.

Windows has no Unix socket here; a named pipe (``\\\\.\\pipe\\SendGuard-<user>``, its
security descriptor allowing only the user) would take its place. Until then no control
socket is served there (``ControlServer.start`` raises ControlError), and ``sendguard
held`` refuses while the app runs, naming it. No Qt here: the app and ``run --headless``
both use this module.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import select
import socket
import stat
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from sendguard.engine.answers import (
    NOT_SHARED_REASON,
    AnswerRefused,
    NotNow,
    account_name,
    carry_out,
    check_answer,
)
from sendguard.engine.decider import COMMAND_LINE, Answer
from sendguard.engine.guard import EngineListener, error_in_words
from sendguard.engine.holdarea import ChangedWhileHeld, HoldArea
from sendguard.paths import AppPaths
from sendguard.policy import Policy
from sendguard.store.journal import HoldRecord, Journal, JournalError, State

PROTOCOL = 1
#: The longest request line taken (a reason of a few thousand words fits).
MAX_LINE = 64 * 1024
#: How long a connection may stay silent between requests.
IDLE_SECONDS = 30.0
#: How long `sendguard held` waits for the engine's answer (it queues behind files being
#: classified, as the dialog's answers do).
REPLY_SECONDS = 120.0
#: How long `sendguard held` keeps trying while an engine starts or stops.
SETTLE_SECONDS = 15.0
#: sun_path holds 108 bytes on Linux, 104 on macOS, with the final NUL.
_SUN_PATH = 104 if sys.platform == "darwin" else 108


class ControlError(Exception):
    """The control socket cannot be served or reached; the message says why."""


class DecisionFailed(Exception):
    """The decision was taken but the file could not be moved; it is safe (held, or the move
    is finished at the next start). The message says which file and why."""


class WriterBusy(Exception):
    """Another process holds the data folder's writer lock (and does not answer on the
    control socket)."""

    def __init__(self, lock: WriterLock) -> None:
        holder = lock.holder() or "another SendGuard process"
        super().__init__(
            f"{holder} is using the data folder {lock.path.parent}: only one SendGuard"
            " process at a time may guard it or decide its held files"
        )
        self.holder = holder


# --- the writer lock ---------------------------------------------------------------------


class WriterLock:
    """An exclusive lock on the data folder's ``engine.lock`` (``flock``; ``msvcrt.locking``
    on Windows), held by the one process that may write its journal and audit trail. The
    file says who holds it (``pid 4242: sendguard run --headless``); the lock goes with the
    process, so a crash never leaves it taken."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self, holder: str, *, wait: float = 0.0) -> bool:
        """Take the lock (trying for up to `wait` seconds); False when another has it.
        Raises ControlError when the lock file cannot be opened."""
        if self._fd is not None:
            return True
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise ControlError(f"cannot open the lock {self.path}: {error_in_words(exc)}") from exc
        deadline = time.monotonic() + wait
        while not _try_lock(fd):
            if time.monotonic() >= deadline:
                os.close(fd)
                return False
            time.sleep(0.05)
        self._fd = fd
        text = f"pid {os.getpid()}: {holder}\n".encode()
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, text)
        return True

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        _unlock(fd)
        os.close(fd)

    def holder(self) -> str | None:
        """Who holds the lock, as the holder wrote it (None: unknown)."""
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            return None
        return text or None

    def __enter__(self) -> WriterLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _try_lock(fd: int) -> bool:
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError as exc:
        if exc.errno in (errno.EAGAIN, errno.EACCES):
            return False
        raise
    return True


def _unlock(fd: int) -> None:
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        with contextlib.suppress(OSError):
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]
        return
    with contextlib.suppress(OSError):
        fcntl.flock(fd, fcntl.LOCK_UN)


# --- the socket's address ----------------------------------------------------------------


@contextlib.contextmanager
def socket_address(path: Path) -> Iterator[str]:
    """An address for `path` that fits in sun_path: the path itself, or on Linux, for a
    long one (deep test folders), the same file reached through an open descriptor of its
    folder (``/proc/self/fd/N/engine.sock``)."""
    if len(os.fsencode(path)) < _SUN_PATH:
        yield str(path)
        return
    if not sys.platform.startswith("linux"):
        raise ControlError(f"the control socket's path is too long for this system: {path}")
    try:
        folder = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise ControlError(f"cannot open {path.parent}: {error_in_words(exc)}") from exc
    try:
        yield f"/proc/self/fd/{folder}/{path.name}"
    finally:
        os.close(folder)


def _private_folder(folder: Path) -> None:
    """The socket's folder: this user's, and nobody else's to open (``0700``)."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = os.lstat(folder)
    except OSError as exc:
        raise ControlError(f"cannot make {folder}: {error_in_words(exc)}") from exc
    if not stat.S_ISDIR(info.st_mode):
        raise ControlError(f"{folder} is not a folder")
    if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
        raise ControlError(f"{folder} belongs to another user (uid {info.st_uid})")
    if info.st_mode & 0o077:
        try:
            os.chmod(folder, 0o700)
        except OSError as exc:
            raise ControlError(f"cannot make {folder} private: {error_in_words(exc)}") from exc


# --- who is asking ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Peer:
    pid: int | None
    uid: int


def peer_of(conn: socket.socket) -> Peer | None:
    """The connecting process's user (and pid) as the kernel reports it; None where the
    system cannot say (then the peer is refused)."""
    if hasattr(socket, "SO_PEERCRED"):  # Linux: struct ucred {pid, uid, gid}
        data = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("iII"))
        pid, uid, _gid = struct.unpack("iII", data)
        return Peer(pid, uid)
    if sys.platform == "darwin":  # struct xucred {cr_version, cr_uid, …} at SOL_LOCAL (0)
        local_peercred = getattr(socket, "LOCAL_PEERCRED", 0x001)
        data = conn.getsockopt(0, local_peercred, 76)
        _version, uid = struct.unpack_from("=II", data)
        pid: int | None = None
        with contextlib.suppress(OSError):
            (pid,) = struct.unpack("=i", conn.getsockopt(0, 0x002, 4))  # LOCAL_PEERPID
        return Peer(pid, uid)
    return None


# --- the server ----------------------------------------------------------------------------

#: Carries out one answer and gives the hold's record once decided (``Engine.decide``). May
#: raise AnswerRefused (refused at once) or NotNow (ask again).
Decide = Callable[[Answer], "Future[HoldRecord]"]


class ControlServer:
    """The control socket of a running engine: a thread accepting connections, one short
    thread per connection. Serve it only while holding the data folder's WriterLock (so a
    socket file found at start is stale and removed)."""

    def __init__(self, path: Path, decide: Decide, *, engine: str) -> None:
        self.path = path
        self._decide = decide
        self._engine = engine
        self._uid = os.geteuid() if hasattr(os, "geteuid") else None
        self._sock: socket.socket | None = None
        self._inode: int | None = None
        self._closing = threading.Event()
        self._lock = threading.Lock()
        self._threads: set[threading.Thread] = set()
        #: Connections waiting for a request (not in a decision): shut down at close.
        self._idle: set[socket.socket] = set()
        self._acceptor: threading.Thread | None = None

    def start(self) -> None:
        """Bind and listen; raises ControlError when the socket cannot be served."""
        if not hasattr(socket, "AF_UNIX"):
            raise ControlError(
                "no control socket on this system (on Windows a named pipe would take its"
                " place): decide held files in the app"
            )
        _private_folder(self.path.parent)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            with socket_address(self.path) as address:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(address)  # stale: we hold the writer lock, nobody serves it
                sock.bind(address)
                os.chmod(address, 0o600)
                self._inode = os.stat(address).st_ino
            sock.listen(16)
            sock.settimeout(0.2)
        except OSError as exc:
            sock.close()
            raise ControlError(
                f"cannot serve the control socket {self.path}: {error_in_words(exc)}"
            ) from exc
        self._sock = sock
        self._acceptor = threading.Thread(
            target=self._accept_loop, name="sendguard-control", daemon=True
        )
        self._acceptor.start()

    def close(self, wait: float = 10.0) -> None:
        """Stop taking requests; let those under way finish (for up to `wait` seconds); remove
        the socket file. Call before stopping the engine."""
        with self._lock:
            self._closing.set()
            for conn in self._idle:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
        if self._acceptor is not None:
            self._acceptor.join(timeout=5)
            self._acceptor = None
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()
            with contextlib.suppress(OSError, ControlError), socket_address(self.path) as address:
                if os.stat(address).st_ino == self._inode:
                    os.unlink(address)
        deadline = time.monotonic() + wait
        for thread in list(self._threads):
            thread.join(timeout=max(0.0, deadline - time.monotonic()))

    def _accept_loop(self) -> None:
        while not self._closing.is_set():
            sock = self._sock
            if sock is None:
                return
            try:
                conn, _ = sock.accept()
            except TimeoutError:
                continue
            except OSError:
                if self._closing.is_set():
                    return
                time.sleep(0.05)
                continue
            thread = threading.Thread(
                target=self._serve, args=(conn,), name="sendguard-control-peer", daemon=True
            )
            with self._lock:
                self._threads = {t for t in self._threads if t.is_alive()}
                self._threads.add(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(IDLE_SECONDS)
            try:
                peer = peer_of(conn)
            except OSError:
                peer = None
            if peer is None or (self._uid is not None and peer.uid != self._uid):
                who = "an unknown user" if peer is None else f"uid {peer.uid}"
                refusal = f"refused: {who} is not the user SendGuard runs as"
                _send(conn, _error("forbidden", refusal))
                return
            reader = conn.makefile("rb")
            try:
                while True:
                    with self._lock:
                        if self._closing.is_set():
                            return
                        self._idle.add(conn)
                    try:
                        line = reader.readline(MAX_LINE + 1)
                    except (TimeoutError, OSError):
                        return
                    finally:
                        with self._lock:
                            self._idle.discard(conn)
                    if not line:
                        return
                    if len(line) > MAX_LINE and not line.endswith(b"\n"):
                        _send(conn, _error("request", f"a request is at most {MAX_LINE} bytes"))
                        return
                    reply = self._answer(line, peer, conn)
                    if reply is None or not _send(conn, reply):
                        return
            finally:
                reader.close()

    def _answer(self, line: bytes, peer: Peer, conn: socket.socket) -> dict[str, Any] | None:
        try:
            request = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return _error("request", "not a JSON object on one line")
        if not isinstance(request, dict):
            return _error("request", "not a JSON object on one line")
        op = request.get("op")
        if op == "ping":
            return {"ok": True, "protocol": PROTOCOL, "pid": os.getpid(), "engine": self._engine}
        if op != "decide":
            return _error("request", f"unknown op {op!r}: ping or decide")
        answer = _answer_from(request, peer)
        if isinstance(answer, str):
            return _error("request", answer)
        try:
            with self._lock:
                if self._closing.is_set():
                    raise NotNow("SendGuard is stopping")
                future = self._decide(answer)
        except AnswerRefused as exc:
            return _error("refused", str(exc))
        except NotNow as exc:
            return _error("retry", str(exc))
        return self._outcome(answer, future, conn)

    def _outcome(
        self, answer: Answer, future: Future[HoldRecord], conn: socket.socket
    ) -> dict[str, Any] | None:
        while True:
            try:
                record = future.result(timeout=0.2)
                break
            except FutureTimeout:
                if _gone(conn) and future.cancel():
                    return None  # withdrawn before its turn: nothing was decided
                continue
            except AnswerRefused as exc:
                return _error("refused", str(exc))
            except NotNow as exc:
                return _error("retry", str(exc))
            except (OSError, JournalError, ChangedWhileHeld) as exc:
                return _error("failed", _move_failed_text(answer.hold_id, None, exc))
            except Exception as exc:
                return _error(
                    "failed", f"#{answer.hold_id} was not decided: {type(exc).__name__}: {exc}"
                )
        return _decided_reply(record)


def _answer_from(request: dict[str, Any], peer: Peer) -> Answer | str:
    """The Answer a decide request asks for, or what is wrong with it. Who decided is the
    peer's account, and how is "command line", whatever the request says."""
    hold_id, share = request.get("id"), request.get("share")
    if not isinstance(hold_id, int) or isinstance(hold_id, bool):
        return '"id" must be the held file\'s number'
    if not isinstance(share, bool):
        return '"share" must be true or false'
    texts = {}
    for key in ("group_name", "reason"):
        value = request.get(key)
        if value is not None and not isinstance(value, str):
            return f'"{key}" must be text'
        texts[key] = value
    return Answer(
        hold_id,
        share,
        typed_name=texts["group_name"] if share else None,
        justification=texts["reason"],
        decided_by=account_name(peer.uid),
        decided_via=COMMAND_LINE,
    )


def _decided_reply(record: HoldRecord) -> dict[str, Any]:
    return {
        "ok": True,
        "id": record.id,
        "file": record.origin.name,
        "group": record.group_name,
        "decision": record.decision,
        "target": str(record.target) if record.target is not None else None,
        "decided_by": record.decided_by,
        "decided_via": record.decided_via,
    }


def _error(kind: str, message: str) -> dict[str, Any]:
    return {"ok": False, "kind": kind, "error": message}


def _send(conn: socket.socket, reply: dict[str, Any]) -> bool:
    try:
        conn.sendall(_line(reply))
    except OSError:
        return False
    return True


def _line(message: dict[str, Any]) -> bytes:
    """One line of the protocol. ASCII escapes keep any name whole, even one that is not
    valid UTF-8 (held as surrogates, as os.fsdecode gives it)."""
    return json.dumps(message, ensure_ascii=True).encode("ascii") + b"\n"


def _gone(conn: socket.socket) -> bool:
    """Whether the peer closed its end (it went away while waiting)."""
    try:
        readable, _, _ = select.select([conn], [], [], 0)
        return bool(readable) and conn.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


def _move_failed_text(hold_id: int, name: str | None, exc: Exception) -> str:
    what = f"#{hold_id} {name}" if name else f"#{hold_id}"
    return (
        f"{what} could not be moved ({error_in_words(exc)}); it is safe in the hold area:"
        " it stays held (see `sendguard held list`), or the move is finished when SendGuard"
        " next starts"
    )


# --- the engine's side -----------------------------------------------------------------------


def paused_refusal(until: float | None) -> str:
    """The answer while the app is paused (its engine is stopped; the app still holds the
    data folder)."""
    when = f" until {time.strftime('%H:%M', time.localtime(until))}" if until else ""
    return (
        f"SendGuard is paused{when}: held files are decided when it guards again (resume it"
        " from its menu); the file stays held"
    )


# --- the command line's side -------------------------------------------------------------------


class NoEngine(Exception):
    """No engine answers on the control socket: there is none, or a stale socket."""


@dataclass(frozen=True)
class Decided:
    """A decision carried out, by the running engine or by this process."""

    hold_id: int
    file: str
    shared: bool
    target: Path | None
    decided_by: str | None
    decided_via: str | None


def request(
    path: Path, message: dict[str, Any], *, timeout: float = REPLY_SECONDS
) -> dict[str, Any]:
    """Send one request to the engine serving `path` and return its reply. Raises NoEngine
    when nobody answers there, ControlError when the engine cannot be asked or does not
    answer within `timeout` seconds."""
    if not hasattr(socket, "AF_UNIX") or not os.path.lexists(path):
        raise NoEngine(str(path))
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    with sock:
        sock.settimeout(5.0)
        try:
            with socket_address(path) as address:
                sock.connect(address)
        except (FileNotFoundError, ConnectionRefusedError) as exc:
            raise NoEngine(str(path)) from exc  # a stale socket: its engine is gone
        except OSError as exc:
            raise ControlError(f"cannot reach SendGuard on {path}: {error_in_words(exc)}") from exc
        sock.settimeout(timeout)
        reader: BinaryIO = sock.makefile("rb")
        try:
            sock.sendall(_line(message))
            line = reader.readline(MAX_LINE + 1)
        except TimeoutError as exc:
            raise ControlError(
                f"SendGuard did not answer within {timeout:g} s; the decision was withdrawn"
                " unless it had begun: `sendguard held list` shows whether the file is still held"
            ) from exc
        except OSError as exc:
            raise ControlError(f"SendGuard on {path}: {error_in_words(exc)}") from exc
        finally:
            reader.close()
    if not line:
        raise ControlError("SendGuard closed the connection without answering")
    try:
        reply = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ControlError("SendGuard's answer could not be read") from exc
    if not isinstance(reply, dict):
        raise ControlError("SendGuard's answer could not be read")
    return reply


def decide(
    paths: AppPaths,
    answer: Answer,
    alone: Callable[[], Decided],
    *,
    holder: str,
    settle: float = SETTLE_SECONDS,
) -> Decided:
    """Carry out `answer` the one way allowed now: through the engine that serves the control
    socket, or — when none does — by `alone()` in this process, under the writer lock (so no
    engine can start meanwhile). Raises AnswerRefused (nothing moved), DecisionFailed (the
    move failed; the file is safe), WriterBusy (a process holds the data folder but does
    not answer) or ControlError."""
    deadline = time.monotonic() + settle
    lock = WriterLock(paths.writer_lock)
    message = {
        "op": "decide",
        "id": answer.hold_id,
        "share": answer.share,
        "group_name": answer.typed_name,
        "reason": answer.justification,
    }
    while True:
        try:
            reply = request(paths.control_socket, message)
        except NoEngine:
            if lock.acquire(holder):
                with lock:
                    return alone()
            if time.monotonic() >= deadline:
                raise WriterBusy(lock) from None
            time.sleep(0.1)
            continue
        if reply.get("ok") is True:
            target = reply.get("target")
            return Decided(
                hold_id=int(reply.get("id", answer.hold_id)),
                file=str(reply.get("file", "")),
                shared=reply.get("decision") == "share",
                target=Path(target) if isinstance(target, str) else None,
                decided_by=reply.get("decided_by"),
                decided_via=reply.get("decided_via"),
            )
        kind, error = reply.get("kind"), str(reply.get("error", "no reason given"))
        if kind == "retry" and time.monotonic() < deadline:
            time.sleep(0.2)
            continue
        if kind == "refused":
            raise AnswerRefused(error)
        if kind == "failed":
            raise DecisionFailed(error)
        raise ControlError(error)


def decide_alone(
    paths: AppPaths, policy: Policy, answer: Answer, listener: EngineListener
) -> Decided:
    """No engine runs (the caller holds the writer lock): carry out `answer` here, with the
    checks the engine makes, journaled, and told to `listener` (the audit trail's) as the
    engine would."""
    try:
        journal = Journal(paths.journal)
    except JournalError as exc:
        raise DecisionFailed(str(exc)) from exc
    try:
        holds = HoldArea(journal, paths.hold, paths.not_shared)
        record, group = check_answer(journal.get(answer.hold_id), answer, policy)
        try:
            target = carry_out(holds, record, group, answer)
        except AnswerRefused as exc:
            listener.problem(str(exc))
            raise
        except (OSError, JournalError, ChangedWhileHeld) as exc:
            text = _move_failed_text(record.id, record.origin.name, exc)
            listener.problem(text)
            raise DecisionFailed(text) from exc
        fresh = journal.get(record.id) or record
        if answer.share:
            listener.released(fresh, target, True)
        else:
            listener.returned(fresh, target, NOT_SHARED_REASON)
        return Decided(
            hold_id=record.id,
            file=record.origin.name,
            shared=fresh.state is State.RELEASED,
            target=target,
            decided_by=fresh.decided_by,
            decided_via=fresh.decided_via,
        )
    finally:
        journal.close()
