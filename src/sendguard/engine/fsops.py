"""File moves that never overwrite and never lose a file.

Same file system: one atomic rename that refuses to replace (``renameat2(RENAME_NOREPLACE)``
on Linux, ``renamex_np(RENAME_EXCL)`` on macOS, ``MoveFileEx`` without REPLACE on Windows).
Across file systems: copy to a hidden partial name, fsync, verify the hash, rename the copy
into place without replacing, then unlink the source. A crash at any point leaves the file
whole in at least one place; recovery (in the engine) removes a verified duplicate.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import os
import re
import sys
import uuid
from pathlib import Path

from sendguard.engine import crashpoints

_CHUNK = 1024 * 1024
PARTIAL_MARK = ".sendguard-partial-"


class CrossDevice(OSError):
    """The rename crosses file systems; use `copy_verify_move`."""


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def fsync_dir(path: Path) -> None:
    """Make a rename in `path` durable. Windows has no directory handles to sync."""
    if sys.platform == "win32":  # pragma: no cover - Windows only
        return
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_libc: ctypes.CDLL | None = None


def _c_library() -> ctypes.CDLL:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc


def _rename_noreplace_linux(src: Path, dst: Path) -> bool:
    """True when done; False when the kernel or file system cannot do it (use the fallback)."""
    libc = _c_library()
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd, rename_noreplace = -100, 1
    result = renameat2(at_fdcwd, os.fsencode(src), at_fdcwd, os.fsencode(dst), rename_noreplace)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(dst))


def _rename_noreplace_darwin(src: Path, dst: Path) -> bool:  # pragma: no cover - macOS only
    libc = _c_library()
    rename_excl = 0x4
    if libc.renamex_np(os.fsencode(src), os.fsencode(dst), rename_excl) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOTSUP, errno.EINVAL):
        return False
    raise OSError(code, os.strerror(code), str(dst))


def _link_then_unlink(src: Path, dst: Path) -> None:
    """No-replace by hard link (fails if `dst` exists), then drop the old name. A crash in
    between leaves two names for one file; recovery keeps the one the journal expects."""
    os.link(src, dst)
    crashpoints.point("fsops.linked")
    os.unlink(src)


def rename_no_replace(src: Path, dst: Path, *, sync: bool = True) -> None:
    """Atomically rename `src` to `dst`; FileExistsError if `dst` exists, CrossDevice across
    file systems. Both directories are synced afterwards, unless `sync` is False (a batch
    of renames syncs each directory once, after all of them)."""
    try:
        if sys.platform.startswith("linux"):
            done = _rename_noreplace_linux(src, dst)
        elif sys.platform == "darwin":  # pragma: no cover - macOS only
            done = _rename_noreplace_darwin(src, dst)
        else:  # pragma: no cover - Windows: os.rename never replaces there
            os.rename(src, dst)
            done = True
        if not done:
            _link_then_unlink(src, dst)
    except OSError as exc:
        if exc.errno == errno.EXDEV:
            raise CrossDevice(
                exc.errno, "the destination is on another file system", str(dst)
            ) from exc
        if exc.errno == errno.EEXIST:
            raise FileExistsError(errno.EEXIST, "the destination exists", str(dst)) from exc
        raise
    if not sync:
        return
    fsync_dir(dst.parent)
    if src.parent != dst.parent:
        fsync_dir(src.parent)


def partial_name(dst: Path) -> Path:
    return dst.with_name(f".{dst.name}{PARTIAL_MARK}{uuid.uuid4().hex[:12]}")


_PARTIAL_NAME = re.compile(rf"\..+{re.escape(PARTIAL_MARK)}[0-9a-f]{{12}}")


def is_partial_name(name: str) -> bool:
    """Exactly the names `partial_name` makes, so that a user's own file is never taken
    for one of our half-written copies."""
    return _PARTIAL_NAME.fullmatch(name) is not None


def copy_verified(src: Path, dst: Path) -> str:
    """Copy `src` to the new name `dst` (never replacing one): written under a partial name,
    fsynced, read back and compared, then renamed into place. Returns the SHA-256 copied."""
    partial = partial_name(dst)
    source_digest = hashlib.sha256()
    try:
        with open(src, "rb") as reader, open(partial, "xb") as writer:
            while chunk := reader.read(_CHUNK):
                source_digest.update(chunk)
                writer.write(chunk)
            writer.flush()
            os.fsync(writer.fileno())
        crashpoints.point("fsops.copied")
        if sha256_file(partial) != source_digest.hexdigest():
            raise OSError(errno.EIO, "the copy does not read back identical", str(partial))
        rename_no_replace(partial, dst)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return source_digest.hexdigest()


def copy_verify_move(src: Path, dst: Path) -> str:
    """Move across file systems without a moment where the file exists nowhere.

    Returns the SHA-256 of the bytes moved. Raises (leaving `src` untouched) if the copy
    cannot be written or does not read back identical.
    """
    digest = copy_verified(src, dst)
    crashpoints.point("fsops.placed")
    os.unlink(src)
    fsync_dir(src.parent)
    return digest


def move_no_replace(src: Path, dst: Path, *, sync: bool = True) -> None:
    """Rename when possible; copy, verify and unlink across file systems (always synced).
    `sync=False`: the caller syncs both directories after a batch of renames."""
    try:
        rename_no_replace(src, dst, sync=sync)
    except CrossDevice:
        if dst.exists():
            raise FileExistsError(errno.EEXIST, "the destination exists", str(dst)) from None
        copy_verify_move(src, dst)


def free_name(folder: Path, name: str) -> Path:
    """`name` in `folder`, or the first free ``stem (SendGuard N).ext`` if it is taken."""
    candidate = folder / name
    if not candidate.exists() and not candidate.is_symlink():
        return candidate
    path = Path(name)
    suffix = "".join(path.suffixes[-1:])
    stem = name[: len(name) - len(suffix)] if suffix else name
    number = 2
    while True:
        candidate = folder / f"{stem} (SendGuard {number}){suffix}"
        if not candidate.exists() and not candidate.is_symlink():
            return candidate
        number += 1
