"""The last valid copy of each policy file, kept on disk to guard with while the file is broken.

When a policy file can be used, its bytes are copied into ``<data dir>/last-good`` with their
SHA-256 in ``manifest.json``. When it later cannot be read or parsed, ``load_policy`` reads the
copy in its place — after an edit while running and after a restart alike — and the broken
text still names the folders to hold everything in (``salvage.py``).

The copy is checked against its hash before use: a copy that does not match is not used, and
everything is held instead. The copy lives in the user's own data folder, so it protects
against mistakes, not against the user: a user who can edit it could also stop SendGuard.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from sendguard.paths import LAST_GOOD_DIR  # noqa: F401 - the one name, kept here for callers
from sendguard.policy.model import LastGood, SourceFile

MANIFEST = "manifest.json"
Role = Literal["system", "user"]


def _copy_name(role: Role) -> str:
    return "policy.toml" if role == "system" else "settings.toml"


def _manifest(folder: Path) -> dict[str, dict[str, object]]:
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_atomically(path: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def keep(folder: Path, files: Iterable[SourceFile]) -> list[str]:
    """Keep a copy of every loaded policy file in `files` whose bytes still hash as they did
    when loaded; forget the copy of a file that is gone on purpose ("missing"). Returns the
    problems (nothing is raised: keeping a copy must never stop the guard)."""
    problems: list[str] = []
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        return [f"the last good policy cannot be kept in {folder}: {exc.strerror or exc}"]
    manifest = _manifest(folder)
    changed = False
    for found in files:
        role: Role = found.role
        if found.status == "missing":
            if manifest.pop(role, None) is not None:
                changed = True
                with contextlib.suppress(OSError):
                    (folder / _copy_name(role)).unlink()
            continue
        if found.status != "loaded" or not found.sha256:
            continue
        entry = manifest.get(role)
        if entry and entry.get("sha256") == found.sha256 and entry.get("path") == str(found.path):
            continue  # kept already
        try:
            data = found.path.read_bytes()
        except OSError as exc:
            problems.append(f"the last good copy of {found.path} was not kept: {exc}")
            continue
        digest = hashlib.sha256(data).hexdigest()
        if digest != found.sha256:
            continue  # changed since it was read: the next load keeps the new one
        try:
            _write_atomically(folder / _copy_name(role), data)
        except OSError as exc:
            problems.append(f"the last good copy of {found.path} was not kept: {exc}")
            continue
        manifest[role] = {"path": str(found.path), "sha256": digest, "kept": time.time()}
        changed = True
    if changed:
        try:
            _write_atomically(
                folder / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True).encode()
            )
        except OSError as exc:
            problems.append(f"the last good policy cannot be kept in {folder}: {exc}")
    return problems


def kept_copy(folder: Path, role: Role, path: Path) -> LastGood | None:
    """The kept copy of the policy file at `path`, when there is one and it is intact."""
    entry = _manifest(folder).get(role)
    if not entry or entry.get("path") != str(path):
        return None
    copy = folder / _copy_name(role)
    try:
        digest = hashlib.sha256(copy.read_bytes()).hexdigest()
    except OSError:
        return None
    if digest != entry.get("sha256"):
        return None
    kept = entry.get("kept")
    return LastGood(
        role=role,
        path=path,
        copy=copy,
        sha256=digest,
        kept=float(kept) if isinstance(kept, int | float) else 0.0,
    )
