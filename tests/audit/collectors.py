"""Real collectors on 127.0.0.1 for the forwarding tests: a private rsyslogd (UDP, TCP, TLS
with rsyslog's gtls driver) writing what it receives to a file, and an HTTP collector."""

from __future__ import annotations

import datetime
import ipaddress
import json
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

_SEQ = re.compile(r'\bseq="(\d+)"')


@dataclass
class Certificates:
    ca: Path
    cert: Path
    key: Path


def make_certificates(folder: Path) -> Certificates:
    """A throwaway CA and a server certificate for 127.0.0.1, valid for a day."""
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "SendGuard test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    out = Certificates(folder / "ca.pem", folder / "cert.pem", folder / "key.pem")
    out.ca.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    out.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    out.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return out


class PortReservation:
    """Holds a loopback port while its collector is down: bound but not listening, so a
    connection is refused (as with no collector), and no other program can take the port."""

    def __init__(self, port: int, kind: int = socket.SOCK_STREAM) -> None:
        self.port = port
        self.kind = kind
        self._sock: socket.socket | None = None
        self.hold()

    def hold(self) -> None:
        if self._sock is None:
            sock = socket.socket(socket.AF_INET, self.kind)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", self.port))
            self._sock = sock

    def release(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


@dataclass
class Rsyslog:
    """rsyslogd -n with one input (udp, tcp or tls) on 127.0.0.1:port, writing RFC 5424 lines
    to `output`. `start()` and `stop()` may be called repeatedly (the collector going away)."""

    folder: Path
    kind: str
    port: int
    certificates: Certificates | None = None
    process: subprocess.Popen[bytes] | None = None
    reservation: PortReservation | None = None

    def __post_init__(self) -> None:
        kind = socket.SOCK_DGRAM if self.kind == "udp" else socket.SOCK_STREAM
        self.reservation = PortReservation(self.port, kind)

    @property
    def output(self) -> Path:
        return self.folder / "received.log"

    def _config(self) -> str:
        work = self.folder / "work"
        work.mkdir(parents=True, exist_ok=True)
        lines = [f'global(workDirectory="{work}" maxMessageSize="256k")']
        if self.kind == "tls":
            assert self.certificates is not None
            c = self.certificates
            lines.append(
                f'global(defaultNetstreamDriver="gtls" defaultNetstreamDriverCAFile="{c.ca}"'
                f' defaultNetstreamDriverCertFile="{c.cert}"'
                f' defaultNetstreamDriverKeyFile="{c.key}")'
            )
            lines.append(
                'module(load="imtcp" streamDriver.name="gtls" streamDriver.mode="1"'
                ' streamDriver.authMode="anon")'
            )
            lines.append(f'input(type="imtcp" address="127.0.0.1" port="{self.port}")')
        elif self.kind == "tcp":
            lines.append('module(load="imtcp")')
            lines.append(f'input(type="imtcp" address="127.0.0.1" port="{self.port}")')
        else:
            lines.append('module(load="imudp")')
            lines.append(f'input(type="imudp" address="127.0.0.1" port="{self.port}")')
        lines.append(
            f'action(type="omfile" file="{self.output}" template="RSYSLOG_SyslogProtocol23Format")'
        )
        return "\n".join(lines) + "\n"

    def start(self) -> None:
        program = shutil.which("rsyslogd") or "/usr/sbin/rsyslogd"
        if not Path(program).exists():
            pytest.fail("rsyslogd is missing: apt-get install rsyslog rsyslog-gnutls")
        config = self.folder / "rsyslog.conf"
        self.folder.mkdir(parents=True, exist_ok=True)
        config.write_text(self._config(), encoding="utf-8")
        if self.reservation is not None:
            self.reservation.release()
        self.process = subprocess.Popen(
            [program, "-n", "-f", str(config), "-i", str(self.folder / "rsyslogd.pid")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        if self.kind != "udp":
            wait_for_port(self.port, self.process)
        else:
            self._wait_for_udp()

    def _wait_for_udp(self) -> None:
        """UDP has no connection to wait for: send probes until one is written out."""
        deadline = time.monotonic() + 10
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            while time.monotonic() < deadline:
                sock.sendto(b"<14>1 - - probe - - - ready", ("127.0.0.1", self.port))
                time.sleep(0.1)
                if any(" probe " in line for line in self.lines()):
                    return
        pytest.fail(f"rsyslogd does not receive on udp://127.0.0.1:{self.port}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None
        if self.reservation is not None:
            self.reservation.hold()

    def close(self) -> None:
        self.stop()
        if self.reservation is not None:
            self.reservation.release()

    def lines(self) -> list[str]:
        if not self.output.exists():
            return []
        return self.output.read_text(encoding="utf-8").splitlines()

    def seqs(self) -> set[int]:
        """The records received (heartbeats, which repeat the latest seq, left out)."""
        return {
            int(m.group(1))
            for line in self.lines()
            if " heartbeat [" not in line and (m := _SEQ.search(line))
        }


def wait_for_port(port: int, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            error = process.stderr.read().decode() if process.stderr else ""
            pytest.fail(f"rsyslogd exited: {error}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    pytest.fail(f"nothing listens on 127.0.0.1:{port}")


@dataclass
class HttpCollector:
    """An HTTP collector on 127.0.0.1 keeping every request's headers and JSON lines."""

    port: int
    status: int = 200
    requests: list[tuple[dict[str, str], list[dict[str, Any]]]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None
    thread: threading.Thread | None = None
    reservation: PortReservation | None = None

    def __post_init__(self) -> None:
        self.reservation = PortReservation(self.port)

    def start(self) -> None:
        collector = self
        if self.reservation is not None:
            self.reservation.release()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                text = self.rfile.read(length).decode("utf-8")
                documents = [json.loads(line) for line in text.splitlines() if line.strip()]
                collector.requests.append((dict(self.headers.items()), documents))
                self.send_response(collector.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                return None

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
        if self.reservation is not None:
            self.reservation.hold()

    def close(self) -> None:
        self.stop()
        if self.reservation is not None:
            self.reservation.release()

    def events(self) -> list[dict[str, Any]]:
        return [doc["event"] for _, docs in self.requests for doc in docs]

    def seqs(self) -> set[int]:
        out = set()
        for event in self.events():
            seq = event.get("sendguard", {}).get("audit", {}).get("seq")
            if event.get("event", {}).get("action") != "heartbeat" and seq is not None:
                out.add(seq)
        return out


def eventually(predicate: Callable[[], bool], timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()
