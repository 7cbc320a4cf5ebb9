"""``sendguard app`` (and ``sendguard`` alone): the desktop app."""

from __future__ import annotations

import argparse

from sendguard.cli.locations import add_location_options


def add_options(parser: argparse.ArgumentParser) -> None:
    add_location_options(parser)  # --policy, --data-dir, --not-shared, as for `run`
    parser.add_argument(
        "--language",
        choices=("en", "zh_CN"),
        help="the app's language (default: your choice in the app, else the system's)",
    )
    parser.add_argument(
        "--smoke-test",
        action="store_true",
        help="start, print 'ready in N ms' once the tray or window is shown, and exit",
    )


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "app",
        help="start the desktop app (the default when no command is given)",
        description=(
            "Start SendGuard's tray app: it watches the group folders and asks, naming the"
            " group, before a labelled file is shared into a group cleared below its label."
            " With no policy installed and no groups found, it makes two demo group folders"
            " under ~/SendGuard/Demo groups."
        ),
    )
    add_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from sendguard.app.main import run_app  # Qt loads only for the app

    return run_app(
        policy=getattr(args, "policy", None),
        data_dir=getattr(args, "data_dir", None),
        not_shared=getattr(args, "not_shared", None),
        language=getattr(args, "language", None),
        smoke_test=getattr(args, "smoke_test", False),
    )
