"""Issue 13: a resized copy of a photo received in the "Work" group's chat, put into a PUBLIC
group, is held for being forwarded — and that is what every one-line account of the hold
says (not "unknown is above PUBLIC"): the decision's headline, `sendguard run --headless`,
the journal and `sendguard held list`. Real folders, the real engine and watchdog."""

from __future__ import annotations

import argparse
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from PIL import Image

from sendguard.cli.engine import _Printer, held_list
from sendguard.engine.decider import Batch, ScriptedDecider
from sendguard.engine.forwarding import Forwarded, with_forwarding
from sendguard.engine.guard import Engine, EngineConfig, EngineListener
from sendguard.engine.listeners import FanOutListener
from sendguard.labels import Findings, detect
from sendguard.policy import Action, Policy, load_policy
from sendguard.policy.decide import Decision, decide
from sendguard.store.fingerprints import fingerprint_file
from sendguard.store.journal import HoldRecord
from tests.engine.conftest import TLP_RED, wait
from tests.engine.test_forwarding import NEWSROOM
from tests.engine.test_forwarding import POLICY as FORWARDING_POLICY
from tests.labels.photos import landscape

#: The forwarding tests' policy, with the work group called just "Work".
POLICY = FORWARDING_POLICY.replace(NEWSROOM, "Work")


def make_policy(root: Path, text: str = POLICY) -> Policy:
    path = root / "policy.toml"
    path.write_text(text.format(root=root), encoding="utf-8")
    policy = load_policy(path, root / "none.toml", system_required=True, home=root)
    assert policy.error is None, policy.error
    return policy


@dataclass
class Holds(EngineListener):
    decisions: dict[str, Decision] = field(default_factory=dict)

    def held(self, record: HoldRecord, decision: Decision) -> None:
        self.decisions[record.origin.name] = decision


@pytest.fixture
def policy(tmp_path: Path) -> Policy:
    for folder in ("Dropbox/Work", "Dropbox/Family", "Telegram Desktop"):
        (tmp_path / folder).mkdir(parents=True)
    return make_policy(tmp_path)


@pytest.fixture
def started(tmp_path: Path, policy: Policy) -> Iterator[tuple[Engine, Holds, list[Batch]]]:
    holds = Holds()
    decider = ScriptedDecider(lambda batch: None)  # nobody answers: the file stays held
    engine = Engine(
        policy,
        EngineConfig(data_dir=tmp_path / "data", batch_window=0.2),
        decider,
        FanOutListener(holds, _Printer()),
    )
    engine.start()
    yield engine, holds, decider.asked
    engine.stop()


def forward_a_resized_photo(root: Path, engine: Engine) -> None:
    """A photo arrives in the Work chat's download folder; a smaller, re-compressed copy of
    it is then put into the Family folder."""
    received = root / "Telegram Desktop" / "IMG_0412.jpg"
    landscape((1600, 1200), seed=3).save(received, "JPEG", quality=90)
    fingerprint = fingerprint_file(received)

    def remembered() -> bool:
        assert engine.fingerprints is not None
        return any(s.group_name == "Work" for s in engine.fingerprints.sightings(fingerprint))

    wait(remembered)
    with Image.open(received) as original:
        buffer = io.BytesIO()
        original.resize((800, 600)).save(buffer, "JPEG", quality=55)
    (root / "Dropbox" / "Family" / "from work.jpg").write_bytes(buffer.getvalue())


def test_a_resized_photo_from_work_is_held_as_forwarded_everywhere_it_is_told(
    tmp_path: Path,
    started: tuple[Engine, Holds, list[Batch]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    engine, holds, asked = started
    forward_a_resized_photo(tmp_path, engine)
    wait(lambda: "from work.jpg" in holds.decisions and bool(asked))

    decision = holds.decisions["from work.jpg"]
    assert decision.action is Action.CONFIRM
    assert decision.level is None  # no label: no level is made up
    assert decision.forwarded is not None
    assert (decision.forwarded.source, decision.forwarded.exact) == ("Work", False)
    assert decision.forwarded.seen_as == "IMG_0412.jpg"
    assert decision.headline == (
        'Forwarded from "Work" (a resized or re-compressed copy of a picture seen there as'
        ' IMG_0412.jpg) — content from "Work" is asked about before it goes to "Family"'
        " (PUBLIC); it carries no label"
    )
    assert any('This came from "Work"' in line for line in decision.explanation)
    assert asked[0].items[0].came_from == "Work"
    assert not (tmp_path / "Dropbox" / "Family" / "from work.jpg").exists()  # held

    # `sendguard run --headless` prints the forwarding as the reason.
    [line] = [line for line in capsys.readouterr().out.splitlines() if "held #" in line]
    assert 'from work.jpg for "Family": Forwarded from "Work" (a resized' in line
    assert "unknown" not in line

    # The journal keeps it, so `sendguard held list` can say it after the engine is gone.
    [record] = engine.journal.open_holds()
    assert record.came_from == "Work" and record.level is None
    engine.stop()
    args = argparse.Namespace(
        policy=None, data_dir=tmp_path / "data", not_shared=tmp_path / "Not shared", json=False
    )
    assert held_list(args) == 0
    table = capsys.readouterr().out
    assert 'from work.jpg  (forwarded from "Work")' in table
    assert "no label" in table and "?" not in table
    args.json = True
    assert held_list(args) == 0
    [listed] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert listed["came_from"] == "Work" and listed["level"] is None


def _decision(policy: Policy, findings: Findings, forwarded: Forwarded) -> Decision:
    family = policy.group("Family")
    assert family is not None
    return with_forwarding(decide(findings, family, policy), forwarded, family, policy)


def test_a_labelled_forwarded_file_leads_with_the_forwarding_and_keeps_its_level(
    tmp_path: Path, policy: Policy
) -> None:
    (tmp_path / "plan.txt").write_bytes(TLP_RED)
    findings = detect(tmp_path / "plan.txt")
    decision = _decision(
        policy, findings, Forwarded("Work", "plan.txt", exact=True, action=Action.CONFIRM)
    )
    assert decision.level is not None and decision.level.name == "SECRET"
    assert decision.headline.startswith(
        'Forwarded from "Work" (the same content as plan.txt there) — content from "Work"'
    )
    assert decision.headline.endswith("; also labelled SECRET, above PUBLIC")


def test_a_blocked_forwarding_says_the_content_may_not_go_there(tmp_path: Path) -> None:
    policy = make_policy(tmp_path, POLICY.replace('forwarding = "confirm"', 'forwarding = "block"'))
    decision = _decision(
        policy,
        Findings(path="minutes.txt"),
        Forwarded("Work", "minutes.txt", exact=True, action=Action.BLOCK),
    )
    assert decision.action is Action.BLOCK
    assert 'content from "Work" may not go to "Family" (PUBLIC)' in decision.headline


def test_a_decision_that_was_not_forwarded_reads_as_before(tmp_path: Path, policy: Policy) -> None:
    family = policy.group("Family")
    assert family is not None
    (tmp_path / "plan.txt").write_bytes(TLP_RED)
    decision = decide(detect(tmp_path / "plan.txt"), family, policy)
    assert decision.forwarded is None
    assert decision.headline == "SECRET is above PUBLIC"
