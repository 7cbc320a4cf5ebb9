"""The trail's key epochs (sealed even when idle, and across restarts and crashes), the
``[audit]`` policy section, and the fan-out listener's isolation."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from keyring.backends import fail

from sendguard.audit import AuditStore, open_audit_trail, verify
from sendguard.audit.chain import KeyState
from sendguard.audit.keys import SERVICE
from sendguard.engine.guard import EngineListener
from sendguard.engine.listeners import FanOutListener
from sendguard.policy import PolicyError, load_policy, read_layer
from sendguard.policy.model import Source
from tests.audit.conftest import MemoryKeyring, make_policy

EXAMPLE = Path(__file__).resolve().parents[2] / "resources" / "policy.example.toml"


def _verify(data: Path, keyring: MemoryKeyring) -> list[str]:
    store = AuditStore(data / "audit.sqlite3", create=False)
    try:

        def first_key(generation: int) -> bytes | None:
            text = keyring.get_password(SERVICE, f"audit-verify-key:{store.trail}:{generation}")
            return bytes.fromhex(text) if text else None

        report = verify(store, first_key)
    finally:
        store.close()
    assert not report.missing_keys
    return [str(problem) for problem in report.problems]


def _seal_state(keyring: MemoryKeyring) -> KeyState:
    (text,) = [v for (_s, u), v in keyring.secrets.items() if u.startswith("audit-seal-key:")]
    state = KeyState.from_secret(text)
    assert state is not None
    return state


def test_idle_epochs_are_sealed_and_the_key_moves_on(tmp_path: Path) -> None:
    keyring = MemoryKeyring()
    policy = make_policy(tmp_path)
    with open_audit_trail(tmp_path / "data", policy, keyring=keyring, epoch_seconds=0.15) as trail:
        trail.record("app.started")
        time.sleep(0.7)  # idle
        seals = [
            r.fields["epoch"]
            for r in trail.store.records()
            if r.fields["event"] == "audit.epoch_sealed"
        ]
        assert len(seals) >= 3 and seals == sorted(seals)
        assert _seal_state(keyring).epoch == seals[-1] + 1
    assert _verify(tmp_path / "data", keyring) == []


def test_a_restart_after_a_long_stop_seals_the_old_epoch_first(tmp_path: Path) -> None:
    keyring = MemoryKeyring()
    policy = make_policy(tmp_path)
    data = tmp_path / "data"
    with open_audit_trail(data, policy, keyring=keyring, epoch_seconds=3600) as trail:
        trail.record("app.started")
    state = _seal_state(keyring)
    state.since -= 7200  # as if SendGuard had been off for two hours
    keyring.secrets[(SERVICE, f"audit-seal-key:{trail.trail_id}")] = state.to_secret()
    with open_audit_trail(data, policy, keyring=keyring, epoch_seconds=3600) as trail:
        time.sleep(0.1)
        trail.record("app.started")
    assert _seal_state(keyring).epoch == 1
    assert _verify(data, keyring) == []


def test_a_crash_between_sealing_and_storing_the_next_key_is_recovered(tmp_path: Path) -> None:
    keyring = MemoryKeyring()
    policy = make_policy(tmp_path)
    data = tmp_path / "data"
    with open_audit_trail(data, policy, keyring=keyring) as trail:
        trail.record("held", file="a.docx")
        before = keyring.secrets[(SERVICE, f"audit-seal-key:{trail.trail_id}")]
        trail.seal_epoch()
        trail.record("held", file="b.docx")
    # The seal record was committed but the keyring still has the epoch-0 key.
    keyring.secrets[(SERVICE, f"audit-seal-key:{trail.trail_id}")] = before
    with open_audit_trail(data, policy, keyring=keyring) as trail:
        trail.record("held", file="c.docx")
        assert trail.status.problem is None
    assert _seal_state(keyring).epoch == 1
    assert _verify(data, keyring) == []


def test_a_lost_key_starts_a_new_generation_and_says_so(tmp_path: Path) -> None:
    keyring = MemoryKeyring()
    policy = make_policy(tmp_path)
    data = tmp_path / "data"
    with open_audit_trail(data, policy, keyring=keyring) as trail:
        trail.record("held", file="a.docx")
        keyring.delete_password(SERVICE, f"audit-seal-key:{trail.trail_id}")
    with open_audit_trail(data, policy, keyring=keyring) as trail:
        assert trail.status.sealed
        assert "a new key was created" in (trail.status.problem or "")
        last = trail.store.last()
        assert last is not None and last.fields["event"] == "audit.key_created"
        assert last.generation == 1
    assert _verify(data, keyring) == []


def test_refuse_without_a_keyring_holds_everything(tmp_path: Path) -> None:
    policy = make_policy(tmp_path, '[audit]\nkeyring = "refuse"\n')
    with open_audit_trail(tmp_path / "data", policy, keyring=fail.Keyring()) as trail:
        assert trail.status.hold_everything
        assert trail.status.problem is not None
        assert trail.status.problem.startswith("Every file is held")
        guarded = trail.guard(policy)
        assert guarded.hold_everything and "audit.keyring" in str(guarded.error)


def test_audit_section_errors_say_where_and_how_to_fix(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(
        '[audit]\nkeyring = "degradd"\nsyslog = "tcp://siem:99999"\nspool_limit = 5\n',
        encoding="utf-8",
    )
    with pytest.raises(PolicyError) as caught:
        read_layer(path, Source("system", path))
    errors = [str(error) for error in caught.value.all()]
    assert errors[0].endswith(
        'line 2, audit.keyring: expected one of degraded, refuse; got "degradd".'
        ' Fix: did you mean "degraded"?'
    )
    assert "line 3, audit.syslog: expected a syslog collector as udp://" in errors[1]
    assert "line 4, audit.spool_limit: expected a whole number from 1000" in errors[2]


def test_users_may_make_the_keyring_rule_stricter_only(tmp_path: Path) -> None:
    system = tmp_path / "policy.toml"
    user = tmp_path / "settings.toml"
    system.write_text('[audit]\nkeyring = "refuse"\nsyslog = "tls://siem:6514"\n')
    user.write_text('[audit]\nkeyring = "degraded"\nsyslog = "udp://elsewhere:514"\n')
    policy = load_policy(system, user, system_required=True, home=tmp_path, discover=False)
    assert policy.audit.keyring == "refuse" and policy.audit.syslog == "tls://siem:6514"
    assert policy.is_locked("audit.syslog")
    assert sum("audit." in note for note in policy.notes) == 2
    system.write_text("[[groups]]\nname = 'A'\nfolders = ['~/A']\n")
    user.write_text('[audit]\nkeyring = "refuse"\n')
    stricter = load_policy(system, user, system_required=True, home=tmp_path, discover=False)
    assert stricter.audit.keyring == "refuse"


def test_the_example_policy_sets_every_audit_key() -> None:
    layer = read_layer(EXAMPLE, Source("system", EXAMPLE))
    keys = {key[1] for key in layer.values if key[0] == "audit"}
    assert keys == {
        "keyring",
        "syslog",
        "http",
        "http_format",
        "ca_file",
        "spool_limit",
        "heartbeat_seconds",
    }


def test_fan_out_isolates_a_failing_listener() -> None:
    heard: list[str] = []

    class Broken(EngineListener):
        def problem(self, message: str) -> None:
            raise ValueError("broken")

    class Good(EngineListener):
        def problem(self, message: str) -> None:
            heard.append(message)

    failures: list[tuple[str, str]] = []
    fan_out = FanOutListener(
        Broken(), Good(), on_error=lambda _listener, call, exc: failures.append((call, str(exc)))
    )
    fan_out.problem("disk full")
    assert heard == ["disk full"]
    assert failures == [("problem", "broken")]

    def failing_reporter(_listener: EngineListener, call: str, exc: Exception) -> None:
        raise RuntimeError("the reporter failed too")

    fan_out.on_error = failing_reporter
    fan_out.problem("again")  # even a failing reporter does not stop the others
    assert heard == ["disk full", "again"]
