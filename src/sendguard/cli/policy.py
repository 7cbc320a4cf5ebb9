"""``sendguard policy check`` and ``explain``: the policy as IT and users see it."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TextIO

from sendguard.cli import signing
from sendguard.display import visible
from sendguard.paths import resolve_paths
from sendguard.policy import Group, Policy, decide, load_policy

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2

_STATUS = {
    "missing": "not found (none in force)",
    "loaded": "loaded",
    "invalid": "INVALID",
}


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "policy",
        help="check the policy, or explain the decision for a file and a group",
        description=(
            "The policy: built-in defaults, under the user's settings, under the system policy"
            " installed by IT. See docs/policy.md."
        ),
    )
    parser.set_defaults(handler=run, policy_command=None)
    sub = parser.add_subparsers(dest="policy_command", metavar="COMMAND")

    check = sub.add_parser(
        "check",
        help="validate the policy and print every effective value and where it came from",
        description=(
            "Validate the policy and print every effective value with where it came from"
            " (built-in, system policy, user settings) and the policy's sha256. With FILE,"
            " check FILE as the system policy on its own (add --user to include settings)."
        ),
        epilog="exit status: 0 valid, 1 invalid (the errors are printed), 2 usage error",
    )
    check.add_argument("file", nargs="?", metavar="FILE", help="a policy file to check")
    check.add_argument("--system", metavar="FILE", help="the system policy (default: the OS one)")
    check.add_argument("--user", metavar="FILE", help="the user settings file")

    explain = sub.add_parser(
        "explain",
        help="print the decision for sharing FILE into a group, and why",
        description=(
            "Scan FILE as the guard does (photos and scans of pages by OCR, as the policy's"
            " [ocr] says), then print its labels, the level each maps to and by which rule,"
            " the group's clearance, and the action SendGuard would take."
        ),
        epilog="exit status: 0 when a decision was printed, 2 usage error",
    )
    explain.add_argument("file", metavar="FILE", help="the file to explain")
    explain.add_argument("--group", required=True, metavar="NAME", help="the group's name")
    explain.add_argument(
        "--policy", metavar="FILE", help="use FILE as the system policy (for tests and trials)"
    )
    explain.add_argument("--user", metavar="FILE", help="the user settings file")
    signing.register(sub)


class _UsageError(Exception):
    """A bad path or option: one line on stderr, exit status 2."""


def _existing(raw: str | None) -> Path | None:
    """`raw` as a path (None when not given); a usage error when nothing is there."""
    if raw is None:
        return None
    path = Path(raw)
    if not path.exists():
        raise _UsageError(f"no such file: {visible(raw)}")
    return path


def run(args: argparse.Namespace) -> int:
    command = args.policy_command
    try:
        if command == "check":
            return _check(args)
        if command == "explain":
            return _explain(args)
        if command in ("keygen", "sign"):
            return signing.run(args)
    except _UsageError as exc:
        print(f"sendguard policy {command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print("usage: sendguard policy {check,explain,keygen,sign} ...", file=sys.stderr)
    return EXIT_USAGE


# --- check -----------------------------------------------------------------------------------


def _check(args: argparse.Namespace) -> int:
    if args.file is not None and args.system is not None:
        raise _UsageError("give the policy as FILE or as --system, not both")
    system = _existing(args.file if args.file is not None else args.system)
    paths = resolve_paths(policy=system, settings=_existing(args.user))
    policy = load_policy(
        paths.policy_option,
        paths.settings,
        system_required=paths.policy_given,
        # A file checked on its own is checked as IT will ship it: without this user's settings.
        include_user=args.file is None or args.user is not None,
    )
    _print_check(policy, sys.stdout)
    if policy.error is not None:
        for error in policy.error.all():
            print(f"error: {error}", file=sys.stderr)
        return EXIT_INVALID
    return EXIT_OK


def _print_check(policy: Policy, out: TextIO) -> None:
    if policy.error is None:
        print("Policy: valid", file=out)
    else:
        print("Policy: INVALID — SendGuard holds every file until it is fixed", file=out)
    for source in policy.sources:
        role = "System policy" if source.role == "system" else "User settings"
        status = _STATUS[source.status]
        digest = f", sha256 {source.sha256}" if source.sha256 else ""
        print(f"{role}: {visible(str(source.path))} — {status}{digest}", file=out)
    print(f"Effective policy sha256: {policy.sha256}", file=out)
    if policy.error is not None:
        return  # the values below would be the fallback, not the policy being checked
    print("Levels, lowest first: " + " < ".join(level.name for level in policy.levels), file=out)
    print(file=out)
    rows = [
        (key, json.dumps(setting.value, ensure_ascii=False), setting.provenance())
        for key, setting in policy.settings.items()
    ]
    headers = ("SETTING", "VALUE", "FROM")
    widths = [min(48, max(len(row[i]) for row in [headers, *rows])) for i in range(2)]
    for row in [headers, *rows]:
        line = f"{row[0].ljust(widths[0])}  {row[1].ljust(widths[1])}  {row[2]}"
        print(visible(line.rstrip()), file=out)
    discovered = [group for group in policy.groups if group.discovered]
    if discovered:
        print(file=out)
        print("Discovered groups (sub-folders of sync roots; not in the policy hash):", file=out)
        for group in discovered:
            print(
                visible(f"  {group.name}: {group.folders[0]} — clearance {group.clearance}"),
                file=out,
            )
    if policy.notes:
        print(file=out)
        print("Notes:", file=out)
        for note in policy.notes:
            print(visible(f"  - {note}"), file=out)


# --- explain ---------------------------------------------------------------------------------


def _explain(args: argparse.Namespace) -> int:
    target = Path(args.file)
    if not target.exists():
        raise _UsageError(f"no such file: {visible(args.file)}")
    if target.is_dir():
        raise _UsageError(f"{visible(args.file)} is a folder; give a file")
    paths = resolve_paths(policy=_existing(args.policy), settings=_existing(args.user))
    policy = load_policy(paths.policy_option, paths.settings, system_required=paths.policy_given)
    group = policy.group(args.group)
    if group is None:
        known = ", ".join(visible(g.name) for g in policy.groups) or "none"
        raise _UsageError(f"no group named {visible(args.group)!r}; the groups are: {known}")
    # Imported here: `policy check` should not pay for loading every file reader.
    from sendguard.labels import Findings, Limits, read_labels

    # As the guard reads a held file: OCR as the policy's [ocr] says (labels/read.py).
    limits = Limits(ocr=policy.ocr.enabled, ocr_required=policy.ocr.required)
    try:
        findings = read_labels(target, limits, policy.name_patterns)
    except OSError as exc:  # vanished or unreadable since it was checked
        findings = Findings(path=str(target), format="missing")
        findings.mark_unscannable(f"cannot be read: {exc.strerror or exc}")
    decision = decide(findings, group, policy)
    out = sys.stdout
    print(visible(f"File:      {findings.path}"), file=out)
    scanned = f"{findings.verdict.value} ({findings.format})"
    if findings.unscannable_reason:
        scanned += f": {findings.unscannable_reason}"
    if findings.ocr_ms is not None:
        scanned += f"; read by OCR in {findings.ocr_ms / 1000:.1f} s"
    elif findings.ocr_pending:
        scanned += "; not read by OCR ([ocr] enabled = false)"
    print(visible(f"Scanned:   {scanned}"), file=out)
    print(f"Level:     {decision.level if decision.level is not None else 'none'}", file=out)
    print(visible(f"Group:     {_describe_group(group)}"), file=out)
    if decision.action is None:
        verdict = "share without a prompt"
    elif decision.hold_reason is not None:
        verdict = "hold (the policy cannot be used)"
    else:
        verdict = f"{decision.action.value} ({decision.excess} above the clearance)"
    print(f"Decision:  {verdict}", file=out)
    print("Why:", file=out)
    for line in decision.explanation:
        print(visible(f"  - {line}"), file=out)
    print(f"Policy:    sha256 {policy.sha256}", file=out)
    for note in policy.notes:
        print(visible(f"note: {note}"), file=sys.stderr)
    return EXIT_OK


def _describe_group(group: Group) -> str:
    parts = [f"{group.name}, cleared for {group.clearance}"]
    if group.members is not None:
        parts.append(f"{group.members} members")
    if group.external:
        parts.append("includes external people")
    parts.append(f"from {group.source}")
    return "; ".join(parts)
