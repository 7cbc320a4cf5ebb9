"""Shipping the trail to the organisation's collector: syslog (RFC 5424 over UDP, TCP or TLS
with RFC 5425 octet counting) and HTTP JSON (Splunk HEC, or NDJSON for Elastic).

The trail itself is the spool: a background thread sends what each collector has not yet
acknowledged, and moves that collector's cursor only after a successful send. Decisions
never wait for the network. A collector that is away gets everything when it is back (at
least once: a record may arrive twice, never not at all), up to the spool limit: beyond it
the oldest are skipped for that collector (they stay in the local trail) and a
``forwarding.skipped`` record says which. Heartbeats carry the latest ``(seq, chain)``, so a
silent workstation, and a trail cut short, are visible centrally.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import select
import socket
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sendguard.audit.chain import AuditStore, AuditStoreError
from sendguard.audit.records import StoredRecord, ecs, iso_time, syslog_message

_SYSLOG_TARGET = re.compile(r"^(udp|tcp|tls)://(\[[0-9A-Fa-f:.]+\]|[^\s:/\[\]]+):([0-9]{1,5})$")
#: Records per send: large enough to drain a backlog quickly, small enough for UDP peers.
BATCH = 200
#: Warn when the backlog for a collector reaches this share of the spool limit.
NEAR_FULL = 0.8


class ForwardError(Exception):
    """A collector could not be reached or refused the records; ``str()`` says which."""


@dataclass(frozen=True)
class Target:
    """Where records go: ``tls://siem.example.org:6514`` or ``https://…/services/collector``."""

    kind: Literal["udp", "tcp", "tls", "http", "https"]
    host: str
    port: int
    url: str

    def __str__(self) -> str:
        return self.url


def parse_syslog_target(text: str) -> Target | None:
    match = _SYSLOG_TARGET.match(text.strip())
    if match is None:
        return None
    port = int(match.group(3))
    if not 0 < port < 65536:
        return None
    kind: Literal["udp", "tcp", "tls"] = match.group(1)  # type: ignore[assignment]
    return Target(kind, match.group(2).strip("[]"), port, text.strip())


def parse_http_target(text: str) -> Target | None:
    parts = urllib.parse.urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None
    kind: Literal["http", "https"] = parts.scheme  # type: ignore[assignment]
    return Target(kind, parts.hostname, port, text.strip())


