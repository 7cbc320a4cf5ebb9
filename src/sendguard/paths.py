"""Where SendGuard keeps its state and the files it did not share."""

from __future__ import annotations

from pathlib import Path

import platformdirs

APP = "SendGuard"


def default_data_dir() -> Path:
    """The journal and the hold area (private): ``~/.local/share/SendGuard`` on Linux,
    ``%LOCALAPPDATA%\\SendGuard`` on Windows, ``~/Library/Application Support/SendGuard``."""
    return platformdirs.user_data_path(APP, appauthor=False)


def default_not_shared_dir() -> Path:
    """Files the user chose not to share, where they can see them: ``~/SendGuard/Not shared``."""
    return Path.home() / APP / "Not shared"
