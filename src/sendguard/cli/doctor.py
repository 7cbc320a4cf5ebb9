"""``sendguard doctor``: one command IT runs on a workstation to see whether SendGuard works.

It reports versions; every path (data folder, journal, hold area, "Not shared", user
settings, system policy: ``sendguard.paths.resolve_paths``, as the app has them); the
effective policy with its sources, hash and signature state; each group's folders (there? on
which file system? watched?); whether each has a hold area on its file system; the keyring;
the tray; inotify limits against the folders watched; and whether the audit collectors
answer. It changes nothing. Exit status 0 when all is well, 1 with a numbered list of what to
fix, 2 for a usage error.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.metadata
import json
import os
import platform
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from sendguard import __version__
from sendguard.cli.locations import add_location_options, paths_from
from sendguard.display import visible
from sendguard.engine.holdarea import other_file_system_hold_root
from sendguard.paths import AppPaths, resolve_paths
from sendguard.policy import Policy, load_policy
from sendguard.policy.signed import SignatureState, key_path_for, verify_policy

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2

Status = Literal["ok", "note", "problem"]
#: Directories counted under the watched folders before giving up (each needs an inotify
#: watch); past it the count is reported as "at least".
_WATCH_COUNT_LIMIT = 200_000
_TRAY_TIMEOUT = 15.0
_CONNECT_TIMEOUT = 3.0

#: Run in a separate process so that this command never loads Qt itself.
TRAY_PROBE = (
    "import sys\n"
    "from PySide6.QtWidgets import QApplication, QSystemTrayIcon\n"
    "app = QApplication(sys.argv[:1])\n"
    "print('yes' if QSystemTrayIcon.isSystemTrayAvailable() else 'no')\n"
)


@dataclass
class Check:
    """One line of the report; a problem also says how to fix it."""

    section: str
    subject: str
    status: Status
    detail: str
    fix: str | None = None


@dataclass
class Report:
    checks: list[Check] = field(default_factory=list)

    def add(
        self, section: str, subject: str, status: Status, detail: str, fix: str | None = None
    ) -> None:
        self.checks.append(Check(section, subject, status, detail, fix))

    @property
    def problems(self) -> list[Check]:
        return [check for check in self.checks if check.status == "problem"]


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "doctor",
        help="check that SendGuard can work on this computer, and say what to fix",
        description=(
            "Report versions, every path SendGuard uses, the effective policy (sources, hash,"
            " signature), each group's folders, hold areas, the keyring, the tray, inotify"
            " limits and the audit collectors. Changes nothing."
        ),
        epilog="exit status: 0 all is well, 1 something to fix (listed), 2 usage error",
    )
    add_location_options(parser)  # --policy, --data-dir, --not-shared, as for `app` and `run`
    parser.add_argument("--json", action="store_true", help="the report as one JSON object")
    # The tray probe when this runs from the installed bundle, where there is no Python
    # interpreter to give TRAY_PROBE to: the bundle runs itself with this option.
    parser.add_argument("--probe-tray", action="store_true", help=argparse.SUPPRESS)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.probe_tray:
        exec(TRAY_PROBE, {"__name__": "sendguard_tray_probe"})
        return EXIT_OK
    if args.policy is not None and not args.policy.exists():
        print(
            f"sendguard doctor: error: no such file: {visible(str(args.policy))}", file=sys.stderr
        )
        return EXIT_USAGE
    paths = paths_from(args)
    report = diagnose(paths=paths)
    if args.json:
        document = {
            "ok": not report.problems,
            "paths": paths.as_strings(),
            "checks": [asdict(check) for check in report.checks],
        }
        print(json.dumps(document, ensure_ascii=False, indent=2))
    else:
        print_report(report)
    return EXIT_PROBLEMS if report.problems else EXIT_OK


def diagnose(
    policy_path: Path | None = None,
    data_dir: Path | None = None,
    *,
    paths: AppPaths | None = None,
) -> Report:
    """Every check; `policy_path` and `data_dir` as given with ``--policy`` and ``--data-dir``
    (None: the defaults), or every path at once as `paths`."""
    if paths is None:
        paths = resolve_paths(data_dir, policy=policy_path)
    data_dir = paths.data_dir
    report = Report()
    versions(report)
    path_checks(report, paths)
    policy = load_policy(
        paths.policy_option,
        user_path=paths.settings,
        system_required=paths.policy_given,
        data_dir=data_dir,
    )
    policy_checks(report, policy, data_dir)
    folders = group_checks(report, policy, data_dir)
    keyring_check(report, policy)
    tray_check(report)
    ocr_check(report, policy)
    inotify_check(report, folders)
    forwarding_checks(report, policy)
    return report


# --- versions -------------------------------------------------------------------------------


def versions(report: Report) -> None:
    report.add("versions", "SendGuard", "ok", __version__)
    report.add("versions", "Python", "ok", platform.python_version())
    report.add("versions", "OS", "ok", platform.platform())
    for distribution in ("PySide6-Essentials", "keyring", "watchdog", "pikepdf", "pypdfium2"):
        try:
            version = importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            version = "not found"
        report.add("versions", distribution, "ok", version)


# --- paths ----------------------------------------------------------------------------------


def path_checks(report: Report, paths: AppPaths) -> None:
    """Every path the app and the commands use with these options: where to look."""
    read_only = (paths.settings, paths.system_policy)  # SendGuard reads them, never makes them
    for name, path in paths.listed():
        if path.exists():
            detail = str(path)
        elif path in read_only:
            detail = f"{path} (none)"
        else:
            detail = f"{path} (not created yet)"
        report.add("paths", name, "ok", detail)


# --- policy ---------------------------------------------------------------------------------


def policy_checks(report: Report, policy: Policy, data_dir: Path) -> None:
    for source in policy.sources:
        role = "system policy" if source.role == "system" else "user settings"
        status = {"missing": "none installed", "loaded": "loaded", "invalid": "INVALID"}
        digest = f", sha256 {source.sha256}" if source.sha256 else ""
        report.add(
            "policy",
            role,
            "problem" if source.status == "invalid" else "ok",
            f"{source.path} — {status[source.status]}{digest}",
        )
        if source.role == "system" and source.status == "loaded" and source.sha256:
            state = signature_state(source.path, data_dir)
            report.add(
                "policy",
                "signature",
                "problem" if state.status == "refused" else "ok",
                state.detail,
            )
    report.add("policy", "effective sha256", "ok", policy.sha256)
    if policy.error is not None:
        for error in policy.error.all():
            report.add(
                "policy",
                "error",
                "problem",
                "the policy cannot be used: SendGuard holds every file until it is fixed",
                str(error),
            )
    for note in policy.notes:
        report.add("policy", "note", "note", note)


def signature_state(policy_path: Path, data_dir: Path) -> SignatureState:
    """The signature as the engine checks it, without remembering its serial."""
    try:
        data = policy_path.read_bytes()
        return verify_policy(
            policy_path, data, key_path=key_path_for(policy_path), state_dir=data_dir, record=False
        )
    except OSError as exc:
        return SignatureState("refused", f"cannot read {policy_path}: {exc}")
    except Exception as exc:  # a PolicyError: it says what is wrong
        return SignatureState("refused", str(exc))


# --- groups, folders, hold areas ------------------------------------------------------------


@dataclass(frozen=True)
class Mount:
    point: Path
    fstype: str


def mounts() -> list[Mount]:
    """The mounted file systems (Linux: /proc/self/mountinfo); empty elsewhere."""
    try:
        lines = Path("/proc/self/mountinfo").read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    found: list[Mount] = []
    for line in lines:
        before, _, after = line.partition(" - ")
        fields, rest = before.split(), after.split()
        if len(fields) >= 5 and rest:
            point = fields[4].encode().decode("unicode_escape")
            found.append(Mount(Path(point), rest[0]))
    return found


def file_system_of(path: Path, known: list[Mount]) -> str:
    resolved = path.resolve()
    best: Mount | None = None
    for mount in known:
        if (resolved == mount.point or mount.point in resolved.parents) and (
            best is None or len(mount.point.parts) >= len(best.point.parts)
        ):
            best = mount
    return f"{best.fstype} at {best.point}" if best is not None else "unknown"


def group_checks(report: Report, policy: Policy, data_dir: Path) -> list[Path]:
    """Each group's folders; returns the folders the engine would watch."""
    known = mounts()
    hold_root = data_dir / "hold"
    hold_device = _device(hold_root) or _device(data_dir) or _device(_existing_parent(data_dir))
    watched: list[Path] = []
    if not policy.groups:
        report.add(
            "groups",
            "groups",
            "note",
            "no groups: nothing is watched (add [[groups]] to the policy, or a sync folder)",
        )
    for group in policy.groups:
        folders = [(folder, "folder") for folder in group.folders]
        if group.outbox is not None:
            folders.append((group.outbox, "outbox"))
        for folder, kind in folders:
            subject = f"{group.name} ({group.source.kind}): {kind} {folder}"
            if folder.is_dir():
                watched.append(folder)
                report.add(
                    "groups",
                    subject,
                    "ok",
                    f"exists; {file_system_of(folder, known)}; watched;"
                    f" clearance {group.clearance}",
                )
                report.add("hold area", subject, *_hold_area(folder, hold_device, hold_root))
            elif folder.exists():
                report.add(
                    "groups",
                    subject,
                    "problem",
                    "is not a folder, so it cannot be watched",
                    f"rename or move the file {folder}, or correct the group's folders",
                )
            else:
                report.add(
                    "groups",
                    subject,
                    "note",
                    "does not exist yet; SendGuard creates it and watches it when it starts",
                )
    return watched


