"""``sendguard audit verify`` and ``sendguard audit export``."""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from sendguard.audit.chain import AuditStore, AuditStoreError
from sendguard.audit.records import csv_header, csv_row, ecs
from sendguard.audit.trail import first_keys_from_keyring, read_escrow
from sendguard.audit.verify import read_anchors, verify
from sendguard.display import visible
from sendguard.paths import default_data_dir, resolve_paths

EXIT_INTACT = 0
EXIT_TAMPERED = 1
EXIT_USAGE = 2
#: Problems printed before "… and N more".
_SHOWN = 25


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    audit = commands.add_parser(
        "audit",
        help="check the audit trail for tampering, or export it",
        description="The tamper-evident record of every decision (see docs/audit.md).",
    )
    sub = audit.add_subparsers(dest="audit_command", metavar="COMMAND")
    audit.set_defaults(handler=lambda args: _usage(audit, "choose verify or export"))

    check = sub.add_parser(
        "verify",
        help="check every record's chain and seal, and the anchors the collector has",
        description=(
            "Check the hash chain, every seal (MAC) and the key epochs of the audit trail."
            " Give the collector's copy with --anchors to detect a trail that was cut short"
            " or rolled back."
        ),
        epilog=(
            "exit status: 0 intact; 1 tampering found (each finding is printed, with the"
            " record number); 2 usage error, or the trail or a verification key cannot be read"
        ),
    )
    check.add_argument(
        "--anchors",
        metavar="FILE",
        type=Path,
        action="append",
        default=[],
        help=(
            "records or heartbeats as the collector received them (syslog lines or JSON"
            " lines, e.g. an earlier `audit export --format jsonl`); may be repeated"
        ),
    )
    check.add_argument(
        "--verify-keys",
        metavar="FILE",
        type=Path,
        help=(
            "escrowed verification keys, one per line: `audit-verify-key:<trail>:<n> <hex>`"
            " (default: read them from the keyring)"
        ),
    )
    _data_dir(check)
    check.set_defaults(handler=run_verify)

    export = sub.add_parser(
        "export",
        help="write the audit records as JSON lines (ECS field names) or CSV",
        epilog="exit status: 0 written; 2 usage error, or the trail cannot be read",
    )
    export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    export.add_argument(
        "--since",
        metavar="WHEN",
        help="only records from WHEN on: a date or time, e.g. 2025-03-01 or 2025-03-01T14:00"
        " (local time unless it has an offset)",
    )
    export.add_argument("--output", "-o", metavar="FILE", type=Path, help="default: stdout")
    _data_dir(export)
    export.set_defaults(handler=run_export)


def _data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        type=Path,
        help=f"where the audit trail is (default: {default_data_dir()})",
    )


def _usage(parser: argparse.ArgumentParser, message: str) -> int:
    parser.print_usage(sys.stderr)
    print(f"{parser.prog}: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _open(args: argparse.Namespace, command: str) -> AuditStore | None:
    path = resolve_paths(args.data_dir).audit
    try:
        return AuditStore(path, create=False)
    except AuditStoreError as exc:
        print(f"sendguard audit {command}: error: {exc}", file=sys.stderr)
        return None


def run_verify(args: argparse.Namespace) -> int:
    for path in args.anchors:
        if not path.is_file():
            print(f"sendguard audit verify: error: no anchor file at {path}", file=sys.stderr)
            return EXIT_USAGE
    store = _open(args, "verify")
    if store is None:
        return EXIT_USAGE
    try:
        escrow: dict[int, bytes] = {}
        if args.verify_keys is not None:
            try:
                escrow = read_escrow(args.verify_keys, store.trail)
            except (OSError, UnicodeDecodeError) as exc:
                print(
                    f"sendguard audit verify: error: cannot read {args.verify_keys}: {exc}",
                    file=sys.stderr,
                )
                return EXIT_USAGE
        keyring_note: str | None = None
        first_key: Callable[[int], bytes | None]
        if escrow:
            first_key = escrow.get
        else:
            first_key, keyring_note = first_keys_from_keyring(
                store.trail, None, store.get_meta("keyring_backend")
            )
        anchors = [anchor for path in args.anchors for anchor in read_anchors(path)]
        report = verify(store, first_key, anchors)
    except AuditStoreError as exc:
        print(f"sendguard audit verify: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        store.close()
    print(f"Trail {store.trail} in {store.path}")
    span = f"#{report.first_seq}–#{report.last_seq}" if report.records else "no records"
    print(f"Records: {report.records} ({span}); sealed {report.sealed}, unsealed {report.unsealed}")
    if anchors:
        mine = report.anchors_checked
        print(f"Anchors: {mine} of this trail checked, from {len(args.anchors)} file(s)")
        if mine == 0:
            print(
                "sendguard audit verify: error: the anchor files hold nothing from this trail"
                f" ({store.trail})",
                file=sys.stderr,
            )
            return EXIT_USAGE
    for note in report.notes:
        print(f"Note: {note}")
    if report.problems:
        print(f"TAMPERING FOUND: {len(report.problems)} finding(s)")
        for problem in report.problems[:_SHOWN]:
            print(f"  {visible(str(problem))}")
        if len(report.problems) > _SHOWN:
            print(f"  … and {len(report.problems) - _SHOWN} more")
        return EXIT_TAMPERED
    if report.missing_keys:
        where = f" ({keyring_note})" if keyring_note else ""
        generations = ", ".join(str(g) for g in report.missing_keys)
        print(
            "sendguard audit verify: error: the chain is intact, but the seals of key"
            f" generation(s) {generations} cannot be checked: their verification key is not"
            f" in the keyring{where} nor in --verify-keys",
            file=sys.stderr,
        )
        return EXIT_USAGE
    print("Intact: every record is in place and its seal matches.")
    return EXIT_INTACT


def _since(text: str) -> float:
    moment = datetime.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.astimezone()  # local time, as people write it
    return moment.timestamp()


def run_export(args: argparse.Namespace) -> int:
    since: float | None = None
    if args.since is not None:
        try:
            since = _since(args.since)
        except ValueError:
            print(
                f"sendguard audit export: error: --since {args.since!r} is not a date or time;"
                " write e.g. 2025-03-01 or 2025-03-01T14:00",
                file=sys.stderr,
            )
            return EXIT_USAGE
    store = _open(args, "export")
    if store is None:
        return EXIT_USAGE
    out: TextIO
    try:
        out = (
            args.output.open("w", encoding="utf-8", newline="")
            if args.output is not None
            else sys.stdout
        )
    except OSError as exc:
        print(f"sendguard audit export: error: cannot write {args.output}: {exc}", file=sys.stderr)
        store.close()
        return EXIT_USAGE
    try:
        if args.format == "csv":
            out.write(csv_header())
        for record in store.records():
            if since is not None and float(record.fields.get("time", 0)) < since:
                continue
            if args.format == "csv":
                out.write(csv_row(record))
            else:
                out.write(json.dumps(ecs(record), ensure_ascii=False) + "\n")
    except AuditStoreError as exc:
        print(f"sendguard audit export: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        store.close()
        if out is not sys.stdout:
            out.close()
    return EXIT_INTACT
