"""The wrong-group hint: "this group is unusual for this kind of file", from local history.

The history is what this computer decided before: held files released into a group (the
journal's ``holds`` table: group, level, file name, when) and labelled files that stayed in a
group's folder without being held (`FingerprintStore.shares`). Nothing leaves the machine.

Two rules, the first that applies gives the sentence:

1. The file is labelled and the group has never received that level, while other groups
   have (at least `MIN_SHARES` times in all): «You usually share SECRET documents with
   "Editors". This is "Family".»
2. A file with the same name went to another group within `RECENT` (and not to this one):
   «A file named "plan.docx" went to "Editors" 2 days ago. This is "Family".»

A hint is shown in the prompt; it never holds or blocks a file by itself.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from sendguard.store.fingerprints import Share
from sendguard.store.journal import HoldRecord, State

#: The level rule needs at least this many earlier shares of the level elsewhere.
MIN_SHARES = 2
#: The name rule looks this far back (seconds).
RECENT = 30 * 24 * 3600.0
#: History further back than this is not used (seconds).
HORIZON = 365 * 24 * 3600.0


@dataclass(frozen=True)
class PastShare:
    group_name: str
    #: The file's level then (None: no label).
    level: str | None
    name: str
    at: float


def past_shares(records: Iterable[HoldRecord], shares: Iterable[Share]) -> list[PastShare]:
    """The history from the journal's released holds and the shares decided in place."""
    history = [
        PastShare(record.group_name, record.level, record.origin.name, record.updated)
        for record in records
        if record.state is State.RELEASED
    ]
    history += [PastShare(s.group_name, s.level, s.name, s.at) for s in shares]
    return history


@dataclass(frozen=True)
class Hint:
    """Why a group looks unusual for a file, in parts, so the app can word it in the user's
    language; ``str(hint)`` is the English sentence (terminal, logs)."""

    #: The group the file is being shared into.
    group: str
    #: The level rule: the file's level, and the groups that usually get it (most first).
    level: str | None = None
    usual: tuple[str, ...] = ()
    #: The name rule: the file's name, the group a file of that name went to, how long ago.
    name: str | None = None
    went_to: str | None = None
    seconds_ago: float = 0.0

    def __str__(self) -> str:
        if self.usual:
            names = " and ".join(f'"{group}"' for group in self.usual)
            return f'You usually share {self.level} documents with {names}. This is "{self.group}".'
        return (
            f'A file named "{self.name}" went to "{self.went_to}" {_ago(self.seconds_ago)}.'
            f' This is "{self.group}".'
        )


def wrong_group_hint(
    history: Iterable[PastShare],
    group_name: str,
    level: str | None,
    name: str,
    now: float | None = None,
) -> Hint | None:
    """Why `group_name` looks unusual for this file, or None."""
    now = time.time() if now is None else now
    recent = [share for share in history if now - share.at <= HORIZON]
    folded = group_name.casefold()
    if level is not None:
        same_level = [share for share in recent if share.level == level]
        if not any(share.group_name.casefold() == folded for share in same_level):
            usual = Counter(share.group_name for share in same_level)
            if sum(usual.values()) >= MIN_SHARES:
                groups = tuple(group for group, _ in usual.most_common(2))
                return Hint(group_name, level=level, usual=groups)
    same_name = [
        share
        for share in recent
        if share.name.casefold() == name.casefold() and now - share.at <= RECENT
    ]
    if same_name and not any(share.group_name.casefold() == folded for share in same_name):
        latest = max(same_name, key=lambda share: share.at)
        return Hint(group_name, name=name, went_to=latest.group_name, seconds_ago=now - latest.at)
    return None


def _ago(seconds: float) -> str:
    if seconds < 3600:
        return "less than an hour ago"
    if seconds < 48 * 3600:
        hours = int(seconds // 3600)
        return f"{hours} hour{'s' if hours != 1 else ''} ago"
    return f"{int(seconds // 86400)} days ago"
