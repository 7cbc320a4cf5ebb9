"""What each sync client's download looks like on disk, and what its own state says.

A sync client never writes a download under its real name: it writes a temporary file in the
same folder and renames it into place (an update replaces the old file the same way; a remote
rename goes old name → temporary name → new name). Each client below knows its temporary
names, the folders it manages, and, where it keeps one, its state (a database or an API) that
says who last changed a file. The sources each rule comes from are cited beside it and in
tests/engine/test_arrivals_replay.py, which replays each client's sequence.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sendguard.engine.arrivals.model import Evidence, Kind, Strength


@dataclass(frozen=True)
class StateVerdict:
    """What a client's own state says about the file on disk now."""

    kind: Kind  # DOWNLOAD (another device/the server wrote it) or SHARE (this device did)
    evidence: Evidence


class SyncClient:
    """One sync client. Subclasses override what they know; the defaults know nothing."""

    #: The client's name as the user knows it.
    name = ""
    #: How strong its temporary-name evidence is (WEAK for closed-source clients).
    name_strength = Strength.NAME

    def keeps_state_of(self, path: Path) -> bool:
        """Whether `state_of` can answer for `path` (a database or an API that has its
        folder): a download there is worth waiting for."""
        return False

    def temporary_of(self, source: str, dest: str) -> bool:
        """True when `source` is this client's temporary name for a download of `dest`
        (both file names in one folder)."""
        return False

    def staged_in(self, source: Path) -> bool:
        """True when `source` lies in this client's own staging folder (moved from there)."""
        return False

    def manages(self, folder: Path) -> bool:
        """True when this client syncs `folder` (its marker files at the folder or above)."""
        return False

    def state_of(self, path: Path) -> StateVerdict | None:
        """The client's own record of who last changed `path`, when it has one that matches
        the file on disk now; None when it cannot say (yet)."""
        return None

    def close(self) -> None:
        """Let go of what `state_of` opened."""


def marker_above(folder: Path, names: Iterable[str], levels: int = 6) -> Path | None:
    """The first of `names` (glob patterns) found in `folder` or up to `levels` parents."""
    patterns = tuple(names)
    for candidate in (folder, *list(folder.parents)[:levels]):
        for pattern in patterns:
            try:
                found = next(iter(candidate.glob(pattern)), None)
            except OSError:
                found = None
            if found is not None:
                return found
    return None


class Syncthing(SyncClient):
    """lib/fs/tempname.go: ``.syncthing.<name>.tmp``; for a name longer than 160 - 15 bytes,
    ``.syncthing.<sha256 of the name, hex>.tmp``; on Windows the prefix is ``~syncthing~``.
    lib/model/folder_sendrecv.go (performFinish, renameFile) renames the temporary file into
    place. A folder it syncs has a ``.stfolder`` marker at its root. Its state: the REST API
    (engine/arrivals/syncthing_api.py)."""

    name = "Syncthing"
    _MAX_NAME = 160 - len(".syncthing.") - len(".tmp")

    def __init__(self, api: SyncthingStateReader | None = None) -> None:
        self.api = api

    def temporary_of(self, source: str, dest: str) -> bool:
        for prefix in (".syncthing.", "~syncthing~"):
            if len(dest.encode()) > self._MAX_NAME:
                expected = prefix + hashlib.sha256(dest.encode()).hexdigest() + ".tmp"
            else:
                expected = prefix + dest + ".tmp"
            if source == expected:
                return True
        return False

    def manages(self, folder: Path) -> bool:
        return marker_above(folder, [".stfolder"]) is not None

    def keeps_state_of(self, path: Path) -> bool:
        return self.api is not None and self.api.knows(path)

    def state_of(self, path: Path) -> StateVerdict | None:
        return self.api.state_of(path) if self.api is not None else None

    def close(self) -> None:
        if self.api is not None:
            self.api.close()


class SyncthingStateReader:
    """The interface of engine/arrivals/syncthing_api.py's reader (kept apart: it speaks
    HTTP and reads Syncthing's configuration)."""

    def state_of(self, path: Path) -> StateVerdict | None:
        raise NotImplementedError

    def knows(self, path: Path) -> bool:
        """Whether a Syncthing folder on this machine holds `path`."""
        raise NotImplementedError

    def close(self) -> None:
        """Nothing to let go by default."""


