"""Where SendGuard keeps everything, in one place: ``resolve_paths``.

The desktop app, every command and ``sendguard doctor`` take their paths from
``resolve_paths``, so a file one of them moves is where the others say it is. Light on
purpose: no Qt, and nothing from the policy package (which imports this module).

    paths = resolve_paths()                    # this user's defaults
    paths = resolve_paths(Path("/tmp/trial"))  # --data-dir: data and settings move there

Defaults (docs/engine.md, "Where things are"; docs/policy.md, "Where the files are"):

- the data folder (journal, hold area, audit trail, last good policy copies; private):
  ``$XDG_DATA_HOME/SendGuard`` (default ``~/.local/share/SendGuard``) on Linux,
  ``%LOCALAPPDATA%\\SendGuard`` on Windows, ``~/Library/Application Support/SendGuard`` on
  macOS;
- the files not shared, where the user can see them: ``~/SendGuard/Not shared``, whatever
  the data folder (``--not-shared`` moves it);
- the user settings: ``$XDG_CONFIG_HOME/sendguard/settings.toml`` (default
  ``~/.config/sendguard/settings.toml``), ``%APPDATA%\\SendGuard\\settings.toml``,
  ``~/Library/Application Support/SendGuard/settings.toml``; with a data folder other than
  the default (``--data-dir``, for tests and trials) they follow it: ``DIR/settings.toml``;
- the system policy (IT's): ``/etc/sendguard/policy.toml``,
  ``%ProgramData%\\SendGuard\\policy.toml``, ``/Library/Application Support/SendGuard/policy.toml``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath

import platformdirs

APP = "SendGuard"
POLICY_FILE = "policy.toml"
SETTINGS_FILE = "settings.toml"
JOURNAL_FILE = "journal.sqlite3"
AUDIT_FILE = "audit.sqlite3"
HOLD_DIR = "hold"
LAST_GOOD_DIR = "last-good"
NOT_SHARED_DIR = "Not shared"
DEMO_GROUPS_DIR = "Demo groups"
#: The running engine's control socket (``sendguard held``), in a private folder of its own.
CONTROL_DIR = "control"
CONTROL_SOCKET = "engine.sock"
#: The one-writer lock: held by the process that guards the data folder, or decides in it.
WRITER_LOCK = "engine.lock"


def _xdg(environ: Mapping[str, str], name: str, fallback: Path) -> Path:
    """An XDG base directory: the variable when it holds an absolute path (the spec says
    to ignore a relative one), else `fallback`."""
    value = environ.get(name, "").strip()
    return Path(value) if value and Path(value).is_absolute() else fallback


def default_data_dir(
    home: Path | None = None,
    *,
    platform: str = sys.platform,
    environ: Mapping[str, str] = os.environ,
) -> Path:
    """The data folder (private): the journal, the hold area, the audit trail."""
    if home is None and platform == sys.platform and environ is os.environ:
        # This user on this OS: platformdirs asks the OS (Windows' known folders API too).
        return platformdirs.user_data_path(APP, appauthor=False)
    home = home if home is not None else Path.home()
    if platform == "win32":
        base = environ.get("LOCALAPPDATA") or str(PureWindowsPath(home, "AppData", "Local"))
        return Path(str(PureWindowsPath(base, APP)))
    if platform == "darwin":
        return home / "Library" / "Application Support" / APP
    return _xdg(environ, "XDG_DATA_HOME", home / ".local" / "share") / APP


def default_not_shared_dir(home: Path | None = None) -> Path:
    """Files the user chose not to share, where they can see them: ``~/SendGuard/Not shared``."""
    return (home if home is not None else Path.home()) / APP / NOT_SHARED_DIR


def system_policy_path(
    platform: str = sys.platform, environ: Mapping[str, str] = os.environ
) -> Path:
    """Where IT installs the system policy on this OS."""
    if platform == "win32":
        program_data = environ.get("ProgramData") or environ.get("PROGRAMDATA") or r"C:\ProgramData"
        return Path(str(PureWindowsPath(program_data, APP, POLICY_FILE)))
    if platform == "darwin":
        return Path("/Library/Application Support", APP, POLICY_FILE)
    return Path("/etc/sendguard", POLICY_FILE)


def _same_folder(one: Path, other: Path) -> bool:
    return os.path.normcase(os.path.abspath(one)) == os.path.normcase(os.path.abspath(other))


def user_settings_path(
    data_dir: Path | None = None,
    *,
    home: Path | None = None,
    platform: str = sys.platform,
    environ: Mapping[str, str] = os.environ,
) -> Path:
    """The user's settings file.

    With a data folder other than the default (``--data-dir``, for tests and trials) it is
    ``<data_dir>/settings.toml``, so such a run reads no settings of the real user; the
    default data folder never holds it, whoever passes that folder along.
    """
    home = home if home is not None else Path.home()
    if data_dir is not None and not _same_folder(
        data_dir, default_data_dir(home, platform=platform, environ=environ)
    ):
        return data_dir / SETTINGS_FILE
    if platform == "win32":
        app_data = environ.get("APPDATA")
        base = app_data if app_data else str(PureWindowsPath(home, "AppData", "Roaming"))
        return Path(str(PureWindowsPath(base, APP, SETTINGS_FILE)))
    if platform == "darwin":
        return home / "Library" / "Application Support" / APP / SETTINGS_FILE
    return _xdg(environ, "XDG_CONFIG_HOME", home / ".config") / "sendguard" / SETTINGS_FILE


@dataclass(frozen=True)
class AppPaths:
    """Every path SendGuard uses for one user, as ``resolve_paths`` worked them out."""

    #: The data folder (private, ``0700``).
    data_dir: Path
    #: The journal of every hold (``journal.sqlite3``).
    journal: Path
    #: The main hold area; a group on another file system is held at that file system's top.
    hold: Path
    #: The tamper-evident audit trail (``audit.sqlite3``).
    audit: Path
    #: Copies of the last policy files that could be used (``last-good``).
    last_good: Path
    #: Files not shared, one folder per group.
    not_shared: Path
    #: The user settings file (it need not exist).
    settings: Path
    #: The system policy file read (it need not exist).
    system_policy: Path
    #: Where the app makes two demo group folders when there is no policy and no group.
    demo_groups: Path
    #: The system policy was given (``--policy``) rather than the OS location: then a
    #: missing file is an error, and the OS location's trust checks do not apply.
    policy_given: bool = False

    @property
    def control_socket(self) -> Path:
        """The running engine's control socket (``0600``, in a ``0700`` folder)."""
        return self.data_dir / CONTROL_DIR / CONTROL_SOCKET

    @property
    def writer_lock(self) -> Path:
        """The lock of the one process writing the journal and the audit trail."""
        return self.data_dir / WRITER_LOCK

    @property
    def policy_option(self) -> Path | None:
        """The system policy as ``load_policy`` takes it: None for the OS location."""
        return self.system_policy if self.policy_given else None

    def as_strings(self) -> dict[str, str]:
        """Every path by its field name, for JSON (``sendguard doctor --json``)."""
        return {name: str(value) for name, value in vars(self).items() if isinstance(value, Path)}

    def listed(self) -> list[tuple[str, Path]]:
        """(name, path) for every path, in the order ``sendguard doctor`` prints them."""
        return [
            ("data folder", self.data_dir),
            ("journal", self.journal),
            ("hold area", self.hold),
            ("audit trail", self.audit),
            ("last good policy copies", self.last_good),
            ('"Not shared" folder', self.not_shared),
            ("user settings", self.settings),
            ("system policy", self.system_policy),
        ]