def _tls_context(ca_file: Path | None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def _in_words(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"its TLS certificate was not accepted ({exc.verify_message})"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (the collector is not running or not listening there)"
    if isinstance(exc, socket.timeout | TimeoutError):
        return "no answer in time"
    if isinstance(exc, socket.gaierror):
        return f"the host name cannot be resolved ({exc.strerror})"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


class Sender:
    """Sends formatted records to one collector; raises ForwardError."""

    target: Target

    def send(self, records: Sequence[StoredRecord], heartbeat: dict[str, Any] | None) -> None:
        raise NotImplementedError

    def close(self) -> None:
        return None


class SyslogSender(Sender):
    def __init__(self, target: Target, ca_file: Path | None = None, timeout: float = 5.0) -> None:
        self.target = target
        self.ca_file = ca_file
        self.timeout = timeout
        self.hostname = socket.gethostname()
        self._sock: socket.socket | None = None

    def _messages(
        self, records: Sequence[StoredRecord], heartbeat: dict[str, Any] | None
    ) -> list[bytes]:
        pid = os.getpid()
        out = [syslog_message(r, ecs(r), pid=pid, hostname=self.hostname) for r in records]
        if heartbeat is not None:
            out.append(syslog_message(None, heartbeat, pid=pid, hostname=self.hostname))
        return out

    def send(self, records: Sequence[StoredRecord], heartbeat: dict[str, Any] | None) -> None:
        messages = self._messages(records, heartbeat)
        try:
            if self.target.kind == "udp":
                sock = self._udp()
                for message in messages:
                    sock.sendto(message, (self.target.host, self.target.port))
                return
            sock = self._stream()
            # RFC 5425 / RFC 6587 octet counting: names may hold anything, framing holds.
            sock.sendall(b"".join(b"%d %s" % (len(m), m) for m in messages))
        except (OSError, ssl.SSLError) as exc:
            self.close()
            raise ForwardError(f"cannot send to {self.target}: {_in_words(exc)}") from exc

    def _udp(self) -> socket.socket:
        if self._sock is None:
            family = socket.AF_INET6 if ":" in self.target.host else socket.AF_INET
            self._sock = socket.socket(family, socket.SOCK_DGRAM)
        return self._sock

    def _stream(self) -> socket.socket:
        if self._sock is not None and self._peer_closed(self._sock):
            self.close()
        if self._sock is None:
            sock = socket.create_connection((self.target.host, self.target.port), self.timeout)
            if self.target.kind == "tls":
                try:
                    sock = _tls_context(self.ca_file).wrap_socket(
                        sock, server_hostname=self.target.host
                    )
                except BaseException:
                    sock.close()
                    raise
            self._sock = sock
        return self._sock

    def _peer_closed(self, sock: socket.socket) -> bool:
        """A syslog receiver never writes to us: anything readable means it closed (or is
        closing) the connection. Without this check, the first batch after a collector
        restart would go into a dead connection and be lost."""
        try:
            readable, _, _ = select.select([sock], [], [], 0)
        except (OSError, ValueError):
            return True
        if not readable:
            return False
        if isinstance(sock, ssl.SSLSocket):
            return True
        try:
            return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
        except BlockingIOError:
            return False
        except OSError:
            return True

    def close(self) -> None:
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
            self._sock = None


class HttpSender(Sender):
    """POSTs a batch; delivered when the collector answers 2xx.

    ``hec``: Splunk HTTP Event Collector events (``Authorization: Splunk <token>``);
    ``ndjson``: one ECS document per line (``Authorization: Bearer <token>``), for an
    Elastic HTTP endpoint input or Logstash."""

    def __init__(
        self,
        target: Target,
        *,
        token: Callable[[], str | None],
        fmt: Literal["hec", "ndjson"] = "hec",
        ca_file: Path | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.target = target
        self.token = token
        self.fmt = fmt
        self.ca_file = ca_file
        self.timeout = timeout
        self.hostname = socket.gethostname()

    def body(self, records: Sequence[StoredRecord], heartbeat: dict[str, Any] | None) -> bytes:
        documents = [ecs(r) for r in records]
        if heartbeat is not None:
            documents.append(heartbeat)
        lines = []
        for document in documents:
            if self.fmt == "hec":
                envelope = {
                    "time": _unix_time(document),
                    "host": self.hostname,
                    "source": "sendguard",
                    "sourcetype": "sendguard:audit",
                    "event": document,
                }
                lines.append(json.dumps(envelope, ensure_ascii=False))
            else:
                lines.append(json.dumps(document, ensure_ascii=False))
        return ("\n".join(lines) + "\n").encode("utf-8")

    def send(self, records: Sequence[StoredRecord], heartbeat: dict[str, Any] | None) -> None:
        parts = urllib.parse.urlsplit(self.target.url)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = {
            "Content-Type": "application/json" if self.fmt == "hec" else "application/x-ndjson",
            "User-Agent": "SendGuard",
        }
        token = self.token()
        if token:
            scheme = "Splunk" if self.fmt == "hec" else "Bearer"
            headers["Authorization"] = f"{scheme} {token}"
        connection: http.client.HTTPConnection
        if self.target.kind == "https":
            connection = http.client.HTTPSConnection(
                self.target.host,
                self.target.port,
                timeout=self.timeout,
                context=_tls_context(self.ca_file),
            )
        else:
            connection = http.client.HTTPConnection(
                self.target.host, self.target.port, timeout=self.timeout
            )
        try:
            connection.request("POST", path, body=self.body(records, heartbeat), headers=headers)
            response = connection.getresponse()
            response.read()
        except (OSError, http.client.HTTPException) as exc:
            raise ForwardError(f"cannot send to {self.target}: {_in_words(exc)}") from exc
        finally:
            connection.close()
        if not 200 <= response.status < 300:
            hint = " (check the token in the keyring)" if response.status in (401, 403) else ""
            raise ForwardError(
                f"{self.target} refused the records: HTTP {response.status} {response.reason}{hint}"
            )


def _unix_time(document: dict[str, Any]) -> float:
    stamp = str(document.get("@timestamp", ""))
    try:
        return time.mktime(time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
    except ValueError:
        return time.time()


@dataclass(frozen=True)
class ForwardingState:
    """One collector, as the Diagnostics window shows it."""

    target: str
    #: Records in the trail this collector has not acknowledged yet.
    backlog: int
    spool_limit: int
    delivered_seq: int
    last_delivery: float | None
    last_error: str | None
    #: True when the backlog is near the spool limit, or records were skipped.
    warning: bool
    #: One sentence: ``Delivering to tls://siem:6514: up to date.``
    message: str


class _Cursor:
    def __init__(self, sender: Sender) -> None:
        self.sender = sender
        self.last_delivery: float | None = None
        self.last_error: str | None = None
        self.retry_at = 0.0
        self.failures = 0
        self.skipped = False
        self.next_heartbeat = 0.0


class Forwarder:
    """The delivery thread for every configured collector."""

    def __init__(
        self,
        store_path: Path,
        senders: Sequence[Sender],
        *,
        spool_limit: int,
        heartbeat_seconds: float,
        heartbeat: Callable[[StoredRecord | None], dict[str, Any]],
        on_skipped: Callable[[str, int, int], None],
        on_change: Callable[[], None] = lambda: None,
        retry_seconds: tuple[float, float] = (1.0, 60.0),
    ) -> None:
        # Its own connection: reading and moving cursors never waits on the hot path's lock.
        self.store = AuditStore(store_path)
        self._cursors = [_Cursor(sender) for sender in senders]
        self.spool_limit = spool_limit
        self.heartbeat_seconds = heartbeat_seconds
        self._heartbeat = heartbeat
        self._on_skipped = on_skipped
        self._on_change = on_change
        self._retry = retry_seconds
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._drain_until = 0.0
        self._thread = threading.Thread(target=self._loop, name="sendguard-audit-forward")
        self._thread.daemon = True

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, drain_seconds: float = 2.0) -> None:
        """Stop after one last attempt to deliver what is waiting (bounded in time)."""
        self._drain_until = time.monotonic() + drain_seconds
        self._stopping.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=drain_seconds + 15)
        for cursor in self._cursors:
            cursor.sender.close()
        self.store.close()

    def states(self) -> list[ForwardingState]:
        last = self._last_seq()
        out = []
        for cursor in self._cursors:
            target = str(cursor.sender.target)
            delivered = self._delivered(cursor)
            backlog = max(0, last - delivered)
            near = backlog >= NEAR_FULL * self.spool_limit
            if cursor.last_error and backlog:
                since = (
                    f" since {time.strftime('%H:%M', time.localtime(cursor.last_delivery))}"
                    if cursor.last_delivery
                    else ""
                )
                message = (
                    f"Cannot deliver to {target}{since}: {cursor.last_error}."
                    f" {backlog} record(s) wait in the spool"
                )
            elif backlog:
                message = f"Delivering to {target}: {backlog} record(s) to send"
            else:
                message = f"Delivering to {target}: up to date"
            if near:
                message += (
                    f" — the spool is {100 * backlog // self.spool_limit}% full; beyond"
                    f" {self.spool_limit} records the oldest are not forwarded"
                )
            if cursor.skipped:
                message += " — some records were skipped because the spool was full"
            out.append(
                ForwardingState(
                    target=target,
                    backlog=backlog,
                    spool_limit=self.spool_limit,
                    delivered_seq=delivered,
                    last_delivery=cursor.last_delivery,
                    last_error=cursor.last_error,
                    warning=near or cursor.skipped,
                    message=message + ".",
                )
            )
        return out

    def _delivered(self, cursor: _Cursor) -> int:
        try:
            value = self.store.delivered(str(cursor.sender.target))
        except AuditStoreError:
            return 0
        return 0 if value is None else value

    def _loop(self) -> None:
        while True:
            stopping = self._stopping.is_set()
            now = time.monotonic()
            for cursor in self._cursors:
                if stopping and now > self._drain_until:
                    break
                if cursor.retry_at > now and not stopping:
                    continue
                if stopping and cursor.last_error is not None:
                    continue  # away: do not make quitting wait for a connection timeout
                try:
                    self._deliver(cursor, now)
                except Exception as exc:  # never let the thread die: retry later
                    self._failed(cursor, str(exc), now)
            if stopping:
                return
            waits = [c.retry_at - now for c in self._cursors if c.retry_at > now]
            waits += [c.next_heartbeat - now for c in self._cursors]
            self._wake.wait(max(0.01, min([*waits, 1.0])))
            self._wake.clear()

    def _deliver(self, cursor: _Cursor, now: float) -> None:
        target = str(cursor.sender.target)
        delivered = self._delivered(cursor)
        spool_checked = False
        sent_any = False
        while True:
            records = self.store.after(delivered, BATCH)
            if not records:
                break
            self.store.make_durable()
            if not spool_checked:
                # Once per attempt, just before its first send: records written while this
                # attempt began (the collector away) count, and the skipped-record notice
                # this adds does not start another skip.
                spool_checked = True
                last = self._last_seq()
                if last - delivered > self.spool_limit:
                    skip_to = last - self.spool_limit
                    self.store.set_delivered(target, skip_to)
                    cursor.skipped = True
                    self._on_skipped(target, delivered + 1, skip_to)
                    delivered = skip_to
                    continue
            try:
                cursor.sender.send(records, None)
            except ForwardError as exc:
                self._failed(cursor, str(exc).split(": ", 1)[-1], now)
                return
            delivered = records[-1].seq
            self.store.set_delivered(target, delivered)
            sent_any = True
            if self._stopping.is_set() and time.monotonic() > self._drain_until:
                break
        if now >= cursor.next_heartbeat:
            try:
                cursor.sender.send([], self._heartbeat(self.store.last()))
            except ForwardError as exc:
                self._failed(cursor, str(exc).split(": ", 1)[-1], now)
                return
            cursor.next_heartbeat = now + self.heartbeat_seconds
            sent_any = True
        if sent_any or cursor.last_error is not None:
            changed = cursor.last_error is not None
            cursor.last_delivery = time.time()
            cursor.last_error = None
            cursor.failures = 0
            cursor.retry_at = 0.0
            if changed:
                self._on_change()

    def _last_seq(self) -> int:
        last = self.store.last()
        return last.seq if last is not None else 0

    def _failed(self, cursor: _Cursor, error: str, now: float) -> None:
        first = cursor.last_error is None
        cursor.last_error = error
        cursor.failures += 1
        low, high = self._retry
        cursor.retry_at = now + min(high, low * 2 ** min(cursor.failures - 1, 16))
        if first:
            self._on_change()


def heartbeat_document(
    last: StoredRecord | None,
    *,
    trail: str,
    user: str,
    host: str,
    version: str,
    sealed: bool,
) -> dict[str, Any]:
    """A heartbeat: the workstation is alive, and here is the end of its trail (an anchor)."""
    audit: dict[str, Any] = {"trail": trail}
    if last is not None:
        audit.update(
            {
                "seq": last.seq,
                "generation": last.generation,
                "epoch": last.epoch,
                "chain": last.chain,
                "mac": last.mac,
            }
        )
    return {
        "@timestamp": iso_time(time.time()),
        "message": "SendGuard is running",
        "event": {"action": "heartbeat", "kind": "state", "dataset": "sendguard.audit"},
        "user": {"name": user},
        "host": {"hostname": host},
        "service": {"name": "sendguard", "version": version},
        "sendguard": {
            "audit": {k: v for k, v in audit.items() if v is not None},
            "sealed": sealed,
        },
    }
