"""The desktop app on real folders: the real engine, the real watchdog observer, real
widgets (offscreen), a real journal. An in-memory keyring (these tests are not about it)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import keyring
import pytest
from pytestqt.qtbot import QtBot

from sendguard.app.controller import Controller
from sendguard.app.shell import Shell
from sendguard.engine.guard import EngineConfig
from tests.keyrings import MemoryKeyring

TLP_RED = b"TLP:RED\nThe plan for next quarter.\n"
CLEAN = b"Shopping list\nmilk\nbread\n"

POLICY = """
[ui]
allow_pause = {allow_pause}

[[groups]]
name = "Editors' Desk"
folders = ["{root}/groups/editors"]
clearance = "INTERNAL"
members = 12
colour = "#1f6feb"

[[groups]]
name = "Family"
folders = ["{root}/groups/family"]
clearance = "PUBLIC"
members = 6
external = true
colour = "#c2410c"
"""


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    yield
    keyring.set_keyring(previous)


@dataclass
class AppWorld:
    root: Path
    controller: Controller
    shell: Shell
    qtbot: QtBot

    @property
    def editors(self) -> Path:
        return self.root / "groups" / "editors"

    @property
    def family(self) -> Path:
        return self.root / "groups" / "family"

    @property
    def not_shared(self) -> Path:
        return self.root / "Not shared"

    def wait(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        self.qtbot.waitUntil(lambda: bool(predicate()), timeout=int(timeout * 1000))

    def dialog(self, timeout: float = 10.0):  # type: ignore[no-untyped-def]
        self.wait(lambda: self.shell.dialog is not None, timeout)
        dialog = self.shell.dialog
        assert dialog is not None
        # Keys typed in the dialog's first moment are ignored (a key held from the chat
        # window must decide nothing): a test types as a person would, after it.
        self.wait(lambda: dialog.keys_ready, timeout)
        return dialog


def fast(config: EngineConfig) -> EngineConfig:
    return replace(config, settle_seconds=0.5)


@pytest.fixture
def make_app(tmp_path: Path, qtbot: QtBot) -> Iterator[Callable[..., AppWorld]]:
    made: list[AppWorld] = []

    def make(
        *,
        allow_pause: bool = True,
        tray: bool = False,
        arm_delay_ms: int = 200,
        policy: str | None = None,
        ask_reason: Callable[[object], str | None] | None = None,
    ) -> AppWorld:
        text = (policy or POLICY).format(root=tmp_path, allow_pause=str(allow_pause).lower())
        policy_file = tmp_path / "policy.toml"
        policy_file.write_text(text, encoding="utf-8")
        # The sync client made the group folders (SendGuard never makes them).
        for name in ("editors", "family"):
            (tmp_path / "groups" / name).mkdir(parents=True, exist_ok=True)
        controller = Controller(
            policy_path=policy_file,
            data_dir=tmp_path / "data",
            not_shared=tmp_path / "Not shared",
            home=tmp_path / "home",
            engine_config=fast,
            audit_keyring=MemoryKeyring(),
        )
        shell = Shell(
            controller,
            tray_available=lambda: tray,
            arm_delay_ms=arm_delay_ms,
            ask_reason=ask_reason,  # type: ignore[arg-type]
        )
        shell.show()
        controller.start()
        world = AppWorld(tmp_path, controller, shell, qtbot)
        qtbot.waitUntil(lambda: controller.ready, timeout=10_000)
        assert controller.engine is not None, controller.start_error
        made.append(world)
        return world

    yield make
    for world in made:
        world.shell.close_all()
        world.controller.stop()
