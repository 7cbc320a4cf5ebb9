"""The effective policy as the engine and the UI read it: levels, groups, actions, provenance.

Everything here is immutable and pure. How a policy is read, validated and layered is in
``load.py`` and ``layers.py``; how a file's findings become a decision is in ``decide.py``.
"""

from __future__ import annotations

import enum
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Literal

from sendguard.policy.errors import PolicyError

#: The built-in ladder, lowest first. A policy may define its own under ``[levels] order``.
DEFAULT_LEVELS: tuple[str, ...] = ("PUBLIC", "INTERNAL", "CONFIDENTIAL", "SECRET", "TOP SECRET")

#: TOML bare keys; anything else is quoted when a key path is written out.
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def key_path(*parts: str) -> str:
    """A setting's name as written in ``policy check``: ``groups."Work Team".clearance``."""
    out: list[str] = []
    for part in parts:
        if _BARE_KEY.match(part):
            out.append(part)
        else:
            out.append('"' + part.replace("\\", "\\\\").replace('"', '\\"') + '"')
    return ".".join(out)


@dataclass(frozen=True, order=True)
class Level:
    """One rung of the policy's ladder; compares by rank (0 is the lowest)."""

    rank: int
    name: str = field(compare=False)

    def __str__(self) -> str:
        return self.name


class Action(enum.Enum):
    """What happens when a file's level is above the group's clearance, mildest first.

    Each step includes the ones before it (except ``NOTIFY``, which does not hold): a
    ``JUSTIFY`` prompt also asks for the group's name to be typed.
    """

    #: Share, and tell the user afterwards.
    NOTIFY = "notify"
    #: Hold and ask; sharing needs a deliberate click on a button that is not the default.
    CONFIRM = "confirm"
    #: Hold; sharing needs the group's name typed in.
    TYPE_GROUP_NAME = "type-group-name"
    #: Hold; sharing needs the group's name typed and a written reason (kept in the audit).
    JUSTIFY = "justify"
    #: Hold; the file cannot be shared from the prompt, only kept back.
    BLOCK = "block"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Action):
            return NotImplemented
        return self.severity < other.severity

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Action):
            return NotImplemented
        return self.severity <= other.severity

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Action):
            return NotImplemented
        return self.severity > other.severity

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Action):
            return NotImplemented
        return self.severity >= other.severity


_SEVERITY: dict[Action, int] = {action: index for index, action in enumerate(Action)}

SourceKind = Literal["built-in", "system", "user", "discovered"]


@dataclass(frozen=True)
class Source:
    """Where a value came from, as shown next to it: ``system policy /etc/sendguard/…``."""

    kind: SourceKind
    path: Path | None = None
    #: The line that names it, where one line does (a folder salvaged from a broken file).
    line: int | None = None

    def __str__(self) -> str:
        if self.kind == "built-in":
            return "built-in"
        where = _display_path(self.path) if self.path is not None else "?"
        if self.line is not None:
            where += f", line {self.line}"
        if self.kind == "system":
            return f"system policy {where}"
        if self.kind == "user":
            return f"user settings {where}"
        return f"discovered under {where}"


BUILT_IN = Source("built-in")


def _display_path(path: Path) -> str:
    """``~/…`` for paths under the home folder: shorter, and the same on every account."""
    text = str(path)
    home = os.path.expanduser("~")
    if home not in ("~", "/") and (text == home or text.startswith(home + os.sep)):
        return "~" + text[len(home) :]
    return text


@dataclass(frozen=True)
class Setting:
    """One effective value, where it came from, and whether the organisation locked it."""

    key: str
    #: The value in canonical form (JSON-able): level and action names, lists of strings, ...
    value: object
    source: Source
    locked: bool = False
    #: User settings that added entries to a list the system policy set (folders, roots).
    added_by: Source | None = None

    def provenance(self) -> str:
        """``system policy /etc/…, locked + user settings ~/…``."""
        text = str(self.source) + (", locked" if self.locked else "")
        return f"{text} + {self.added_by}" if self.added_by is not None else text


