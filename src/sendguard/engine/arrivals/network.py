"""Group folders on network file systems (SMB/CIFS, NFS, SSHFS, …).

inotify reports only the changes made through this machine's own mount: what another
computer writes on the server is never seen as an event. So every arrival SendGuard sees
there was made by a program on this machine — a share, whatever its name.
"""

from __future__ import annotations

import os
from pathlib import Path

NETWORK_TYPES = frozenset(
    {
        "cifs",
        "smb3",
        "smbfs",
        "nfs",
        "nfs4",
        "fuse.sshfs",
        "9p",
        "afs",
        "ceph",
        "fuse.davfs2",
        "davfs",
        "fuse.rclone",
        "glusterfs",
        "fuse.glusterfs",
    }
)


def _unescape(field: str) -> str:
    """Mount points in /proc/self/mountinfo escape space, tab, newline and backslash."""
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\" and i + 3 < len(field) and field[i + 1 : i + 4].isdigit():
            out.append(chr(int(field[i + 1 : i + 4], 8)))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def mounts(mountinfo: Path = Path("/proc/self/mountinfo")) -> list[tuple[Path, str]]:
    """(mount point, file system type) of every mount; empty where the OS has no mountinfo."""
    try:
        lines = mountinfo.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    found = []
    for line in lines:
        fields = line.split(" ")
        try:
            separator = fields.index("-")
        except ValueError:
            continue
        if len(fields) > separator + 1 and len(fields) > 4:
            found.append((Path(_unescape(fields[4])), fields[separator + 1]))
    return found


def file_system_type(folder: Path, table: list[tuple[Path, str]] | None = None) -> str | None:
    """The type of the file system `folder` lives on (the longest matching mount point)."""
    try:
        resolved = Path(os.path.realpath(folder))
    except OSError:
        return None
    best: tuple[int, str] | None = None
    for point, kind in mounts() if table is None else table:
        if resolved == point or point in resolved.parents:
            depth = len(point.parts)
            if best is None or depth >= best[0]:
                best = (depth, kind)
    return best[1] if best else None


def is_network(kind: str | None) -> bool:
    return kind is not None and (kind in NETWORK_TYPES or kind.startswith(("nfs", "smb")))
