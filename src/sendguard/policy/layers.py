"""Built-in defaults < user settings < system policy, with provenance for every value.

Each setting is declared once, in ``BUILT_IN_POLICY``; a user value replaces it; a value in
the system policy locks it (``Policy.is_locked``), and a user value for a locked setting is
used only when it is stricter. With no system policy installed the user's settings are the
policy. Whatever goes wrong reading a policy file ends in hold-everything, never in allowing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Literal

from sendguard.paths import default_data_dir

# Where the files are: in sendguard.paths, one place for the app and every command.
from sendguard.paths import system_policy_path as system_policy_path
from sendguard.paths import user_settings_path as user_settings_path
from sendguard.policy.discovery import discover_groups, expand_home
from sendguard.policy.errors import PolicyError
from sendguard.policy.last_good import keep as keep_last_good
from sendguard.policy.last_good import kept_copy
from sendguard.policy.load import (
    Key,
    Layer,
    comparable_path,
    parse_layer,
    read_layer,
    schema_order,
)
from sendguard.policy.managed import ManagedValues, managed_layer, os_managed_values, overlay
from sendguard.policy.model import (
    BUILT_IN,
    DEFAULT_LEVELS,
    Action,
    AuditSettings,
    Discovery,
    Group,
    LastGood,
    Level,
    Mappings,
    OcrSettings,
    Policy,
    Setting,
    Source,
    SourceFile,
    UiPermissions,
    key_path,
)
from sendguard.policy.salvage import SalvagedFolder, salvage_folders
from sendguard.policy.signed import key_path_for, verify_policy
from sendguard.policy.trust import TRUSTED_OWNERS, untrusted_reason

#: The built-in policy: what applies to every key no policy file sets. It is parsed by the
#: same code as policy files, so it is valid by construction and reads like one
#: (docs/policy.md lists it in full).
BUILT_IN_POLICY = """\
[levels]
order = ["PUBLIC", "INTERNAL", "CONFIDENTIAL", "SECRET", "TOP SECRET"]
unscannable = "CONFIDENTIAL"
unknown_mip_label = "CONFIDENTIAL"
unmapped = "CONFIDENTIAL"

[mappings.mip]  # by label name, when no GUID mapping matches: Microsoft's default labels
"Personal" = "PUBLIC"
"Non-Business" = "PUBLIC"
"Public" = "PUBLIC"
"General" = "INTERNAL"
"Internal" = "INTERNAL"
"Confidential" = "CONFIDENTIAL"
"Highly Confidential" = "SECRET"
"Strictly Confidential" = "SECRET"
"Restricted" = "SECRET"
"Secret" = "SECRET"
"Top Secret" = "TOP SECRET"

[mappings.titus]  # CTP_NT is left out on purpose: its meaning varies, so it is unmapped
CTP_PUBLIC = "PUBLIC"
CTP_IC = "CONFIDENTIAL"
CTP_TS = "SECRET"

[mappings.markings.tlp]
"TLP:CLEAR" = "PUBLIC"
"TLP:WHITE" = "PUBLIC"
"TLP:GREEN" = "INTERNAL"
"TLP:AMBER" = "CONFIDENTIAL"
"TLP:AMBER+STRICT" = "SECRET"
"TLP:RED" = "SECRET"

[mappings.markings.uk]
"OFFICIAL" = "INTERNAL"
"UK OFFICIAL" = "INTERNAL"
"OFFICIAL-SENSITIVE" = "CONFIDENTIAL"
"UK OFFICIAL-SENSITIVE" = "CONFIDENTIAL"
"SECRET" = "SECRET"
"UK SECRET" = "SECRET"
"TOP SECRET" = "TOP SECRET"
"UK TOP SECRET" = "TOP SECRET"

[mappings.markings.us]
"UNCLASSIFIED" = "PUBLIC"
"CUI" = "CONFIDENTIAL"
"CONTROLLED" = "CONFIDENTIAL"
"FOUO" = "INTERNAL"
"CONFIDENTIAL" = "CONFIDENTIAL"
"SECRET" = "SECRET"
"TOP SECRET" = "TOP SECRET"

