"""Forwarding between groups, on real folders with the real engine: content seen in a work
group (its folder, or the chat app's download folder declared as its source) and then added
to another group's folder is asked about, naming both groups."""

from __future__ import annotations

import io
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image

from sendguard.engine.decider import Answer, Batch, PromptItem, TerminalDecider
from sendguard.engine.guard import Engine
from sendguard.policy import Action, load_policy
from sendguard.store.fingerprints import fingerprint_file
from tests.engine.conftest import CLEAN, TLP_RED, Recorder, World, wait
from tests.labels.photos import landscape

NEWSROOM = "Work — Newsroom"

POLICY = """
[[groups]]
name = "Work — Newsroom"
folders = ["{root}/Dropbox/Work"]
sources = ["{root}/Telegram Desktop"]
clearance = "SECRET"
forwarding = "confirm"

[[groups]]
name = "Family"
folders = ["{root}/Dropbox/Family"]
clearance = "PUBLIC"

[ocr]
enabled = false  # these pictures are about fingerprints, not OCR

[discovery]
enabled = false
"""


@pytest.fixture
def world(tmp_path: Path) -> World:
    policy_file = tmp_path / "policy.toml"
    policy_file.write_text(POLICY.format(root=tmp_path), encoding="utf-8")
    policy = load_policy(policy_file, tmp_path / "none.toml", system_required=True, home=tmp_path)
    assert policy.error is None, policy.error
    for folder in (tmp_path / "Dropbox" / "Work", tmp_path / "Dropbox" / "Family"):
        folder.mkdir(parents=True)
    (tmp_path / "Telegram Desktop").mkdir()
    return World(tmp_path, policy, tmp_path / "data")


@pytest.fixture
def running(world: World) -> Iterator[Callable[..., tuple[Engine, list[Batch], Recorder]]]:
    engines: list[Engine] = []

    def start(
        decide: Callable[[Batch], list[Answer] | None] = lambda batch: [
            Answer(item.hold_id, share=False) for item in batch.items
        ],
    ) -> tuple[Engine, list[Batch], Recorder]:
        engine, decider, recorder = world.engine(decide)
        engine.start()
        engines.append(engine)
        return engine, decider.asked, recorder

    yield start
    for engine in engines:
        engine.stop()


def photo(path: Path, seed: int = 3) -> Path:
    landscape((1600, 1200), seed=seed).save(path, "JPEG", quality=90)
    return path


def remembered(engine: Engine, path: Path) -> Callable[[], bool]:
    fingerprint = fingerprint_file(path)

    def check() -> bool:
        assert engine.fingerprints is not None
        return any(s.group_name == NEWSROOM for s in engine.fingerprints.sightings(fingerprint))

    return check


def items(asked: list[Batch]) -> dict[str, PromptItem]:
    return {item.name: item for batch in asked for item in batch.items}


def test_an_exact_copy_of_a_work_file_is_asked_about_naming_both_groups(
    world: World, running: Callable[..., tuple[Engine, list[Batch], Recorder]]
) -> None:
    (world.work / "minutes.txt").write_bytes(CLEAN)  # there before SendGuard starts
    engine, asked, _ = running()
    wait(remembered(engine, world.work / "minutes.txt"))
    shutil.copy(world.work / "minutes.txt", world.family / "minutes.txt")
    wait(lambda: "minutes.txt" in items(asked))
    item = items(asked)["minutes.txt"]
    assert item.came_from == NEWSROOM
    assert item.decision.action is Action.CONFIRM and item.decision.level is None
    assert any(f'This came from "{NEWSROOM}"' in line for line in item.decision.explanation)
    wait(lambda: (world.not_shared / "Family" / "minutes.txt").exists())
    assert not (world.family / "minutes.txt").exists()
    assert (world.work / "minutes.txt").read_bytes() == CLEAN


def test_a_renamed_copy_from_the_chat_download_folder_is_asked_about(
    world: World, running: Callable[..., tuple[Engine, list[Batch], Recorder]]
) -> None:
    engine, asked, _ = running()
    received = world.root / "Telegram Desktop" / "budget draft.txt"
    received.write_bytes(b"Budget draft for the spring issue\n")
    wait(remembered(engine, received))
    shutil.copy(received, world.family / "look at this.txt")
    wait(lambda: "look at this.txt" in items(asked))
    assert items(asked)["look at this.txt"].came_from == NEWSROOM


