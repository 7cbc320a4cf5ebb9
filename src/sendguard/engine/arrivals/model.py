"""What an arrival in a group folder is, and why SendGuard thinks so."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path


class Kind(enum.StrEnum):
    #: This user created, copied, saved or moved a file in (from anywhere, another group too).
    SHARE = "share"
    #: The sync client wrote it: a colleague's new file, an update, a remote rename.
    DOWNLOAD = "download"
    #: This user changed a file the group already has.
    EDIT = "edit"
    #: SendGuard's own release or return.
    OWN = "own"


class Strength(enum.IntEnum):
    """How much an evidence counts; a stronger one overrides a weaker one."""

    #: Nothing said otherwise (the default for a new name).
    DEFAULT = 0
    #: A naming habit its maker documents, no source or state to check (Dropbox, Resilio).
    WEAK = 1
    #: The client's own temporary name, renamed into place, as its source writes it.
    NAME = 2
    #: The client's own state (its database, its API) or the file system itself.
    STATE = 3


@dataclass(frozen=True)
class Evidence:
    #: Who says so: "syncthing", "nextcloud", "file system", "sendguard", …
    source: str
    #: What was seen, in words: "renamed from .syncthing.plan.docx.tmp".
    detail: str
    strength: Strength

    def __str__(self) -> str:
        return f"{self.source}: {self.detail}"


@dataclass(frozen=True)
class Arrival:
    path: Path
    group: str
    kind: Kind
    evidence: tuple[Evidence, ...]
    #: The sync client whose folder this is, when one was recognised.
    client: str | None = None
    #: False where SendGuard cannot tell for sure that this user put the file there: it is
    #: then never moved out of a synced folder (for every member that is a deletion).
    may_move: bool = True

    @property
    def why(self) -> str:
        """The evidence in words, strongest first."""
        ordered = sorted(self.evidence, key=lambda e: e.strength, reverse=True)
        return "; ".join(str(e) for e in ordered) or "no evidence"


def kept_in_place_text(arrival: Arrival, level: str, clearance: str, previous: Path | None) -> str:
    """One sentence for a file above the group's clearance that SendGuard did not move out
    (the command line and the audit; the app says it in the user's language)."""
    if arrival.kind is Kind.EDIT:
        what = f'{arrival.path.name} in "{arrival.group}" was changed and now carries {level}'
    else:
        what = (
            f'{arrival.path.name} in "{arrival.group}" carries {level}, and who put it there'
            " is not known"
        )
    text = (
        f"{what}, above the group's clearance ({clearance}). It was not moved: the group"
        " already has it, and moving it would delete it for every member."
    )
    if previous is not None:
        text += f" The version the group had is kept in {previous}."
    return text
