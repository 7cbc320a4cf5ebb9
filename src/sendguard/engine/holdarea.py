"""Hold, release and return files: every step journaled first, every move no-replace.

The invariant: a file SendGuard touches exists, byte-identical, in exactly one place it can
name — the group folder, the hold area, or the "Not shared" folder — after any crash.
``recover()`` finishes or rolls back whatever a crash interrupted and is safe to run twice.
"""

from __future__ import annotations

import contextlib
import glob
import os
import stat
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sendguard.engine import crashpoints
from sendguard.engine.fsops import (
    PARTIAL_MARK,
    free_name,
    fsync_dir,
    is_partial_name,
    move_no_replace,
    sha256_file,
)
from sendguard.store.journal import HoldRecord, Journal, State

NOTE_SUFFIX = ".sendguard-note.txt"


class ChangedWhileHeld(Exception):
    """The held file's bytes differ from those classified: it is not released."""


@dataclass
class Recovery:
    """What start-up recovery found."""

    #: Files still held (waiting for a decision or for classification).
    held: list[HoldRecord] = field(default_factory=list)
    #: Files recovery could not hold (not a plain file, or the move failed): back in the
    #: group folder, to be looked at again. Held only in memory: a caller that stops
    #: before acting on it loses it, so recovery finishes every hold it can instead.
    requeue: list[HoldRecord] = field(default_factory=list)
    #: Steps finished by recovery, for the log.
    finished: list[str] = field(default_factory=list)


def _same_file(one: Path, other: Path) -> bool:
    try:
        return os.path.samefile(one, other)
    except OSError:
        return False


def same_content(one: Path, other: Path) -> bool:
    """Both exist and hold the same bytes (one file under two names, or a whole copy)."""
    try:
        return _same_file(one, other) or sha256_file(one) == sha256_file(other)
    except OSError:
        return False


def _exists(path: Path) -> bool:
    return path.exists() or path.is_symlink()