def _hold_area(folder: Path, hold_device: int | None, hold_root: Path) -> tuple[Status, str]:
    device = _device(folder)
    if device is None or hold_device is None:
        return "note", "not checked (the folder or the data folder cannot be read)"
    if device == hold_device:
        return "ok", f"same file system as the hold area {hold_root}: held by one rename"
    candidate = other_file_system_hold_root(folder)
    top = candidate.parent
    if candidate.is_dir() or os.access(top, os.W_OK):
        return "ok", f"another file system: held in {candidate} by one rename"
    return (
        "note",
        f"another file system, and {top} is not writable: held by copy to {hold_root}"
        " (slower; a sync client may upload the file first — prefer outbox mode here)",
    )


def _device(path: Path) -> int | None:
    try:
        return os.stat(path).st_dev
    except OSError:
        return None


def _existing_parent(path: Path) -> Path:
    while not path.exists() and path.parent != path:
        path = path.parent
    return path


# --- keyring, tray --------------------------------------------------------------------------


def keyring_check(report: Report, policy: Policy) -> None:
    """The keyring the audit trail would use (its allowlist when present, else keyring's).

    Without one, the policy's ``[audit] keyring`` decides: ``refuse`` holds every file (a
    problem); ``degraded`` keeps guarding with unsealed audit records (a note).
    """
    audit = getattr(policy, "audit", None)
    refuse = getattr(audit, "keyring", "degraded") == "refuse"
    missing: Status = "problem" if refuse else "note"
    consequence = (
        "; the policy says refuse: every file is held until a keyring is available"
        if refuse
        else "; SendGuard keeps guarding, its audit records are not sealed"
    )
    try:
        keys: Any = importlib.import_module("sendguard.audit.keys")
    except ImportError:
        keys = None
    if keys is not None and hasattr(keys, "choose_backend"):
        try:
            backend = keys.choose_backend(None)
        except Exception as exc:  # KeyringProblem: a sentence for the user
            report.add(
                "keyring",
                "backend",
                missing,
                str(exc).rstrip(".") + consequence,
                "start the desktop's keyring (GNOME Keyring, KWallet) in the user's session",
            )
            return
        report.add("keyring", "backend", "ok", str(keys.backend_name(backend)))
        return
    import keyring

    backend = keyring.get_keyring()
    name = f"{type(backend).__module__}.{type(backend).__qualname__}"
    if "fail" in name or "null" in name:
        report.add(
            "keyring", "backend", missing, f"none usable ({name}){consequence}", "start a keyring"
        )
    else:
        report.add("keyring", "backend", "ok", name)


