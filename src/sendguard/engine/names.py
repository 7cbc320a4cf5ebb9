"""File names that are never shares: editors' and sync clients' temporary and partial files."""

from __future__ import annotations

import fnmatch
import re

from sendguard.engine.fsops import is_partial_name
from sendguard.engine.holdarea import NOTE_SUFFIX

#: Shell patterns, matched case-insensitively against the file name alone.
TEMPORARY_PATTERNS: tuple[str, ...] = (
    "~$*",  # Office owner files
    ".~lock.*#",  # LibreOffice locks
    "*.tmp",
    "*.temp",
    "*.part",
    "*.partial",
    "*.crdownload",  # Chrome
    "*.download",  # Safari
    "*.opdownload",  # Opera
    ".*.swp",  # vim
    "*~",
    ".#*",  # emacs locks
    ".goutputstream-*",  # GNOME's atomic writes
    ".dropbox*",
    "*.dropbox.attr",
    ".~*",  # Nextcloud/ownCloud downloads in progress
    "*.~*",
    ".sync_*.db*",
    "._sync_*.db*",
    ".owncloudsync.log*",
    ".syncthing.*.tmp",
    "~syncthing~*.tmp",
    ".stfolder",
    ".stversions",  # Syncthing's kept versions (lib/versioner)
    ".stignore",
    ".tmp.drivedownload",
    ".tmp.driveupload",
    "*.odlgz",
    ".seafile-*",
    "*.sbak",  # Seafile's copy of a file it is replacing (common/fs-mgr.c, SEAF_BACKUP_EXT)
    "desktop.ini",
    "thumbs.db",
    ".ds_store",
    "._*",  # macOS AppleDouble
    f"*{NOTE_SUFFIX}",
)
#: Conflict copies and backups made by sync clients: ``x (Ann's conflicted copy 2024-01-02).docx``,
#: ``x.sync-conflict-20240102-101010-ABCDEFG.docx``, ``x (conflicted copy 2024-01-02 101010).docx``,
#: Nextcloud's ``x (case clash from 2024-01-02 101010).docx``, Seafile's
#: ``x (SFConflict ann@example.com 2024-01-02-10-10-10).docx`` and OneDrive for Linux's
#: ``x-<host>-safeBackup-0001.docx``.
_CONFLICT = re.compile(
    r"(conflicted copy|\.sync-conflict-\d{8}-\d{6}|_conflict-\d{8}-\d{6}|"
    r"\(conflict(ed)? (copy )?\d{4}-\d{2}-\d{2}|\(case clash from \d{4}-\d{2}-\d{2}|"
    r"\(SFConflict [^)]*\)|-safeBackup-\d{4})",
    re.IGNORECASE,
)
_COMPILED = re.compile(
    "|".join(fnmatch.translate(pattern) for pattern in TEMPORARY_PATTERNS), re.IGNORECASE
)


def is_temporary(name: str) -> bool:
    """True for names that are work in progress or a sync client's own, never a share."""
    return bool(_COMPILED.match(name)) or bool(_CONFLICT.search(name)) or is_partial_name(name)
