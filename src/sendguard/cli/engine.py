"""``sendguard run`` and ``sendguard held``: the guard engine without the desktop app."""

from __future__ import annotations

import argparse
import json
import signal
import sqlite3
import sys
import threading
import time
from pathlib import Path
from types import FrameType

from sendguard.audit import AuditStoreError, open_audit_trail
from sendguard.cli.locations import add_location_options, paths_from
from sendguard.display import visible
from sendguard.engine import control
from sendguard.engine.answers import AnswerRefused
from sendguard.engine.arrivals import Arrival, Kind
from sendguard.engine.arrivals.model import kept_in_place_text
from sendguard.engine.decider import (
    COMMAND_LINE,
    Answer,
    Decider,
    FixedDecider,
    HoldDecider,
    TerminalDecider,
)
from sendguard.engine.guard import Engine, EngineConfig, EngineListener
from sendguard.engine.listeners import FanOutListener
from sendguard.policy import Policy, load_policy
from sendguard.policy.decide import Decision
from sendguard.policy.watch import POLL_SECONDS, PolicyReloader
from sendguard.store.journal import HoldRecord, Journal, JournalError, State

#: Who holds the data folder's writer lock, as `sendguard held` names it when busy.
RUN_HOLDER = "sendguard run --headless"

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run_parser = commands.add_parser(
        "run",
        help="watch the group folders and hold labelled files (the engine without the app)",
        description=(
            "Watch every group folder of the policy. A labelled file shared into a group"
            " cleared below its label is held and a decision is asked for; everything else"
            " passes untouched. While it runs, it is the one process that writes the data"
            " folder: `sendguard held share/return` send their decisions to it through its"
            " control socket, and it carries them out, journals and audits them. Stops with"
            " Ctrl-C."
        ),
        epilog=(
            "exit status: 0 stopped; 1 it could not start (another SendGuard guards the same"
            " data folder, or the journal or audit trail cannot be opened); 2 usage error"
        ),
    )
    run_parser.add_argument(
        "--headless",
        action="store_true",
        help="run the engine on its own, without the desktop app (required: the app is"
        " `sendguard app`)",
    )
    run_parser.add_argument(
        "--decide",
        choices=("ask", "hold", "share", "dont-share"),
        default="hold",
        help=(
            "who answers: ask on this terminal; hold (default: files stay held for `sendguard"
            " held`, which sends its decisions to this engine); share or dont-share every"
            " held file (for trials)"
        ),
    )
    run_parser.add_argument(
        "--arrivals",
        choices=("changes", "all", "none"),
        default="changes",
        help=(
            "which arrivals to print, each with its class and evidence: changes (default:"
            " this user's shares and edits), all (the sync client's downloads and"
            " SendGuard's own moves too), none"
        ),
    )
    add_location_options(run_parser)
    run_parser.set_defaults(handler=run)

    held = commands.add_parser(
        "held",
        help="list the held files, or share or return one",
        description=(
            "The files SendGuard holds, waiting for a decision. While SendGuard runs (the app,"
            " or `sendguard run --headless`), `share` and `return` send the decision to it"
            " through its control socket, and it carries it out; otherwise they carry it out"
            " themselves. Either way the decision is journaled and recorded in the audit"
            " trail, with who decided, on the command line, and the reason."
        ),
    )
    held_commands = held.add_subparsers(dest="held_command", metavar="COMMAND")
    held.set_defaults(handler=lambda args: _usage(held, "choose list, share or return"))

    listing = held_commands.add_parser("list", help="list the held files")
    listing.add_argument("--json", action="store_true", help="one JSON object per held file")
    add_location_options(listing)
    listing.set_defaults(handler=held_list)

    share = held_commands.add_parser(
        "share",
        help="share a held file with its group",
        description=(
            "Release a held file into the group folder it was headed for. Where the policy"
            " asks for it, give the group's name (--group-name) and a reason (--reason); a"
            " file the policy blocks is never shared."
        ),
        epilog=(
            "exit status: 0 shared; 1 refused or failed, with the reason (no such held file,"
            " decided already, the name or reason missing, blocked, the move failed); 2 usage"
            " error"
        ),
    )
    share.add_argument("id", type=int, metavar="ID", help="the number shown by `held list`")
    share.add_argument("--group-name", metavar="NAME", help="the group's name, typed out")
    share.add_argument(
        "--reason", metavar="TEXT", help="why this is the right group (recorded in the audit)"
    )
    add_location_options(share)
    share.set_defaults(handler=held_share)

    give_back = held_commands.add_parser(
        "return",
        help='do not share a held file: move it to the "Not shared" folder',
        description=('Do not share a held file: move it to the "Not shared" folder of its group.'),
        epilog=(
            "exit status: 0 returned; 1 refused or failed, with the reason (no such held file,"
            " decided already, the move failed); 2 usage error"
        ),
    )
    give_back.add_argument("id", type=int, metavar="ID", help="the number shown by `held list`")
    give_back.add_argument(
        "--reason", metavar="TEXT", help="why it is not shared (recorded in the audit)"
    )
    add_location_options(give_back)
    give_back.set_defaults(handler=held_return)