def ocr_check(report: Report, policy: Policy) -> None:
    """Photos and scans: is OCR installed, and does its model load? (a few seconds)"""
    from sendguard.labels.ocr import ocr_installed, ocr_problem

    if not policy.ocr.enabled:
        report.add("ocr", "photos and scans", "note", "OCR is turned off by the policy")
        return
    if not ocr_installed():
        status: Status = "problem" if policy.ocr.required else "note"
        report.add(
            "ocr",
            "photos and scans",
            status,
            "the OCR extra is not installed: photos are not read"
            + (", so every photo is held as unscannable" if policy.ocr.required else ""),
            "install the package with OCR (the installers include it), or"
            " pip install 'sendguard[ocr]'",
        )
        return
    problem = ocr_problem()
    if problem is not None:
        report.add(
            "ocr",
            "photos and scans",
            "problem",
            problem,
            "reinstall SendGuard; the OCR model ships inside the package",
        )
        return
    report.add("ocr", "photos and scans", "ok", "the OCR model loads; photos are read")


def tray_check(report: Report) -> None:
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        report.add("tray", "system tray", "note", "not checked: no display in this session")
        return
    if getattr(sys, "frozen", False):
        command = [sys.executable, "doctor", "--probe-tray"]
    else:
        command = [sys.executable, "-c", TRAY_PROBE]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=_TRAY_TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        report.add("tray", "system tray", "note", f"not checked: {exc}")
        return
    answer = done.stdout.strip().splitlines()[-1:] if done.returncode == 0 else []
    if answer == ["yes"]:
        report.add("tray", "system tray", "ok", "available")
    elif answer == ["no"]:
        report.add(
            "tray",
            "system tray",
            "note",
            "none: SendGuard shows a small window instead (on GNOME, the AppIndicator"
            " extension adds a tray)",
        )
    else:
        reason = (done.stderr.strip().splitlines() or ["no answer"])[-1]
        report.add(
            "tray",
            "system tray",
            "problem",
            f"Qt could not start: {reason}",
            "install Qt's system libraries (on Debian: libxcb-cursor0 libxkbcommon-x11-0)",
        )


