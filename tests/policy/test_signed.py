"""Signed system policy: a tampered, expired, rolled-back or wrongly signed policy holds
everything with a clear message; `sendguard policy keygen` and `sign` as IT runs them."""

from __future__ import annotations

import datetime as dt
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from sendguard.policy import Policy, load_policy
from sendguard.policy.signed import (
    KEY_FILE,
    SERIAL_FILE,
    generate_key_pair,
    load_private_key,
    sign_policy,
    signature_path,
    verify_policy,
)
from tests.policy import MINIMAL, write

LATER = dt.datetime.now(dt.UTC) + dt.timedelta(days=365)
OTHER_POLICY = MINIMAL.replace('"PUBLIC"', '"INTERNAL"')


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    """A key pair made the way IT makes one; returns the private key's path."""
    out = tmp_path / "it-keys"
    out.mkdir()
    private_pem, public_pem = generate_key_pair()
    (out / "policy-signing.key").write_bytes(private_pem)
    (out / KEY_FILE).write_bytes(public_pem)
    return out / "policy-signing.key"


def install(
    tmp_path: Path,
    private: Path,
    *,
    text: str = MINIMAL,
    serial: int = 1,
    expires: dt.datetime = LATER,
    key_installed: bool = True,
) -> Path:
    """A signed policy in tmp_path/etc, with the verification key beside it."""
    policy = write(tmp_path / "etc" / "policy.toml", text)
    signed = sign_policy(
        policy.read_bytes(), load_private_key(private), serial=serial, expires=expires
    )
    signature_path(policy).write_text(signed, encoding="utf-8")
    if key_installed:
        (policy.parent / KEY_FILE).write_bytes((private.parent / KEY_FILE).read_bytes())
    return policy


def load(tmp_path: Path, policy: Path) -> Policy:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return load_policy(
        policy, tmp_path / "no-settings.toml", home=home, discover=False, data_dir=tmp_path / "data"
    )


def test_a_signed_policy_is_used_and_its_serial_remembered(tmp_path: Path, keys: Path) -> None:
    policy = install(tmp_path, keys, serial=7)
    loaded = load(tmp_path, policy)
    assert loaded.error is None
    family = loaded.group("Family")
    assert family is not None and family.clearance.name == "PUBLIC"
    assert loaded.is_locked("groups.Family.clearance")
    assert '"serial": 7' in (tmp_path / "data" / SERIAL_FILE).read_text()


def test_a_changed_policy_holds_everything(tmp_path: Path, keys: Path) -> None:
    policy = install(tmp_path, keys)
    policy.write_text(MINIMAL.replace('"PUBLIC"', '"TOP SECRET"'), encoding="utf-8")
    loaded = load(tmp_path, policy)
    assert loaded.hold_everything
    assert "changed since it was signed" in str(loaded.error)
    assert loaded.sources[0].status == "invalid"
    # Its folders are still watched, so everything there is held (fail closed).
    assert loaded.group("Family") is not None


def test_a_policy_signed_with_another_key_is_refused(tmp_path: Path, keys: Path) -> None:
    policy = install(tmp_path, keys)
    _, stranger = generate_key_pair()
    (policy.parent / KEY_FILE).write_bytes(stranger)
    loaded = load(tmp_path, policy)
    assert loaded.hold_everything
    assert "does not verify" in str(loaded.error)
    assert "SHA256:" in str(loaded.error)  # names the key it expected


def test_a_second_installed_key_verifies_during_a_key_change(tmp_path: Path, keys: Path) -> None:
    policy = install(tmp_path, keys)
    _, old_key = generate_key_pair()
    key_file = policy.parent / KEY_FILE
    key_file.write_bytes(old_key + key_file.read_bytes())
    assert load(tmp_path, policy).error is None


def test_an_expired_policy_is_refused(tmp_path: Path, keys: Path) -> None:
    policy = install(tmp_path, keys, expires=dt.datetime(2021, 3, 1, tzinfo=dt.UTC))
    loaded = load(tmp_path, policy)
    assert loaded.hold_everything
    assert "expired on 2021-03-01" in str(loaded.error)
    assert "later --expires" in str(loaded.error)


def test_an_older_serial_is_refused_after_a_newer_one(tmp_path: Path, keys: Path) -> None:
    newer = install(tmp_path, keys, serial=5)
    assert load(tmp_path, newer).error is None
    older = install(tmp_path, keys, text=OTHER_POLICY, serial=4)
    loaded = load(tmp_path, older)
    assert loaded.hold_everything
    assert "serial 5 or higher" in str(loaded.error)
    assert "got serial 4" in str(loaded.error)
    # The newer policy is still accepted afterwards.
    again = install(tmp_path, keys, serial=5)
    assert load(tmp_path, again).error is None


