"""Who put a file into a group folder: this user (a share or an edit), the sync client (a
download) or SendGuard itself. Decided from evidence, strongest first; the evidence is kept
with the arrival so that *Recent activity*, the command line and the audit can show it.

The hold path asks only what can be answered from the event and names on disk
(microseconds). The client's own state (a database, an API) is asked afterwards, off the hold
path, by `confirm`: it can take a second or two to record a download.
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from sendguard.engine.arrivals.clients import StateVerdict, SyncClient
from sendguard.engine.arrivals.model import Arrival, Evidence, Kind, Strength
from sendguard.engine.arrivals.network import file_system_type, is_network


class How(enum.Enum):
    #: Written under its own name (closed after writing, or settled).
    WRITTEN = "written"
    #: Renamed or moved from `source` (inside the watched folders).
    RENAMED = "renamed"
    #: Moved in from a folder that is not watched (a drag from the desktop, a download).
    MOVED_IN = "moved in"
    #: Found by a rescan or after a crash: no event says how it came.
    FOUND = "found"
    #: Appeared with no close after writing: in a folder made a moment ago, before its watch
    #: (a sync client's new folder, or a copied one), or by a writer that never closes.
    SETTLED = "settled"


@dataclass(frozen=True)
class Observation:
    path: Path
    group: str
    #: The group folder the path is in (the watched root).
    folder: Path
    how: How
    source: Path | None = None
    #: The path was a file the group already had (written over, or replaced by a rename).
    replaces_known: bool = False


class ArrivalClassifier:
    """Thread-safe: the intake thread classifies, the arrivals thread confirms."""

    def __init__(
        self,
        clients: Sequence[SyncClient],
        file_system: Callable[[Path], str | None] = file_system_type,
    ) -> None:
        """`file_system`: the type of the file system a folder is on (from the mount table;
        tests of network shares give their own, since none can be mounted here)."""
        self.clients = list(clients)
        self._file_system = file_system
        self._lock = threading.Lock()
        self._folder_facts: dict[Path, tuple[str | None, bool]] = {}

    def close(self) -> None:
        for client in self.clients:
            client.close()

    def _facts(self, folder: Path) -> tuple[str | None, bool]:
        """The sync client managing `folder` (by its markers) and whether it is a network
        file system. Looked up once per folder: both are facts of the folder's setup."""
        with self._lock:
            facts = self._folder_facts.get(folder)
        if facts is None:
            client = next((c.name for c in self.clients if c.manages(folder)), None)
            facts = (client, is_network(self._file_system(folder)))
            with self._lock:
                self._folder_facts[folder] = facts
        return facts

    def classify(self, seen: Observation) -> Arrival:
        managed_by, network = self._facts(seen.folder)
        if network:
            # No client's download is seen there: inotify reports this machine's writes only.
            evidence = Evidence(
                "file system",
                "a network share: only this computer's own changes are seen",
                Strength.STATE,
            )
            kind = Kind.EDIT if seen.replaces_known else Kind.SHARE
            return Arrival(seen.path, seen.group, kind, (evidence,), None, may_move=True)
        if seen.source is not None and seen.how is How.RENAMED:
            download = self._download_rename(seen.source, seen.path)
            if download is not None:
                client, evidence = download
                return Arrival(
                    seen.path, seen.group, Kind.DOWNLOAD, (evidence,), client, may_move=False
                )
        if seen.replaces_known:
            if seen.how is How.RENAMED and seen.source is not None:
                detail = f"a new version saved over it (from {seen.source.name})"
            else:
                detail = "written over a file the group already has"
            evidence = Evidence("file system", detail, Strength.NAME)
            # Moving it out would delete the group's file for every member.
            return Arrival(seen.path, seen.group, Kind.EDIT, (evidence,), managed_by, False)
        unseen = seen.how is How.FOUND or (seen.how is How.SETTLED and managed_by is not None)
        if unseen:
            state = self.state_of(seen.path, managed_by)
            if state is not None:
                return Arrival(
                    seen.path,
                    seen.group,
                    state.kind,
                    (state.evidence,),
                    managed_by,
                    may_move=state.kind is Kind.SHARE,
                )
            if managed_by is not None:
                how = "found by a rescan" if seen.how is How.FOUND else "appeared without a write"
                evidence = Evidence(
                    "SendGuard",
                    f"{how} in a {managed_by} folder; who put it there is not known",
                    Strength.DEFAULT,
                )
                return Arrival(seen.path, seen.group, Kind.SHARE, (evidence,), managed_by, False)
        detail = {
            How.WRITTEN: "created here",
            How.RENAMED: f"moved from {seen.source}" if seen.source else "moved in",
            How.MOVED_IN: "moved in from outside the group folders",
            How.FOUND: "found by a rescan",
            How.SETTLED: "appeared, and stopped changing",
        }[seen.how]
        evidence = Evidence("file system", detail, Strength.DEFAULT)
        return Arrival(seen.path, seen.group, Kind.SHARE, (evidence,), managed_by, True)

    def _download_rename(self, source: Path, dest: Path) -> tuple[str, Evidence] | None:
        same_folder = source.parent == dest.parent
        for client in self.clients:
            if same_folder and client.temporary_of(source.name, dest.name):
                return client.name, Evidence(
                    client.name, f"renamed into place from {source.name}", client.name_strength
                )
            if client.staged_in(source):
                return client.name, Evidence(
                    client.name,
                    f"moved in from its staging folder ({source.parent})",
                    client.name_strength,
                )
        return None

    def state_of(self, path: Path, client_name: str | None) -> StateVerdict | None:
        """What the state of the client managing the file's folder says of it now (only
        that client is asked: a rescan asks for every file)."""
        for client in self.clients:
            if client.name == client_name:
                return client.state_of(path)
        return None

    def confirm(self, arrival: Arrival) -> Arrival | None:
        """The arrival with the client's state added, once the state matches the file on
        disk; None while it cannot say. Where the state contradicts a temporary name, the
        state wins (a name can be forged)."""
        verdict = self.state_of(arrival.path, arrival.client)
        if verdict is None:
            return None
        kind = verdict.kind
        if arrival.kind is Kind.EDIT and kind is Kind.SHARE:
            kind = Kind.EDIT  # this user's change of a file the group has: still an edit
        return replace(
            arrival,
            kind=kind,
            evidence=(verdict.evidence, *arrival.evidence),
            may_move=kind is Kind.SHARE,
        )


def own(path: Path, group: str) -> Arrival:
    evidence = Evidence("SendGuard", "its own release or return", Strength.STATE)
    return Arrival(path, group, Kind.OWN, (evidence,))
