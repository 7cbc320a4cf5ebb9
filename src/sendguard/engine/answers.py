"""Carrying out one answer for one held file, wherever the answer came from (the running
engine's Decider, or ``sendguard held share/return`` on the command line)."""

from __future__ import annotations

from pathlib import Path

from sendguard.engine.decider import Answer, answer_problem
from sendguard.engine.holdarea import HoldArea
from sendguard.policy import Action, Group
from sendguard.store.journal import HoldRecord, State

NOT_SHARED_REASON = "you chose not to share it with this group"


class AnswerRefused(Exception):
    """The answer does not meet what the policy asks for; the file stays held."""


def release_folder(record: HoldRecord, group: Group) -> Path:
    """Where a shared file goes: back where it arrived, or from the group's outbox into its
    first folder (keeping sub-folders)."""
    outbox = group.outbox
    if outbox is not None and (record.origin.parent == outbox or outbox in record.origin.parents):
        return group.folders[0] / record.origin.parent.relative_to(outbox)
    return record.origin.parent


def carry_out(holds: HoldArea, record: HoldRecord, group: Group, answer: Answer) -> Path:
    """Share or return a held file. The confirmation is journaled before the file moves, so no
    labelled file is ever released without a recorded confirmation."""
    if record.state is not State.HELD:
        raise AnswerRefused(f"{record.origin.name} is not held (it is {record.state.value})")
    action = Action(record.action) if record.action else None
    problem = answer_problem(action, answer, group)
    if problem is not None:
        raise AnswerRefused(f"{record.origin.name} stays held: {problem}")
    if answer.share:
        holds.journal.update(
            record.id,
            decision="share",
            typed_name=answer.typed_name,
            justification=answer.justification,
        )
        return holds.release(record, release_folder(record, group))
    holds.journal.update(record.id, decision="dont-share")
    return holds.give_back(record, NOT_SHARED_REASON)
