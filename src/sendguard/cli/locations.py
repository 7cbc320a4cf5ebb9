"""--policy, --data-dir and --not-shared, the same for `app`, `run`, `held` and `doctor`:
each command's paths come from ``sendguard.paths.resolve_paths``, as the app's do."""

from __future__ import annotations

import argparse
from pathlib import Path

from sendguard.paths import AppPaths, default_data_dir, default_not_shared_dir, resolve_paths


def add_location_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--policy",
        metavar="FILE",
        type=Path,
        help="use FILE as the system policy instead of the OS location (for tests and trials)",
    )
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        type=Path,
        help=(
            "where the journal, the hold area and the audit trail live; the user settings"
            f" are then read from DIR/settings.toml (default: {default_data_dir()})"
        ),
    )
    parser.add_argument(
        "--not-shared",
        metavar="DIR",
        type=Path,
        help=f"where files not shared are kept (default: {default_not_shared_dir()})",
    )


def paths_from(args: argparse.Namespace) -> AppPaths:
    """The paths for these options; an option a command lacks counts as not given."""
    return resolve_paths(
        getattr(args, "data_dir", None),
        policy=getattr(args, "policy", None),
        not_shared=getattr(args, "not_shared", None),
    )
