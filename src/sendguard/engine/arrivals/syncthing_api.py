"""Syncthing's own word on who changed a file: its REST API on this machine.

``GET /rest/db/file?folder=<id>&file=<path>`` gives the version this device has (``local``:
size, modification time, ``modifiedBy`` — the short ID of the device that made the change);
``GET /rest/system/status`` gives this device's ID (``myID``), whose first block is its short
ID. When the local version matches the file on disk, ``modifiedBy`` says for sure whether
this device changed it (a share) or another one did (a download). The address and the API
key are read from Syncthing's ``config.xml``; nothing leaves this machine.
"""

from __future__ import annotations

import calendar
import json
import os
import re
import ssl
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from defusedxml import ElementTree

from sendguard.engine.arrivals.clients import StateVerdict, SyncthingStateReader
from sendguard.engine.arrivals.model import Evidence, Kind, Strength

#: Seconds to wait for one answer: the API is on this machine and answers in milliseconds.
_TIMEOUT = 1.0
_LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


def syncthing_homes(home: Path, environ: Mapping[str, str] | None = None) -> list[Path]:
    """Where Syncthing keeps its configuration, most specific first (``STHOMEDIR`` is the
    variable Syncthing itself reads)."""
    env = os.environ if environ is None else environ
    candidates = []
    if env.get("STHOMEDIR"):
        candidates.append(Path(env["STHOMEDIR"]))
    candidates += [
        home / ".local" / "state" / "syncthing",
        home / ".config" / "syncthing",
        home / "Library" / "Application Support" / "Syncthing",
    ]
    if env.get("LOCALAPPDATA"):
        candidates.append(Path(env["LOCALAPPDATA"]) / "Syncthing")
    return candidates


@dataclass(frozen=True)
class _Config:
    url: str
    api_key: str
    tls: bool
    #: folder id → its path on this machine
    folders: dict[str, Path]
    mtime: float


def _read_config(config_xml: Path) -> _Config | None:
    try:
        mtime = config_xml.stat().st_mtime
        root = ElementTree.parse(config_xml).getroot()
    except (OSError, ElementTree.ParseError):
        return None
    if root is None:
        return None
    gui = root.find("gui")
    if gui is None:
        return None
    address = (gui.findtext("address") or "").strip()
    api_key = (gui.findtext("apikey") or "").strip()
    if not address or not api_key or address.startswith(("unix://", "/")):
        return None
    host = address.rsplit(":", 1)[0]
    if host in ("0.0.0.0", "", "[::]"):
        address = "127.0.0.1:" + address.rsplit(":", 1)[1]
    elif host not in _LOOPBACK:
        return None  # only ever this machine's API: the key is not sent anywhere else
    tls = gui.get("tls", "false").lower() == "true"
    folders: dict[str, Path] = {}
    for folder in root.findall("folder"):
        folder_id, path = folder.get("id"), folder.get("path")
        if folder_id and path:
            folders[folder_id] = Path(os.path.expanduser(path)).resolve()
    scheme = "https" if tls else "http"
    return _Config(f"{scheme}://{address}", api_key, tls, folders, mtime)


_RFC3339 = re.compile(
    r"\A(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)\Z"
)


def parse_time(text: str) -> float | None:
    """Seconds since the epoch from Go's RFC 3339 time with nanoseconds (float precision)."""
    match = _RFC3339.match(text)
    if match is None:
        return None
    y, mo, d, h, mi, s = (int(match[i]) for i in range(1, 7))
    seconds = float(calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0)))
    if match[7]:
        seconds += int(match[7][:9].ljust(9, "0")) / 1e9
    zone = match[8]
    if zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        seconds -= sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    return seconds


class SyncthingApi(SyncthingStateReader):
    """Reads Syncthing's state through its REST API; thread-safe; never raises."""

    def __init__(self, homes: Iterable[Path]) -> None:
        self._homes = list(homes)
        self._lock = threading.Lock()
        self._configs: dict[Path, _Config] = {}
        self._short_ids: dict[str, str] = {}

    def _config_for(self, path: Path) -> tuple[_Config, str, str] | None:
        """The configuration, folder id and relative path of the Syncthing folder holding
        `path` (re-read when config.xml changes)."""
        with self._lock:
            for home in self._homes:
                config_xml = home / "config.xml"
                try:
                    mtime = config_xml.stat().st_mtime
                except OSError:
                    self._configs.pop(home, None)
                    continue
                config = self._configs.get(home)
                if config is None or config.mtime != mtime:
                    fresh = _read_config(config_xml)
                    if fresh is None:
                        continue
                    self._configs[home] = config = fresh
                for folder_id, root in config.folders.items():
                    if root in path.parents:
                        return config, folder_id, path.relative_to(root).as_posix()
        return None

    def _get(self, config: _Config, endpoint: str, **params: str) -> Any:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        request = urllib.request.Request(
            config.url + endpoint + query, headers={"X-API-Key": config.api_key}
        )
        handlers: list[urllib.request.BaseHandler] = [urllib.request.ProxyHandler({})]
        if config.tls:
            # Syncthing's GUI certificate is self-signed; the address is this machine's own.
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            handlers.append(urllib.request.HTTPSHandler(context=context))
        # Never through a proxy: the API is on this machine, and its key stays here.
        opener = urllib.request.build_opener(*handlers)
        with opener.open(request, timeout=_TIMEOUT) as answer:
            return json.load(answer)

    def _short_id(self, config: _Config) -> str | None:
        cached = self._short_ids.get(config.url)
        if cached is None:
            status = self._get(config, "/rest/system/status")
            my_id = str(status.get("myID", ""))
            if not my_id:
                return None
            cached = self._short_ids[config.url] = my_id.split("-", 1)[0]
        return cached

    def knows(self, path: Path) -> bool:
        return self._config_for(path.parent.resolve() / path.name) is not None

    def state_of(self, path: Path) -> StateVerdict | None:
        try:
            resolved = path.parent.resolve() / path.name
            found = self._config_for(resolved)
            if found is None:
                return None
            config, folder_id, relative = found
            me = self._short_id(config)
            answer = self._get(config, "/rest/db/file", folder=folder_id, file=relative)
            info = os.lstat(resolved)
        except (OSError, ValueError, urllib.error.URLError, json.JSONDecodeError):
            return None  # not running, not answering, or the file is gone: it cannot say
        local = answer.get("local") if isinstance(answer, dict) else None
        if me is None or not isinstance(local, dict) or local.get("deleted"):
            return None
        modified = parse_time(str(local.get("modified", "")))
        if local.get("size") != info.st_size or modified is None:
            return None
        if abs(modified - info.st_mtime) > 0.001:
            return None  # Syncthing has another version on record: not this one (yet)
        by = str(local.get("modifiedBy", ""))
        if by == me:
            return StateVerdict(
                Kind.SHARE,
                Evidence(
                    "Syncthing", "records this version as changed on this device", Strength.STATE
                ),
            )
        return StateVerdict(
            Kind.DOWNLOAD,
            Evidence(
                "Syncthing", f"records this version from device {by or 'unknown'}", Strength.STATE
            ),
        )