class Nextcloud(SyncClient):
    """Nextcloud and ownCloud desktop clients. src/libsync/propagatedownload.cpp,
    createDownloadTmpFileName: ``.<name>.~<hex>`` (the name cut to fit 254 characters, the
    hex a random 32-bit number) in the same folder, renamed into place
    (FileSystem::uncheckedRenameReplace). The sync journal ``.sync_<hex>.db`` (older clients
    ``._sync_<hex>.db``) at the sync folder's root has a ``metadata`` row per synced file
    (path relative to the root, inode, modtime, filesize); the client may hold it locked."""

    name = "Nextcloud/ownCloud"
    _TEMP = re.compile(r"\A\.(?P<name>.+)\.~[0-9a-f]{1,8}\Z", re.DOTALL)
    _JOURNALS = (".sync_*.db", "._sync_*.db")

    def __init__(self) -> None:
        #: Folder → the journal found above it (a download is asked about every half second
        #: until confirmed: the glob up the tree is done once per folder).
        self._journals: dict[Path, Path] = {}

    def _journal_above(self, folder: Path) -> Path | None:
        journal = self._journals.get(folder)
        if journal is None or not journal.exists():
            journal = marker_above(folder, self._JOURNALS)
            if journal is None:
                self._journals.pop(folder, None)
                return None
            self._journals[folder] = journal
        return journal

    def temporary_of(self, source: str, dest: str) -> bool:
        match = self._TEMP.match(source)
        if match is None:
            return False
        name = match["name"]
        # The name is cut where it would pass 254 characters with the dot and the suffix.
        return name == dest or (dest.startswith(name) and len(name) >= 254 - 12)

    def manages(self, folder: Path) -> bool:
        return marker_above(folder, self._JOURNALS) is not None

    def keeps_state_of(self, path: Path) -> bool:
        return self._journal_above(path.parent) is not None

    def state_of(self, path: Path) -> StateVerdict | None:
        journal = self._journal_above(path.parent)
        if journal is None:
            return None
        try:
            relative = path.relative_to(journal.parent).as_posix()
            info = path.stat()
        except (ValueError, OSError):
            return None
        try:
            # Read-only, and never wait: the client may hold the journal locked while it syncs.
            db = sqlite3.connect(f"{journal.as_uri()}?mode=ro", uri=True, timeout=0.2)
            try:
                row = db.execute(
                    "SELECT inode, modtime, filesize FROM metadata WHERE path = ?", (relative,)
                ).fetchone()
            finally:
                db.close()
        except sqlite3.Error:
            return None
        if row is None:
            return None
        inode, modtime, size = row
        if size != info.st_size or int(modtime) != int(info.st_mtime):
            return None  # the journal knows another version: not this one (yet)
        if inode not in (0, None, info.st_ino):
            return None
        return StateVerdict(
            Kind.DOWNLOAD,
            Evidence(self.name, f"its journal {journal.name} records this version", Strength.STATE),
        )


class OneDrive(SyncClient):
    """OneDrive for Linux (abraunegg/onedrive), src/sync.d, downloadFileItem: the download is
    written to ``<name>.partial`` in the same folder, then renamed into place. Its sync folder
    is ``sync_dir`` in ~/.config/onedrive/config (default ~/OneDrive)."""

    name = "OneDrive"

    def __init__(self, home: Path | None = None) -> None:
        self.home = home or Path.home()

    def temporary_of(self, source: str, dest: str) -> bool:
        return source == dest + ".partial"

    def manages(self, folder: Path) -> bool:
        root = self._sync_dir()
        return root is not None and (folder == root or root in folder.parents)

    def _sync_dir(self) -> Path | None:
        config = self.home / ".config" / "onedrive" / "config"
        directory = "~/OneDrive"
        try:
            for line in config.read_text(encoding="utf-8", errors="replace").splitlines():
                key, _, value = line.partition("=")
                if key.strip() == "sync_dir":
                    directory = value.strip().strip('"')
        except OSError:
            if not (self.home / ".config" / "onedrive").is_dir():
                return None
        if directory.startswith("~"):
            directory = str(self.home) + directory[1:]
        return Path(directory)


class Seafile(SyncClient):
    """Seafile client (haiwen/seafile), common/fs-mgr.c, seaf_fs_manager_checkout_file: the
    file is written to ``<name>~`` (SEAF_TMP_EXT) in the same folder, then renamed into
    place. A library it syncs has a ``seafile-data`` folder beside it only in the daemon's
    own tree, so it is recognised by its temporary names alone."""

    name = "Seafile"

    def temporary_of(self, source: str, dest: str) -> bool:
        return source == dest + "~"


class Resilio(SyncClient):
    """Resilio Sync (closed source): its documentation names ``<name>.!sync`` as the file
    being downloaded. Weak: only its maker's word. Its folders have a ``.sync`` folder."""

    name = "Resilio Sync"
    name_strength = Strength.WEAK

    def temporary_of(self, source: str, dest: str) -> bool:
        return source == dest + ".!sync"

    def manages(self, folder: Path) -> bool:
        return marker_above(folder, [".sync/ID"]) is not None


class Dropbox(SyncClient):
    """Dropbox (closed source): downloads are staged in ``.dropbox.cache`` at the top of the
    Dropbox folder and moved into place. Weak: only its maker's word. Seen only where the
    staging folder is inside a watched folder (a group that is the whole Dropbox folder)."""

    name = "Dropbox"
    name_strength = Strength.WEAK

    def staged_in(self, source: Path) -> bool:
        return ".dropbox.cache" in source.parts

    def manages(self, folder: Path) -> bool:
        return marker_above(folder, [".dropbox", ".dropbox.cache"]) is not None


def default_clients(
    syncthing: SyncthingStateReader | None = None, home: Path | None = None
) -> list[SyncClient]:
    return [Syncthing(syncthing), Nextcloud(), OneDrive(home), Seafile(), Resilio(), Dropbox()]
