"""Reading one policy file: TOML → a validated layer of settings, or errors that say how to fix.

A layer is flat: every setting has a key path such as ``("groups", "Family", "clearance")``
and a value in canonical form (level and action names, lists of strings). Flat layers make
provenance, locking and the policy hash one mechanism each (see ``layers.py``).

``tomllib`` reports no positions, so lines are found by scanning the text (``locate_keys``).
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import json
import os
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath
from typing import Any

from sendguard.policy.errors import PolicyError
from sendguard.policy.model import DEFAULT_LEVELS, Action, Source

#: One position in a parsed TOML document: table keys and array indices.
RawPath = tuple[str | int, ...]
#: A setting's key in a layer: ``("levels", "unscannable")``, ``("groups", "Family", "clearance")``.
Key = tuple[str, ...]

#: Marking systems the label engine reports (``Finding.system``); ``any`` matches every one.
MARKING_SYSTEMS: tuple[str, ...] = ("tlp", "uk", "us", "nato", "cn", "corporate", "classification")
ANY_SYSTEM = "any"

_TOP_KEYS = ("levels", "mappings", "actions", "ui", "ocr", "discovery", "groups", "audit")
_LEVEL_KEYS = ("order", "unscannable", "unknown_mip_label", "unmapped")
_MAPPING_KEYS = ("mip", "titus", "boldon_james", "properties", "markings", "patterns")
_UI_KEYS = ("allow_pause", "allow_quit")
_OCR_KEYS = ("enabled", "required")
_DISCOVERY_KEYS = ("enabled", "default_clearance", "roots", "exclude")
_AUDIT_KEYS = (
    "keyring",
    "syslog",
    "http",
    "http_format",
    "ca_file",
    "spool_limit",
    "heartbeat_seconds",
)
_SYSLOG_URL = re.compile(r"^(udp|tcp|tls)://(\[[0-9A-Fa-f:.]+\]|[^\s:/\[\]]+):([0-9]{1,5})$")
_HTTP_URL = re.compile(r"^https?://[^\s/?#]+(?:[/?#]\S*)?$")
_GROUP_KEYS = (
    "name",
    "folders",
    "clearance",
    "outbox",
    "members",
    "external",
    "colour",
    "sources",
    "forwarding",
)
_ACTION_KEY = re.compile(r"^above_([1-9][0-9]{0,2})$")
_GUID = re.compile(r"^\{?([0-9A-Fa-f]{8}-(?:[0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12})\}?$")
_COLOUR = re.compile(r"^#(?:[0-9A-Fa-f]{3}|[0-9A-Fa-f]{6})$")
_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")
_MAX_LEVEL_NAME = 60


@dataclass(frozen=True)
class Layer:
    """One validated policy file (or the built-in policy) as flat settings."""

    source: Source
    values: dict[Key, object]
    #: The line of each setting in its file (absent for the built-in policy).
    lines: dict[Key, int] = field(default_factory=dict)
    #: Group names in the order the file lists them.
    groups: tuple[str, ...] = ()
    #: Of the file's bytes.
    sha256: str = ""

    def where(self, key: Key) -> str:
        """``user settings ~/.config/…, line 7``: how a note points at a setting."""
        line = self.lines.get(key)
        return f"{self.source}, line {line}" if line is not None else str(self.source)


def read_layer(path: Path, source: Source, ladder: Sequence[str] | None = None) -> Layer:
    """The validated layer in the file at `path`.

    Raises FileNotFoundError when there is no file (the caller decides whether that is fine)
    and PolicyError for anything else: unreadable, not TOML, or not a valid policy.
    `ladder` is the level names that references must use when the file may not set its own
    (user settings under a system policy); None means its own ``[levels] order`` or the default.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise
    except IsADirectoryError:
        raise PolicyError(
            path,
            line=None,
            key=None,
            expected="a TOML file",
            got="a folder",
            hint=f"put the policy in a file named {path.name} inside it, or point to the file",
        ) from None
    except OSError as exc:
        raise PolicyError(
            path,
            line=None,
            key=None,
            expected="a readable TOML file",
            got=exc.strerror or str(exc),
            hint="make the file readable by every user (on Linux: chmod 644)",
        ) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise PolicyError(
            path,
            line=line,
            key=None,
            expected="UTF-8 text",
            got=f"the byte 0x{data[exc.start]:02x}",
            hint="save the file as UTF-8",
        ) from None
    layer = parse_layer(text, path, source, ladder)
    return Layer(
        source=layer.source,
        values=layer.values,
        lines=layer.lines,
        groups=layer.groups,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def parse_layer(
    text: str, path: Path, source: Source, ladder: Sequence[str] | None = None
) -> Layer:
    """The validated layer in `text` (read from `path`); raises PolicyError."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        position = _TOML_POSITION.search(message)
        if position is not None:
            line: int | None = int(position.group(1))
        elif "end of document" in message:
            line = max(1, len(text.splitlines()))
        else:
            line = None
        hint = (
            "check quotes, brackets and '=' on that line; strings need quotes,"
            ' e.g. clearance = "PUBLIC"'
        )
        opened = _array_opened_before(text, line) if "Unclosed array" in message else None
        if opened is not None:
            hint = f"the list opened on line {opened} is not closed: end it with ']'"
            hint += " and check its quotes"
        raise PolicyError(
            path,
            line=line,
            key=None,
            expected="valid TOML",
            got=_TOML_POSITION.sub("", message).replace("(at end of document)", "").strip(),
            hint=hint,
        ) from None
    checker = _Checker(path, source, locate_keys(text), ladder)
    checker.document(document)
    if checker.errors:
        # In file order, so fixing from the top down works.
        ordered = sorted(checker.errors, key=lambda error: error.line or 0)
        first, *others = ordered
        first.others = others
        raise first
    return Layer(
        source=source,
        values=checker.values,
        lines=checker.lines,
        groups=tuple(checker.group_names),
    )


# --- finding lines ---------------------------------------------------------------------------

_BARE = re.compile(r"[A-Za-z0-9_-]+")
_BASIC = re.compile(r'"(?:[^"\\]|\\.)*"')
_LITERAL = re.compile(r"'[^']*'")


def _array_opened_before(text: str, line: int | None) -> int | None:
    """The line of the ``key = [`` whose ``]`` TOML missed, reported at a later line."""
    if line is None:
        return None
    lines = text.splitlines()
    for number in range(min(line, len(lines)), 0, -1):
        content = lines[number - 1].split("#", 1)[0]
        if "=" in content and content.count("[") > content.count("]"):
            return number
    return None


def _read_key(text: str, pos: int) -> tuple[list[str], int] | None:
    """A dotted key at `pos`: its parts and where it ends; None when there is none."""
    parts: list[str] = []
    while True:
        while pos < len(text) and text[pos] in " \t":
            pos += 1
        for pattern in (_BARE, _BASIC, _LITERAL):
            match = pattern.match(text, pos)
            if match:
                token = match.group(0)
                if pattern is _BASIC:
                    try:
                        token = tomllib.loads(f"k = {token}")["k"]
                    except tomllib.TOMLDecodeError:
                        return None
                elif pattern is _LITERAL:
                    token = token[1:-1]
                parts.append(token)
                pos = match.end()
                break
        else:
            return None
        while pos < len(text) and text[pos] in " \t":
            pos += 1
        if pos < len(text) and text[pos] == ".":
            pos += 1
            continue
        return parts, pos


def locate_keys(text: str) -> dict[RawPath, int]:
    """The line where each table and key in a TOML text starts.

    Paths are as in the parsed document: ``("groups", 0, "clearance")`` for the key under the
    first ``[[groups]]``. Good enough for messages; values spanning lines are skipped over.
    """
    positions: dict[RawPath, int] = {}
    table: RawPath = ()
    counts: dict[RawPath, int] = {}
    open_string: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if open_string is not None:
            if line.count(open_string) % 2 == 1:
                open_string = None
            continue
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("[["):
            found = _read_key(stripped, 2)
            if found is not None:
                base: RawPath = tuple(found[0])
                index = counts.get(base, -1) + 1
                counts[base] = index
                table = (*base, index)
                positions.setdefault(base, number)
                positions.setdefault(table, number)
            continue
        if stripped.startswith("["):
            found = _read_key(stripped, 1)
            if found is not None:
                table = _resolve_table(tuple(found[0]), counts)
                positions.setdefault(table, number)
            continue
        found = _read_key(stripped, 0)
        if found is None or found[1] >= len(stripped) or stripped[found[1]] != "=":
            continue
        full = (*table, *found[0])
        for end in range(len(table) + 1, len(full) + 1):
            positions.setdefault(full[:end], number)
        rest = stripped[found[1] + 1 :]
        for quote in ('"""', "'''"):
            if rest.count(quote) % 2 == 1:
                open_string = quote
                break
    return positions


def _resolve_table(parts: tuple[str, ...], counts: Mapping[RawPath, int]) -> RawPath:
    """``[groups.x]`` after ``[[groups]]`` is inside the latest element of the array."""
    resolved: list[str | int] = []
    for part in parts:
        resolved.append(part)
        index = counts.get(tuple(resolved))
        if index is not None:
            resolved.append(index)
    return tuple(resolved)


def display_raw(path: RawPath) -> str:
    """``groups[0].clearance``; keys that are not bare are quoted."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            text = part if _BARE.fullmatch(part) else json.dumps(part, ensure_ascii=False)
            out += f".{text}" if out else text
    return out


# --- validation ------------------------------------------------------------------------------


def _describe(value: object) -> str:
    """A value as TOML shows it, for ``got …``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, int | float):
        return f"{value} (a number)"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _suggest(word: str, choices: Sequence[str]) -> str | None:
    folded = {choice.casefold(): choice for choice in choices}
    close = difflib.get_close_matches(word.casefold(), list(folded), n=1, cutoff=0.6)
    return folded[close[0]] if close else None


