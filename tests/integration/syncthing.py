"""Two real Syncthing instances on 127.0.0.1 sharing one folder, for integration tests.

Written against Syncthing v1.19.2 (Debian's ``syncthing`` package; ``apt-get install
syncthing``). Nothing here reaches beyond loopback: global and local discovery, relays, NAT
traversal, STUN, usage and crash reporting and upgrades are all off. A knows B at the explicit
address ``tcp://127.0.0.1:<B's port>``; B accepts A (see ``SyncthingPair`` for why only A dials).

::

    a, b = tmp_path / "A" / "Family", tmp_path / "B" / "Family"
    with SyncthingPair(tmp_path / "syncthing", a, b) as pair:
        pair.wait_connected()
        (pair.path("B") / "note.txt").write_bytes(b"hello")
        pair.wait_for("A", "note.txt", b"hello")

How it is set up: ``syncthing generate --home=DIR --no-default-folder --skip-port-probing``
makes each instance's key and config.xml; config.xml is then edited (stdlib ElementTree) before
the first start: options, GUI/REST address and API key, sync listen address, the peer device
and the shared folder (copied from config.xml's own ``<defaults>`` elements, so every field has
Syncthing's own default). Editing before the start, rather than through ``/rest/config`` after
it, means the two devices know each other and the folder from their first second: no "unknown
device" rejections, pending folders or config-change restarts. The REST API (``get``/``post``/
``put``/``patch``) stays available for changes during a test. Each instance is one process
(``STMONITORED=yes``: no monitor process) in its own process group, killed by the kernel if
the test process dies (``setpriv --pdeathsig KILL``), stopped by ``close()``/``stop()``
otherwise, and by ``atexit`` as a last resort.

What the receiving side (A) sees on disk
========================================

Observed on v1.19.2 (Linux, ext4/overlay) with ``inotifywait -m -r -e
create,modify,attrib,close_write,moved_from,moved_to,delete`` on A's folder while B changed its
copy: 3 runs without versioning on A, 1 with, the same sequences each time (only the number of
``MODIFY`` events varies: inotify merges repeated ones). Not shown: the reads
(``OPEN``/``ACCESS``/``CLOSE_NOWRITE``) of Syncthing's scans and of old blocks it reuses.
``T`` is the temporary name ``.syncthing.note.txt.tmp``, in the file's own directory; for a long
name (seen with 204 characters) it is ``.syncthing.<64 hex digits: SHA-256 of the name>.tmp``.

* **New file** (B wrote ``note.txt`` in place, or wrote it elsewhere and ``os.replace``-d it
  in: A sees the same)::

      CREATE T ; MODIFY T ; MODIFY T ; CLOSE_WRITE T ; ATTRIB T ;
      MOVED_FROM T ; MOVED_TO note.txt ; ATTRIB note.txt

  Up to one ``MODIFY`` more per further 128 KiB block. The final name appears only by the
  rename, complete; the whole sequence took 1-5 ms (50 ms for 1 MiB).

* **Update** of an existing ``note.txt``, no versioning on A::

      CREATE T ; MODIFY T ... ; CLOSE_WRITE T ; ATTRIB T ; DELETE note.txt ;
      MOVED_FROM T ; MOVED_TO note.txt ; ATTRIB note.txt

  Syncthing deletes the old file before the rename: for a moment (0.2-0.6 ms here, as timed by
  reading inotifywait's output) ``note.txt`` does not exist.

* **Update, simple versioning on A**: the old file moves into ``.stversions`` instead::

      CREATE T ; ... ; CLOSE_WRITE T ; ATTRIB T ; (CREATE,ISDIR .stversions: first time) ;
      MOVED_FROM note.txt ; MOVED_TO .stversions/note~20261206-025327.txt ;
      ATTRIB .stversions/note~20261206-025327.txt ; MOVED_FROM T ; MOVED_TO note.txt ;
      ATTRIB note.txt

* **Rename** ``note.txt`` -> ``renamed.txt`` on B, no versioning on A: A renames its own copy
  (same inode, nothing written), through the new name's temporary name::

      MOVED_FROM note.txt ; MOVED_TO .syncthing.renamed.txt.tmp ;
      ATTRIB .syncthing.renamed.txt.tmp ; MOVED_FROM .syncthing.renamed.txt.tmp ;
      MOVED_TO renamed.txt ; ATTRIB renamed.txt

  With simple versioning on A it copies instead, and versions the old name::

      CREATE T2 ; MODIFY T2 ; CLOSE_WRITE T2 ; MOVED_FROM note.txt ;
      MOVED_TO .stversions/note~<time>.txt ; ATTRIB .stversions/note~<time>.txt ; ATTRIB T2 ;
      MOVED_FROM T2 ; MOVED_TO renamed.txt ; ATTRIB renamed.txt   (T2 = .syncthing.renamed.txt.tmp)

* **Delete** on B: ``DELETE note.txt``; with simple versioning on A: ``MOVED_FROM note.txt ;
  MOVED_TO .stversions/note~<time>.txt ; ATTRIB .stversions/note~<time>.txt``.

* **New directories** ``dir/sub/x.txt``: ``CREATE,ISDIR dir ; ATTRIB,ISDIR dir``, ``dir/sub``
  likewise, then the new-file sequence inside it. A recursive watcher misses the first events
  in a directory it has not added a watch for yet: inotifywait never saw ``CREATE,ISDIR
  dir/sub`` and once missed the ``CREATE`` of the temporary file too.

* **Conflict** (both changed ``c.txt`` while disconnected; the older modification time loses):

  - A's copy loses: ``CREATE T ; MODIFY T ... ; CLOSE_WRITE T ; ATTRIB T ; MOVED_FROM c.txt ;
    MOVED_TO c.sync-conflict-20261206-025257-6HADCTG.txt ; MOVED_FROM T ; MOVED_TO c.txt ;
    ATTRIB c.txt`` (the same with versioning: a conflict copy is not versioned).
  - B's copy loses: A's ``c.txt`` is not touched; B's losing copy arrives as a new file
    ``c.sync-conflict-<date>-<time>-<A's short ID>.txt`` (new-file sequence).

  The short ID in a conflict name is that of the device whose version *won* (the incoming
  version's ``modifiedBy``): A's copy lost to B -> B's ID; B's lost to A -> A's ID.

The same cases through watchdog 7.1.1's inotify observer (``FileOpenedEvent``,
``FileClosedNoWriteEvent`` and ``DirModifiedEvent`` left out)::

    new file:  FileCreatedEvent T ; FileModifiedEvent T (1 or more) ; FileClosedEvent T ;
               FileAttribEvent T ; FileMovedEvent T -> note.txt ; FileAttribEvent note.txt
    update:    ... FileAttribEvent T ; FileDeletedEvent note.txt ; FileMovedEvent T -> note.txt ;
               FileAttribEvent note.txt
    versioned: ... FileAttribEvent T ; FileMovedEvent note.txt -> .stversions/note~<time>.txt ;
               FileAttribEvent .stversions/... ; FileMovedEvent T -> note.txt ; FileAttribEvent
               (the first time, with .stversions new and not yet watched: DirCreatedEvent
               .stversions ; FileCreatedEvent .stversions/note~<time>.txt ; then ~0.5 s later
               FileDeletedEvent note.txt -- the unpaired MOVED_FROM -- ; FileMovedEvent T ->
               note.txt, held back behind it)
    rename:    FileMovedEvent note.txt -> .syncthing.renamed.txt.tmp ; FileAttribEvent (tmp) ;
               FileMovedEvent .syncthing.renamed.txt.tmp -> renamed.txt ; FileAttribEvent
    delete:    FileDeletedEvent note.txt
    new dirs:  DirCreatedEvent dir ; DirCreatedEvent dir/sub ; then either the new-file events
               in dir/sub, or (once) only a synthetic FileCreatedEvent dir/sub/x.txt from
               watchdog's scan of the new directory: no temporary name, no move
    conflict (A loses): ... FileMovedEvent c.txt -> c.sync-conflict-...-<B's ID>.txt ;
               FileMovedEvent T -> c.txt ; FileAttribEvent c.txt

``file_info`` (``GET /rest/db/file``) in v1.19 returns ``{"availability": [{"id",
"fromTemporary"}], "global": {...}, "local": {...}, "mtime": {...}}``; ``global`` and ``local``
have ``name, size, modified, modifiedBy, deleted, invalid, ignored, version, sequence,
numBlocks, permissions, type, localFlags, mustRescan, noPermissions``. ``modifiedBy`` is the
*short* device ID of the device that made that version: the first 7 characters of its device
ID (``"ELALW7M"`` for ``ELALW7M-Y72ZGCD-...``), see ``SyncthingInstance.short_id``; ``version``
is a list of ``"<short ID>:<counter>"``. A file the index does not know answers HTTP 404.
"""

