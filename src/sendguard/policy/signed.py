"""Signed system policy: an Ed25519 signature with a serial number and an expiry.

For a policy distributed outside OS management (a file copied by a script, a software
distribution tool, a share), IT signs it and installs the public key beside it:

    /etc/sendguard/policy.toml
    /etc/sendguard/policy.toml.sig          written by ``sendguard policy sign``
    /etc/sendguard/policy-signing.pub       set at install time; its presence makes the
                                            signature required

The signature file is TOML::

    format = "sendguard-policy-signature-1"
    serial = 42
    expires = 2027-01-31T00:00:00Z
    policy_sha256 = "…"        # of the policy file's bytes
    signature = "…"            # base64 Ed25519 over the signed statement below

The signed statement binds the policy's hash to its serial and expiry, so none of the three
can be changed alone. A policy is refused — and SendGuard holds everything — when it was
changed after signing (tampered), its signature does not verify with an installed key, it
has expired, or its serial is lower than the highest this user's SendGuard has accepted
(rolled back; the highest is remembered in the data folder).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime as dt
import hashlib
import json
import os
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from sendguard.policy.errors import PolicyError

SIGNATURE_FORMAT = "sendguard-policy-signature-1"
SIGNATURE_SUFFIX = ".sig"
#: The verification key(s), beside the system policy: one or more PEM public keys.
KEY_FILE = "policy-signing.pub"
#: In the data folder: the highest serial accepted, so an older policy cannot come back.
SERIAL_FILE = "policy-serial.json"

SignatureStatus = Literal["not required", "verified", "refused"]


@dataclass(frozen=True)
class SignatureState:
    """What the signature check found, as ``doctor`` and ``policy check`` show it."""

    status: SignatureStatus
    #: One line: "verified: serial 42, expires 2027-01-31 (key SHA256:…)".
    detail: str
    serial: int | None = None
    expires: dt.datetime | None = None


@dataclass(frozen=True)
class Signature:
    serial: int
    expires: dt.datetime
    policy_sha256: str
    signature: bytes


def signature_path(policy_path: Path) -> Path:
    return policy_path.with_name(policy_path.name + SIGNATURE_SUFFIX)


def key_path_for(policy_path: Path) -> Path:
    """Where the verification key for the policy at `policy_path` is installed."""
    return policy_path.with_name(KEY_FILE)


def statement(serial: int, expires: dt.datetime, policy_sha256: str) -> bytes:
    """The bytes that are signed: format, serial, expiry and the policy's hash."""
    when = _utc(expires).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{SIGNATURE_FORMAT}\nserial={serial}\nexpires={when}\nsha256={policy_sha256}\n".encode()


# --- keys --------------------------------------------------------------------------------------


def generate_key_pair() -> tuple[bytes, bytes]:
    """A new signing key: (private key PEM, public key PEM)."""
    private = Ed25519PrivateKey.generate()
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private_pem, public_pem


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """The Ed25519 private key in the PEM file at `path`; ValueError says what is wrong."""
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the key: {exc.strerror or exc}") from None
    except (ValueError, TypeError) as exc:
        raise ValueError(
            f"{path}: not an unencrypted PEM private key ({exc});"
            " make one with: sendguard policy keygen"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path}: not an Ed25519 key; make one with: sendguard policy keygen")
    return key


def load_public_keys(path: Path) -> list[Ed25519PublicKey]:
    """Every Ed25519 public key in the PEM file at `path` (several during a key change).

    Raises FileNotFoundError when there is none, PolicyError when it cannot be used.
    """
    data = path.read_bytes()
    keys: list[Ed25519PublicKey] = []
    marker = b"-----END PUBLIC KEY-----"
    blocks = [part + marker for part in data.split(marker) if part.strip()]
    for block in blocks:
        try:
            key = serialization.load_pem_public_key(block.strip() + b"\n")
        except ValueError:
            keys = []
            break
        if not isinstance(key, Ed25519PublicKey):
            keys = []
            break
        keys.append(key)
    if not keys:
        raise PolicyError(
            path,
            line=None,
            key=None,
            expected="one or more Ed25519 public keys in PEM form",
            got="something else",
            hint="install the policy-signing.pub written by: sendguard policy keygen",
        )
    return keys


def fingerprint(key: Ed25519PublicKey) -> str:
    """``SHA256:…`` of the raw key: how a key is named in messages."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    digest = base64.b64encode(hashlib.sha256(raw).digest()).decode().rstrip("=")
    return f"SHA256:{digest}"


# --- signing -----------------------------------------------------------------------------------


def sign_policy(
    policy_bytes: bytes, key: Ed25519PrivateKey, *, serial: int, expires: dt.datetime
) -> str:
    """The text of the signature file for a policy with these bytes."""
    if serial < 1:
        raise ValueError("the serial must be a whole number of 1 or more")
    digest = hashlib.sha256(policy_bytes).hexdigest()
    signature = key.sign(statement(serial, expires, digest))
    when = _utc(expires).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        "# SendGuard policy signature: made by `sendguard policy sign`; do not edit.\n"
        f'format = "{SIGNATURE_FORMAT}"\n'
        f"serial = {serial}\n"
        f"expires = {when}\n"
        f'policy_sha256 = "{digest}"\n'
        f'signature = "{base64.b64encode(signature).decode()}"\n'
    )


def parse_signature(text: str, path: Path) -> Signature:
    """The signature file's contents; PolicyError when it is not one."""

    def bad(got: str, key: str | None = None) -> PolicyError:
        return PolicyError(
            path,
            line=None,
            key=key,
            expected=f"a signature file made by `sendguard policy sign` ({SIGNATURE_FORMAT})",
            got=got,
            hint="sign the policy again with: sendguard policy sign --key KEY --serial N"
            " --expires DATE policy.toml",
        )

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise bad(f"not TOML ({exc})") from None
    if data.get("format") != SIGNATURE_FORMAT:
        raise bad(json.dumps(data.get("format")), "format")
    serial, expires, digest, encoded = (
        data.get(k) for k in ("serial", "expires", "policy_sha256", "signature")
    )
    if not isinstance(serial, int) or isinstance(serial, bool) or serial < 1:
        raise bad(json.dumps(serial, default=str), "serial")
    if not isinstance(expires, dt.datetime):
        raise bad(json.dumps(expires, default=str), "expires")
    if not isinstance(digest, str) or len(digest) != 64:
        raise bad(json.dumps(digest), "policy_sha256")
    try:
        signature = base64.b64decode(str(encoded), validate=True)
    except (binascii.Error, ValueError):
        raise bad("a signature that is not base64", "signature") from None
    return Signature(serial, _utc(expires), digest.lower(), signature)