def _usage(parser: argparse.ArgumentParser, message: str) -> int:
    parser.print_usage(sys.stderr)
    print(f"{parser.prog}: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _policy(args: argparse.Namespace, *, guarding: bool = False) -> Policy:
    """The policy; `guarding` (the engine runs on it) keeps each valid file's copy and
    guards with it while the file is broken (docs/policy.md)."""
    paths = paths_from(args)
    return load_policy(
        paths.policy_option,
        user_path=paths.settings,
        system_required=paths.policy_given,
        data_dir=paths.data_dir,
        last_good=paths.last_good if guarding else None,
    )


def _say_policy_problem(policy: Policy) -> None:
    if policy.error is None:
        return
    if policy.hold_everything:
        print(f"The policy cannot be used, so every new file is held:\n  {policy.error}")
        return
    print(f"The policy cannot be used:\n  {policy.error}")
    for kept in policy.last_good:
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(kept.kept))
        print(f"  Until it is fixed, its last valid copy guards (kept {when}): {kept.copy}")
    for group in policy.groups:
        if group.hold_all:
            folders = ", ".join(visible(str(folder)) for folder in group.folders)
            print(f'  Every new file is held in "{visible(group.name)}": {folders}')


def _config(args: argparse.Namespace) -> EngineConfig:
    paths = paths_from(args)
    return EngineConfig(data_dir=paths.data_dir, not_shared=paths.not_shared)


#: The arrival classes `run --arrivals` prints.
_SHOWN = {
    "changes": frozenset({Kind.SHARE, Kind.EDIT}),
    "all": frozenset(Kind),
    "none": frozenset(),
}


class _Printer(EngineListener):
    """Events as lines on stdout, one per event, for a person or a log collector."""

    def __init__(self, arrivals: frozenset[Kind] = _SHOWN["changes"]) -> None:
        self._lock = threading.Lock()
        self._arrivals = arrivals

    def _say(self, text: str) -> None:
        with self._lock:
            print(f"{time.strftime('%H:%M:%S')} {text}", flush=True)

    def held(self, record: HoldRecord, decision: Decision) -> None:
        # The policy's problem, where it was forwarded from, or the level above clearance.
        self._say(
            f'held #{record.id} {visible(record.origin.name)} for "{visible(record.group_name)}":'
            f" {visible(decision.headline)}"
        )

    def released(self, record: HoldRecord, target: Path, confirmed: bool) -> None:
        how = "shared after confirmation" if confirmed else "passed"
        self._say(f"{how}: {visible(str(target))}")

    def returned(self, record: HoldRecord, target: Path, reason: str) -> None:
        self._say(f"not shared: {visible(record.origin.name)} is in {visible(str(target))}")

    def notified(self, path: Path, decision: Decision) -> None:
        level = decision.level.name if decision.level else "unknown"
        what = f": {visible(decision.headline)}" if decision.forwarded else f" is {level}"
        self._say(f"shared (policy says notify): {visible(str(path))}{what}")

    def problem(self, message: str) -> None:
        self._say(f"problem: {visible(message)}")

    def arrived(self, arrival: Arrival) -> None:
        if arrival.kind in self._arrivals:
            self._say(
                f'{arrival.kind.value}: {visible(str(arrival.path))} in "{visible(arrival.group)}"'
                f" ({visible(arrival.why)})"
            )

    def kept_in_place(self, arrival: Arrival, decision: Decision, previous: Path | None) -> None:
        level = decision.level.name if decision.level else "unknown"
        text = kept_in_place_text(arrival, level, decision.clearance.name, previous)
        self._say(f"not moved: {visible(text)}")