from __future__ import annotations

import atexit
import contextlib
import copy
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import weakref
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Literal, Self

#: The installed binary, if any.
SYNCTHING_BINARY = "syncthing"

#: How to get it on the machines this project runs on.
INSTALL_HINT = "Syncthing is not installed: apt-get install syncthing"

#: Usage reporting version of v1.19 (``urVersionMax`` in /rest/system/status): marking it seen
#: (with ``urAccepted`` -1, declined) means the GUI never asks.
UR_VERSION = 3

#: Seconds: enough for a first start (database migration, key loading) on a busy 2-core CI.
DEFAULT_START_TIMEOUT = 60.0
DEFAULT_TIMEOUT = 60.0
#: Seconds for a single REST call.
HTTP_TIMEOUT = 30.0
POLL_INTERVAL = 0.05

Side = Literal["A", "B"]
SIDES: tuple[Side, Side] = ("A", "B")

#: Environment variables Syncthing reads that must not leak in from the caller's environment.
_SYNCTHING_ENV = (
    "STGUIADDRESS",
    "STGUIAPIKEY",
    "STGUIASSETS",
    "STHOMEDIR",
    "STCONFDIR",
    "STDATADIR",
    "STNODEFAULTFOLDER",
    "STNOUPGRADE",
    "STNORESTART",
    "STMONITORED",
    "STPROFILER",
    "STCPUPROFILE",
    "STHEAPPROFILE",
    "STBLOCKPROFILE",
    "STPERFSTATS",
    "STDEADLOCKTIMEOUT",
    "STRESTART",
    "STRECHECKDBEVERY",
    "STHASHING",
    "STGCINDIRECTEVERY",
)


