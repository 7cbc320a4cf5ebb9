"""Groups found without a policy: each sub-folder of a known sync root is a group.

A synced folder such as ``~/Dropbox/Family`` is usually shared with some people, so it is
treated as a group with the policy's default clearance until a policy names it. The only
I/O is listing folders; `home` is a parameter so tests use a temporary folder.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sendguard.policy.model import Group, Level, Source

#: (service, glob pattern under the home folder) for the sync clients' default locations.
KNOWN_ROOTS: tuple[tuple[str, str], ...] = (
    ("Dropbox", "Dropbox"),
    ("Dropbox", "Dropbox (*)"),  # Dropbox with a team: "Dropbox (Contoso)", "Dropbox (Personal)"
    ("OneDrive", "OneDrive"),
    ("OneDrive", "OneDrive - *"),  # OneDrive for work or school: "OneDrive - Contoso"
    ("Nextcloud", "Nextcloud"),
    ("ownCloud", "ownCloud"),
    ("Seafile", "Seafile"),
    ("Syncthing", "Sync"),  # Syncthing's default folder
    ("Google Drive", "Google Drive"),
    ("Google Drive", "GoogleDrive"),
    ("Google Drive", "My Drive"),
    # macOS File Provider locations (current Dropbox, OneDrive and Google Drive clients).
    ("Dropbox", "Library/CloudStorage/Dropbox*"),
    ("OneDrive", "Library/CloudStorage/OneDrive*"),
    ("Google Drive", "Library/CloudStorage/GoogleDrive-*"),
)

#: Folders inside a root that hold groups rather than being one (Google Drive's layout).
CONTAINERS = frozenset({"My Drive", "Shared drives"})


@dataclass(frozen=True)
class SyncRoot:
    service: str
    path: Path


def expand_home(path: str, home: Path) -> Path:
    """`path` with a leading ``~`` replaced by `home`, normalised (no file-system access)."""
    if path == "~" or path.startswith(("~/", "~\\")):
        path = str(home) + path[1:]
    return Path(os.path.normpath(path))


def find_sync_roots(home: Path, extra: Iterable[Path] = ()) -> list[SyncRoot]:
    """The known sync roots that exist under `home`, then the `extra` roots that exist."""
    roots: list[SyncRoot] = []
    seen: set[Path] = set()
    candidates: list[tuple[str, Path]] = []
    for service, pattern in KNOWN_ROOTS:
        candidates.extend((service, path) for path in sorted(home.glob(pattern)))
    candidates.extend(("folder", Path(path)) for path in extra)
    for service, path in candidates:
        if path in seen or not path.is_dir():
            continue
        seen.add(path)
        roots.append(SyncRoot(service, path))
    return roots


def _sub_folders(folder: Path) -> list[Path]:
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError:
        return []  # vanished or not readable: nothing to discover there
    out: list[Path] = []
    for entry in entries:
        # Hidden and client-internal folders (.dropbox.cache, .stversions, ~$…) are not groups.
        if entry.name.startswith((".", "~", "$")):
            continue
        try:
            if entry.is_dir():
                out.append(Path(entry.path))
        except OSError:
            continue
    return out


def _excluded(folder: Path, patterns: Sequence[str], home: Path) -> bool:
    for pattern in patterns:
        if any(sep in pattern for sep in "/\\") or pattern.startswith("~"):
            if fnmatch.fnmatch(str(folder), str(expand_home(pattern, home))):
                return True
        elif fnmatch.fnmatch(folder.name, pattern):
            return True
    return False


def _covered(folder: Path, claimed: Sequence[Path]) -> bool:
    """True when a configured group already owns `folder` (it or a folder above it)."""
    return any(folder == owned or owned in folder.parents for owned in claimed)


def discover_groups(
    home: Path,
    *,
    clearance: Level,
    extra_roots: Iterable[Path] = (),
    exclude: Sequence[str] = (),
    claimed: Sequence[Path] = (),
    taken_names: Iterable[str] = (),
) -> list[Group]:
    """A group for each immediate sub-folder of each sync root, with `clearance`.

    `exclude` holds folder-name patterns (``Documents``) or path patterns
    (``~/OneDrive - */Documents``). Folders owned by a configured group (`claimed`, or below
    one) are left to that group. A name already in use gets its root added:
    ``Family (Dropbox (Personal))``.
    """
    names = {name.casefold() for name in taken_names}
    groups: list[Group] = []
    for root in find_sync_roots(home, extra_roots):
        candidates: list[Path] = []
        for folder in _sub_folders(root.path):
            if folder.name in CONTAINERS:
                candidates.extend(_sub_folders(folder))
            else:
                candidates.append(folder)
        for folder in candidates:
            if _excluded(folder, exclude, home) or _covered(folder, claimed):
                continue
            name = folder.name
            if name.casefold() in names:
                name = f"{folder.name} ({root.path.name})"
            suffix = 2
            while name.casefold() in names:
                name = f"{folder.name} ({root.path.name}) {suffix}"
                suffix += 1
            names.add(name.casefold())
            groups.append(
                Group(
                    name=name,
                    folders=(folder,),
                    clearance=clearance,
                    source=Source("discovered", root.path),
                )
            )
    return groups
