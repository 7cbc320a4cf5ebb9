"""``sendguard policy keygen`` and ``sendguard policy sign``: signed policies for IT."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path

from sendguard.display import visible
from sendguard.policy.errors import PolicyError
from sendguard.policy.load import read_layer
from sendguard.policy.model import Source
from sendguard.policy.signed import (
    KEY_FILE,
    fingerprint,
    generate_key_pair,
    load_private_key,
    sign_policy,
    signature_path,
)

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2
PRIVATE_KEY_FILE = "policy-signing.key"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    keygen = sub.add_parser(
        "keygen",
        help="make a key pair for signing policies",
        description=(
            f"Write a new Ed25519 key pair into DIR: {PRIVATE_KEY_FILE} (keep it secret, off"
            f" the workstations) and {KEY_FILE} (install it beside the system policy: from"
            " then on SendGuard accepts only policies signed with the private key)."
        ),
        epilog="exit status: 0 written, 2 usage error (the files exist already, or DIR is bad)",
    )
    keygen.add_argument("--out", required=True, metavar="DIR", type=Path, help="where to write")
    keygen.set_defaults(signing_handler=_keygen)

    sign = sub.add_parser(
        "sign",
        help="sign a policy file (writes FILE.sig beside it)",
        description=(
            "Check FILE as a system policy, then write FILE.sig: an Ed25519 signature over"
            " the file's SHA-256, its serial number and its expiry. Install both files;"
            " SendGuard refuses a changed, expired or older (lower serial) policy."
        ),
        epilog="exit status: 0 signed, 1 FILE is not a valid policy, 2 usage error",
    )
    sign.add_argument("file", metavar="FILE", type=Path, help="the policy to sign")
    sign.add_argument("--key", required=True, metavar="PRIVATE", type=Path, help="private key")
    sign.add_argument(
        "--serial",
        required=True,
        type=int,
        metavar="N",
        help="a number higher than that of every policy signed before",
    )
    sign.add_argument(
        "--expires",
        required=True,
        metavar="DATE",
        help="when the signature stops being valid: 2027-01-31 (00:00 UTC) or an ISO time",
    )
    sign.set_defaults(signing_handler=_sign)


def run(args: argparse.Namespace) -> int:
    result: int = args.signing_handler(args)
    return result


def _fail(command: str, message: str) -> int:
    print(f"sendguard policy {command}: error: {visible(message)}", file=sys.stderr)
    return EXIT_USAGE


def _keygen(args: argparse.Namespace) -> int:
    out: Path = args.out
    private_path, public_path = out / PRIVATE_KEY_FILE, out / KEY_FILE
    for path in (private_path, public_path):
        if path.exists():
            return _fail("keygen", f"{path} exists already; choose another --out")
    private_pem, public_pem = generate_key_pair()
    try:
        out.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(private_pem)
        public_path.write_bytes(public_pem)
    except OSError as exc:
        return _fail("keygen", f"cannot write into {out}: {exc.strerror or exc}")
    key = load_private_key(private_path).public_key()
    print(f"Private key: {private_path} (keep it secret; only for signing)")
    print(f"Public key:  {public_path} (install it beside the system policy)")
    print(f"Fingerprint: {fingerprint(key)}")
    return EXIT_OK


def parse_expiry(text: str) -> dt.datetime:
    """``2027-01-31`` (the start of that day, UTC) or an ISO 8601 time (UTC if no zone)."""
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"--expires {text!r}: expected a date such as 2027-01-31") from None
    return when.replace(tzinfo=dt.UTC) if when.tzinfo is None else when.astimezone(dt.UTC)


def _sign(args: argparse.Namespace) -> int:
    policy_path: Path = args.file
    if args.serial < 1:
        return _fail("sign", "--serial must be a whole number of 1 or more")
    try:
        expires = parse_expiry(args.expires)
    except ValueError as exc:
        return _fail("sign", str(exc))
    if expires <= dt.datetime.now(dt.UTC):
        return _fail("sign", f"--expires {args.expires} is in the past")
    try:
        key = load_private_key(args.key)
    except ValueError as exc:
        return _fail("sign", str(exc))
    try:
        data = policy_path.read_bytes()
        read_layer(policy_path, Source("system", policy_path))
    except FileNotFoundError:
        return _fail("sign", f"no such file: {policy_path}")
    except OSError as exc:
        return _fail("sign", f"cannot read {policy_path}: {exc.strerror or exc}")
    except PolicyError as error:
        for each in error.all():
            print(visible(f"error: {each}"), file=sys.stderr)
        print("Not signed: fix the policy first (sendguard policy check FILE).", file=sys.stderr)
        return EXIT_INVALID
    text = sign_policy(data, key, serial=args.serial, expires=expires)
    target = signature_path(policy_path)
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        return _fail("sign", f"cannot write {target}: {exc.strerror or exc}")
    print(
        f"Signed {policy_path}: serial {args.serial}, expires"
        f" {expires:%Y-%m-%d %H:%M} UTC, key {fingerprint(key.public_key())}"
    )
    print(f"Signature: {target} (install it beside the policy)")
    return EXIT_OK
