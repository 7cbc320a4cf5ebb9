"""Fixtures for the audit trail: an in-memory keyring, a policy, real SQLite in tmp_path."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sendguard.audit import AuditTrail, open_audit_trail
from sendguard.policy import Policy, load_policy
from tests.keyrings import MemoryKeyring

POLICY = """
[[groups]]
name = "Family"
folders = ["{root}/Dropbox/Family"]
clearance = "PUBLIC"

[discovery]
enabled = false
{audit}
"""


def make_policy(root: Path, audit: str = "") -> Policy:
    path = root / "policy.toml"
    path.write_text(POLICY.format(root=root, audit=audit), encoding="utf-8")
    policy = load_policy(path, root / "no-user.toml", system_required=True, home=root)
    assert policy.error is None, policy.error
    return policy


@pytest.fixture
def memory_keyring() -> MemoryKeyring:
    return MemoryKeyring()


@pytest.fixture
def policy(tmp_path: Path) -> Policy:
    return make_policy(tmp_path)


@pytest.fixture
def trail(tmp_path: Path, policy: Policy, memory_keyring: MemoryKeyring) -> Iterator[AuditTrail]:
    opened = open_audit_trail(tmp_path / "data", policy, keyring=memory_keyring)
    yield opened
    opened.close()


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def sendguard(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sendguard", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