[mappings.markings.nato]
"NATO UNCLASSIFIED" = "INTERNAL"
"NATO RESTRICTED" = "CONFIDENTIAL"
"NATO CONFIDENTIAL" = "CONFIDENTIAL"
"NATO SECRET" = "SECRET"
"COSMIC TOP SECRET" = "TOP SECRET"

[mappings.markings.cn]
"公开" = "PUBLIC"
"内部" = "INTERNAL"
"内部资料" = "INTERNAL"
"工作秘密" = "CONFIDENTIAL"
"秘密" = "CONFIDENTIAL"
"机密" = "SECRET"
"绝密" = "TOP SECRET"

[mappings.markings.corporate]
"Public" = "PUBLIC"
"General" = "INTERNAL"
"Internal" = "INTERNAL"
"Internal Use Only" = "INTERNAL"
"Internal Only" = "INTERNAL"
"Confidential" = "CONFIDENTIAL"
"Company Confidential" = "CONFIDENTIAL"
"Private & Confidential" = "CONFIDENTIAL"
"Commercial in Confidence" = "CONFIDENTIAL"
"Highly Confidential" = "SECRET"
"Strictly Confidential" = "SECRET"
"Restricted" = "SECRET"

[mappings.markings.classification]  # words several systems share: the stricter reading
"UNCLASSIFIED" = "PUBLIC"
"OFFICIAL" = "INTERNAL"
"CONFIDENTIAL" = "CONFIDENTIAL"
"RESTRICTED" = "SECRET"
"SECRET" = "SECRET"
"TOP SECRET" = "TOP SECRET"

[actions]
above_1 = "confirm"
above_2 = "type-group-name"
above_3 = "justify"

[ui]
allow_pause = true
allow_quit = true

[ocr]
enabled = true
required = false

[discovery]
enabled = true
default_clearance = "PUBLIC"
roots = []
exclude = []

