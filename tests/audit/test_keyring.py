"""The audit key in a real Secret Service: gnome-keyring-daemon on a private D-Bus session
bus started by the fixture (unlocked with a known password), then locked; no keyring at all;
and a remembered keyring that is never silently switched."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import secretstorage
from keyring.backends import SecretService, fail

from sendguard.audit import open_audit_trail, verify
from sendguard.audit.chain import AuditStore, KeyState
from sendguard.audit.keys import SERVICE, SecretKeeper, choose_backend
from sendguard.audit.trail import first_keys_from_keyring
from tests.audit.conftest import MemoryKeyring, make_policy


def _need(program: str) -> str:
    path = shutil.which(program)
    if path is None:
        pytest.fail(f"{program} is missing: apt-get install gnome-keyring dbus dbus-x11")
    return path


@pytest.fixture
def secret_service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A session bus and an unlocked GNOME Keyring of our own, in a temporary home."""
    home = tmp_path / "keyring-home"
    runtime = home / "run"
    runtime.mkdir(parents=True)
    runtime.chmod(0o700)
    env = dict(os.environ)
    env.update(
        HOME=str(home),
        XDG_DATA_HOME=str(home / "data"),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_RUNTIME_DIR=str(runtime),
    )
    bus = subprocess.Popen(
        [_need("dbus-daemon"), "--session", "--nofork", "--print-address=1"],
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    daemon: subprocess.Popen[bytes] | None = None
    try:
        assert bus.stdout is not None
        address = bus.stdout.readline().strip()
        assert address.startswith("unix:"), address
        env["DBUS_SESSION_BUS_ADDRESS"] = address
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
        daemon = subprocess.Popen(
            [
                _need("gnome-keyring-daemon"),
                "--foreground",
                "--unlock",
                "--components=secrets",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        assert daemon.stdin is not None
        daemon.stdin.write(b"known password")
        daemon.stdin.close()
        deadline = time.monotonic() + 15
        while True:
            try:
                if SecretService.Keyring.priority > 0:
                    break
            except RuntimeError:
                pass
            assert time.monotonic() < deadline, "gnome-keyring-daemon did not come up"
            time.sleep(0.05)
        yield
    finally:
        for process in (daemon, bus):
            if process is not None:
                process.terminate()
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def _lock_default_collection() -> None:
    connection = secretstorage.dbus_init()
    try:
        collection = secretstorage.get_default_collection(connection)
        collection.lock()
        assert collection.is_locked()
    finally:
        connection.close()


def test_the_key_lives_in_the_secret_service_and_evolves(
    secret_service: None, tmp_path: Path
) -> None:
    policy = make_policy(tmp_path)
    data = tmp_path / "data"
    with open_audit_trail(data, policy) as trail:  # the OS keyring, chosen by allowlist
        assert trail.status.sealed and trail.status.problem is None
        assert trail.keyring_backend == "Secret Service"
        trail.record("held", file="budget.xlsx")
        trail_id = trail.trail_id
        backend = SecretService.Keyring()
        first = backend.get_password(SERVICE, f"audit-verify-key:{trail_id}:0")
        before = KeyState.from_secret(backend.get_password(SERVICE, f"audit-seal-key:{trail_id}"))
        assert first is not None and before is not None
        assert before.key.hex() == first and before.epoch == 0
        trail.seal_epoch()
        after = KeyState.from_secret(backend.get_password(SERVICE, f"audit-seal-key:{trail_id}"))
        assert after is not None and after.epoch == 1
        assert after.key.hex() != first  # the epoch-0 sealing key is gone from the keyring
        trail.record("shared", file="budget.xlsx", justification="board pack")
    # Not on disk in clear: neither key appears in the trail's files.
    for path in data.iterdir():
        assert first.encode() not in path.read_bytes()
        assert bytes.fromhex(first) not in path.read_bytes()
    with open_audit_trail(data, policy) as again:  # the same key, no new generation
        assert again.status.sealed
        assert again.store.get_meta("generation") == "0"
    store = AuditStore(data / "audit.sqlite3", create=False)
    try:
        first_key, note = first_keys_from_keyring(
            store.trail, None, store.get_meta("keyring_backend")
        )
        assert note is None
        report = verify(store, first_key)
    finally:
        store.close()
    assert report.intact and not report.missing_keys and report.sealed == report.records


def test_a_locked_keyring_is_named_and_the_policy_decides(
    secret_service: None, tmp_path: Path
) -> None:
    _lock_default_collection()
    degraded = make_policy(tmp_path)
    with open_audit_trail(tmp_path / "one", degraded) as trail:
        status = trail.status
        assert not status.sealed and not status.hold_everything
        assert status.keyring_problem == "locked"
        assert "The keyring (Secret Service) is locked" in (status.problem or "")
        assert trail.guard(degraded) is degraded  # keeps guarding, records unsealed
        record = trail.record("held", file="x.docx")
        assert record is not None and record.mac is None
    refuse = make_policy(tmp_path, '[audit]\nkeyring = "refuse"\n')
    with open_audit_trail(tmp_path / "two", refuse) as trail:
        assert trail.status.hold_everything
        guarded = trail.guard(refuse)
        assert guarded.hold_everything
        assert "locked" in str(guarded.error)


def test_threads_share_the_keyring_safely(secret_service: None) -> None:
    keeper = SecretKeeper(choose_backend(None))
    errors: list[BaseException] = []

    def work(index: int) -> None:
        try:
            for round_ in range(3):
                keeper.set(f"thread-{index}", f"secret-{round_}")
                assert keeper.get(f"thread-{index}") == f"secret-{round_}"
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors


def test_no_keyring_backend_at_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """keyring's own "fail" backend, and no session bus (as on a server or in CI)."""
    policy = make_policy(tmp_path)
    with open_audit_trail(tmp_path / "a", policy, keyring=fail.Keyring()) as trail:
        assert trail.status.keyring_problem == "unavailable"
        assert "No system keyring is available" in (trail.status.problem or "")
        assert trail.keyring_backend == "none (unavailable)"
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path}/no-bus")
    with open_audit_trail(tmp_path / "b", policy) as trail:
        assert not trail.status.sealed
        assert trail.status.keyring_problem == "unavailable"
        first = trail.store.get(1)
        assert first is not None and first.fields["event"] == "audit.unsealed"


def test_the_remembered_keyring_is_never_silently_switched(tmp_path: Path) -> None:
    policy = make_policy(tmp_path)
    with open_audit_trail(tmp_path / "data", policy, keyring=MemoryKeyring()) as trail:
        assert trail.status.sealed

    class OtherKeyring(MemoryKeyring):
        pass

    with open_audit_trail(tmp_path / "data", policy, keyring=OtherKeyring()) as trail:
        assert not trail.status.sealed
        assert "does not switch keyrings" in (trail.status.problem or "")
    with pytest.raises(Exception, match="does not switch to another keyring"):
        choose_backend("tests.audit.conftest.MemoryKeyring")