@dataclass(frozen=True)
class SourceFile:
    """A policy file that was looked for, and what was found there (hashes go to the audit)."""

    role: Literal["system", "user"]
    path: Path
    #: ``missing``: nothing there (fine); ``loaded``; ``invalid``: it holds everything.
    status: Literal["missing", "loaded", "invalid"]
    #: Of the file's bytes, when it could be read.
    sha256: str | None = None


@dataclass(frozen=True)
class LastGood:
    """A copy of a policy file as it was when it was last valid, guarding while the file
    itself cannot be used."""

    role: Literal["system", "user"]
    #: The file that is broken now.
    path: Path
    #: The copy read in its place, and the SHA-256 of its bytes.
    copy: Path
    sha256: str
    #: When the copy was kept (seconds since the epoch).
    kept: float


@dataclass(frozen=True)
class Group:
    """A group that files are shared into through its folders."""

    name: str
    folders: tuple[Path, ...]
    #: The highest level shared into this group without a prompt.
    clearance: Level
    outbox: Path | None = None
    members: int | None = None
    #: ``None``: not known (discovered groups).
    external: bool | None = None
    colour: str | None = None
    source: Source = BUILT_IN
    #: Chat apps' download folders whose files came from this group: their content is
    #: remembered (fingerprints), not watched as shares.
    sources: tuple[Path, ...] = ()
    #: Set: this group is a work source, and its content added to another group's folder
    #: gets this action even when unlabelled. None: not a source.
    forwarding: Action | None = None
    #: Every new file here is held, whatever its label: the policy that should say how to
    #: guard this folder cannot be used (a broken file names it, or it was discovered).
    hold_all: bool = False
    #: The line of its ``folders`` in the file named by `source`, for messages about them.
    line: int | None = None

    @property
    def discovered(self) -> bool:
        return self.source.kind == "discovered"


@dataclass(frozen=True)
class Mappings:
    """Label → level tables. Keys are normalised: GUIDs lower-case, names casefolded."""

    #: MIP label GUID or label name → level.
    mip: Mapping[str, Level]
    titus: Mapping[str, Level]
    boldon_james: Mapping[str, Level]
    #: Document properties: ``name=value`` or ``value`` → level.
    properties: Mapping[str, Level]
    #: Marking system (``tlp``, ``uk``, …, ``any``) → term → level.
    markings: Mapping[str, Mapping[str, Level]]
    #: File-name pattern (a regular expression, as written) → level.
    patterns: Mapping[str, Level]


@dataclass(frozen=True)
class Discovery:
    enabled: bool
    default_clearance: Level
    roots: tuple[Path, ...]
    exclude: tuple[str, ...]


@dataclass(frozen=True)
class UiPermissions:
    allow_pause: bool
    allow_quit: bool


@dataclass(frozen=True)
class OcrSettings:
    #: Photos and scans shared into a group are read by OCR (held first, then read).
    enabled: bool = True
    #: When OCR cannot run (the extra is not installed), photos are unscannable.
    required: bool = False


@dataclass(frozen=True)
class AuditSettings:
    """``[audit]``: what happens without a keyring, and where records are forwarded."""

    #: No usable keyring: ``degraded`` keeps guarding with unsealed records (the tray warns);
    #: ``refuse`` holds every file until a keyring is available.
    keyring: Literal["degraded", "refuse"] = "degraded"
    #: ``udp://host:port``, ``tcp://host:port`` or ``tls://host:port`` (RFC 5424).
    syslog: str | None = None
    #: An HTTP(S) collector URL (Splunk HEC, or NDJSON); its token is in the keyring.
    http: str | None = None
    http_format: Literal["hec", "ndjson"] = "hec"
    #: CA certificates that sign the collectors' TLS certificates (else the system's).
    ca_file: Path | None = None
    #: Records kept for a collector that is away; beyond it the oldest are not forwarded.
    spool_limit: int = 100_000
    heartbeat_seconds: int = 300


