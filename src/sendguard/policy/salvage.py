"""The group folders a broken policy file still names, read line by line.

A policy that cannot be parsed has no groups, so nothing would be watched: fail open exactly
when an admin's typo reaches every workstation. This reads the text as leniently as it can —
a missing bracket or quote, a line that is not TOML at all — and finds every path written on
a ``folders`` or ``outbox`` line (and the lines an open ``folders = [`` continues on), with the
``name`` of the ``[[groups]]`` entry it is under. Every new file in those folders is then held
until the file is fixed (``layers.load_policy``).

Chat apps' download folders (``sources``) and discovery roots are left out on purpose: files
there come from the group, and holding them is never what a broken policy should do.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath

from sendguard.policy.discovery import expand_home

_GROUPS_HEADER = re.compile(r"^\s*\[\[\s*groups\s*\]\]")
_TABLE_HEADER = re.compile(r"^\s*\[")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-\"' ]+?)\s*=\s*(.*)$")
_FOLDER_KEYS = {"folders": False, "outbox": True}
_WINDOWS_ABSOLUTE = re.compile(r"^(?:[A-Za-z]:[\\/]|\\\\)")


@dataclass(frozen=True)
class SalvagedFolder:
    path: Path
    #: Where the path was written (1-based), for the message that names it.
    line: int
    #: The ``name`` of the ``[[groups]]`` entry it is in, when that could be read.
    group: str | None
    outbox: bool


def _strings(text: str) -> tuple[list[str], bool]:
    """The quoted strings on one line (a quote left open runs to the line's end), and
    whether an array was closed on it. A ``#`` outside quotes ends the line."""
    found: list[str] = []
    closed = False
    index = 0
    bare: list[str] = []
    while index < len(text):
        char = text[index]
        if char in "\"'":
            end = index + 1
            while end < len(text) and text[end] != char:
                end += 2 if char == '"' and text[end] == "\\" else 1
            found.append(_unescape(text[index + 1 : end]) if char == '"' else text[index + 1 : end])
            index = end + 1
            continue
        if char == "#":
            break
        if char == "]":
            closed = True
        bare.append(char if char not in "[]," else "\n")
        index += 1
    if not found:
        # No quotes at all (``folders = [/home/me/Family]``): the words between separators.
        found = [word.strip() for word in "".join(bare).split("\n") if word.strip()]
    return found, closed


def _unescape(inner: str) -> str:
    try:
        value = json.loads(f'"{inner}"')
    except ValueError:
        return inner.replace("\\\\", "\\")
    return value if isinstance(value, str) else inner


def _looks_like_path(text: str) -> bool:
    return text.startswith(("/", "~")) or bool(_WINDOWS_ABSOLUTE.match(text))


def salvage_folders(text: str, home: Path) -> list[SalvagedFolder]:
    """Every group folder and outbox `text` names, in file order, however broken it is."""
    found: list[SalvagedFolder] = []
    block_start = 0  # index in `found` where the current [[groups]] entry's folders begin
    name: str | None = None
    in_groups = False
    open_array: bool = False  # a ``folders = [`` whose closing bracket has not come yet

    def close_block() -> None:
        for index in range(block_start, len(found)):
            if found[index].group is None and name is not None:
                item = found[index]
                found[index] = SalvagedFolder(item.path, item.line, name, item.outbox)

    def add(words: list[str], line: int, outbox: bool) -> None:
        for word in words:
            word = word.strip()
            if not _looks_like_path(word):
                continue
            if _WINDOWS_ABSOLUTE.match(word):
                path = Path(str(PureWindowsPath(word)))
            else:
                path = expand_home(word, home)
            found.append(SalvagedFolder(path, line, None, outbox))

    for number, line in enumerate(text.splitlines(), start=1):
        if _GROUPS_HEADER.match(line):
            close_block()
            block_start, name, in_groups, open_array = len(found), None, True, False
            continue
        if _TABLE_HEADER.match(line) and not open_array:
            close_block()
            block_start, name, in_groups = len(found), None, False
            continue
        match = _KEY.match(line)
        key = match.group(1).strip().strip("\"'").casefold() if match else None
        if match is not None and key is not None:
            open_array = False  # a new key: the array left open before it has ended
            rest = match.group(2)
            if key == "name" and in_groups:
                words, _ = _strings(rest)
                name = words[0] if words else name
            elif key in _FOLDER_KEYS and in_groups:
                words, closed = _strings(rest)
                add(words, number, _FOLDER_KEYS[key])
                open_array = key == "folders" and rest.lstrip().startswith("[") and not closed
            continue
        if open_array:
            words, closed = _strings(line)
            add(words, number, False)
            open_array = not closed
    close_block()
    return found