def _is_absolute(path: str) -> bool:
    # A policy may be checked on another OS than the one it is for: accept both forms.
    home = path == "~" or path.startswith(("~/", "~\\"))
    return home or os.path.isabs(path) or PureWindowsPath(path).is_absolute()


def normalise_term(term: str) -> str:
    """How marking terms and label names are compared: case and spacing ignored.

    Upper case after casefolding: one form per term, and it reads like the markings do
    (``TLP:RED``, ``CTP_IC``) where ``policy check`` and ``explain`` show it.
    """
    return " ".join(term.split()).casefold().upper()


def normalise_mip_key(key: str) -> str:
    """A MIP mapping key: a GUID (braces dropped, lower-case) or a label name."""
    match = _GUID.match(key.strip())
    return match.group(1).lower() if match else normalise_term(key)


def normalise_property_key(key: str) -> str:
    """``Classification = Restricted`` and ``classification=restricted`` are one key."""
    name, sep, value = key.partition("=")
    if sep:
        return f"{normalise_term(name)}={normalise_term(value)}"
    return normalise_term(key)


class _Checker:
    """Walks a parsed document, collecting flat settings and every error with its line."""

    def __init__(
        self,
        path: Path,
        source: Source,
        positions: dict[RawPath, int],
        ladder: Sequence[str] | None,
    ) -> None:
        self.path = path
        self.source = source
        self.positions = positions
        self.fixed_ladder = tuple(ladder) if ladder is not None else None
        self.ladder: tuple[str, ...] = self.fixed_ladder or DEFAULT_LEVELS
        self.errors: list[PolicyError] = []
        self.values: dict[Key, object] = {}
        self.lines: dict[Key, int] = {}
        self.group_names: list[str] = []

    # -- reporting

    def line_of(self, raw: RawPath) -> int | None:
        for end in range(len(raw), 0, -1):
            line = self.positions.get(raw[:end])
            if line is not None:
                return line
        return None

    def error(
        self, raw: RawPath, expected: str, got: str | None = None, hint: str | None = None
    ) -> None:
        self.errors.append(
            PolicyError(
                self.path,
                line=self.line_of(raw),
                key=display_raw(raw) or None,
                expected=expected,
                got=got,
                hint=hint,
            )
        )

    def put(self, key: Key, value: object, raw: RawPath) -> None:
        self.values[key] = value
        line = self.line_of(raw)
        if line is not None:
            self.lines[key] = line

    # -- shapes

    def table(self, value: object, raw: RawPath, keys: Sequence[str] | None) -> dict[str, Any]:
        """`value` as a table whose keys are all in `keys` (None: any keys)."""
        if not isinstance(value, dict):
            self.error(raw, "a table", _describe(value), _table_hint(raw))
            return {}
        if keys is not None:
            for name in value:
                if name not in keys:
                    guess = _suggest(name, keys)
                    hint = f'did you mean "{guess}"?' if guess else "remove it or correct its name."
                    self.error(
                        (*raw, name),
                        "one of " + ", ".join(keys),
                        f"the unknown key {json.dumps(name, ensure_ascii=False)}",
                        hint,
                    )
        return value

    def string(self, value: object, raw: RawPath, what: str = "a string") -> str | None:
        if isinstance(value, str) and value.strip():
            return value.strip()
        hint = (
            "write something between the quotes"
            if isinstance(value, str)
            else ('put the value in quotes, e.g. "text"')
        )
        self.error(raw, what, _describe(value), hint)
        return None

    def boolean(self, value: object, raw: RawPath) -> bool | None:
        if isinstance(value, bool):
            return value
        self.error(raw, "true or false", _describe(value), "write true or false without quotes")
        return None

    def strings(self, value: object, raw: RawPath, *, non_empty: bool) -> list[str] | None:
        if not isinstance(value, list):
            self.error(
                raw, "a list of strings", _describe(value), 'write a list, e.g. ["~/Dropbox/Team"]'
            )
            return None
        out: list[str] = []
        for index, item in enumerate(value):
            text = self.string(item, (*raw, index))
            if text is not None:
                out.append(text)
        if non_empty and not value:
            self.error(raw, "at least one entry", "[]", 'e.g. ["~/Dropbox/Team"]')
            return None
        return out if len(out) == len(value) else None

    def folder(self, value: object, raw: RawPath) -> str | None:
        text = self.string(value, raw, "a folder path")
        if text is not None and not _is_absolute(text):
            self.error(
                raw,
                "an absolute folder path or one starting with ~ (your home folder)",
                _describe(text),
                f'write "~/{text}" or the full path',
            )
            return None
        return text

    def folders(self, value: object, raw: RawPath, *, non_empty: bool) -> list[str] | None:
        items = self.strings(value, raw, non_empty=non_empty)
        if items is None:
            return None
        ok = [self.folder(item, (*raw, index)) for index, item in enumerate(items)]
        return [item for item in ok if item is not None] if all(ok) else None

    def level(self, value: object, raw: RawPath) -> str | None:
        """A level name from the ladder in force, in its canonical spelling."""
        choices = ", ".join(self.ladder)
        if not isinstance(value, str):
            self.error(
                raw,
                f"a level name in quotes, one of {choices}",
                _describe(value),
                f'e.g. "{self.ladder[-1]}"',
            )
            return None
        for name in self.ladder:
            if name.casefold() == value.strip().casefold():
                return name
        guess = _suggest(value, self.ladder)
        hint = f'did you mean "{guess}"?' if guess else "use a level from [levels] order."
        self.error(raw, f"one of {choices}", _describe(value), hint)
        return None

    # -- sections

    def document(self, document: dict[str, Any]) -> None:
        self.table(document, (), _TOP_KEYS)
        if "levels" in document:
            self.levels(document["levels"])
        if "mappings" in document:
            self.mappings(document["mappings"])
        if "actions" in document:
            self.actions(document["actions"])
        if "ui" in document:
            ui = self.table(document["ui"], ("ui",), _UI_KEYS)
            for name, value in ui.items():
                if name in _UI_KEYS and (flag := self.boolean(value, ("ui", name))) is not None:
                    self.put(("ui", name), flag, ("ui", name))
        if "ocr" in document:
            ocr = self.table(document["ocr"], ("ocr",), _OCR_KEYS)
            for name, value in ocr.items():
                if name in _OCR_KEYS and (flag := self.boolean(value, ("ocr", name))) is not None:
                    self.put(("ocr", name), flag, ("ocr", name))
        if "discovery" in document:
            self.discovery(document["discovery"])
        if "groups" in document:
            self.groups(document["groups"])
        if "audit" in document:
            self.audit(document["audit"])

    def levels(self, value: object) -> None:
        levels = self.table(value, ("levels",), _LEVEL_KEYS)
        if "order" in levels:
            order = self.order(levels["order"])
            if order is not None:
                self.put(("levels", "order"), list(order), ("levels", "order"))
                if self.fixed_ladder is None:
                    self.ladder = order
        for name in _LEVEL_KEYS[1:]:
            if name in levels and (level := self.level(levels[name], ("levels", name))):
                self.put(("levels", name), level, ("levels", name))

    def order(self, value: object) -> tuple[str, ...] | None:
        raw: RawPath = ("levels", "order")
        names = self.strings(value, raw, non_empty=True)
        if names is None:
            return None
        if len(names) < 2:
            self.error(
                raw,
                "at least two levels, lowest first",
                _describe(names),
                'e.g. ["PUBLIC", "INTERNAL", "CONFIDENTIAL", "SECRET", "TOP SECRET"]',
            )
            return None
        seen: set[str] = set()
        for index, name in enumerate(names):
            if name.casefold() in seen:
                self.error(
                    (*raw, index),
                    "each level once",
                    f"{_describe(name)} twice",
                    "remove the repeated level",
                )
                return None
            if len(name) > _MAX_LEVEL_NAME:
                self.error(
                    (*raw, index),
                    f"a level name of at most {_MAX_LEVEL_NAME} characters",
                    f"{len(name)} characters",
                    "use a shorter name",
                )
                return None
            seen.add(name.casefold())
        return tuple(names)

    def mappings(self, value: object) -> None:
        mappings = self.table(value, ("mappings",), _MAPPING_KEYS)
        simple = {
            "mip": normalise_mip_key,
            "titus": normalise_term,
            "boldon_james": normalise_term,
            "properties": normalise_property_key,
        }
        for name, normalise in simple.items():
            if name in mappings:
                table = self.table(mappings[name], ("mappings", name), None)
                for term, level_name in table.items():
                    raw: RawPath = ("mappings", name, term)
                    if (level := self.level(level_name, raw)) is not None:
                        self.put(("mappings", name, normalise(term)), level, raw)
        if "markings" in mappings:
            self.markings(mappings["markings"])
        if "patterns" in mappings:
            table = self.table(mappings["patterns"], ("mappings", "patterns"), None)
            for pattern, level_name in table.items():
                raw = ("mappings", "patterns", pattern)
                try:
                    re.compile(pattern)
                except re.error as exc:
                    self.error(
                        raw,
                        "a regular expression",
                        f"{_describe(pattern)} ({exc})",
                        "write the key in single quotes so backslashes stay,"
                        " e.g. '\\[PROJECT-X\\]' matches [PROJECT-X]",
                    )
                    continue
                if (level := self.level(level_name, raw)) is not None:
                    self.put(("mappings", "patterns", pattern), level, raw)

    def markings(self, value: object) -> None:
        systems = (*MARKING_SYSTEMS, ANY_SYSTEM)
        markings = self.table(value, ("mappings", "markings"), systems)
        for system, table_value in markings.items():
            if system not in systems:
                continue
            table = self.table(table_value, ("mappings", "markings", system), None)
            for term, level_name in table.items():
                raw: RawPath = ("mappings", "markings", system, term)
                if (level := self.level(level_name, raw)) is not None:
                    self.put(("mappings", "markings", system, normalise_term(term)), level, raw)

    def actions(self, value: object) -> None:
        actions = self.table(value, ("actions",), None)
        names = [action.value for action in Action]
        ladder: list[tuple[int, Action, RawPath]] = []
        most = len(self.ladder) - 1
        for key, item in actions.items():
            raw: RawPath = ("actions", key)
            match = _ACTION_KEY.match(key)
            if match is None:
                self.error(
                    raw,
                    "keys named above_1, above_2, … (how many levels above the clearance)",
                    _describe(key),
                    f'e.g. above_1 = "confirm"; {_suggest_action_key(key)}',
                )
                continue
            steps = int(match.group(1))
            if steps > most:
                self.error(
                    raw,
                    f"above_1 … above_{most}: with {len(self.ladder)} levels a file is at most"
                    f" {most} above a clearance",
                    _describe(key),
                    f"remove it, or set above_{most}",
                )
                continue
            if not isinstance(item, str) or item not in names:
                guess = _suggest(item, names) if isinstance(item, str) else None
                self.error(
                    raw,
                    "one of " + ", ".join(names),
                    _describe(item),
                    f'did you mean "{guess}"?' if guess else 'e.g. "confirm"',
                )
                continue
            ladder.append((steps, Action(item), raw))
        ladder.sort(key=lambda entry: entry[0])
        for (low, milder_than, _), (high, action, raw) in itertools.pairwise(ladder):
            if action < milder_than:
                self.error(
                    raw,
                    f"an action at least as strict as above_{low} ({milder_than.value})",
                    _describe(action.value),
                    "a file further above the clearance must not get a milder prompt;"
                    f" raise above_{high} or lower above_{low}",
                )
        for steps, action, raw in ladder:
            self.put(("actions", f"above_{steps}"), action.value, raw)

    def discovery(self, value: object) -> None:
        discovery = self.table(value, ("discovery",), _DISCOVERY_KEYS)
        for name, item in discovery.items():
            raw: RawPath = ("discovery", name)
            if name == "enabled":
                if (flag := self.boolean(item, raw)) is not None:
                    self.put(raw_key(raw), flag, raw)
            elif name == "default_clearance":
                if (level := self.level(item, raw)) is not None:
                    self.put(raw_key(raw), level, raw)
            elif name == "roots":
                if (roots := self.folders(item, raw, non_empty=False)) is not None:
                    self.put(raw_key(raw), roots, raw)
            elif (
                name == "exclude"
                and (exclude := self.strings(item, raw, non_empty=False)) is not None
            ):
                self.put(raw_key(raw), exclude, raw)

    def groups(self, value: object) -> None:
        if not isinstance(value, list):
            self.error(
                ("groups",),
                "a list of groups, each under its own [[groups]] header",
                _describe(value),
                'write [[groups]] (double brackets), then name = "…", folders = […]',
            )
            return
        names: dict[str, int] = {}
        owners: dict[str, str] = {}
        for index, item in enumerate(value):
            self.group(item, index, names, owners)

    def group(
        self, value: object, index: int, names: dict[str, int], owners: dict[str, str]
    ) -> None:
        raw: RawPath = ("groups", index)
        group = self.table(value, raw, _GROUP_KEYS)
        if not group and not isinstance(value, dict):
            return
        # A misspelt key ("foldrs") is already reported as unknown, with the right name.
        misspelt = {_suggest(key, _GROUP_KEYS) for key in group if key not in _GROUP_KEYS}
        name: str | None = None
        if "name" in group:
            name = self.string(group["name"], (*raw, "name"), "a group name")
        elif "name" not in misspelt:
            self.error(
                raw, 'a name = "…" for the group', "none", 'add e.g. name = "Family" to the group'
            )
        folders = None
        if "folders" in group:
            folders = self.folders(group["folders"], (*raw, "folders"), non_empty=True)
        elif "folders" not in misspelt:
            self.error(
                raw,
                "folders = [ … ], the group's folders",
                "none",
                'add e.g. folders = ["~/Dropbox/Family"]',
            )
        if name is None:
            return
        if name.casefold() in names:
            self.error(
                (*raw, "name"),
                "a name no other group has (case is ignored)",
                f"{_describe(name)}, already the name of groups[{names[name.casefold()]}]",
                "rename one of the groups, or merge their folders into one group",
            )
            return
        names[name.casefold()] = index
        self.group_names.append(name)
        base: Key = ("groups", name)
        self.put((*base, "name"), name, (*raw, "name"))
        if folders is not None:
            for position, folder in enumerate(folders):
                folded = comparable_path(folder)
                if folded in owners and owners[folded] != name:
                    self.error(
                        (*raw, "folders", position),
                        "a folder that belongs to one group only",
                        f"{_describe(folder)}, already a folder of group {owners[folded]!r}",
                        "remove it from one of the groups",
                    )
                owners[folded] = name
            self.put((*base, "folders"), folders, (*raw, "folders"))
        for key in _GROUP_KEYS[2:]:  # name and folders are read above
            if key not in group:
                continue
            item = group[key]
            where: RawPath = (*raw, key)
            if key == "clearance":
                if (level := self.level(item, where)) is not None:
                    self.put((*base, key), level, where)
            elif key == "outbox":
                outbox = self.folder(item, where)
                if outbox is not None and folders is not None and _inside_any(outbox, folders):
                    self.error(
                        where,
                        "an outbox outside the group's folders (it must not be synced)",
                        _describe(outbox),
                        "choose a folder that is not inside the group's folders",
                    )
                elif outbox is not None:
                    self.put((*base, key), outbox, where)
            elif key == "members":
                if isinstance(item, int) and not isinstance(item, bool) and item >= 0:
                    self.put((*base, key), item, where)
                else:
                    self.error(
                        where, "a whole number of 0 or more", _describe(item), "e.g. members = 12"
                    )
            elif key == "external":
                if (flag := self.boolean(item, where)) is not None:
                    self.put((*base, key), flag, where)
            elif key == "sources":
                self.sources(item, where, base, folders or [])
            elif key == "forwarding":
                actions = [action.value for action in Action]
                if isinstance(item, str) and item in actions:
                    self.put((*base, key), item, where)
                else:
                    guess = _suggest(item, actions) if isinstance(item, str) else None
                    self.error(
                        where,
                        "one of " + ", ".join(actions),
                        _describe(item),
                        f'did you mean "{guess}"?' if guess else 'e.g. forwarding = "confirm"',
                    )
            elif isinstance(item, str) and _COLOUR.match(item.strip()):
                self.put((*base, key), item.strip().lower(), where)
            else:
                self.error(where, "a colour as #rrggbb", _describe(item), 'e.g. colour = "#2e7d32"')

    def sources(self, value: object, where: RawPath, base: Key, folders: Sequence[str]) -> None:
        """Chat apps' download folders whose files came from this group (not watched as
        shares: their content is remembered, to recognise it when it is forwarded)."""
        items = self.folders(value, where, non_empty=False)
        if items is None:
            return
        for position, item in enumerate(items):
            if _inside_any(item, folders):
                self.error(
                    (*where, position),
                    "a source folder outside the group's folders",
                    _describe(item),
                    "list the group's own folders under folders, chat download folders here",
                )
                return
        self.put((*base, "sources"), items, where)

    def audit(self, value: object) -> None:
        """``[audit]``: keyring policy, forwarding targets, spool and heartbeat."""
        audit = self.table(value, ("audit",), _AUDIT_KEYS)
        choices = {"keyring": ("degraded", "refuse"), "http_format": ("hec", "ndjson")}
        for name, item in audit.items():
            raw: RawPath = ("audit", name)
            if name in choices:
                if isinstance(item, str) and item in choices[name]:
                    self.put(raw_key(raw), item, raw)
                else:
                    options = choices[name]
                    guess = _suggest(item, options) if isinstance(item, str) else None
                    self.error(
                        raw,
                        "one of " + ", ".join(options),
                        _describe(item),
                        f'did you mean "{guess}"?' if guess else f'e.g. {name} = "{options[0]}"',
                    )
            elif name == "syslog":
                match = _SYSLOG_URL.match(item.strip()) if isinstance(item, str) else None
                if match is not None and 0 < int(match.group(3)) < 65536:
                    self.put(raw_key(raw), match.group(0), raw)
                else:
                    self.error(
                        raw,
                        "a syslog collector as udp://, tcp:// or tls://host:port",
                        _describe(item),
                        'e.g. syslog = "tls://siem.example.org:6514"',
                    )
            elif name == "http":
                if isinstance(item, str) and _HTTP_URL.match(item.strip()):
                    self.put(raw_key(raw), item.strip(), raw)
                else:
                    self.error(
                        raw,
                        "an http:// or https:// URL",
                        _describe(item),
                        'e.g. http = "https://splunk.example.org:8088/services/collector/event"',
                    )
            elif name == "ca_file":
                text = self.string(item, raw, "a file path")
                if text is not None and not _is_absolute(text):
                    self.error(
                        raw,
                        "an absolute file path or one starting with ~",
                        _describe(text),
                        "write the full path of the PEM file",
                    )
                elif text is not None:
                    self.put(raw_key(raw), text, raw)
            elif name in ("spool_limit", "heartbeat_seconds"):
                low, high = (1000, 10_000_000) if name == "spool_limit" else (10, 86_400)
                if isinstance(item, int) and not isinstance(item, bool) and low <= item <= high:
                    self.put(raw_key(raw), item, raw)
                else:
                    self.error(
                        raw,
                        f"a whole number from {low} to {high}",
                        _describe(item),
                        f"e.g. {name} = {100_000 if name == 'spool_limit' else 300}",
                    )