def _decider(choice: str) -> Decider:
    if choice == "ask":
        return TerminalDecider()
    if choice == "share":
        return FixedDecider(share=True)
    if choice == "dont-share":
        return FixedDecider(share=False)
    return HoldDecider()


def run(args: argparse.Namespace) -> int:
    if not args.headless:
        print(
            "sendguard run: error: `run` is the engine without the desktop app; add"
            " --headless to run it on its own, or start the app with `sendguard app`",
            file=sys.stderr,
        )
        return EXIT_USAGE
    paths = paths_from(args)
    # The one writer of this data folder until it stops (a `sendguard held` deciding on its
    # own holds it for a moment: wait for that).
    lock = control.WriterLock(paths.writer_lock)
    try:
        if not lock.acquire(RUN_HOLDER, wait=5.0):
            raise control.WriterBusy(lock)
    except (control.WriterBusy, control.ControlError) as exc:
        print(f"sendguard run: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    with lock:
        return _run(args, paths.control_socket)


def _run(args: argparse.Namespace, control_socket: Path) -> int:
    policy = _policy(args, guarding=True)
    config = _config(args)
    _say_policy_problem(policy)
    if not policy.groups:
        print(
            "No groups: the policy names none and none were found under the known sync"
            " folders. Add [[groups]] to the policy (see docs/policy.md)."
        )
    try:
        trail = open_audit_trail(config.data_dir, policy)
    except AuditStoreError as exc:
        print(f"sendguard run: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if trail.status.problem is not None:
        print(f"Audit: {trail.status.problem}")
    trail.policy_loaded(policy)
    audit = trail.listener()
    try:
        engine = Engine(
            trail.guard(policy),
            config,
            _decider(args.decide),
            FanOutListener(_Printer(_SHOWN[args.arrivals]), audit),
        )
    except JournalError as exc:
        trail.close()
        print(f"sendguard run: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    audit.lookup = engine.journal.get
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    engine.start()
    trail.record("engine.started", groups=[group.name for group in policy.groups])
    server: control.ControlServer | None = None
    try:
        # Every decision from outside (`sendguard held`, a script) comes to this engine.
        server = control.ControlServer(control_socket, engine.decide, engine=RUN_HOLDER)
        server.start()
    except control.ControlError as exc:
        server = None
        print(f"Needs attention: `sendguard held share/return` cannot reach this engine: {exc}")
    print(f"Policy sha256 {policy.sha256}")
    for group in policy.groups:
        folders = ", ".join(visible(str(folder)) for folder in group.folders)
        print(f'Watching "{visible(group.name)}" (cleared for {group.clearance}): {folders}')
    for message in engine.missing.values():
        print(f"Needs attention: {visible(message)}")
    held = engine.held_files()
    if held:
        print(f"{len(held)} file(s) held from before; see `sendguard held list`.")
    if server is not None:
        where = visible(str(server.path))
        print(f"Decisions from `sendguard held share/return` come here: {where}")
    print("Press Ctrl-C to stop.", flush=True)
    try:
        reloader = PolicyReloader(policy, lambda: _policy(args, guarding=True))
        next_poll = time.monotonic() + POLL_SECONDS
        while not stop.wait(0.5):
            if time.monotonic() < next_poll:
                continue
            next_poll = time.monotonic() + POLL_SECONDS
            if (changed := reloader.poll()) is not None:
                print("The policy changed and was read again.", flush=True)
                _say_policy_problem(changed)
                trail.policy_loaded(changed)
                engine.set_policy(trail.guard(changed))
    finally:
        if server is not None:
            server.close()  # decisions under way are finished first
        engine.stop()
        trail.record("engine.stopped")
        trail.close()
    print("Stopped.")
    return EXIT_OK


def held_list(args: argparse.Namespace) -> int:
    paths = paths_from(args)
    records: list[HoldRecord] = []
    if paths.journal.exists():
        try:
            # A reader: while an engine runs it is the journal's one writer.
            journal = Journal(paths.journal, read_only=True)
            try:
                records = journal.in_states(State.HELD)
            finally:
                journal.close()
        except (JournalError, sqlite3.Error) as exc:
            print(f"sendguard held list: error: {exc}", file=sys.stderr)
            return EXIT_FAILED
    if args.json:
        for record in records:
            print(
                json.dumps(
                    {
                        "id": record.id,
                        "group": record.group_name,
                        "file": record.origin.name,
                        "headed_for": str(record.origin),
                        "held_at": str(record.held),
                        "level": record.level,
                        "action": record.action,
                        "came_from": record.came_from,
                        "sha256": record.sha256,
                        "since": record.created,
                    },
                    ensure_ascii=False,
                )
            )
        return EXIT_OK
    if not records:
        print("No files are held.")
        return EXIT_OK
    print(f"{'ID':>5}  {'GROUP':20}  {'LEVEL':12}  {'SINCE':16}  FILE")
    for record in records:
        since = time.strftime("%Y-%m-%d %H:%M", time.localtime(record.created))
        level = record.level or ("no label" if record.came_from else "?")
        why = f'  (forwarded from "{visible(record.came_from)}")' if record.came_from else ""
        print(
            f"{record.id:>5}  {visible(record.group_name)[:20]:20}  {level[:12]:12}"
            f"  {since:16}  {visible(record.origin.name)}{why}"
        )
    return EXIT_OK


def _answer(args: argparse.Namespace, answer: Answer, verb: str) -> int:
    """Through the running engine (its control socket), or alone under the writer lock when
    none runs: one writer of the journal and the audit trail either way."""
    paths = paths_from(args)

    def alone() -> control.Decided:
        policy = _policy(args, guarding=True)
        try:
            trail = open_audit_trail(paths.data_dir, policy)
        except AuditStoreError as exc:
            raise control.DecisionFailed(f"nothing was decided: {exc}") from exc
        try:
            return control.decide_alone(paths, policy, answer, trail.listener())
        finally:
            trail.close()

    try:
        done = control.decide(paths, answer, alone, holder=f"sendguard held {verb}")
    except AnswerRefused as exc:
        print(f"sendguard held {verb}: {visible(str(exc))}", file=sys.stderr)
        return EXIT_FAILED
    except (control.DecisionFailed, control.WriterBusy, control.ControlError) as exc:
        print(f"sendguard held {verb}: error: {visible(str(exc))}", file=sys.stderr)
        return EXIT_FAILED
    where = visible(str(done.target)) if done.target is not None else "?"
    print(f"{visible(done.file)} → {where}")
    return EXIT_OK


def held_share(args: argparse.Namespace) -> int:
    answer = Answer(
        args.id,
        share=True,
        typed_name=args.group_name,
        justification=args.reason,
        decided_via=COMMAND_LINE,
    )
    return _answer(args, answer, "share")


def held_return(args: argparse.Namespace) -> int:
    answer = Answer(args.id, share=False, justification=args.reason, decided_via=COMMAND_LINE)
    return _answer(args, answer, "return")
