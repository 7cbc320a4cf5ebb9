"""Policy set through the OS's management: Windows Group Policy and macOS managed preferences.

Both carry the same values:

- ``Policy``: a whole policy document in TOML (groups, mappings, anything) — a multi-string
  (``REG_MULTI_SZ``, one line per string), a string, or a plist string;
- any other value is one setting named by its key path as ``policy check`` prints it
  (``levels.unscannable``, ``actions.above_2``, ``ui.allow_quit``, ``discovery.exclude``):
  a string (``REG_SZ``) for names, a ``REG_DWORD`` of 0 or 1 (or a plist boolean) for
  true/false, a multi-string (or a plist array) for lists. Groups go in ``Policy``.

The separate values win over the same key inside ``Policy``, and both win over the system
policy file: together they form the system layer, which locks what it sets. A value that is
not valid is an error like one in the file, and SendGuard holds everything.

Windows: ``HKLM\\Software\\Policies\\SendGuard`` (written by Group Policy from the ADMX
templates in ``packaging/windows``). macOS: the forced values an MDM profile installs in
``/Library/Managed Preferences/org.sendguard.SendGuard.plist`` and, for one user,
``/Library/Managed Preferences/<user>/org.sendguard.SendGuard.plist``; values the user could
set (``~/Library/Preferences``, "set once" preferences) are not read.
"""

from __future__ import annotations

import json
import os
import plistlib
import re
import sys
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath
from typing import Protocol
from xml.parsers.expat import ExpatError

from sendguard.policy.errors import PolicyError
from sendguard.policy.load import Key, Layer, parse_layer
from sendguard.policy.model import Source

REGISTRY_KEY = r"Software\Policies\SendGuard"
REGISTRY_DISPLAY = "HKLM\\" + REGISTRY_KEY
PREFERENCE_DOMAIN = "org.sendguard.SendGuard"
MANAGED_PREFERENCES = Path("/Library/Managed Preferences")

#: The value that carries a whole policy document.
DOCUMENT_VALUE = "Policy"
_BARE = re.compile(r"^[A-Za-z0-9_-]+$")

# winreg's value types, repeated here so the reader can be tested where winreg is missing.
REG_SZ = 1
REG_EXPAND_SZ = 2
REG_DWORD = 4
REG_BINARY = 3
REG_MULTI_SZ = 7


@dataclass(frozen=True)
class ManagedValues:
    """The values one OS source sets, and where they came from (for provenance)."""

    where: Path
    values: Mapping[str, object]


class RegistryAccess(Protocol):
    """Read access to one registry key under HKEY_LOCAL_MACHINE (winreg, or a test's fake)."""

    def values(self, key: str) -> Iterable[tuple[str, object, int]] | None:
        """Every value of `key` as (name, data, type); None when the key does not exist."""


class WindowsRegistry:
    """`RegistryAccess` through winreg, reading the 64-bit view of HKLM."""

    def values(self, key: str) -> Iterable[tuple[str, object, int]] | None:
        if sys.platform == "win32":
            return _winreg_values(key)
        return None


if sys.platform == "win32":
    import winreg

    def _winreg_values(key: str) -> list[tuple[str, object, int]] | None:
        try:
            handle = winreg.OpenKey(
                winreg.HKEY_LOCAL_MACHINE, key, 0, winreg.KEY_READ | winreg.KEY_WOW64_64KEY
            )
        except FileNotFoundError:
            return None
        found: list[tuple[str, object, int]] = []
        with handle:
            index = 0
            while True:
                try:
                    name, data, kind = winreg.EnumValue(handle, index)
                except OSError:
                    break
                found.append((name, data, kind))
                index += 1
        return found


def read_registry(registry: RegistryAccess) -> ManagedValues | None:
    """The values under ``HKLM\\Software\\Policies\\SendGuard``; None when the key is absent."""
    entries = registry.values(REGISTRY_KEY)
    if entries is None:
        return None
    where = Path(str(PureWindowsPath(REGISTRY_DISPLAY)))
    values: dict[str, object] = {}
    for name, data, kind in entries:
        if kind == REG_MULTI_SZ and isinstance(data, list):
            values[name] = [str(line) for line in data]
        elif (kind == REG_DWORD and isinstance(data, int)) or (
            kind in (REG_SZ, REG_EXPAND_SZ) and isinstance(data, str)
        ):
            values[name] = data
        else:
            values[name] = _Unsupported(kind)
    return ManagedValues(where, values) if values else None