[audit]
keyring = "degraded"
http_format = "hec"
spool_limit = 100000
heartbeat_seconds = 300
"""

# --- the built-in layer ----------------------------------------------------------------------


@cache
def _parsed_built_in() -> Layer:
    return parse_layer(BUILT_IN_POLICY, Path("<built-in>"), BUILT_IN)


def built_in_layer(ladder: Sequence[str] = DEFAULT_LEVELS) -> tuple[Layer, list[str]]:
    """The built-in policy for `ladder`, and notes on what had to be rounded to fit it.

    Built-in values name the default levels. A level a custom ladder lacks rounds *up* to the
    next default level it has (fail closed), or to its top level.
    """
    layer = _parsed_built_in()
    if tuple(ladder) == DEFAULT_LEVELS:
        return layer, []
    present = {name.casefold(): name for name in ladder}
    rounded: dict[str, str] = {}
    for index, name in enumerate(DEFAULT_LEVELS):
        above = (present.get(n.casefold()) for n in DEFAULT_LEVELS[index:])
        rounded[name] = next((n for n in above if n is not None), ladder[-1])
    most = len(ladder) - 1
    values: dict[Key, object] = {}
    for key, value in layer.values.items():
        if key == ("levels", "order"):
            continue
        if key[0] == "actions" and int(key[1].removeprefix("above_")) > most:
            continue
        values[key] = rounded[value] if isinstance(value, str) and value in rounded else value
    notes = [
        f"built-in: this policy has no level {name}; built-in mappings to it use {target}"
        " (map those labels under [mappings] to choose another level)"
        for name, target in rounded.items()
        if name.casefold() not in present
    ]
    return Layer(source=BUILT_IN, values=values), notes


# --- merging ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rule:
    """How a user value compares with a system value for one kind of setting."""

    #: What the user may do to such a setting, for notes: "may only raise it".
    may: str
    #: Whether the user's value (first) is at least as strict as the system's (second).
    stricter: Callable[[object, object, Mapping[str, int]], bool]


_RAISE = _Rule(
    "may only raise it", lambda mine, theirs, ranks: ranks[str(mine)] >= ranks[str(theirs)]
)
_LOWER = _Rule(
    "may only lower it", lambda mine, theirs, ranks: ranks[str(mine)] <= ranks[str(theirs)]
)
_ACTION = _Rule("may only make it stricter", lambda mine, theirs, _: Action(mine) >= Action(theirs))
_OFF = _Rule("may only turn it off", lambda mine, theirs, _: mine is False)
_ON = _Rule("may only turn it on", lambda mine, theirs, _: mine is True)
_FEWER = _Rule(
    "may only remove entries from it",
    lambda mine, theirs, _: (
        isinstance(mine, list) and isinstance(theirs, list) and set(mine) <= set(theirs)
    ),
)
_FIXED = _Rule("cannot change it", lambda mine, theirs, _: False)
_REFUSE = _Rule("may only make it refuse", lambda mine, theirs, _: mine in ("refuse", theirs))
#: Lists where a user's entries are added to the system's: more folders watched is stricter.
_UNION_KEYS = frozenset({"folders", "roots", "sources"})


def _rule(key: Key) -> _Rule:
    head = key[0]
    if head == "levels":
        return _FIXED if key[1] == "order" else _RAISE
    if head == "mappings":
        return _RAISE
    if head == "actions":
        return _ACTION
    if head == "ui":
        return _OFF
    if head == "ocr":
        return _ON
    if head == "audit" and key[1] == "keyring":
        return _REFUSE
    if head == "discovery":
        return {"enabled": _ON, "default_clearance": _LOWER, "exclude": _FEWER}.get(key[1], _FIXED)
    if head == "groups" and key[2] == "clearance":
        return _LOWER
    if head == "groups" and key[2] == "forwarding":
        return _ACTION
    return _FIXED


@dataclass(frozen=True)
class _Merged:
    value: object
    source: Source
    locked: bool
    #: The user settings that added entries to a list the system policy set.
    added_by: Source | None = None


def _align_group_names(user: Layer, system: Layer | None) -> Layer:
    """User settings name a system group in any case: use the system's spelling."""
    if system is None:
        return user
    names = {name.casefold(): name for name in system.groups}

    def align(key: Key) -> Key:
        if key[0] == "groups" and key[1].casefold() in names:
            return ("groups", names[key[1].casefold()], *key[2:])
        return key

    values = {align(k): v for k, v in user.values.items()}
    for key in values:
        if key[0] == "groups" and key[2] == "name":
            values[key] = key[1]
    return Layer(
        source=user.source,
        values=values,
        lines={align(k): v for k, v in user.lines.items()},
        groups=tuple(names.get(n.casefold(), n) for n in user.groups),
        sha256=user.sha256,
    )


def _with_group_clearances(system: Layer, built_in: Layer) -> Layer:
    """A system group without a clearance has the default one, and it is locked like any."""
    default_key: Key = ("discovery", "default_clearance")
    default = system.values.get(default_key, built_in.values[default_key])
    missing = [n for n in system.groups if ("groups", n, "clearance") not in system.values]
    if not missing:
        return system
    values = dict(system.values)
    lines = dict(system.lines)
    for name in missing:
        values[("groups", name, "clearance")] = default
        if ("groups", name, "name") in lines:
            lines[("groups", name, "clearance")] = lines[("groups", name, "name")]
    return Layer(system.source, values, lines, system.groups, system.sha256)


