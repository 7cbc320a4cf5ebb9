"""The ``sendguard`` command: thin argument handling over the engine's packages."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from sendguard import __version__
from sendguard.cli import app, audit, doctor, engine, policy, scan

EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sendguard",
        description=(
            "SendGuard holds labelled documents before they are shared into a group"
            " cleared below their label."
        ),
    )
    parser.add_argument("--version", action="version", version=f"sendguard {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    scan.register(commands)
    policy.register(commands)
    engine.register(commands)
    doctor.register(commands)
    app.register(commands)
    audit.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        # `sendguard` alone starts the desktop app, as the desktop entry does.
        return app.run(args)
    result: int = args.handler(args)
    return result


def entry_point() -> None:
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (``sendguard scan ... | head``): not an error of ours.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        code = 0
    except KeyboardInterrupt:
        code = 130
    sys.exit(code)
