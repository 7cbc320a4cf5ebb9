"""Carrying out one answer for one held file, wherever the answer came from (the running
engine's Decider, the control socket — ``sendguard held share/return``, a script — or
``sendguard held`` deciding by itself when no engine runs)."""

from __future__ import annotations

import getpass
import os
from pathlib import Path

from sendguard.engine.decider import Answer, answer_problem
from sendguard.engine.holdarea import HoldArea
from sendguard.policy import Action, Group, Policy
from sendguard.store.journal import HoldRecord, State

NOT_SHARED_REASON = "you chose not to share it with this group"


class AnswerRefused(Exception):
    """The answer cannot be carried out (no such held file, decided already, or not what the
    policy asks for); nothing moved, and a held file stays held."""


class NotNow(Exception):
    """The engine cannot take a decision just now (it is starting or stopping): ask again."""


def account_name(uid: int | None = None) -> str:
    """The account name of `uid` (default: this process's user), as decisions record it."""
    getuid = getattr(os, "getuid", None)
    if getuid is not None:
        try:
            import pwd

            return pwd.getpwuid(getuid() if uid is None else uid).pw_name
        except (ImportError, KeyError):
            pass
    if uid is not None:
        return f"uid {uid}"
    try:
        return getpass.getuser()
    except Exception:  # no login name in the environment (services, containers)
        return "unknown"


def not_held_text(record: HoldRecord) -> str:
    """Why a decision on `record` is refused: it is not (or no longer) held."""
    name = f"#{record.id} {record.origin.name}"
    by = ""
    if record.decided_via or record.decided_by:
        who = record.decided_by or "someone"
        by = f"; decided by {who}" + (f" ({record.decided_via})" if record.decided_via else "")
    if record.state is State.RELEASED:
        return f"{name} is not held: it was shared already ({record.target}){by}"
    if record.state is State.RETURNED:
        return f"{name} is not held: it was not shared, it is in {record.target}{by}"
    if record.state is State.RELEASING:
        return f"{name} is not held: it is being shared just now{by}"
    if record.state is State.RETURNING:
        return f'{name} is not held: it is being moved to "Not shared" just now{by}'
    if record.state is State.HOLDING:
        return f"{name} is not held yet: it is being moved into the hold area; ask again"
    return f"{name} is not held: it was gone before it could be held"


def check_answer(
    record: HoldRecord | None, answer: Answer, policy: Policy
) -> tuple[HoldRecord, Group]:
    """The held file `answer` decides and its group, or AnswerRefused saying why it cannot be
    decided: no such hold, not held (decided already), its group gone, or — to share — the
    policy cannot be used (everything stays held until it is fixed) or the file's label has
    not been read yet. What the action asks for (a typed name, a reason; `block`) is checked
    by `carry_out`, on every path."""
    if record is None:
        raise AnswerRefused(f"no held file #{answer.hold_id}")
    if record.state is not State.HELD:
        raise AnswerRefused(not_held_text(record))
    group = policy.group(record.group_name)
    name = record.origin.name
    if group is None:
        raise AnswerRefused(
            f'{name} stays held: its group "{record.group_name}" is not in the policy any more'
        )
    if answer.share and policy.holds_all(group):
        problem = str(policy.error).splitlines()[0] if policy.error is not None else ""
        raise AnswerRefused(
            f"{name} stays held: the policy cannot be used, and held files are not shared"
            f" until it is fixed ({problem})"
        )
    if answer.share and record.verdict is None:
        raise AnswerRefused(f"{name} stays held: its label has not been read yet; ask again")
    return record, group


def release_folder(record: HoldRecord, group: Group) -> Path:
    """Where a shared file goes: back where it arrived, or from the group's outbox into its
    first folder (keeping sub-folders)."""
    outbox = group.outbox
    if outbox is not None and (record.origin.parent == outbox or outbox in record.origin.parents):
        return group.folders[0] / record.origin.parent.relative_to(outbox)
    return record.origin.parent


def carry_out(holds: HoldArea, record: HoldRecord, group: Group, answer: Answer) -> Path:
    """Share or return a held file. The confirmation — with who decided, how, and why — is
    journaled before the file moves, so no labelled file is ever released without a
    recorded confirmation."""
    if record.state is not State.HELD:
        raise AnswerRefused(f"{record.origin.name} is not held (it is {record.state.value})")
    action = Action(record.action) if record.action else None
    problem = answer_problem(action, answer, group)
    if problem is not None:
        raise AnswerRefused(f"{record.origin.name} stays held: {problem}")
    who = {"decided_by": answer.decided_by or account_name(), "decided_via": answer.decided_via}
    if answer.share:
        holds.journal.update(
            record.id,
            decision="share",
            typed_name=answer.typed_name,
            justification=answer.justification,
            **who,
        )
        return holds.release(record, release_folder(record, group))
    holds.journal.update(
        record.id, decision="dont-share", justification=answer.justification, **who
    )
    return holds.give_back(record, NOT_SHARED_REASON)
