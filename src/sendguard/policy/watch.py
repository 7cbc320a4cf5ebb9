"""Re-reading the policy when its files change, so an edit takes effect within seconds.

Polled, not watched: the files live in folders SendGuard does not watch (``/etc``, the
user's config folder), an editor may replace a file by a new one, and a stat of two files
every two seconds costs nothing. A change of content, owner, mode or presence counts — a
``chmod 000`` makes the file unreadable, which is a change the guard must act on.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from sendguard.policy.model import Policy

#: How often the app and ``run --headless`` look at the policy files.
POLL_SECONDS = 2.0

Signature = tuple[int, ...] | str


def _signature(path: Path) -> Signature:
    try:
        info = os.stat(path)
    except OSError as exc:
        return f"error {exc.errno}"
    return (info.st_mtime_ns, info.st_ctime_ns, info.st_size, info.st_ino, info.st_mode)


class PolicyReloader:
    """Tells when the files of `policy` changed, and loads the policy again then."""

    def __init__(self, policy: Policy, load: Callable[[], Policy]) -> None:
        self._load = load
        self.policy = policy
        self._seen = self._signatures(policy)

    @staticmethod
    def _files(policy: Policy) -> list[Path]:
        # The system policy file comes first; the OS-managed values after it (the registry,
        # managed preferences) are read at start only; the user settings file last.
        files = policy.sources[:1] + tuple(s for s in policy.sources[1:] if s.role == "user")
        return [source.path for source in files]

    def _signatures(self, policy: Policy) -> dict[Path, Signature]:
        return {path: _signature(path) for path in self._files(policy)}

    def poll(self) -> Policy | None:
        """The policy read again when a file changed and the result differs; else None."""
        now = {path: _signature(path) for path in self._seen}
        if now == self._seen:
            return None
        policy = self._load()
        # As seen before reading: a file that changed while it was read is read again.
        self._seen = {**self._signatures(policy), **now}
        if _same(policy, self.policy):
            return None
        self.policy = policy
        return policy


def _same(one: Policy, other: Policy) -> bool:
    return (
        one.sha256 == other.sha256
        and one.groups == other.groups
        and str(one.error) == str(other.error)
        and one.last_good == other.last_good
    )