def merge(
    built_in: Layer,
    system: Layer | None,
    user: Layer | None,
    ladder: Sequence[str],
    *,
    managed: bool,
) -> tuple[dict[Key, _Merged], list[str]]:
    """The effective value of every setting, and notes on user values that were ignored.

    `managed`: a system policy is installed, even if it could not be read; the ladder is
    then the organisation's and user settings cannot change it.
    """
    ranks = {name: index for index, name in enumerate(ladder)}
    notes: list[str] = []
    if system is not None:
        system = _with_group_clearances(system, built_in)
    if user is not None:
        user = _align_group_names(user, system)
    keys: dict[Key, None] = {}
    for layer in (built_in, system, user):
        if layer is not None:
            keys.update(dict.fromkeys(layer.values))
    merged: dict[Key, _Merged] = {}
    for key in keys:
        in_system = system is not None and key in system.values
        in_user = user is not None and key in user.values
        if system is not None and in_system:
            value = system.values[key]
            if user is None or not in_user or user.values[key] == value:
                merged[key] = _Merged(value, system.source, locked=True)
                continue
            mine = user.values[key]
            if key[-1] in _UNION_KEYS and isinstance(value, list) and isinstance(mine, list):
                combined = value + [item for item in mine if item not in value]
                merged[key] = _Merged(combined, system.source, True, added_by=user.source)
            elif _rule(key).stricter(mine, value, ranks):
                merged[key] = _Merged(mine, user.source, locked=True)
            else:
                merged[key] = _Merged(value, system.source, locked=True)
                notes.append(
                    f"{user.where(key)}: {key_path(*key)} = {_show(mine)} ignored: your"
                    f" organisation's policy sets {_show(value)}, and your settings"
                    f" {_rule(key).may}"
                )
        elif user is not None and in_user:
            if key == ("levels", "order") and managed:
                notes.append(
                    f"{user.where(key)}: levels.order ignored: the levels are your"
                    " organisation's (from its policy or the built-in ones under it)"
                )
                merged[key] = _Merged(built_in.values.get(key, list(ladder)), BUILT_IN, False)
            else:
                merged[key] = _Merged(user.values[key], user.source, locked=False)
        else:
            merged[key] = _Merged(built_in.values[key], BUILT_IN, locked=False)
    notes.extend(_drop_claimed_folders(merged, system, user))
    return {key: merged[key] for key in schema_order(merged)}, notes


def _drop_claimed_folders(
    merged: dict[Key, _Merged], system: Layer | None, user: Layer | None
) -> list[str]:
    """A folder the system policy gives to one group cannot be moved to another by the user."""
    if system is None or user is None:
        return []
    owners: dict[str, str] = {}
    for name in system.groups:
        folders = system.values.get(("groups", name, "folders"), [])
        for folder in folders if isinstance(folders, list) else []:
            owners[comparable_path(str(folder))] = name
    notes: list[str] = []
    for name in user.groups:
        key: Key = ("groups", name, "folders")
        entry = merged.get(key)
        if entry is None or not isinstance(entry.value, list):
            continue
        kept: list[str] = []
        for folder in entry.value:
            owner = owners.get(comparable_path(str(folder)))
            if owner is not None and owner != name:
                notes.append(
                    f"{user.where(key)}: folder {_show(folder)} ignored for group {_show(name)}:"
                    f" your organisation's policy gives it to group {_show(owner)}"
                    f" (to be stricter there, lower {_show(owner)}'s clearance instead)"
                )
            else:
                kept.append(str(folder))
        merged[key] = _Merged(kept, entry.source, entry.locked, entry.added_by)
    return notes