class HoldArea:
    """The hold folder (private, outside every watched tree) and the "Not shared" folder."""

    def __init__(
        self,
        journal: Journal,
        hold_root: Path,
        not_shared_root: Path,
        *,
        watched: Sequence[Path] = (),
        per_file_system: bool = True,
    ) -> None:
        self.journal = journal
        self.hold_root = hold_root
        self.not_shared_root = not_shared_root
        #: Folders the engine watches: a hold area must never lie inside one.
        self.watched = tuple(watched)
        #: False: every hold goes to `hold_root`, by copy across file systems (the path taken
        #: where no hold area can be made on the other file system; tests force it).
        self.per_file_system = per_file_system
        hold_root.mkdir(parents=True, exist_ok=True)
        os.chmod(hold_root, 0o700)  # held files are nobody else's business
        self._by_device: dict[int, Path] = {os.stat(hold_root).st_dev: hold_root}

    def hold_root_for(self, origin: Path) -> Path:
        """The hold area on `origin`'s file system, so that holding is one atomic rename.

        The main hold area when it is on that file system; otherwise a private
        ``.sendguard-hold-<uid>`` at the top of the other file system (a USB drive, a network
        share's mount), or — where that cannot be made or would lie inside a watched folder —
        the main hold area after all, reached by copy, verify, unlink.
        """
        try:
            device = os.stat(origin.parent).st_dev
        except OSError:
            return self.hold_root
        known = self._by_device.get(device)
        if known is not None:
            return known
        if not self.per_file_system:
            return self.hold_root
        candidate = other_file_system_hold_root(origin.parent)
        inside_watched = any(
            candidate == folder or folder in candidate.parents or candidate in folder.parents
            for folder in self.watched
        )
        chosen = self.hold_root
        if not inside_watched:
            try:
                candidate.mkdir(mode=0o700, exist_ok=True)
                info = os.lstat(candidate)
                if stat.S_ISDIR(info.st_mode) and info.st_uid == _uid():
                    os.chmod(candidate, 0o700)
                    chosen = candidate
            except OSError:
                pass  # not ours to write there: the main hold area, by copy
        self._by_device[device] = chosen
        return chosen

    def hold_roots(self) -> list[Path]:
        """Every hold area in use: the main one, and those on other file systems."""
        roots = dict.fromkeys(self._by_device.values())
        for record in self.journal.open_holds():
            parent = record.held.parent.parent
            if parent.name.startswith(".sendguard-hold-"):
                roots.setdefault(parent, None)
        return list(roots)

    # --- the three steps ----------------------------------------------------------------

    def hold(self, origin: Path, group_name: str, batch: str) -> HoldRecord | None:
        """Move `origin` into the hold area. None when it vanished before it could be held."""
        slot = self.hold_root_for(origin) / f"{int(time.time())}-{uuid.uuid4().hex[:12]}"
        held = slot / origin.name
        hold_id = self.journal.begin_hold(
            batch=batch, group_name=group_name, origin=origin, held=held
        )
        crashpoints.point("hold.journaled")
        try:
            slot.mkdir(mode=0o700)
            move_no_replace(origin, held)
        except FileNotFoundError:
            self.journal.update(hold_id, state=State.VANISHED)
            _remove_empty(slot)
            return None
        except OSError as exc:
            if _exists(held) and not _exists(origin):
                # The rename happened; only making it durable failed. The file is held, and
                # says so: a record marked vanished would hide it from everyone.
                self.journal.update(
                    hold_id,
                    state=State.HELD,
                    sha256=sha256_file(held),
                    size=held.stat().st_size,
                    error=f"held, but the hold area could not be synced: {exc}",
                )
                record = self.journal.get(hold_id)
                assert record is not None
                return record
            if _exists(held) and _exists(origin) and same_content(origin, held):
                # A verified copy is in place but the original could not be removed: keep
                # the original only, so the file stays in exactly one place.
                held.unlink()
            self.journal.update(hold_id, state=State.VANISHED, error=f"could not hold: {exc}")
            _remove_empty(slot)
            raise
        crashpoints.point("hold.moved")
        self.journal.update(
            hold_id, state=State.HELD, sha256=sha256_file(held), size=held.stat().st_size
        )
        crashpoints.point("hold.recorded")
        record = self.journal.get(hold_id)
        assert record is not None
        return record

    def hold_many(
        self, requests: Sequence[tuple[Path, str, str]]
    ) -> list[HoldRecord | Exception | None]:
        """`hold` for many files — (origin, group name, batch) each — with the durability of
        one: one journal commit before the renames, one sync per directory after them, one
        commit recording them held. A crash anywhere leaves "holding" records that
        `recover` finishes, exactly as for a single hold. Per request: its record, None when
        it vanished first, or the exception that kept it where it was."""
        if len(requests) == 1:
            origin, group_name, batch = requests[0]
            try:
                return [self.hold(origin, group_name, batch)]
            except Exception as exc:
                return [exc]
        # One slot per hold root for the whole batch; a name met twice gets a slot of its own.
        slots: dict[Path, Path] = {}
        used: set[Path] = set()
        planned: list[Path] = []
        for origin, _group, _batch in requests:
            root = self.hold_root_for(origin)
            slot = slots.get(root)
            if slot is None or slot / origin.name in used:
                slot = root / f"{int(time.time())}-{uuid.uuid4().hex[:12]}"
                if root not in slots:
                    slots[root] = slot
            held = slot / origin.name
            used.add(held)
            planned.append(held)
        ids = self.journal.begin_holds(
            [
                (batch, group, origin, held)
                for (origin, group, batch), held in zip(requests, planned, strict=True)
            ]
        )
        crashpoints.point("hold.journaled")
        outcomes: list[HoldRecord | Exception | None] = []
        moved: list[int] = []
        updates: list[tuple[int, dict[str, object]]] = []
        synced: set[Path] = set()
        for index, ((origin, _group, _batch), held, hold_id) in enumerate(
            zip(requests, planned, ids, strict=True)
        ):
            outcomes.append(None)
            try:
                held.parent.mkdir(mode=0o700, exist_ok=True)
                move_no_replace(origin, held, sync=False)
            except FileNotFoundError:
                updates.append((hold_id, {"state": State.VANISHED}))
                continue
            except OSError as exc:
                if _exists(held) and _exists(origin) and same_content(origin, held):
                    held.unlink()  # the original stays: the file is in exactly one place
                if _exists(held) and not _exists(origin):
                    moved.append(index)
                    continue
                updates.append(
                    (hold_id, {"state": State.VANISHED, "error": f"could not hold: {exc}"})
                )
                outcomes[index] = exc
                continue
            moved.append(index)
            synced.update((held.parent, held.parent.parent, origin.parent))
        sync_error: OSError | None = None
        for folder in synced:
            try:
                fsync_dir(folder)
            except OSError as exc:
                sync_error = exc
        crashpoints.point("hold.moved")
        for index in moved:
            held, hold_id = planned[index], ids[index]
            fields: dict[str, object] = {"state": State.HELD}
            try:
                fields.update(sha256=sha256_file(held), size=held.stat().st_size)
            except OSError as exc:
                fields["error"] = f"held, but it could not be read: {exc}"
            if sync_error is not None:
                fields["error"] = f"held, but the hold area could not be synced: {sync_error}"
            updates.append((hold_id, fields))
        self.journal.update_many(updates)
        crashpoints.point("hold.recorded")
        records = self.journal.get_many([ids[index] for index in moved])
        for index in moved:
            outcomes[index] = records[ids[index]]
        for held, outcome in zip(planned, outcomes, strict=True):
            if outcome is None or isinstance(outcome, Exception):
                _remove_empty(held.parent)
        return outcomes

    def release(self, record: HoldRecord, folder: Path) -> Path:
        """Move a held file into `folder` under its own name (or a free conflict name)."""
        if record.sha256 is not None and sha256_file(record.held) != record.sha256:
            raise ChangedWhileHeld(f"{record.held} changed while held; it stays held")
        return self._move_out(record, folder, State.RELEASING, State.RELEASED, "release")

    def give_back(self, record: HoldRecord, reason: str) -> Path:
        """Move a held file into "Not shared/<group>", with a note of where it was headed."""
        folder = self.not_shared_root / _safe_folder_name(record.group_name)
        target = self._move_out(record, folder, State.RETURNING, State.RETURNED, "return")
        self._write_note(target, record, reason)
        return target

    def _move_out(
        self, record: HoldRecord, folder: Path, doing: State, done: State, step: str
    ) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        while True:
            target = free_name(folder, record.origin.name)
            self.journal.update(record.id, state=doing, target=target)
            crashpoints.point(f"{step}.journaled")
            try:
                move_no_replace(record.held, target)
            except FileExistsError:
                continue  # taken between the check and the move: the next free name
            break
        crashpoints.point(f"{step}.moved")
        self.journal.update(record.id, state=done)
        crashpoints.point(f"{step}.recorded")
        _remove_empty(record.held.parent)
        return target

    def _write_note(self, target: Path, record: HoldRecord, reason: str) -> None:
        note = target.with_name(target.name + NOTE_SUFFIX)
        text = (
            f"SendGuard did not share this file.\n\n"
            f"File: {target.name}\n"
            f"It was headed for: {record.origin}\n"
            f"Group: {record.group_name}\n"
            f"Why: {reason}\n"
            f"When: {time.strftime('%Y-%m-%d %H:%M:%S')}\n\n"
            "To share it after all, move it into the group's folder yourself.\n"
        )
        try:
            with open(free_name(note.parent, note.name), "x", encoding="utf-8") as handle:
                handle.write(text)
        except OSError:
            pass  # the note is a courtesy; the file itself is safe

    # --- recovery -----------------------------------------------------------------------

    def recover(self) -> Recovery:
        """Finish or roll back every step a crash interrupted. Safe to run any number of times."""
        result = Recovery()
        for record in self.journal.open_holds():
            if record.state is State.HOLDING:
                self._recover_holding(record, result)
            elif record.state is State.HELD:
                self._recover_held(record, result)
            elif record.state in (State.RELEASING, State.RETURNING):
                self._recover_moving_out(record, result)
        self._remove_partials()
        return result

    def _recover_holding(self, record: HoldRecord, result: Recovery) -> None:
        origin, held = record.origin, record.held
        # Crash-harness fix: a hold cut short before its move is finished (rolled forward),
        # not rolled back. Rolling back marked the record vanished and left only an
        # in-memory `requeue` entry: if the process stopped again before the engine acted
        # on it (kill -9 or power loss during start-up, a crash later in this recovery),
        # the next recovery no longer knew of the file, and the next start took the
        # labelled file as present at start-up: never held, never asked about. The record
        # stays "holding" until the move is done, so this is safe to repeat.
        if not _exists(held) and self._can_finish_hold(origin):
            with contextlib.suppress(OSError):  # gone, or cannot move: requeued below
                held.parent.mkdir(mode=0o700, exist_ok=True)
                move_no_replace(origin, held)
                crashpoints.point("hold.moved")
        replaced = False
        if _exists(held) and _exists(origin):
            if _same_file(origin, held) or sha256_file(origin) == sha256_file(held):
                # A link-then-unlink or copy-then-unlink move stopped before its unlink.
                os.unlink(origin)
                fsync_dir(origin.parent)
            else:
                # The held copy is whole (it is only named after it was verified); the file
                # now in the group folder is a new one, to be looked at as an arrival.
                replaced = True
        if _exists(held):
            self.journal.update(
                record.id, state=State.HELD, sha256=sha256_file(held), size=held.stat().st_size
            )
            result.finished.append(f"hold of {origin.name} finished")
            refreshed = self.journal.get(record.id)
            assert refreshed is not None
            result.held.append(refreshed)
            if replaced:
                self._hold_replacement(record, result)
        elif _exists(origin):
            # Only when the hold cannot be finished (not a plain file, or the move failed).
            self.journal.update(record.id, state=State.VANISHED, error="hold rolled back")
            _remove_empty(held.parent)
            result.requeue.append(record)
            result.finished.append(f"hold of {origin.name} rolled back")
        else:
            self.journal.update(record.id, state=State.VANISHED)
            _remove_empty(held.parent)

    @staticmethod
    def _can_finish_hold(origin: Path) -> bool:
        """A plain file with one name: links and hard-linked files go back to the engine,
        which holds them with the reason it needs to give."""
        try:
            info = os.lstat(origin)
        except OSError:
            return False
        return stat.S_ISREG(info.st_mode) and info.st_nlink == 1

    def _hold_replacement(self, record: HoldRecord, result: Recovery) -> None:
        """Crash-harness fix, as in `_recover_holding`: the file that took the origin's name
        while the hold was cut short gets a journaled hold of its own now, rather than only
        an in-memory `requeue` entry that a second stop would lose."""
        new = None
        if self._can_finish_hold(record.origin):
            with contextlib.suppress(OSError):  # cannot hold it: requeued below
                new = self.hold(record.origin, record.group_name, record.batch)
        if new is not None:
            result.held.append(new)
            result.finished.append(f"hold of the new {record.origin.name} done")
        elif _exists(record.origin):
            result.requeue.append(record)

    def _recover_held(self, record: HoldRecord, result: Recovery) -> None:
        if _exists(record.held):
            if record.sha256 is None:
                self.journal.update(record.id, sha256=sha256_file(record.held))
                record = self.journal.get(record.id) or record
            result.held.append(record)
        else:
            self.journal.update(
                record.id, state=State.VANISHED, error="the held file was removed by hand"
            )

    def _recover_moving_out(self, record: HoldRecord, result: Recovery) -> None:
        held, target = record.held, record.target
        if target is not None:
            for partial in target.parent.glob(glob.escape(f".{target.name}") + f"{PARTIAL_MARK}*"):
                partial.unlink(missing_ok=True)  # a copy cut short; the held file is whole
        releasing = record.state is State.RELEASING
        done = State.RELEASED if releasing else State.RETURNED
        step = "release" if releasing else "return"
        if (
            target is not None
            and _exists(target)
            and _exists(held)
            and (_same_file(target, held) or sha256_file(target) == record.sha256)
        ):
            # The move stopped before dropping the held name (link, or copy then unlink).
            os.unlink(held)
            fsync_dir(held.parent)
        if target is not None and _exists(target) and not _exists(held):
            self.journal.update(record.id, state=done)
            _remove_empty(held.parent)
            result.finished.append(f"{step} of {record.origin.name} finished")
            return
        if _exists(held):
            # The move never happened (or its target name was taken since): do it now.
            folder = record.target.parent if record.target is not None else record.origin.parent
            if releasing:
                self._move_out(record, folder, State.RELEASING, State.RELEASED, "release")
            else:
                self.give_back(record, "recorded as not shared before SendGuard stopped")
            result.finished.append(f"{step} of {record.origin.name} finished")
            return
        self.journal.update(
            record.id, state=done, error="not found after a restart (removed by hand?)"
        )

    def _remove_partials(self) -> None:
        """Half-written copies of cross-file-system moves: their source is still whole."""
        for root in (*self.hold_roots(), self.not_shared_root):
            if not root.is_dir():
                continue
            for path in root.rglob(f"*{PARTIAL_MARK}*"):
                if is_partial_name(path.name):
                    path.unlink(missing_ok=True)

    def held_path_is_ours(self, path: Path) -> bool:
        resolved = path.resolve()
        return any(resolved.is_relative_to(root.resolve()) for root in self.hold_roots())


def _uid() -> int:
    return os.getuid() if hasattr(os, "getuid") else 0


def other_file_system_hold_root(folder: Path) -> Path:
    """Where the hold area for `folder`'s file system is, when that is not the main hold
    area's: a private folder at the top of that file system (``hold_root_for`` decides
    whether it can be used)."""
    return _mount_point(folder) / f".sendguard-hold-{_uid()}"


def _mount_point(folder: Path) -> Path:
    """The top folder of `folder`'s file system."""
    current = folder.resolve()
    device = os.stat(current).st_dev
    while current.parent != current and os.stat(current.parent).st_dev == device:
        current = current.parent
    return current


def _remove_empty(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not empty, or already gone: nothing to tidy
        folder.rmdir()


def _safe_folder_name(name: str) -> str:
    """A group's name as a single folder name (no separators, no dot-dot)."""
    cleaned = "".join("_" if char in '/\\:*?"<>|\x00' else char for char in name).strip(" .")
    return cleaned or "group"
