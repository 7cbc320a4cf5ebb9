"""Real folders, a real journal, the real watchdog observer: an engine per test."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from sendguard.engine.arrivals import Arrival
from sendguard.engine.decider import Answer, Batch, ScriptedDecider
from sendguard.engine.guard import Engine, EngineConfig, EngineListener, run_until
from sendguard.policy import Policy, load_policy
from sendguard.policy.decide import Decision
from sendguard.store.journal import HoldRecord

TLP_RED = b"TLP:RED\nThe plan for next quarter.\n"
CLEAN = b"Shopping list\nmilk\nbread\n"


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Recorder(EngineListener):
    events: list[tuple[str, str]] = field(default_factory=list)
    arrivals: list[Arrival] = field(default_factory=list)
    kept: list[tuple[Arrival, Decision, Path | None]] = field(default_factory=list)

    def arrived(self, arrival: Arrival) -> None:
        self.arrivals.append(arrival)

    def kept_in_place(self, arrival: Arrival, decision: Decision, previous: Path | None) -> None:
        self.kept.append((arrival, decision, previous))
        self.events.append(("kept", arrival.path.name))

    def arrival(self, name: str) -> Arrival | None:
        """The latest arrival of a file called `name`."""
        return next((a for a in reversed(self.arrivals) if a.path.name == name), None)

    def held(self, record: HoldRecord, decision: Decision) -> None:
        self.events.append(("held", record.origin.name))

    def released(self, record: HoldRecord, target: Path, confirmed: bool) -> None:
        self.events.append(("released", target.name))

    def returned(self, record: HoldRecord, target: Path, reason: str) -> None:
        self.events.append(("returned", target.name))

    def notified(self, path: Path, decision: Decision) -> None:
        self.events.append(("notified", path.name))

    def problem(self, message: str) -> None:
        self.events.append(("problem", message))


@dataclass
class World:
    root: Path
    policy: Policy
    data_dir: Path

    @property
    def family(self) -> Path:
        return self.root / "Dropbox" / "Family"

    @property
    def work(self) -> Path:
        return self.root / "Dropbox" / "Work"

    @property
    def not_shared(self) -> Path:
        return self.data_dir / "Not shared"

    def engine(
        self,
        decide: Callable[[Batch], Sequence[Answer] | None] = lambda batch: None,
        **config: object,
    ) -> tuple[Engine, ScriptedDecider, Recorder]:
        decider = ScriptedDecider(decide)
        recorder = Recorder()
        settings: dict[str, object] = {"data_dir": self.data_dir, "batch_window": 0.2}
        settings.update(config)
        engine = Engine(self.policy, EngineConfig(**settings), decider, recorder)  # type: ignore[arg-type]
        return engine, decider, recorder


POLICY = """
[[groups]]
name = "Family"
folders = ["{root}/Dropbox/Family"]
clearance = "PUBLIC"
members = 6
external = true

[[groups]]
name = "Work"
folders = ["{root}/Dropbox/Work"]
outbox = "{root}/Outbox/Work"
clearance = "SECRET"

[discovery]
enabled = false
"""


@pytest.fixture
def world(tmp_path: Path) -> World:
    policy_file = tmp_path / "policy.toml"
    policy_file.write_text(POLICY.format(root=tmp_path))
    policy = load_policy(
        policy_file, tmp_path / "no-user.toml", system_required=True, home=tmp_path
    )
    assert policy.error is None, policy.error
    for group in policy.groups:
        for folder in group.folders:
            folder.mkdir(parents=True, exist_ok=True)
    return World(tmp_path, policy, tmp_path / "data")


@pytest.fixture
def running(world: World) -> Iterator[Callable[..., tuple[Engine, ScriptedDecider, Recorder]]]:
    engines: list[Engine] = []

    def start(*args: object, **kwargs: object) -> tuple[Engine, ScriptedDecider, Recorder]:
        engine, decider, recorder = world.engine(*args, **kwargs)  # type: ignore[arg-type]
        engine.start()
        engines.append(engine)
        return engine, decider, recorder

    yield start
    for engine in engines:
        engine.stop()


def wait(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    assert run_until(predicate, timeout), "timed out waiting"