class SyncthingError(RuntimeError):
    """Syncthing could not be set up or started, or did something unexpected."""


class SyncthingMissingError(SyncthingError):
    """No ``syncthing`` binary: the message says how to install it."""


class PortInUseError(SyncthingError):
    """A port picked as free was taken before Syncthing could listen on it."""


class SyncthingApiError(SyncthingError):
    """A REST call answered with an HTTP error."""

    def __init__(self, method: str, url: str, status: int, body: str) -> None:
        super().__init__(f"{method} {url}: HTTP {status}: {body.strip()[:500]}")
        self.status = status
        self.body = body


class SyncthingTimeout(AssertionError):
    """A wait ran out of time (an AssertionError, so pytest reports it as a test failure)."""


def syncthing_binary() -> str | None:
    """The path of the ``syncthing`` binary, or None."""
    return shutil.which(SYNCTHING_BINARY)


def syncthing_available() -> bool:
    return syncthing_binary() is not None


def syncthing_version(binary: str | None = None) -> str:
    """``syncthing --version``'s line, e.g. ``syncthing v1.19.2-ds1 "Fermium Flea" (...)``."""
    exe = binary or _require_binary()
    out = subprocess.run(
        [exe, "--version"], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    return out.strip()


def _require_binary() -> str:
    found = syncthing_binary()
    if found is None:
        raise SyncthingMissingError(INSTALL_HINT)
    return found


def free_ports(count: int) -> list[int]:
    """``count`` distinct TCP ports on 127.0.0.1 that were free a moment ago (bound to port 0)."""
    with contextlib.ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind(("127.0.0.1", 0))
            ports.append(int(sock.getsockname()[1]))
        return ports


def _set_text(parent: ET.Element, tag: str, text: str) -> None:
    """Set the text of ``parent``'s single child ``tag`` (made if missing; extra ones removed)."""
    found = parent.findall(tag)
    for extra in found[1:]:
        parent.remove(extra)
    element = found[0] if found else ET.SubElement(parent, tag)
    element.text = text


def _param(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _deadline_loop(timeout: float) -> Iterator[int]:
    """Yield 0, 1, 2 ... until ``timeout`` seconds have passed, sleeping between iterations."""
    deadline = time.monotonic() + timeout
    attempt = 0
    while True:
        yield attempt
        attempt += 1
        if time.monotonic() >= deadline:
            return
        time.sleep(min(POLL_INTERVAL * (1 + attempt // 20), 0.25))


# Every started process, so none outlives the interpreter even if a test never reaches its
# cleanup (the context managers are the normal way; this is the last resort).
_LIVE: weakref.WeakSet[SyncthingInstance] = weakref.WeakSet()
_LIVE_LOCK = threading.Lock()


def _kill_all_at_exit() -> None:
    with _LIVE_LOCK:
        live = list(_LIVE)
    for instance in live:
        instance.kill()


atexit.register(_kill_all_at_exit)


def _die_with_parent_prefix() -> list[str]:
    """``setpriv --pdeathsig KILL --`` when available and called from the main thread.

    The kernel then kills Syncthing when this process dies, even by SIGKILL or ``os._exit``
    (no ``atexit``, no ``finally``). The signal follows the death of the *thread* that
    started the child, hence main thread only.
    """
    if threading.current_thread() is not threading.main_thread():
        return []
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "KILL", "--"] if setpriv else []


def _reap(process: subprocess.Popen[bytes], log: IO[bytes] | None) -> None:
    """Kill and reap ``process`` if it still runs (weakref finalizer: no reference to self)."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=30)
    if log is not None:
        log.close()


class SyncthingInstance:
    """One ``syncthing serve`` process with its own home (config, keys, database).

    Layout under ``base``: ``home/`` (``--home``: config.xml, keys, index database),
    ``user-home/`` (``$HOME`` and the XDG directories, so the real home is never touched) and
    ``syncthing.log`` (the process's stdout and stderr).

    The constructor runs ``syncthing generate`` and edits config.xml; ``start()`` runs it.
    """

    def __init__(self, base: Path, name: str = "syncthing", *, binary: str | None = None) -> None:
        self.binary = binary or _require_binary()
        self.name = name
        self.base = Path(base)
        self.home = self.base / "home"
        self.user_home = self.base / "user-home"
        self.log_path = self.base / "syncthing.log"
        self.config_xml = self.home / "config.xml"
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

        self.user_home.mkdir(parents=True, exist_ok=True)
        if not self.config_xml.exists():
            self._run(
                "generate",
                f"--home={self.home}",
                "--no-default-folder",
                "--skip-port-probing",
            )
        self.device_id = self._read_device_id()
        self.api_key = self._read_api_key()
        self.gui_port, self.listen_port = free_ports(2)
        self.configure()

    # -- identity and addresses --------------------------------------------------------------

    @property
    def short_id(self) -> str:
        """The short device ID as ``modifiedBy`` and conflict file names show it (7 chars)."""
        return self.device_id[:7]

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.gui_port}"

    @property
    def listen_address(self) -> str:
        return f"tcp://127.0.0.1:{self.listen_port}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in _SYNCTHING_ENV}
        env.update(
            HOME=str(self.user_home),
            XDG_CONFIG_HOME=str(self.user_home / ".config"),
            XDG_DATA_HOME=str(self.user_home / ".local" / "share"),
            XDG_STATE_HOME=str(self.user_home / ".local" / "state"),
            XDG_CACHE_HOME=str(self.user_home / ".cache"),
            STNODEFAULTFOLDER="1",
            STNOUPGRADE="1",
            STNORESTART="1",
            # The inner process directly, without Syncthing's monitor process (which would
            # otherwise run it as a child, one more process to reap and one that outlives a
            # killed monitor). What newer Syncthing's own `debug` command does for debuggers.
            STMONITORED="yes",
            # Skip the ~1 s SHA-256 implementation benchmark at every start: Go's own.
            STHASHING="standard",
        )
        return env

    def _run(self, *args: str) -> str:
        result = subprocess.run(
            [self.binary, *args],
            env=self.env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if result.returncode != 0:
            raise SyncthingError(
                f"syncthing {' '.join(args)} exited {result.returncode}: "
                f"{(result.stdout + result.stderr).strip()[-2000:]}"
            )
        return result.stdout

    def _read_device_id(self) -> str:
        out = self._run("--device-id", f"--home={self.home}").strip()
        device_id = out.splitlines()[-1].strip() if out else ""
        if len(device_id) != 63 or device_id.count("-") != 7:
            raise SyncthingError(f"unexpected output of syncthing --device-id: {out!r}")
        return device_id

    def _read_api_key(self) -> str:
        key = ET.parse(self.config_xml).getroot().findtext("gui/apikey")
        return key.strip() if key and key.strip() else f"sendguard-test-{os.urandom(12).hex()}"

    # -- config.xml ------------------------------------------------------------------------

    def edit_config(self, edit: Callable[[ET.Element], None]) -> None:
        """Apply ``edit`` to config.xml's root element and write it back (not while running)."""
        if self.running:
            raise SyncthingError("config.xml is edited only while Syncthing is stopped")
        tree = ET.parse(self.config_xml)
        edit(tree.getroot())
        ET.indent(tree, space="    ")
        tree.write(self.config_xml, encoding="unicode")

    def configure(self) -> None:
        """Loopback only, nothing reported or upgraded, our ports and API key."""

        def edit(root: ET.Element) -> None:
            own = root.find(f"device[@id='{self.device_id}']")
            if own is not None:
                own.set("name", self.name)
            gui = root.find("gui")
            if gui is None:
                gui = ET.SubElement(root, "gui")
            gui.set("enabled", "true")
            gui.set("tls", "false")
            _set_text(gui, "address", f"127.0.0.1:{self.gui_port}")
            _set_text(gui, "apikey", self.api_key)
            options = root.find("options")
            if options is None:
                options = ET.SubElement(root, "options")
            settings = {
                "listenAddress": self.listen_address,
                "globalAnnounceEnabled": "false",
                "localAnnounceEnabled": "false",
                "relaysEnabled": "false",
                "natEnabled": "false",
                "urAccepted": "-1",
                "urSeen": str(UR_VERSION),
                "crashReportingEnabled": "false",
                "autoUpgradeIntervalH": "0",
                "startBrowser": "false",
                # Redial a lost or not-yet-listening peer within a second or two, not a minute.
                "reconnectionIntervalS": "1",
                # 0 disables STUN keepalives (no outside world to reach anyway).
                "stunKeepaliveStartS": "0",
                "announceLANAddresses": "false",
                # Full speed under a loaded CI: no nice/ionice on Syncthing itself.
                "setLowPriority": "false",
                "minHomeDiskFree": "0",
            }
            for tag, value in settings.items():
                _set_text(options, tag, value)

        self.edit_config(edit)

    def add_device(self, device_id: str, name: str, address: str) -> None:
        """Know ``device_id`` at ``address`` (e.g. ``tcp://127.0.0.1:22001``); before start."""

        def edit(root: ET.Element) -> None:
            for old in root.findall(f"device[@id='{device_id}']"):
                root.remove(old)
            template = root.find("defaults/device")
            device = copy.deepcopy(template) if template is not None else ET.Element("device")
            device.set("id", device_id)
            device.set("name", name)
            for addr in device.findall("address"):
                device.remove(addr)
            ET.SubElement(device, "address").text = address
            _set_text(device, "autoAcceptFolders", "false")
            _set_text(device, "paused", "false")
            _insert_after_last(root, device)

        self.edit_config(edit)

    def add_folder(
        self,
        folder_id: str,
        label: str,
        path: Path,
        device_ids: list[str],
        *,
        folder_type: str = "sendreceive",
        fs_watcher_delay_s: int = 1,
        rescan_interval_s: int = 3600,
        versioning: str | None = None,
        versioning_params: Mapping[str, str] | None = None,
    ) -> None:
        """Share ``path`` as ``folder_id`` with ``device_ids`` (besides this one); before start.

        ``versioning`` is a Syncthing versioner name ("simple", "trashcan", "staggered",
        "external") or None; ``versioning_params`` its ``<param>`` keys, e.g. ``{"keep": "5"}``.
        """

        def edit(root: ET.Element) -> None:
            for old in root.findall(f"folder[@id='{folder_id}']"):
                root.remove(old)
            template = root.find("defaults/folder")
            folder = copy.deepcopy(template) if template is not None else ET.Element("folder")
            folder.set("id", folder_id)
            folder.set("label", label)
            folder.set("path", str(path))
            folder.set("type", folder_type)
            folder.set("rescanIntervalS", str(rescan_interval_s))
            folder.set("fsWatcherEnabled", "true")
            folder.set("fsWatcherDelayS", str(fs_watcher_delay_s))
            for old_device in folder.findall("device"):
                folder.remove(old_device)
            for device_id in [self.device_id, *device_ids]:
                member = ET.Element("device", {"id": device_id, "introducedBy": ""})
                ET.SubElement(member, "encryptionPassword")
                _insert_after_last(folder, member)
            min_free = folder.find("minDiskFree")
            if min_free is not None:
                min_free.text = "0"
            old_versioning = folder.find("versioning")
            new_versioning = ET.Element("versioning")
            if versioning:
                new_versioning.set("type", versioning)
                params = {"keep": "10", "cleanoutDays": "0"} if versioning == "simple" else {}
                params.update(versioning_params or {})
                for key, value in params.items():
                    ET.SubElement(new_versioning, "param", {"key": key, "val": value})
            if old_versioning is not None:
                for child in old_versioning:
                    if child.tag != "param":
                        new_versioning.append(copy.deepcopy(child))
                folder.remove(old_versioning)
            folder.append(new_versioning)
            _insert_after_last(root, folder)

        self.edit_config(edit)

    # -- process -----------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, timeout: float = DEFAULT_START_TIMEOUT) -> None:
        """Start ``syncthing serve`` and wait until its REST API answers and it listens."""
        self.launch()
        try:
            self.wait_ready(timeout)
        except BaseException:
            self.stop()
            raise

    def launch(self) -> None:
        """Start ``syncthing serve`` without waiting (then ``wait_ready``)."""
        if self.running:
            raise SyncthingError(f"{self.name} already runs")
        self._forget()
        self.base.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed by stop()/the finalizer
        log.write(f"\n==== start {time.strftime('%H:%M:%S')} ====\n".encode())
        log.flush()
        try:
            self.process = subprocess.Popen(
                [
                    *_die_with_parent_prefix(),
                    self.binary,
                    "serve",
                    f"--home={self.home}",
                    "--no-browser",
                    "--no-restart",
                    "--no-upgrade",
                    "--logflags=3",
                ],
                env=self.env(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.base,
                # Its own process group: no terminal signal reaches it by accident, and the
                # whole group can be killed by its id.
                start_new_session=True,
            )
        except BaseException:
            log.close()
            raise
        self._log = log
        self._finalizer = weakref.finalize(self, _reap, self.process, log)
        with _LIVE_LOCK:
            _LIVE.add(self)

    def wait_ready(self, timeout: float = DEFAULT_START_TIMEOUT) -> None:
        """Wait until the REST API answers as this device and the sync listener is up.

        Raises PortInUseError when the GUI or the sync port was taken meanwhile.
        """
        last = "no answer yet"
        deadline = time.monotonic() + timeout
        for _ in _deadline_loop(timeout):
            if self.process is None or self.process.poll() is not None:
                code = None if self.process is None else self.process.returncode
                log = self.log_tail()
                if "address already in use" in log:
                    raise PortInUseError(f"{self.name}: port taken\n{log}")
                raise SyncthingError(
                    f"{self.name}: syncthing exited ({code}) while starting\n{log}"
                )
            if "Starting API/GUI" in (log := self.log_tail(10)) and "already in use" in log:
                raise PortInUseError(f"{self.name}: GUI port taken\n{log}")
            try:
                # Short: something else may hold the port and never answer.
                wait = max(1.0, min(5.0, deadline - time.monotonic()))
                status = self.request("GET", "/rest/system/status", timeout=wait)
            except (OSError, SyncthingApiError, ValueError) as exc:
                last = repr(exc)
                continue
            if status.get("myID") != self.device_id:
                raise SyncthingError(
                    f"{self.name}: {self.api_url} answers as {status.get('myID')}, "
                    f"not {self.device_id}: another Syncthing holds the port?"
                )
            listener = (status.get("connectionServiceStatus") or {}).get(self.listen_address)
            if listener is None:
                last = f"listener {self.listen_address} not started"
                continue
            error = listener.get("error")
            if error:
                if "address already in use" in error:
                    raise PortInUseError(f"{self.name}: {self.listen_address}: {error}")
                last = f"listener {self.listen_address}: {error}"
                continue
            return
        raise SyncthingTimeout(
            f"{self.name}: Syncthing not ready after {timeout:.0f}s ({last})\n{self.log_tail()}"
        )

    def stop(self, timeout: float = 20.0) -> None:
        """Shut down through the REST API, then SIGTERM, then SIGKILL; always reaps."""
        process = self.process
        if process is None:
            return
        try:
            if process.poll() is None:
                with contextlib.suppress(OSError, SyncthingError, ValueError):
                    self.post("/rest/system/shutdown", timeout=min(timeout, 10.0))
                try:
                    process.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    self._signal(signal.SIGTERM)
                    try:
                        process.wait(timeout=10)
                    except subprocess.TimeoutExpired:
                        self._signal(signal.SIGKILL)
                        process.wait(timeout=30)
        finally:
            self._forget()

    def kill(self) -> None:
        """SIGKILL at once and reap (last-resort cleanup)."""
        if self.process is not None and self.process.poll() is None:
            self._signal(signal.SIGKILL)
        self._forget()

    def _signal(self, signum: int) -> None:
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signum)
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signum)

    def _forget(self) -> None:
        if self._finalizer is not None:
            self._finalizer()  # kills if still running, reaps, closes the log
            self._finalizer = None
        elif self._log is not None:
            self._log.close()
        self._log = None
        with _LIVE_LOCK:
            _LIVE.discard(self)

    def __enter__(self) -> Self:
        if not self.running:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(f"  [{self.name}] {line}" for line in text.splitlines()[-lines:])

    # -- REST --------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        params: Mapping[str, Any] | None = None,
        timeout: float = HTTP_TIMEOUT,
    ) -> Any:
        """One REST call; the parsed JSON answer (None for an empty one)."""
        url = self.api_url + path
        if params:
            query = {
                k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in params.items()
            }
            url += "?" + urllib.parse.urlencode(query)
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(url, data=data, method=method)
        req.add_header("X-API-Key", self.api_key)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with self._opener.open(req, timeout=timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            raise SyncthingApiError(
                method, url, exc.code, exc.read().decode(errors="replace")
            ) from None
        if not raw.strip():
            return None
        return json.loads(raw)

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params)

    def post(
        self,
        path: str,
        body: Any = None,
        *,
        params: Mapping[str, Any] | None = None,
        timeout: float = HTTP_TIMEOUT,
    ) -> Any:
        return self.request("POST", path, body, params=params, timeout=timeout)

    def put(self, path: str, body: Any) -> Any:
        return self.request("PUT", path, body)

    def patch(self, path: str, body: Any) -> Any:
        return self.request("PATCH", path, body)

    def events(
        self,
        since: int = 0,
        timeout: float = 1.0,
        types: list[str] | None = None,
        *,
        disk: bool = False,
    ) -> list[dict[str, Any]]:
        """``GET /rest/events`` (``disk``: ``/rest/events/disk``) after event id ``since``.

        Waits up to ``timeout`` s for the first event. ``types`` filters here, not through
        Syncthing's ``events=`` parameter: in v1.19 a filtered subscription only buffers events
        from its first request on, so earlier events of those types would be missing. The
        plain stream has no ``LocalChangeDetected``/``RemoteChangeDetected``: ``disk=True``.
        """
        params: dict[str, Any] = {"since": since, "timeout": max(1, round(timeout))}
        path = "/rest/events/disk" if disk else "/rest/events"
        result = self.request("GET", path, params=params, timeout=timeout + HTTP_TIMEOUT)
        events = list(result or [])
        return [e for e in events if types is None or e.get("type") in types]

    def connections(self) -> dict[str, Any]:
        result: dict[str, Any] = self.get("/rest/system/connections").get("connections", {})
        return result

    def folder_status(self, folder_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.get("/rest/db/status", folder=folder_id)
        return result

    def completion(self, folder_id: str, device_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.get("/rest/db/completion", folder=folder_id, device=device_id)
        return result

    def scan(self, folder_id: str, sub: str | None = None) -> None:
        """``POST /rest/db/scan``: returns once the scan has finished."""
        params = {"folder": folder_id} if sub is None else {"folder": folder_id, "sub": sub}
        self.post("/rest/db/scan", params=params, timeout=120)

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<SyncthingInstance {self.name} {self.short_id} {self.api_url} {state}>"


def _insert_after_last(parent: ET.Element, element: ET.Element) -> None:
    """Insert ``element`` after ``parent``'s last child of the same tag, else append it.

    Syncthing does not care about element order; this only keeps config.xml readable.
    """
    same = [i for i, child in enumerate(parent) if child.tag == element.tag]
    parent.insert(same[-1] + 1 if same else len(parent), element)


class SyncthingPair:
    """Two Syncthing instances, A and B, sharing one folder over loopback.

    ``base`` holds the instances' homes and logs (``base/A``, ``base/B``); the folder's paths
    on each side are the caller's (created if missing). Use as a context manager: on exit
    both processes are stopped and reaped, whatever happened.

    ``versioning`` applies to side A only (e.g. ``"simple"``: old versions in
    ``A/.stversions``).

    Only A dials: A knows B at ``tcp://127.0.0.1:<B's port>``, B knows A's device ID with the
    address ``dynamic``, which resolves to nothing with discovery off, so B only accepts. When
    both dial each other at the same moment (``both_dial=True``), Syncthing 1.19 can deadlock
    both handshakes until its 20 s Hello timeout ("Failed to exchange Hello messages ... i/o
    timeout"): seen in 2 of 10 starts with parallel start-up. A redials every second
    (``reconnectionIntervalS`` 1), so a restarted B (``pair.b.stop()``, ``pair.b.start()``) is
    reconnected within a second or two.
    """

    def __init__(
        self,
        base: Path,
        path_a: Path,
        path_b: Path,
        *,
        folder_id: str = "group",
        label: str = "Family",
        versioning: str | None = None,
        versioning_params: Mapping[str, str] | None = None,
        fs_watcher_delay_s: int = 1,
        rescan_interval_s: int = 3600,
        both_dial: bool = False,
        binary: str | None = None,
    ) -> None:
        self.binary = binary or _require_binary()
        self.both_dial = both_dial
        self.base = Path(base)
        self.paths: dict[Side, Path] = {"A": Path(path_a), "B": Path(path_b)}
        self.folder_id = folder_id
        self.label = label
        self.versioning = versioning
        self.versioning_params = dict(versioning_params or {})
        self.fs_watcher_delay_s = fs_watcher_delay_s
        self.rescan_interval_s = rescan_interval_s
        self._instances: dict[Side, SyncthingInstance] = {}

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self, timeout: float = DEFAULT_START_TIMEOUT, attempts: int = 3) -> None:
        """Generate, configure and start both instances (retrying if a port was taken)."""
        for path in self.paths.values():
            path.mkdir(parents=True, exist_ok=True)
        for attempt in range(attempts):
            try:
                self._start_once(timeout)
                return
            except PortInUseError:
                self.close()
                if attempt == attempts - 1:
                    raise
            except BaseException:
                self.close()
                raise

    def _start_once(self, timeout: float) -> None:
        for side in SIDES:
            if side not in self._instances:
                self._instances[side] = SyncthingInstance(
                    self.base / side, side, binary=self.binary
                )
            else:
                instance = self._instances[side]
                instance.gui_port, instance.listen_port = free_ports(2)
                instance.configure()
        for side in SIDES:
            me, peer = self._instances[side], self._instances[self.other(side)]
            dials = side == "A" or self.both_dial
            me.add_device(peer.device_id, peer.name, peer.listen_address if dials else "dynamic")
            me.add_folder(
                self.folder_id,
                self.label,
                self.paths[side],
                [peer.device_id],
                fs_watcher_delay_s=self.fs_watcher_delay_s,
                rescan_interval_s=self.rescan_interval_s,
                versioning=self.versioning if side == "A" else None,
                versioning_params=self.versioning_params if side == "A" else None,
            )
        # B first, so that A's dial at its start-up finds B listening: connected at once.
        self._instances["B"].start(timeout)
        self._instances["A"].start(timeout)

    def close(self) -> None:
        """Stop both instances (in parallel) and reap them; safe to call twice."""
        instances = [i for i in self._instances.values() if i.process is not None]
        threads = [threading.Thread(target=i.stop, daemon=True) for i in instances]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=90)
        for instance in instances:
            instance.kill()  # no-op if stopped; SIGKILL if a stop hung

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- access ------------------------------------------------------------------------------

    @property
    def a(self) -> SyncthingInstance:
        return self.instance("A")

    @property
    def b(self) -> SyncthingInstance:
        return self.instance("B")

    def instance(self, side: Side) -> SyncthingInstance:
        try:
            return self._instances[side]
        except KeyError:
            raise SyncthingError(f"side {side!r} is not started (use the pair as `with`)") from None

    @property
    def running_instances(self) -> list[SyncthingInstance]:
        """The instances whose process still runs (empty after ``close()``)."""
        return [i for i in self._instances.values() if i.running]

    def other(self, side: Side) -> Side:
        return "B" if side == "A" else "A"

    def path(self, side: Side, relpath: str = "") -> Path:
        """The file ``relpath`` (slash-separated) in the shared folder on ``side``."""
        return self.paths[side] / relpath if relpath else self.paths[side]

    # -- waiting -----------------------------------------------------------------------------

    def wait_connected(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Wait until each side reports a live connection to the other."""
        last: dict[str, Any] = {}
        for _ in _deadline_loop(timeout):
            ok = True
            for side in SIDES:
                me, peer = self.instance(side), self.instance(self.other(side))
                conn = me.connections().get(peer.device_id, {})
                last[side] = conn
                ok = ok and bool(conn.get("connected"))
            if ok:
                return
        raise SyncthingTimeout(
            f"A and B not connected after {timeout:.0f}s: {last}\n{self.diagnostics()}"
        )

    def sync_state(self) -> dict[str, Any]:
        """Each side's folder status and completion of the other device (for waits/messages)."""
        state: dict[str, Any] = {}
        for side in SIDES:
            me, peer = self.instance(side), self.instance(self.other(side))
            state[side] = {
                "status": me.folder_status(self.folder_id),
                "completion": me.completion(self.folder_id, peer.device_id),
            }
        return state

    def in_sync(self, state: Mapping[str, Any]) -> bool:
        keys = ("globalFiles", "globalDirectories", "globalDeleted", "globalBytes")
        globals_seen = []
        for side in SIDES:
            status, completion = state[side]["status"], state[side]["completion"]
            if status.get("state") != "idle" or status.get("needTotalItems", 1) != 0:
                return False
            if status.get("pullErrors", 0) or status.get("errors", 0):
                return False
            if completion.get("completion") != 100 or completion.get("needItems", 1) != 0:
                return False
            if completion.get("remoteState", "valid") not in ("valid", "unknown"):
                return False
            if status.get("inSyncFiles") != status.get("globalFiles"):
                return False
            globals_seen.append(tuple(status.get(k) for k in keys))
        return globals_seen[0] == globals_seen[1]

    def wait_in_sync(self, timeout: float = DEFAULT_TIMEOUT, *, rescan: bool = True) -> None:
        """Wait until both sides agree on the folder and need nothing from each other.

        Both sides idle, ``needTotalItems`` 0, completion 100 % of the other device, the same
        global file counts and bytes, seen on two polls in a row. With ``rescan`` both folders
        are scanned first, so a change the watchers have not reported yet is included.
        """
        if rescan:
            self.rescan("B")
            self.rescan("A")
        state: dict[str, Any] = {}
        streak = 0
        for _ in _deadline_loop(timeout):
            try:
                state = self.sync_state()
            except SyncthingApiError as exc:
                state = {"error": str(exc)}
                streak = 0
                continue
            streak = streak + 1 if self.in_sync(state) else 0
            if streak >= 2:
                return
        raise SyncthingTimeout(
            f"A and B not in sync after {timeout:.0f}s: {json.dumps(state, indent=1)}\n"
            f"{self.diagnostics()}"
        )

    def wait_for(
        self,
        side: Side,
        relpath: str,
        expected: bytes | Callable[[Path], bool],
        timeout: float = DEFAULT_TIMEOUT,
    ) -> Path:
        """Poll the file on disk until it holds ``expected`` bytes (or ``expected(path)``).

        A predicate gets the path (which may not exist); an OSError it raises counts as False.
        Returns the path.
        """
        path = self.path(side, relpath)
        check: Callable[[Path], bool]
        if isinstance(expected, bytes):
            want = expected

            def check(p: Path) -> bool:
                return p.read_bytes() == want

        else:
            check = expected
        for _ in _deadline_loop(timeout):
            try:
                if check(path):
                    return path
            except OSError:
                pass
        try:
            now = repr(path.read_bytes()[:200])
        except OSError as exc:
            now = f"unreadable: {exc}"
        raise SyncthingTimeout(
            f"{side}:{relpath} not as expected after {timeout:.0f}s (now: {now})\n"
            f"{self.diagnostics(relpath)}"
        )

    def wait_gone(self, side: Side, relpath: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Poll until ``relpath`` no longer exists on ``side`` (not even as a broken link)."""
        path = self.path(side, relpath)
        for _ in _deadline_loop(timeout):
            if not os.path.lexists(path):
                return
        raise SyncthingTimeout(
            f"{side}:{relpath} still exists after {timeout:.0f}s\n{self.diagnostics(relpath)}"
        )

    # -- REST shortcuts ----------------------------------------------------------------------

    def rescan(self, side: Side, sub: str | None = None) -> None:
        """Scan the folder (or ``sub`` in it) on ``side`` now; returns when the scan is done."""
        self.instance(side).scan(self.folder_id, sub)

    def file_info(self, side: Side, relpath: str) -> dict[str, Any]:
        """``GET /rest/db/file``: ``{"availability", "global", "local"}`` as ``side`` knows it.

        Raises SyncthingApiError (status 404) for a file ``side``'s index does not have.
        """
        result: dict[str, Any] = self.instance(side).get(
            "/rest/db/file", folder=self.folder_id, file=relpath
        )
        return result

    def folder_status(self, side: Side) -> dict[str, Any]:
        return self.instance(side).folder_status(self.folder_id)

    def diagnostics(self, relpath: str | None = None) -> str:
        """Folder states, the file's index entries and log tails: for failure messages."""
        parts = []
        for side in SIDES:
            instance = self._instances.get(side)
            if instance is None:
                continue
            try:
                status = instance.folder_status(self.folder_id)
                brief = {
                    k: status.get(k)
                    for k in ("state", "needTotalItems", "pullErrors", "globalFiles", "error")
                }
                parts.append(f"{side} status: {brief}")
                if relpath is not None:
                    info = self.file_info(side, relpath)
                    parts.append(f"{side} file_info({relpath}): {info}")
            except (OSError, SyncthingError, ValueError) as exc:
                parts.append(f"{side}: {exc}")
            parts.append(instance.log_tail(15))
        return "\n".join(parts)