def resolve_paths(
    data_dir: Path | None = None,
    *,
    policy: Path | None = None,
    settings: Path | None = None,
    not_shared: Path | None = None,
    home: Path | None = None,
    platform: str = sys.platform,
    environ: Mapping[str, str] = os.environ,
) -> AppPaths:
    """Every path, from the options given (``--data-dir``, ``--policy``, ``--not-shared``;
    `settings` for the settings file itself) and this user's defaults for the rest.

    `home`, `platform` and `environ` stand for the user's home folder, the OS and the
    environment (tests pass temporary ones).
    """
    home = home if home is not None else Path.home()
    data = (
        data_dir
        if data_dir is not None
        else default_data_dir(home, platform=platform, environ=environ)
    )
    return AppPaths(
        data_dir=data,
        journal=data / JOURNAL_FILE,
        hold=data / HOLD_DIR,
        audit=data / AUDIT_FILE,
        last_good=data / LAST_GOOD_DIR,
        not_shared=not_shared if not_shared is not None else default_not_shared_dir(home),
        settings=settings
        if settings is not None
        else user_settings_path(data_dir, home=home, platform=platform, environ=environ),
        system_policy=policy if policy is not None else system_policy_path(platform, environ),
        demo_groups=home / APP / DEMO_GROUPS_DIR,
        policy_given=policy is not None,
    )
