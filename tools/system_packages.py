"""Are the system packages SendGuard's tests need installed? `make test` runs this first.

The packages are listed once, in tools/system-packages.txt (Debian/Ubuntu names, the commands
each provides, what needs it). On Debian and Ubuntu each package is looked up with dpkg-query;
elsewhere only the listed commands are looked for. When some are missing:

* run as root where apt-get is (CI, a fresh container), they are installed:
  `apt-get update`, then `apt-get install -y --no-install-recommends` the missing ones;
* otherwise nothing is run: the missing packages are named, with the command that installs
  them, and the exit status is 1.

Standard library only, and no newer Python than the system's: it runs with the system's
python3 before .venv exists (python3-venv itself is on the list).

    python3 tools/system_packages.py [--no-install] [--list FILE] [--by packages|commands]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

LIST = Path(__file__).with_name("system-packages.txt")
#: Where daemons live, often outside a user's PATH (rsyslogd is in /usr/sbin).
SBIN = ("/usr/local/sbin", "/usr/sbin", "/sbin")
SKIP_HINT = "`make test SYSTEM_CHECK=0` skips this check."


class Package(NamedTuple):
    name: str
    commands: tuple[str, ...]
    why: str


def read_list(path: Path) -> list[Package]:
    """`package [command ...]  # why` lines; blank lines and comment lines are skipped."""
    packages = []
    for line in path.read_text(encoding="utf-8").splitlines():
        fields, _, why = line.partition("#")
        words = fields.split()
        if words:
            packages.append(Package(words[0], tuple(words[1:]), why.strip()))
    return packages


def installed(names: list[str]) -> set[str]:
    """The ones of `names` that dpkg has installed (one dpkg-query for all of them; names it
    does not know are reported on its stderr and left out of its output)."""
    done = subprocess.run(
        ["dpkg-query", "-W", "-f=${Package} ${Status}\n", "--", *names],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        check=False,
    )
    found = set()
    for line in done.stdout.splitlines():
        words = line.split()  # package, then the status: want, error flag, state
        if len(words) == 4 and words[3] == "installed":
            found.add(words[0])
    return found


def command_found(command: str) -> bool:
    if shutil.which(command):
        return True
    return any(os.access(os.path.join(folder, command), os.X_OK) for folder in SBIN)


def is_root() -> bool:
    geteuid = getattr(os, "geteuid", None)
    return geteuid is not None and geteuid() == 0


def apt_get_install(names: list[str]) -> bool:
    """`apt-get update` once, then the missing packages; False when apt-get failed."""
    apt_get = shutil.which("apt-get") or "apt-get"
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    print("Installing the system packages the tests need: " + " ".join(names), flush=True)
    for command in (
        [apt_get, "update", "-qq"],
        [apt_get, "install", "-y", "-qq", "--no-install-recommends", *names],
    ):
        done = subprocess.run(command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        if done.returncode != 0:
            print(f"apt-get {command[1]} failed (exit status {done.returncode})", file=sys.stderr)
            return False
    return True


def report_packages(missing: list[Package], list_path: Path) -> None:
    width = max(len(package.name) for package in missing)
    lines = [f"SendGuard's tests need system packages that are not installed ({len(missing)}):"]
    lines += [f"  {package.name:<{width}}  {package.why}".rstrip() for package in missing]
    sudo = "" if is_root() else "sudo "
    lines += [
        "Install them, then run `make test` again:",
        f"  {sudo}apt-get install -y " + " ".join(package.name for package in missing),
        f"The list, with what needs each package: {list_path}",
        f"({SKIP_HINT})",
    ]
    print("\n".join(lines), file=sys.stderr)


def report_commands(missing: list[tuple[str, Package]], list_path: Path) -> None:
    width = max(len(command) for command, _ in missing)
    lines = [f"SendGuard's tests need commands that are not found ({len(missing)}):"]
    lines += [
        f"  {command:<{width}}  (Debian package {package.name}) {package.why}".rstrip()
        for command, package in missing
    ]
    lines += [
        "Install them with this system's package manager, then run `make test` again.",
        f"The list, with what needs each package: {list_path}",
        f"({SKIP_HINT})",
    ]
    print("\n".join(lines), file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", type=Path, default=LIST, help="the package list to check")
    parser.add_argument(
        "--no-install", action="store_true", help="only check, even as root with apt-get"
    )
    parser.add_argument(
        "--by",
        choices=("packages", "commands"),
        help="look up the packages with dpkg-query, or only their commands "
        "(default: packages where dpkg-query is)",
    )
    args = parser.parse_args(argv)
    try:
        packages = read_list(args.list)
    except (OSError, UnicodeDecodeError) as error:
        print(f"cannot read the package list: {error}", file=sys.stderr)
        return 2
    with contextlib.suppress(ValueError):
        args.list = args.list.resolve().relative_to(Path.cwd().resolve())  # shorter to read
    by = args.by or ("packages" if shutil.which("dpkg-query") else "commands")

    if by == "commands":
        absent = [
            (command, package)
            for package in packages
            for command in package.commands
            if not command_found(command)
        ]
        if absent:
            report_commands(absent, args.list)
            return 1
        count = sum(len(package.commands) for package in packages)
        print(f"The {count} commands the tests need are there ({args.list}).")
        return 0

    found = installed([package.name for package in packages])
    missing = [package for package in packages if package.name not in found]
    can_install = not args.no_install and is_root() and shutil.which("apt-get") is not None
    if missing and can_install and apt_get_install([package.name for package in missing]):
        found = installed([package.name for package in missing])
        missing = [package for package in missing if package.name not in found]
    if missing:
        report_packages(missing, args.list)
        return 1
    print(f"The {len(packages)} system packages the tests need are installed ({args.list}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
