"""The wrong-group hint, from a recorded history: a real journal file, and the engine
recording labelled files that stayed in a group's folder."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from sendguard.engine.decider import Answer, Batch, PromptItem
from sendguard.engine.hints import past_shares, wrong_group_hint
from sendguard.policy import load_policy
from sendguard.store.fingerprints import Share
from sendguard.store.journal import Journal, State
from tests.engine.conftest import TLP_RED, World, wait

DAY = 24 * 3600.0


def record(journal: Journal, group: str, name: str, level: str | None, state: State) -> None:
    hold = journal.begin_hold(
        batch="b", group_name=group, origin=Path("/g") / group / name, held=Path("/h") / name
    )
    journal.update(hold, state=state, level=level, decision="share")


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    journal = Journal(tmp_path / "journal.sqlite3")
    record(journal, "Editors", "leak.docx", "SECRET", State.RELEASED)
    record(journal, "Editors", "memo.pdf", "SECRET", State.RELEASED)
    record(journal, "Board", "minutes.docx", "SECRET", State.RELEASED)
    record(journal, "Editors", "notes.txt", "CONFIDENTIAL", State.RELEASED)
    record(journal, "Family", "menu.docx", "SECRET", State.RETURNED)  # not shared
    record(journal, "Family", "photos.zip", None, State.RELEASED)
    return journal


def test_a_level_the_group_never_received_names_where_it_usually_goes(journal: Journal) -> None:
    history = past_shares(journal.history(), [])
    hint = wrong_group_hint(history, "Family", "SECRET", "budget.xlsx")
    assert (
        str(hint)
        == 'You usually share SECRET documents with "Editors" and "Board". This is "Family".'
    )
    assert wrong_group_hint(history, "Editors", "SECRET", "budget.xlsx") is None
    # One earlier share is not a habit yet.
    assert wrong_group_hint(history, "Family", "CONFIDENTIAL", "budget.xlsx") is None


def test_a_file_with_the_same_name_that_went_elsewhere_recently_is_named(
    journal: Journal,
) -> None:
    history = past_shares(journal.history(), [])
    later = time.time() + 2 * DAY
    hint = wrong_group_hint(history, "Family", None, "Memo.PDF", now=later)
    assert str(hint) == 'A file named "Memo.PDF" went to "Editors" 2 days ago. This is "Family".'
    assert wrong_group_hint(history, "Family", None, "memo.pdf", now=time.time() + 60 * DAY) is None
    assert wrong_group_hint(history, "Family", None, "photos.zip", now=later) is None


def test_shares_decided_in_place_count_as_history() -> None:
    now = time.time()
    shares = [Share("Editors", "TOP SECRET", f"r{n}.docx", now - n * DAY) for n in range(3)]
    hint = wrong_group_hint(past_shares([], shares), "Family", "TOP SECRET", "x.docx", now=now)
    assert str(hint) == 'You usually share TOP SECRET documents with "Editors". This is "Family".'
    old = [Share("Editors", "TOP SECRET", "r.docx", now - 400 * DAY)] * 3
    assert wrong_group_hint(past_shares([], old), "Family", "TOP SECRET", "x", now=now) is None


POLICY = """
[[groups]]
name = "Editors"
folders = ["{root}/Dropbox/Editors"]
clearance = "SECRET"

[[groups]]
name = "Family"
folders = ["{root}/Dropbox/Family"]
clearance = "PUBLIC"

[discovery]
enabled = false
"""


def test_the_engine_puts_the_hint_in_the_prompt(tmp_path: Path) -> None:
    """TLP:RED files stay in Editors (within its clearance, decided in place); the next one
    dropped into Family is held, and the prompt carries the hint."""
    policy_file = tmp_path / "policy.toml"
    policy_file.write_text(POLICY.format(root=tmp_path), encoding="utf-8")
    policy = load_policy(policy_file, tmp_path / "none.toml", system_required=True, home=tmp_path)
    world = World(tmp_path, policy, tmp_path / "data")
    editors, family = tmp_path / "Dropbox" / "Editors", tmp_path / "Dropbox" / "Family"
    editors.mkdir(parents=True)
    family.mkdir(parents=True)

    decide: Callable[[Batch], list[Answer]] = lambda batch: [  # noqa: E731
        Answer(item.hold_id, share=False) for item in batch.items
    ]
    engine, decider, _ = world.engine(decide)
    with engine:
        for name in ("a.txt", "b.txt"):
            (editors / name).write_bytes(TLP_RED)
        store = engine.fingerprints
        assert store is not None
        wait(lambda: len(store.shares()) == 2)
        assert (editors / "a.txt").exists() and not decider.asked
        (family / "c.txt").write_bytes(TLP_RED)
        wait(lambda: bool(decider.asked))
        item: PromptItem = decider.asked[0].items[0]
        assert (
            str(item.hint) == 'You usually share SECRET documents with "Editors". This is "Family".'
        )
        wait(lambda: (world.not_shared / "Family" / "c.txt").exists())
