"""The version of a file the group had before it was changed, where a sync client keeps one.

Syncthing's "simple" and "staggered" versioning (lib/versioner/util.go, TagFilename) keep
replaced and deleted files in ``.stversions`` at the folder's root, under the same relative
folder, named ``<stem>~<YYYYMMDD-HHMMSS><extension>``.
"""

from __future__ import annotations

import re
from pathlib import Path

from sendguard.engine.arrivals.clients import marker_above

_TAG = re.compile(r"~(\d{8}-\d{6})$")


def previous_version(path: Path) -> Path | None:
    """The newest kept version of `path`, or None where no client keeps one."""
    marker = marker_above(path.parent, [".stfolder"])
    if marker is None:
        return None
    root = marker.parent
    try:
        relative = path.relative_to(root)
    except ValueError:
        return None
    folder = root / ".stversions" / relative.parent
    stem, suffix = _split(path.name)
    best: tuple[str, Path] | None = None
    try:
        candidates = list(folder.iterdir())
    except OSError:
        return None
    for candidate in candidates:
        c_stem, c_suffix = _split(candidate.name)
        match = _TAG.search(c_stem)
        if match is None or c_suffix != suffix or c_stem[: match.start()] != stem:
            continue
        if best is None or match[1] > best[0]:
            best = (match[1], candidate)
    return best[1] if best else None


def _split(name: str) -> tuple[str, str]:
    """Syncthing's split: the extension is what follows the last dot (none for dot files)."""
    dot = name.rfind(".")
    if dot <= 0:
        return name, ""
    return name[:dot], name[dot:]