# --- inotify --------------------------------------------------------------------------------


def count_directories(folders: list[Path], limit: int = _WATCH_COUNT_LIMIT) -> tuple[int, bool]:
    """Directories under `folders` (each one inotify watch); True when the count stopped."""
    seen = 0
    for folder in folders:
        for _ in _walk_dirs(folder):
            seen += 1
            if seen >= limit:
                return seen, True
    return seen, False


def _walk_dirs(folder: Path) -> Iterator[Path]:
    stack = [folder]
    while stack:
        current = stack.pop()
        yield current
        with contextlib.suppress(OSError), os.scandir(current) as entries:
            for entry in entries:
                with contextlib.suppress(OSError):
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(Path(entry.path))


def inotify_check(report: Report, folders: list[Path]) -> None:
    if not sys.platform.startswith("linux"):
        return
    try:
        limit = int(Path("/proc/sys/fs/inotify/max_user_watches").read_text().strip())
    except (OSError, ValueError):
        report.add("inotify", "watches", "note", "the limit could not be read")
        return
    needed, stopped = count_directories(folders)
    at_least = "at least " if stopped else ""
    detail = f"{at_least}{needed} folders to watch; the limit is {limit} per user"
    fix = (
        "raise the limit: echo fs.inotify.max_user_watches=524288 |"
        " sudo tee /etc/sysctl.d/60-sendguard.conf && sudo sysctl --system"
    )
    if needed > limit:
        report.add("inotify", "watches", "problem", detail + ": some folders are NOT watched", fix)
    elif needed > limit * 0.8:
        report.add("inotify", "watches", "note", detail + " (other apps use watches too)", fix)
    else:
        report.add("inotify", "watches", "ok", detail)


# --- audit forwarding -----------------------------------------------------------------------


def forwarding_checks(
    report: Report,
    policy: Policy,
    connect: Callable[[str, int], None] | None = None,
) -> None:
    """Whether each collector the policy names accepts a connection (UDP cannot be checked)."""
    audit = getattr(policy, "audit", None)
    if audit is None:
        return
    targets = [("syslog", getattr(audit, "syslog", None)), ("http", getattr(audit, "http", None))]
    if not any(url for _, url in targets):
        report.add("audit", "forwarding", "ok", "not configured (records stay on this computer)")
        return
    connect = connect or _connect
    try:
        forward: Any = importlib.import_module("sendguard.audit.forward")
    except ImportError:
        report.add("audit", "forwarding", "note", "not checked: this build has no forwarding")
        return
    for kind, url in targets:
        if not url:
            continue
        parse = forward.parse_syslog_target if kind == "syslog" else forward.parse_http_target
        target = parse(str(url))
        if target is None:
            report.add("audit", f"{kind} {url}", "problem", "not a collector address")
            continue
        if target.kind == "udp":
            report.add("audit", f"{kind} {url}", "note", "not checked: UDP has no connection")
            continue
        started = time.monotonic()
        try:
            connect(target.host, target.port)
        except OSError as exc:
            report.add(
                "audit",
                f"{kind} {url}",
                "problem",
                f"cannot connect: {exc.strerror or exc} (records are spooled until it answers)",
                f"check that {target.host}:{target.port} is reachable from this computer"
                " (firewall, proxy, collector running)",
            )
            continue
        elapsed = (time.monotonic() - started) * 1000
        report.add("audit", f"{kind} {url}", "ok", f"reachable ({elapsed:.0f} ms)")


def _connect(host: str, port: int) -> None:
    with socket.create_connection((host, port), timeout=_CONNECT_TIMEOUT):
        pass


# --- output ---------------------------------------------------------------------------------


def print_report(report: Report) -> None:
    marks = {"ok": "ok  ", "note": "note", "problem": "FIX "}
    section = None
    for check in report.checks:
        if check.section != section:
            section = check.section
            print(f"\n{section.upper() if section == 'ocr' else section.capitalize()}:")
        print(visible(f"  [{marks[check.status]}] {check.subject}: {check.detail}"))
    problems = report.problems
    print()
    if not problems:
        print("All is well.")
        return
    print(f"{len(problems)} thing{'s' if len(problems) != 1 else ''} to fix:")
    for number, check in enumerate(problems, start=1):
        line = f"  {number}. {check.subject}: {check.detail}"
        if check.fix:
            line += f" — {check.fix}"
        print(visible(line))