def schema_order(keys: Iterable[Key]) -> list[Key]:
    """`keys` in the order of the file format (levels, mappings, …, groups), for display.

    Within a table, entries keep the order they came in (built-in first, then the files').
    """
    groups: dict[str, int] = {}
    systems = (*MARKING_SYSTEMS, ANY_SYSTEM)

    def rank(names: Sequence[str], name: str) -> int:
        return names.index(name) if name in names else len(names)

    def order(key: Key) -> tuple[int, ...]:
        head = rank(_TOP_KEYS, key[0])
        if key[0] == "levels":
            return (head, rank(_LEVEL_KEYS, key[1]))
        if key[0] == "mappings":
            system = rank(systems, key[2]) if key[1] == "markings" else 0
            return (head, rank(_MAPPING_KEYS, key[1]), system)
        if key[0] == "actions":
            return (head, int(key[1].removeprefix("above_")))
        if key[0] == "ui":
            return (head, rank(_UI_KEYS, key[1]))
        if key[0] == "ocr":
            return (head, rank(_OCR_KEYS, key[1]))
        if key[0] == "discovery":
            return (head, rank(_DISCOVERY_KEYS, key[1]))
        if key[0] == "audit":
            return (head, rank(_AUDIT_KEYS, key[1]))
        index = groups.setdefault(key[1], len(groups))
        return (head, index, rank(_GROUP_KEYS, key[2]))

    return sorted(keys, key=order)


def raw_key(raw: RawPath) -> Key:
    return tuple(str(part) for part in raw)


def comparable_path(path: str) -> str:
    """A path written on any OS, in a form where nesting can be compared as text."""
    return os.path.normpath(path.replace("\\", "/")).replace("\\", "/").casefold().rstrip("/")


def _inside_any(path: str, folders: Sequence[str]) -> bool:
    target = comparable_path(path)
    return any(
        target == (base := comparable_path(folder)) or target.startswith(base + "/")
        for folder in folders
    )


def _suggest_action_key(key: str) -> str:
    digits = re.sub(r"\D", "", key)
    return f"did you mean above_{digits}?" if digits else "name the key above_<n>"


def _table_hint(raw: RawPath) -> str:
    if raw == ("levels",):
        return 'write [levels] on its own line, then order = ["PUBLIC", …] under it'
    if raw:
        return f"write [{display_raw(raw)}] on its own line and the settings under it"
    return "check the file is a TOML policy"