def _show(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


# --- building the Policy ---------------------------------------------------------------------


def canonical_form(settings: Mapping[str, Setting]) -> str:
    """The effective values as sorted, compact JSON: what the policy hash is of."""
    return json.dumps(
        {key: setting.value for key, setting in settings.items()},
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )


def build_policy(
    merged: Mapping[Key, _Merged],
    ladder: Sequence[str],
    *,
    home: Path,
    discover: bool,
    sources: tuple[SourceFile, ...] = (),
    notes: Sequence[str] = (),
    error: PolicyError | None = None,
) -> Policy:
    """The typed Policy from merged flat settings (and discovered groups, when asked)."""
    levels = tuple(Level(rank, name) for rank, name in enumerate(ladder))
    by_name = {level.name: level for level in levels}

    def level_at(*key: str) -> Level:
        return by_name[str(merged[key].value)]

    def settings_for(prefix: Key) -> Iterable[tuple[Key, _Merged]]:
        return ((k, m) for k, m in merged.items() if k[: len(prefix)] == prefix)

    def table(*prefix: str) -> dict[str, Level]:
        return {k[len(prefix)]: by_name[str(m.value)] for k, m in settings_for(prefix)}

    markings: dict[str, dict[str, Level]] = {}
    for key, entry in settings_for(("mappings", "markings")):
        markings.setdefault(key[2], {})[key[3]] = by_name[str(entry.value)]
    mappings = Mappings(
        mip=table("mappings", "mip"),
        titus=table("mappings", "titus"),
        boldon_james=table("mappings", "boldon_james"),
        properties=table("mappings", "properties"),
        markings=markings,
        patterns=table("mappings", "patterns"),
    )
    ladder_actions = {
        int(key[1].removeprefix("above_")): Action(entry.value)
        for key, entry in settings_for(("actions",))
    }
    actions: list[Action] = []
    for excess in range(1, len(levels)):
        # The strictest action set for this excess or any smaller one: never milder further up.
        applicable = [a for steps, a in ladder_actions.items() if steps <= excess]
        actions.append(max(applicable) if applicable else Action.CONFIRM)

    settings: dict[str, Setting] = {}
    for key, entry in merged.items():
        settings[key_path(*key)] = Setting(
            key_path(*key), entry.value, entry.source, entry.locked, entry.added_by
        )

    default_clearance = level_at("discovery", "default_clearance")
    groups: list[Group] = []
    for key, entry in settings_for(("groups",)):
        if key[2] != "name":
            continue
        name = str(entry.value)
        clearance_key = key_path("groups", name, "clearance")
        if clearance_key not in settings:
            # No clearance given: the default for groups, from wherever that came.
            default_setting = settings[key_path("discovery", "default_clearance")]
            settings[clearance_key] = Setting(
                clearance_key, default_clearance.name, default_setting.source, False
            )
        folders, outbox, members, external, colour, chat_folders, forwarding = (
            merged[k].value if (k := ("groups", name, f)) in merged else None
            for f in ("folders", "outbox", "members", "external", "colour", "sources", "forwarding")
        )
        groups.append(
            Group(
                name=name,
                folders=_paths(folders, home),
                clearance=by_name[str(settings[clearance_key].value)],
                outbox=expand_home(str(outbox), home) if outbox is not None else None,
                members=members if isinstance(members, int) else None,
                external=external if isinstance(external, bool) else None,
                colour=colour if isinstance(colour, str) else None,
                source=entry.source,
                sources=_paths(chat_folders, home),
                forwarding=Action(forwarding) if isinstance(forwarding, str) else None,
            )
        )
    groups = [group for group in groups if group.folders]

    discovery = Discovery(
        enabled=bool(merged[("discovery", "enabled")].value),
        default_clearance=default_clearance,
        roots=_paths(merged[("discovery", "roots")].value, home),
        exclude=tuple(str(item) for item in _as_list(merged[("discovery", "exclude")].value)),
    )
    canonical = canonical_form(settings)
    if error is not None:
        canonical += "\nhold-everything: " + str(error)
    discovered: list[Group] = []
    if discover and discovery.enabled:
        discovered = discover_groups(
            home,
            clearance=default_clearance,
            extra_roots=discovery.roots,
            exclude=discovery.exclude,
            claimed=[folder for group in groups for folder in group.folders],
            taken_names=[group.name for group in groups],
        )
    return Policy(
        levels=levels,
        unscannable=level_at("levels", "unscannable"),
        unknown_mip_label=level_at("levels", "unknown_mip_label"),
        unmapped=level_at("levels", "unmapped"),
        mappings=mappings,
        actions=tuple(actions),
        groups=(*groups, *discovered),
        discovery=discovery,
        ui=UiPermissions(
            allow_pause=bool(merged[("ui", "allow_pause")].value),
            allow_quit=bool(merged[("ui", "allow_quit")].value),
        ),
        ocr=OcrSettings(
            enabled=bool(merged[("ocr", "enabled")].value),
            required=bool(merged[("ocr", "required")].value),
        ),
        audit=_audit_settings(merged, home),
        settings=settings,
        sources=sources,
        notes=tuple(notes),
        error=error,
        sha256=hashlib.sha256(canonical.encode("utf-8")).hexdigest(),
    )


def _audit_settings(merged: Mapping[Key, _Merged], home: Path) -> AuditSettings:
    def value(name: str) -> object:
        entry = merged.get(("audit", name))
        return entry.value if entry is not None else None

    syslog, http, ca_file = value("syslog"), value("http"), value("ca_file")
    spool, heartbeat = value("spool_limit"), value("heartbeat_seconds")
    return AuditSettings(
        keyring="refuse" if value("keyring") == "refuse" else "degraded",
        syslog=str(syslog) if syslog is not None else None,
        http=str(http) if http is not None else None,
        http_format="ndjson" if value("http_format") == "ndjson" else "hec",
        ca_file=expand_home(str(ca_file), home) if ca_file is not None else None,
        spool_limit=spool if isinstance(spool, int) else AuditSettings.spool_limit,
        heartbeat_seconds=(
            heartbeat if isinstance(heartbeat, int) else AuditSettings.heartbeat_seconds
        ),
    )


# --- loading ---------------------------------------------------------------------------------


def _read(
    path: Path, source: Source, ladder: Sequence[str] | None, *, required: bool
) -> tuple[Layer | None, SourceFile, PolicyError | None]:
    role: Literal["system", "user"] = "system" if source.kind == "system" else "user"
    try:
        layer = read_layer(path, source, ladder)
    except FileNotFoundError:
        if not required:
            return None, SourceFile(role, path, "missing"), None
        error = PolicyError(
            path,
            line=None,
            key=None,
            expected="a policy file",
            got="no file there",
            hint="check the path, or leave out --policy to use the installed policy",
        )
        return None, SourceFile(role, path, "invalid"), error
    except PolicyError as error:
        try:
            digest: str | None = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            digest = None
        return None, SourceFile(role, path, "invalid", digest), error
    return layer, SourceFile(role, path, "loaded", layer.sha256), None


def _trusted(
    layer: Layer | None,
    found: SourceFile,
    error: PolicyError | None,
    owners: Collection[int] | None,
    state_dir: Path,
) -> tuple[Layer | None, SourceFile, PolicyError | None]:
    """The system policy file, refused when others could write it or its signature fails."""
    if found.status == "missing":
        return layer, found, error
    refusal = untrusted_reason(found.path, owners) if owners is not None else None
    if refusal is None and layer is not None:
        try:
            data = found.path.read_bytes()
            if hashlib.sha256(data).hexdigest() != layer.sha256:
                raise PolicyError(
                    found.path,
                    line=None,
                    key=None,
                    expected="a policy that stays the same while it is read",
                    got="a file that changed",
                    hint="SendGuard reads it again when it is reloaded",
                )
            verify_policy(found.path, data, key_path=key_path_for(found.path), state_dir=state_dir)
        except OSError as exc:
            refusal = PolicyError(
                found.path, line=None, key=None, expected="a readable file", got=str(exc)
            )
        except PolicyError as exc:
            refusal = exc
    if refusal is None:
        return layer, found, error
    if error is not None:
        refusal.others.extend(error.all())
    return None, replace(found, status="invalid"), refusal


def _with_managed(
    system: Layer | None, error: PolicyError | None, managed: Sequence[ManagedValues]
) -> tuple[Layer | None, list[SourceFile], PolicyError | None]:
    """The system layer with the OS-managed values over it (they win over the file)."""
    if not managed:
        return system, [], error
    ladder = None
    if system is not None and ("levels", "order") in system.values:
        ladder = [str(name) for name in _as_list(system.values[("levels", "order")])]
    layer, managed_error = managed_layer(managed, ladder)
    status: Literal["loaded", "invalid"] = "invalid" if managed_error else "loaded"
    files = [SourceFile("system", values.where, status) for values in managed]
    if managed_error is not None:
        if error is None:
            return system, files, managed_error
        error.others.extend(managed_error.all())
        return system, files, error
    if layer is not None:
        system = layer if system is None else overlay(system, layer)
    return system, files, error


def load_policy(
    system_path: Path | None = None,
    user_path: Path | None = None,
    *,
    system_required: bool = False,
    home: Path | None = None,
    discover: bool = True,
    data_dir: Path | None = None,
    include_user: bool = True,
    managed: Sequence[ManagedValues] | None = None,
    trusted_owners: Collection[int] | None = None,
    last_good: Path | None = None,
) -> Policy:
    """The effective policy. Never raises for a bad file: it holds more instead.

    `system_path` defaults to this OS's location (``system_policy_path()``); when it was
    given explicitly (``--policy``), pass ``system_required=True`` so a missing file is an
    error rather than "no policy installed". `user_path` defaults to ``user_settings_path``
    (inside `data_dir` when given); `include_user=False` leaves user settings out (to check
    a system policy on its own). `home` is where ``~`` and the sync roots are (tests pass a
    temporary folder); `discover` lists groups under known sync roots.

    Trust (see ``trust.py``, ``signed.py``, ``managed.py``): with the OS location, a system
    policy file not owned by root or writable by others is refused (`trusted_owners` makes
    tests check other files), and the OS-managed values (Group Policy, managed preferences;
    `managed` replaces them in tests) join the system layer. A policy whose folder holds a
    verification key must carry a valid signature; the highest serial accepted is kept in
    `data_dir` (default: the user's data folder).

    A file that cannot be used (docs/policy.md, "When a policy file is broken"): with
    `last_good` (the guard's ``<data dir>/last-good``), each valid file is copied there, and a
    broken one is replaced by its copy; every new file is then held in the folders the broken
    text still names and in discovered groups. Without a copy of every broken file, every new
    file is held everywhere (``Policy.hold_everything``). Either way ``Policy.error`` says why.
    """
    home = home if home is not None else Path.home()
    os_location = system_path is None
    system_path = system_path if system_path is not None else system_policy_path()
    if trusted_owners is None and os_location:
        trusted_owners = TRUSTED_OWNERS
    if managed is None:
        managed = os_managed_values() if os_location else ()
    user_path = user_path if user_path is not None else user_settings_path(data_dir, home=home)
    kept: list[LastGood] = []
    broken: list[Path] = []

    def in_place_of_broken(
        layer: Layer | None, found: SourceFile, ladder: Sequence[str] | None
    ) -> Layer | None:
        """The kept copy of a file that cannot be used, read in its place."""
        if found.status != "invalid":
            return layer
        broken.append(found.path)
        copy = kept_copy(last_good, found.role, found.path) if last_good is not None else None
        if copy is None:
            return None
        try:
            layer = read_layer(copy.copy, Source(found.role, found.path), ladder)
        except (OSError, PolicyError):
            return None  # valid when kept; not under today's ladder: hold everything
        kept.append(copy)
        return layer

    system, system_file, system_error = _read(
        system_path, Source("system", system_path), None, required=system_required
    )
    system, system_file, system_error = _trusted(
        system, system_file, system_error, trusted_owners, data_dir or default_data_dir()
    )
    system = in_place_of_broken(system, system_file, None)
    system, managed_files, system_error = _with_managed(system, system_error, managed)
    installed = system_file.status != "missing" or bool(managed_files)
    if system is not None and ("levels", "order") in system.values:
        system_ladder: tuple[str, ...] | None = tuple(
            str(name) for name in _as_list(system.values[("levels", "order")])
        )
    else:
        system_ladder = DEFAULT_LEVELS if installed else None
    user: Layer | None = None
    user_file: SourceFile | None = None
    user_error: PolicyError | None = None
    if include_user:
        user, user_file, user_error = _read(
            user_path, Source("user", user_path), system_ladder, required=False
        )
        user = in_place_of_broken(user, user_file, system_ladder)

    ladder: tuple[str, ...] = system_ladder or DEFAULT_LEVELS
    if system_ladder is None and user is not None and ("levels", "order") in user.values:
        ladder = tuple(str(name) for name in _as_list(user.values[("levels", "order")]))
    built_in, notes = built_in_layer(ladder)
    merged, merge_notes = merge(built_in, system, user, ladder, managed=installed)
    if ("levels", "order") not in merged:
        merged[("levels", "order")] = _Merged(list(ladder), BUILT_IN, False)
    error = system_error or user_error
    if error is not None and system_error is not None and user_error is not None:
        error.others.extend(user_error.all())
    files = (system_file, *managed_files, *(() if user_file is None else (user_file,)))
    policy = build_policy(
        merged,
        ladder,
        home=home,
        discover=discover,
        sources=files,
        notes=[*notes, *merge_notes],
        error=error,
    )
    policy = _with_folder_lines(policy, (system, user))
    if error is None:
        if last_good is not None:
            keep_last_good(last_good, (system_file, *(() if user_file is None else (user_file,))))
        return policy
    # Guarded by the kept copies only when every broken file had one: broken OS-managed
    # values have no copy, so then everything is held.
    managed_broken = any(found.status == "invalid" for found in managed_files)
    complete = bool(kept) and len(kept) == len(broken) and not managed_broken
    return with_broken_text(policy, broken, home, tuple(kept) if complete else ())


def _with_folder_lines(policy: Policy, layers: Iterable[Layer | None]) -> Policy:
    """Each group with the line its folders are on, so a message can point at it."""
    lines: dict[tuple[str, str], int] = {}
    for layer in layers:
        if layer is None:
            continue
        for key, line in layer.lines.items():
            if len(key) == 3 and key[0] == "groups" and key[2] == "folders":
                lines.setdefault((layer.source.kind, key[1].casefold()), line)
    groups = []
    for group in policy.groups:
        found = lines.get((group.source.kind, group.name.casefold()))
        groups.append(replace(group, line=found) if found is not None else group)
    return replace(policy, groups=tuple(groups))


def with_broken_text(
    policy: Policy, broken: Sequence[Path], home: Path, last_good: tuple[LastGood, ...]
) -> Policy:
    """`policy` (guarded by `last_good`, or holding everything) with every folder the broken
    files still name watched, and every new file held there and in discovered groups."""
    salvaged: list[tuple[Path, SalvagedFolder]] = []
    for path in broken:
        try:
            text = path.read_bytes().decode("utf-8", errors="replace")
        except OSError:
            continue  # unreadable: nothing to salvage; the kept copy and discovery remain
        salvaged.extend((path, found) for found in salvage_folders(text, home))
    named = {found.path for _, found in salvaged}

    def named_by_broken_text(folder: Path) -> bool:
        return any(folder == other or other in folder.parents for other in named)

    groups: list[Group] = []
    for group in policy.groups:
        folders = (*group.folders, *((group.outbox,) if group.outbox else ()))
        hold_all = group.discovered or any(named_by_broken_text(f) for f in folders)
        groups.append(replace(group, hold_all=hold_all) if hold_all else group)
    watched = {f for g in groups for f in (*g.folders, *((g.outbox,) if g.outbox else ()))}
    taken = {group.name.casefold() for group in groups}
    roles = {found.path: found.role for found in policy.sources}
    for path, found in salvaged:
        if found.path in watched:
            continue
        watched.add(found.path)
        name = found.group or found.path.name or str(found.path)
        if name.casefold() in taken:
            name = f"{name} ({found.path})"
        taken.add(name.casefold())
        groups.append(
            Group(
                name=name,
                folders=(found.path,),  # an outbox too: everything is held there anyway
                clearance=policy.levels[0],
                source=Source(roles.get(path, "system"), path, found.line),
                hold_all=True,
            )
        )
    return replace(policy, groups=tuple(groups), last_good=last_good)


def _as_list(value: object) -> list[object]:
    return list(value) if isinstance(value, list) else []


def _paths(value: object, home: Path) -> tuple[Path, ...]:
    return tuple(expand_home(str(item), home) for item in _as_list(value))
