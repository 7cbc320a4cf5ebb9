"""Whether the installed system policy can be trusted to be IT's: who may write it.

A system policy that a user could have written is no system policy: SendGuard refuses it
(and holds everything) when the file or its folder is writable by a group or by everyone,
or is not owned by root. POSIX only; on Windows the installer sets the ACLs of
``%ProgramData%\\SendGuard``.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Collection
from pathlib import Path

from sendguard.policy.errors import PolicyError

#: Owners a system policy may have: root only.
TRUSTED_OWNERS: tuple[int, ...] = (0,)


def untrusted_reason(path: Path, owners: Collection[int] = TRUSTED_OWNERS) -> PolicyError | None:
    """Why the system policy at `path` cannot be trusted, or None when it can.

    Checks the file and the folder it is in (a writable folder lets anyone replace the
    file). A file that does not exist is not this function's business: None.
    """
    if os.name != "posix":
        return None
    for target, what in ((path, "file"), (path.parent, "folder")):
        try:
            info = os.stat(target)
        except FileNotFoundError:
            return None
        except OSError:
            continue  # reading it will fail with its own message
        problems: list[str] = []
        if info.st_uid not in owners:
            problems.append(f"owned by user id {info.st_uid}, not root")
        if info.st_mode & stat.S_IWGRP:
            problems.append("writable by its group")
        if info.st_mode & stat.S_IWOTH:
            problems.append("writable by everyone")
        if problems:
            mode = "755" if what == "folder" else "644"
            fix = f"sudo chown root:root {target} && sudo chmod {mode} {target}"
            return PolicyError(
                path,
                line=None,
                key=None,
                expected=f"a system policy only root can change (the {what}"
                + ("" if what == "file" else f" {target}")
                + " owned by root and writable by nobody else)",
                got=f"the {what} is " + " and ".join(problems),
                hint=fix,
            )
    return None