def read_managed_preferences(
    user: str | None = None,
    root: Path = MANAGED_PREFERENCES,
    trusted_owners: Collection[int] = (0,),
) -> list[ManagedValues]:
    """Forced values from MDM: the computer's, then `user`'s (which win). Files not owned by
    root are skipped: only the system writes managed preferences. Keys macOS adds about the
    profile itself (``Payload…``) are not settings."""
    candidates = [root / f"{PREFERENCE_DOMAIN}.plist"]
    if user:
        candidates.append(root / user / f"{PREFERENCE_DOMAIN}.plist")
    found: list[ManagedValues] = []
    for path in candidates:
        try:
            info = os.stat(path)
            if info.st_uid not in trusted_owners:
                continue
            with path.open("rb") as handle:
                data = plistlib.load(handle)
        except FileNotFoundError:
            continue
        except (OSError, plistlib.InvalidFileException, ValueError, ExpatError) as exc:
            found.append(ManagedValues(path, {"": _Unreadable(str(exc))}))
            continue
        if isinstance(data, dict):
            settings = {k: v for k, v in data.items() if not str(k).startswith("Payload")}
            if settings:
                found.append(ManagedValues(path, settings))
    return found


def os_managed_values(platform: str = sys.platform) -> list[ManagedValues]:
    """What this OS's management sets for SendGuard (nothing on Linux)."""
    if platform == "win32":
        values = read_registry(WindowsRegistry())
        return [values] if values is not None else []
    if platform == "darwin":
        user = os.environ.get("USER") or os.environ.get("LOGNAME")
        return read_managed_preferences(user)
    return []


@dataclass(frozen=True)
class _Unsupported:
    kind: int


@dataclass(frozen=True)
class _Unreadable:
    reason: str


def managed_layer(
    sources: Sequence[ManagedValues], ladder: Sequence[str] | None
) -> tuple[Layer | None, PolicyError | None]:
    """The OS-managed values as one system layer (later sources win), or the first error.

    `ladder` is the level names of the system policy file, when it sets its own.
    """
    combined: Layer | None = None
    for managed in sources:
        try:
            layer = _layer_from(managed, ladder)
        except PolicyError as error:
            return None, error
        if layer is None:
            continue
        if ("levels", "order") in layer.values and ladder is None:
            ladder = [str(name) for name in _as_list(layer.values[("levels", "order")])]
        combined = layer if combined is None else overlay(combined, layer)
    return combined, None


def overlay(base: Layer, top: Layer) -> Layer:
    """One layer: `top`'s values over `base`'s (both system sources)."""
    values: dict[Key, object] = {**base.values, **top.values}
    lines = {k: v for k, v in base.lines.items() if k not in top.values}
    groups = (*base.groups, *(name for name in top.groups if name not in base.groups))
    return Layer(source=top.source, values=values, lines=lines, groups=groups, sha256=top.sha256)


def _layer_from(managed: ManagedValues, ladder: Sequence[str] | None) -> Layer | None:
    source = Source("system", managed.where)
    where = managed.where
    document_layer: Layer | None = None
    sections: dict[tuple[str, ...], list[str]] = {}
    for name, value in managed.values.items():
        if isinstance(value, _Unreadable):
            raise _error(where, None, "a readable property list", value.reason, "reinstall it")
        if isinstance(value, _Unsupported):
            raise _error(
                where,
                name,
                "a string, a multi-string or a DWORD",
                f"registry value type {value.kind}",
                "set it through the SendGuard administrative template",
            )
        if name == DOCUMENT_VALUE:
            if isinstance(value, list) and all(isinstance(line, str) for line in value):
                value = "\n".join(value)
            if not isinstance(value, str):
                raise _error(where, name, "a policy document (TOML text)", _describe(value))
            document_layer = parse_layer(value, where, source, ladder)
            if ("levels", "order") in document_layer.values and ladder is None:
                ladder = [str(n) for n in _as_list(document_layer.values[("levels", "order")])]
            continue
        *table, key = name.split(".")
        if not table or not all(table) or not key:
            raise _error(
                where,
                name,
                f"{DOCUMENT_VALUE}, or a setting's key such as ui.allow_quit",
                json.dumps(name, ensure_ascii=False),
                "name the value as `sendguard policy check` names the setting",
            )
        sections.setdefault(tuple(table), []).append(f"{_toml_key(key)} = {_toml_value(value)}")
    scalars: list[str] = []
    for header, lines in sections.items():
        scalars.append("[" + ".".join(_toml_key(part) for part in header) + "]")
        scalars.extend(lines)
    scalar_layer = (
        parse_layer("\n".join(scalars) + "\n", where, source, ladder) if scalars else None
    )
    if document_layer is None:
        return scalar_layer
    if scalar_layer is None:
        return document_layer
    return overlay(document_layer, scalar_layer)


def _toml_key(key: str) -> str:
    return key if _BARE.fullmatch(key) else json.dumps(key, ensure_ascii=False)


def _toml_value(value: object) -> str:
    """A registry or plist value as TOML: a DWORD of 0 or 1 is a boolean (Group Policy has no
    boolean type); other numbers stay numbers, so the policy's checks name them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and value in (0, 1):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(str(value), ensure_ascii=False)


def _boolean(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    return None


def _describe(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return f"{value} (a number)"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return type(value).__name__


def _as_list(value: object) -> list[object]:
    return list(value) if isinstance(value, list) else []


def _error(
    where: Path, name: str | None, expected: str, got: str, hint: str | None = None
) -> PolicyError:
    return PolicyError(where, line=None, key=name, expected=expected, got=got, hint=hint)
