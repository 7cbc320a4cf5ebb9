"""Named crash points for the crash harness: the process kills itself where a test asks.

``SENDGUARD_CRASH_AT=hold.moved`` (or ``arm("hold.moved")`` in a forked test process) makes
the process SIGKILL itself the first time it passes that point, so tests can check what
recovery makes of every half-done step. Unarmed, as in production, a point costs one
comparison.

The points, in the order a file passes them: ``hold.journaled``, ``fsops.linked``,
``fsops.copied``, ``fsops.placed``, ``hold.moved``, ``hold.recorded``,
``release.journaled``, ``release.moved``, ``release.recorded``, ``return.journaled``,
``return.moved``, ``return.recorded``; recovery passes the same points when it finishes a
step.
"""

from __future__ import annotations

import os
import signal

POINTS = (
    "hold.journaled",
    "fsops.linked",
    "fsops.copied",
    "fsops.placed",
    "hold.moved",
    "hold.recorded",
    "release.journaled",
    "release.moved",
    "release.recorded",
    "return.journaled",
    "return.moved",
    "return.recorded",
)

_target = os.environ.get("SENDGUARD_CRASH_AT", "")


def arm(name: str) -> None:
    """Crash at `name` from now on (``""`` disarms)."""
    global _target
    if name and name not in POINTS:
        raise ValueError(f"no crash point named {name!r}")
    _target = name


def point(name: str) -> None:
    if _target and name == _target:
        os.kill(os.getpid(), signal.SIGKILL)