@dataclass(frozen=True)
class Policy:
    """The effective policy: built-in defaults < user settings < system policy."""

    levels: tuple[Level, ...]
    unscannable: Level
    unknown_mip_label: Level
    unmapped: Level
    mappings: Mappings
    #: ``actions[n - 1]`` applies when a level is ``n`` levels above the clearance; the last
    #: entry applies to everything beyond.
    actions: tuple[Action, ...]
    #: Groups from the policy files, then groups discovered under sync roots.
    groups: tuple[Group, ...]
    discovery: Discovery
    ui: UiPermissions
    #: Every effective value by key path (``levels.unscannable``, ``groups.Family.clearance``).
    settings: Mapping[str, Setting]
    sources: tuple[SourceFile, ...] = ()
    #: Things the user should know: loosening user values that were ignored, rounded levels.
    notes: tuple[str, ...] = ()
    #: Set when a policy file could not be used. Without a last good policy every new file
    #: is held, with this reason; with one, only in the groups marked ``hold_all``.
    error: PolicyError | None = None
    #: When `error` is set and the last valid copy of every broken file guards meanwhile:
    #: those copies, for the user and the audit (``last_good.py``). Empty: hold everything.
    last_good: tuple[LastGood, ...] = ()
    #: Of the canonical form of the effective values (discovered groups excluded).
    sha256: str = ""
    ocr: OcrSettings = OcrSettings()
    audit: AuditSettings = AuditSettings()

    @property
    def hold_everything(self) -> bool:
        """Every new file in every group is held: the policy is broken and nothing valid
        was kept to guard with meanwhile."""
        return self.error is not None and not self.last_good

    def holds_all(self, group: Group) -> bool:
        """Every new file shared into `group` is held, whatever its label."""
        return self.error is not None and (not self.last_good or group.hold_all)

    @property
    def managed(self) -> bool:
        """A system policy is installed (valid or not): the organisation is in charge."""
        return any(s.role == "system" and s.status != "missing" for s in self.sources)

    def level(self, name: str) -> Level:
        """The level called `name` (case-insensitive); KeyError when there is none."""
        folded = name.casefold()
        for level in self.levels:
            if level.name.casefold() == folded:
                return level
        raise KeyError(name)

    def is_locked(self, key: str) -> bool:
        """True when the system policy sets `key`: show "Managed by your organisation"."""
        setting = self.settings.get(key)
        return setting is not None and setting.locked

    def source_of(self, key: str) -> Source | None:
        setting = self.settings.get(key)
        return setting.source if setting is not None else None

    def group(self, name: str) -> Group | None:
        folded = name.casefold()
        return next((g for g in self.groups if g.name.casefold() == folded), None)

    def group_for(self, path: str | os.PathLike[str]) -> Group | None:
        """The group whose folder holds `path`; the deepest folder wins when folders nest."""
        target = Path(os.path.abspath(path))
        best: tuple[int, Group] | None = None
        for group in self.groups:
            for folder in group.folders:
                if target == folder or folder in target.parents:
                    depth = len(folder.parts)
                    if best is None or depth > best[0]:
                        best = (depth, group)
        return best[1] if best is not None else None

    def action_for(self, excess: int) -> Action | None:
        """The action for a level `excess` levels above the clearance; None at or below it."""
        if excess <= 0 or not self.actions:
            return None
        return self.actions[min(excess, len(self.actions)) - 1]

    @cached_property
    def name_patterns(self) -> tuple[re.Pattern[str], ...]:
        """The policy's file-name patterns, for ``sendguard.labels.detect(name_patterns=…)``."""
        return tuple(re.compile(pattern) for pattern in self.mappings.patterns)
