"""Why a file is held, in the user's language, where that is not its label: it was
forwarded from a work group (`Decision.forwarded`). The dialog, the held files window,
Recent activity and the notifications all lead with it."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication

from sendguard.display import visible
from sendguard.policy import Action
from sendguard.policy.decide import Decision

translate = QCoreApplication.translate


def forwarded_text(decision: Decision | None, came_from: str | None = None) -> str | None:
    """«Forwarded from "Work" (a resized or re-compressed copy of a picture seen there as
    IMG_0412.jpg)», or None when the content was not forwarded. `came_from`: the work
    group's name when only that is known (a hold from the journal)."""
    forwarded = decision.forwarded if decision is not None else None
    if forwarded is None:
        if not came_from:
            return None
        return translate("Reasons", 'Forwarded from "{group}"').format(group=visible(came_from))
    if forwarded.exact:
        how = translate("Reasons", "the same content as {file} there")
    else:
        how = translate(
            "Reasons", "a resized or re-compressed copy of a picture seen there as {file}"
        )
    return translate("Reasons", 'Forwarded from "{group}" ({how})').format(
        group=visible(forwarded.source), how=how.format(file=visible(forwarded.seen_as))
    )


def forwarding_rule(decision: Decision) -> str | None:
    """«Content from "Work" is asked about before it goes to "Family" (PUBLIC).», or None."""
    forwarded = decision.forwarded
    if forwarded is None:
        return None
    if forwarded.action is Action.BLOCK:
        text = translate("Reasons", 'Content from "{source}" may not go to "{group}" ({level}).')
    elif forwarded.action is Action.NOTIFY:
        text = translate("Reasons", 'Content from "{source}" went to "{group}" ({level}).')
    else:
        text = translate(
            "Reasons",
            'Content from "{source}" is asked about before it goes to "{group}" ({level}).',
        )
    return text.format(
        source=visible(forwarded.source),
        group=visible(decision.group),
        level=decision.clearance.name,
    )