def test_a_resized_recompressed_photo_is_recognised_and_an_unrelated_one_is_not(
    world: World, running: Callable[..., tuple[Engine, list[Batch], Recorder]]
) -> None:
    engine, asked, recorder = running()
    received = photo(world.root / "Telegram Desktop" / "IMG_0412.jpg")
    wait(remembered(engine, received))
    unrelated = world.family / "beach.jpg"
    photo(unrelated, seed=99)
    with Image.open(received) as original:
        smaller = original.resize((800, 600))
        buffer = io.BytesIO()
        smaller.save(buffer, "JPEG", quality=55)
    (world.family / "from work.jpg").write_bytes(buffer.getvalue())
    wait(lambda: "from work.jpg" in items(asked))
    item = items(asked)["from work.jpg"]
    assert item.came_from == NEWSROOM
    assert any("a picture that looks the same" in line for line in item.decision.explanation)
    # The unrelated photo arrived first and was never asked about, nor moved.
    assert "beach.jpg" not in items(asked)
    assert unrelated.exists() and ("held", "beach.jpg") not in recorder.events


def test_content_already_seen_in_the_group_is_no_forwarding_but_a_label_still_asks(
    world: World, running: Callable[..., tuple[Engine, list[Batch], Recorder]]
) -> None:
    """A sync client moving a file in from its cache is not a forwarding when the content
    was in this group already; a labelled file is still decided by its label."""

    def share_all(batch: Batch) -> list[Answer]:
        return [
            Answer(i.hold_id, True, typed_name=batch.group.name, justification="needed")
            for i in batch.items
        ]

    engine, asked, recorder = running(share_all)
    (world.family / "recipe.txt").write_bytes(CLEAN)
    wait(lambda: engine.fingerprints is not None and engine.fingerprints.count() >= 1)
    (world.work / "recipe.txt").write_bytes(CLEAN)
    wait(remembered(engine, world.work / "recipe.txt"))
    cache = world.root / "Dropbox" / ".dropbox.cache"
    cache.mkdir()
    (cache / "recipe (1).txt").write_bytes(CLEAN)
    (cache / "recipe (1).txt").rename(world.family / "recipe (1).txt")

    (world.work / "plan.txt").write_bytes(TLP_RED)
    wait(remembered(engine, world.work / "plan.txt"))
    shutil.copy(world.work / "plan.txt", world.family / "plan.txt")
    wait(lambda: "plan.txt" in items(asked))
    first = items(asked)["plan.txt"]
    assert first.came_from == NEWSROOM and first.decision.action is Action.JUSTIFY
    # Released: the engine has remembered the content as shared into Family by then.
    wait(lambda: ("released", "plan.txt") in recorder.events)
    shutil.copy(world.work / "plan.txt", world.family / "plan again.txt")
    wait(lambda: "plan again.txt" in items(asked))
    again = items(asked)["plan again.txt"]
    assert again.came_from is None  # shared there already: not a forwarding
    assert again.decision.action is Action.JUSTIFY  # but TLP:RED still asks
    assert "recipe (1).txt" not in items(asked) and "recipe.txt" not in items(asked)
    assert (world.family / "recipe (1).txt").read_bytes() == CLEAN


def test_the_terminal_prompt_names_both_groups_and_shows_the_hint(world: World) -> None:
    from sendguard.labels import Findings
    from sendguard.policy.decide import decide

    family = world.policy.group("Family")
    assert family is not None
    findings = Findings(path="minutes.txt")
    decision = decide(findings, family, world.policy)
    item = PromptItem(
        7,
        "minutes.txt",
        findings,
        decision,
        came_from=NEWSROOM,
        hint='You usually share SECRET documents with "Editors". This is "Family".',
    )
    out = io.StringIO()
    answers: list[Answer] = []
    TerminalDecider(io.StringIO("n\n"), out)._prompt(Batch(family, (item,)), answers.extend)
    text = out.getvalue()
    assert f'This came from "{NEWSROOM}". Share it with "Family"?' in text
    assert 'Note: You usually share SECRET documents with "Editors". This is "Family".' in text
    assert answers == [Answer(7, share=False, decided_via="terminal")]