def test_the_same_serial_for_another_policy_is_refused(tmp_path: Path, keys: Path) -> None:
    assert load(tmp_path, install(tmp_path, keys, serial=5)).error is None
    loaded = load(tmp_path, install(tmp_path, keys, text=OTHER_POLICY, serial=5))
    assert loaded.hold_everything
    assert "a new serial for a changed policy" in str(loaded.error)


def test_a_missing_signature_is_refused_once_a_key_is_installed(tmp_path: Path, keys: Path) -> None:
    policy = install(tmp_path, keys)
    signature_path(policy).unlink()
    loaded = load(tmp_path, policy)
    assert loaded.hold_everything
    assert "no signature file policy.toml.sig" in str(loaded.error)


@pytest.mark.parametrize(
    ("signature_text", "expected"),
    [
        ("not = [toml", "not TOML"),
        ('format = "something-else"\n', "format"),
        (
            'format = "sendguard-policy-signature-1"\nserial = 0\nexpires = 2030-01-01\n',
            "serial",
        ),
    ],
)
def test_a_malformed_signature_file_is_refused(
    tmp_path: Path, keys: Path, signature_text: str, expected: str
) -> None:
    policy = install(tmp_path, keys)
    signature_path(policy).write_text(signature_text, encoding="utf-8")
    loaded = load(tmp_path, policy)
    assert loaded.hold_everything
    assert expected in str(loaded.error)
    assert "sendguard policy sign" in str(loaded.error)


def test_without_an_installed_key_signatures_are_not_required(tmp_path: Path, keys: Path) -> None:
    policy = install(tmp_path, keys, key_installed=False)
    policy.write_text(OTHER_POLICY, encoding="utf-8")  # would not verify, but nobody asks
    assert load(tmp_path, policy).error is None
    state = verify_policy(
        policy, policy.read_bytes(), key_path=policy.parent / KEY_FILE, state_dir=None
    )
    assert state.status == "not required"


def test_an_unusable_key_file_is_refused(tmp_path: Path, keys: Path) -> None:
    policy = install(tmp_path, keys)
    (policy.parent / KEY_FILE).write_text("not a key\n", encoding="utf-8")
    loaded = load(tmp_path, policy)
    assert loaded.hold_everything
    assert "Ed25519 public keys in PEM form" in str(loaded.error)


# --- the commands ---------------------------------------------------------------------------


def sendguard(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sendguard", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"HOME": str(cwd), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
    )


def test_keygen_sign_and_check_as_it_runs_them(tmp_path: Path) -> None:
    made = sendguard("policy", "keygen", "--out", "keys", cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    private = tmp_path / "keys" / "policy-signing.key"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert "Fingerprint: SHA256:" in made.stdout
    again = sendguard("policy", "keygen", "--out", "keys", cwd=tmp_path)
    assert again.returncode == 2 and "exists already" in again.stderr

    etc = tmp_path / "etc"
    write(etc / "policy.toml", MINIMAL)
    (etc / KEY_FILE).write_bytes((tmp_path / "keys" / KEY_FILE).read_bytes())
    unsigned = sendguard("policy", "check", "etc/policy.toml", cwd=tmp_path)
    assert unsigned.returncode == 1 and "no signature file" in unsigned.stderr

    signed = sendguard(
        "policy", "sign", "--key", str(private), "--serial", "3", "--expires", "2999-01-01",
        "etc/policy.toml", cwd=tmp_path,
    )  # fmt: skip
    assert signed.returncode == 0, signed.stderr
    assert "serial 3, expires 2999-01-01 00:00 UTC" in signed.stdout
    checked = sendguard("policy", "check", "etc/policy.toml", cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert "Policy: valid" in checked.stdout


def test_sign_refuses_an_invalid_policy_and_a_past_expiry(tmp_path: Path) -> None:
    assert sendguard("policy", "keygen", "--out", "keys", cwd=tmp_path).returncode == 0
    bad = write(tmp_path / "policy.toml", MINIMAL.replace('"PUBLIC"', '"PUBLK"'))
    refused = sendguard(
        "policy", "sign", "--key", "keys/policy-signing.key", "--serial", "1",
        "--expires", "2999-01-01", str(bad), cwd=tmp_path,
    )  # fmt: skip
    assert refused.returncode == 1
    assert "Not signed: fix the policy first" in refused.stderr
    assert not signature_path(bad).exists()

    bad.write_text(MINIMAL, encoding="utf-8")
    past = sendguard(
        "policy", "sign", "--key", "keys/policy-signing.key", "--serial", "1",
        "--expires", "2001-01-01", str(bad), cwd=tmp_path,
    )  # fmt: skip
    assert past.returncode == 2 and "in the past" in past.stderr
    wrong_key = sendguard(
        "policy", "sign", "--key", str(bad), "--serial", "1", "--expires", "2999-01-01",
        str(bad), cwd=tmp_path,
    )  # fmt: skip
    assert wrong_key.returncode == 2 and "not an unencrypted PEM private key" in wrong_key.stderr