# --- verifying ---------------------------------------------------------------------------------


def verify_policy(
    policy_path: Path,
    policy_bytes: bytes,
    *,
    key_path: Path,
    state_dir: Path | None,
    now: dt.datetime | None = None,
    record: bool = True,
) -> SignatureState:
    """Check the signature of the policy at `policy_path` (whose bytes are `policy_bytes`).

    No key at `key_path`: signatures are not required ("not required"). Otherwise raises
    PolicyError for a missing, tampered, expired or rolled-back policy. A verified serial
    higher than any seen is remembered in `state_dir` when `record` is set.
    """
    try:
        keys = load_public_keys(key_path)
    except FileNotFoundError:
        return SignatureState("not required", f"not required (no key at {key_path})")
    except OSError as exc:
        raise PolicyError(
            key_path,
            line=None,
            key=None,
            expected="a readable verification key",
            got=exc.strerror or str(exc),
            hint="make the key readable by every user (on Linux: chmod 644)",
        ) from None
    sig_path = signature_path(policy_path)
    try:
        text = sig_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _refused(
            policy_path,
            "a signed policy (a verification key is installed)",
            f"no signature file {sig_path.name} beside it",
            "sign it with: sendguard policy sign --key KEY --serial N --expires DATE"
            f" {policy_path.name}",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise _refused(sig_path, "a readable signature file", str(exc), "copy it again") from None
    signature = parse_signature(text, sig_path)
    digest = hashlib.sha256(policy_bytes).hexdigest()
    if digest != signature.policy_sha256:
        raise _refused(
            policy_path,
            "the policy that was signed",
            "a file changed since it was signed (tampered, or edited without signing again)",
            "install the policy exactly as signed, or sign the edited policy with a new serial",
        )
    message = statement(signature.serial, signature.expires, signature.policy_sha256)
    signer: Ed25519PublicKey | None = None
    for key in keys:
        with contextlib.suppress(InvalidSignature):
            key.verify(signature.signature, message)
            signer = key
            break
    if signer is None:
        names = ", ".join(fingerprint(key) for key in keys)
        raise _refused(
            sig_path,
            f"a signature by the installed key ({names})",
            "a signature that does not verify (signed with another key, or altered)",
            "sign the policy with the private key that belongs to the installed key",
        )
    now = _utc(now or dt.datetime.now(dt.UTC))
    expires_text = signature.expires.strftime("%Y-%m-%d %H:%M UTC")
    if now >= signature.expires:
        raise _refused(
            sig_path,
            "a signature that has not expired",
            f"serial {signature.serial}, expired on {expires_text}",
            "sign the policy again with a later --expires and a higher --serial",
        )
    highest = _highest_serial(state_dir)
    if highest is not None:
        seen_serial, seen_digest = highest
        if signature.serial < seen_serial or (
            signature.serial == seen_serial and digest != seen_digest
        ):
            reused = signature.serial == seen_serial
            raise _refused(
                sig_path,
                f"serial {seen_serial} or higher (the highest this computer has accepted)"
                if not reused
                else f"a new serial for a changed policy (serial {seen_serial} was accepted"
                " for another policy)",
                f"serial {signature.serial}",
                "an older policy cannot come back: install the current one, or sign this"
                f" one with a serial above {seen_serial}",
            )
    if record and (highest is None or signature.serial > highest[0]):
        _remember_serial(state_dir, signature.serial, digest)
    return SignatureState(
        "verified",
        f"verified: serial {signature.serial}, expires {expires_text} (key {fingerprint(signer)})",
        serial=signature.serial,
        expires=signature.expires,
    )


def _refused(path: Path, expected: str, got: str, hint: str) -> PolicyError:
    return PolicyError(path, line=None, key=None, expected=expected, got=got, hint=hint)


def _utc(when: dt.datetime) -> dt.datetime:
    """Times without a zone are UTC: the same expiry on every computer."""
    return when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when.astimezone(dt.UTC)


def _highest_serial(state_dir: Path | None) -> tuple[int, str] | None:
    if state_dir is None:
        return None
    try:
        data = json.loads((state_dir / SERIAL_FILE).read_text(encoding="utf-8"))
        return int(data["serial"]), str(data["policy_sha256"])
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        # A damaged record must not let an old policy back in: treat it as unknown but
        # refuse nothing it cannot prove; the next verified serial rewrites it.
        return None


def _remember_serial(state_dir: Path | None, serial: int, digest: str) -> None:
    if state_dir is None:
        return
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        text = json.dumps({"serial": serial, "policy_sha256": digest})
        fd, temporary = tempfile.mkstemp(dir=state_dir, prefix=".policy-serial-")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, state_dir / SERIAL_FILE)
    except OSError:
        pass  # the policy is still valid; only the roll-back memory could not be updated
