"""Who answers "share or not?": the GUI, a terminal, a script in tests, or nobody.

The engine hands a `Batch` (the files that arrived together for one group) to a `Decider`
and goes on; the decider replies later, from any thread, through the callback it was given.
A decider that never replies leaves the files held — SendGuard never shares on a timeout.
"""

from __future__ import annotations

import sys
import threading
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TextIO

from sendguard.display import visible
from sendguard.engine.hints import Hint
from sendguard.labels import Findings
from sendguard.policy import Action, Group
from sendguard.policy.decide import Decision


@dataclass(frozen=True)
class PromptItem:
    hold_id: int
    name: str
    findings: Findings
    decision: Decision
    #: The work group this content came from, when adding it here forwards it (its name as
    #: the policy spells it): «This came from "Work — Newsroom". Share it with "Family"?»
    came_from: str | None = None
    #: The wrong-group hint: «You usually share SECRET documents with "Editors". This is
    #: "Family".» Shown with the prompt; never decides by itself.
    hint: Hint | None = None


@dataclass(frozen=True)
class Batch:
    group: Group
    items: tuple[PromptItem, ...]

    @property
    def strictest(self) -> Action:
        actions = [item.decision.action for item in self.items if item.decision.action]
        return max(actions, default=Action.CONFIRM)


@dataclass(frozen=True)
class Answer:
    hold_id: int
    share: bool
    typed_name: str | None = None
    #: Why: the reason a `justify` share needs (for "don't share", a reason given freely).
    justification: str | None = None
    #: Who decided: the account name (None: the user SendGuard runs as).
    decided_by: str | None = None
    #: How: "dialog", "held files window", "terminal", "command line" (the control socket:
    #: `sendguard held`, a script), "--decide share"… Journaled and audited with the decision.
    decided_via: str | None = None


#: How a decision was taken (`Answer.decided_via`), as the journal and the audit record it.
DIALOG = "dialog"
HELD_FILES_WINDOW = "held files window"
TERMINAL = "terminal"
COMMAND_LINE = "command line"


Reply = Callable[[Sequence[Answer]], None]


class Decider(Protocol):
    def ask(self, batch: Batch, reply: Reply) -> None:
        """Ask about `batch`; call `reply` (from any thread, at any time, or never)."""


#: Characters that look alike, or that not every keyboard or input method can type, each
#: folded to one before a typed group name is compared with the real one: apostrophes and
#: single quotes (’ ‘ ʼ ＇ ` ´ …), double quotes (“ ” ＂ 〝 …), dashes (– — − …) and the
#: middle dot of transcribed names (· ・ • …). Folding never removes a character, so
#: "Editors Desk" or "Editor's Desk" still differ from "Editors' Desk".
_LOOK_ALIKES = str.maketrans(
    dict.fromkeys(
        "\u0027\u0060\u00b4\u02b9\u02bb\u02bc\u02bd\u02ca\u02cb\u0374\u055a\u05f3"
        "\u1fbd\u1fbf\u1fef\u1ffd\u2018\u2019\u201a\u201b\u2032\u2035\ua78b\ua78c"
        "\uff07\uff40",
        "'",
    )
    | dict.fromkeys(
        "\u0022\u02ba\u02dd\u201c\u201d\u201e\u201f\u2033\u2036\u301d\u301e\u301f\uff02",
        '"',
    )
    | dict.fromkeys(
        "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d",
        "-",
    )
    | dict.fromkeys(
        "\u0387\u2022\u2027\u2219\u22c5\u30fb\uff65",
        "\u00b7",
    )
)


def fold_group_name(text: str) -> str:
    """A group name as compared: look-alikes folded (before NFKC, which would split ´ into
    a space and an accent, and after it), NFKC (full-width ＥＤＩＴＯＲＳ, composed and
    decomposed accents), case folded, invisible format characters (zero-width spaces, bidi
    marks, soft hyphens) dropped, and runs of white space made one space, none at the ends.

    Pure Python with no Qt, so the engine's own check can use the same rules."""
    text = unicodedata.normalize("NFKC", text.translate(_LOOK_ALIKES))
    text = unicodedata.normalize("NFKC", text.casefold()).translate(_LOOK_ALIKES)
    text = "".join(char for char in text if unicodedata.category(char) != "Cf")
    return " ".join(text.split())


def typed_name_matches(typed: str | None, name: str) -> bool:
    """Whether what the user typed is the group's name: «editors’ desk» and «ＥＤＩＴＯＲＳ'
    ＤＥＳＫ» are "Editors' Desk"; «Editors Desk» and «Editor's Desk» are not."""
    if typed is None:
        return False
    folded = fold_group_name(typed)
    return bool(folded) and folded == fold_group_name(name)


def same_group_name(typed: str | None, name: str) -> bool:
    """The engine's check of a typed name: the dialog's, so what it accepts is shared."""
    return typed_name_matches(typed, name)


def answer_problem(action: Action | None, answer: Answer, group: Group) -> str | None:
    """Why a "share" answer does not meet what the policy asks for, or None when it does."""
    if not answer.share:
        return None
    if action is Action.BLOCK:
        return "the policy does not allow this file to be shared with this group"
    if action in (Action.TYPE_GROUP_NAME, Action.JUSTIFY) and not same_group_name(
        answer.typed_name, group.name
    ):
        return f'sharing needs the group\'s name typed out: "{group.name}"'
    if action is Action.JUSTIFY and not (answer.justification or "").strip():
        return "sharing needs a reason (the justification)"
    return None


class HoldDecider:
    """No one to ask (head-less, ``--decide hold``): files stay held until decided elsewhere."""

    def ask(self, batch: Batch, reply: Reply) -> None:
        return None


class FixedDecider:
    """Answers every batch the same way (``--decide share`` / ``dont-share``, and tests).

    Sharing states the group's name and a reason, as a person would have to.
    """

    def __init__(self, share: bool, justification: str = "decided by --decide share") -> None:
        self.share = share
        self.justification = justification
        self.asked: list[Batch] = []

    def ask(self, batch: Batch, reply: Reply) -> None:
        self.asked.append(batch)
        reply(
            [
                Answer(
                    item.hold_id,
                    self.share,
                    typed_name=batch.group.name if self.share else None,
                    justification=self.justification if self.share else None,
                    decided_via="--decide share" if self.share else "--decide dont-share",
                )
                for item in batch.items
            ]
        )


class ScriptedDecider:
    """Tests: a function decides each batch; every batch asked is kept for assertions."""

    def __init__(self, decide: Callable[[Batch], Sequence[Answer] | None]) -> None:
        self.decide = decide
        self.asked: list[Batch] = []
        self._lock = threading.Lock()

    def ask(self, batch: Batch, reply: Reply) -> None:
        with self._lock:
            self.asked.append(batch)
        answers = self.decide(batch)
        if answers is not None:
            reply(answers)


class TerminalDecider:
    """``--decide ask``: prompts on the terminal, one batch at a time, in its own thread."""

    def __init__(self, stdin: TextIO | None = None, stdout: TextIO | None = None) -> None:
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self._lock = threading.Lock()

    def ask(self, batch: Batch, reply: Reply) -> None:
        threading.Thread(
            target=self._prompt, args=(batch, reply), name="sendguard-prompt", daemon=True
        ).start()

    def _prompt(self, batch: Batch, reply: Reply) -> None:
        with self._lock:
            out = self.stdout
            group = batch.group
            print(f'\n=== Share with "{visible(group.name)}"? ===', file=out)
            if group.external:
                print("    This group includes people outside your organisation.", file=out)
            if group.members:
                print(f"    {group.members} members", file=out)
            answers: list[Answer] = []
            for item in batch.items:
                decision = item.decision
                level = decision.level.name if decision.level else "unknown"
                print(f"\n  {visible(item.name)}", file=out)
                if item.came_from is not None:
                    print(
                        f'    This came from "{visible(item.came_from)}".'
                        f' Share it with "{visible(group.name)}"?',
                        file=out,
                    )
                if decision.level is not None or item.came_from is None:
                    print(f"    {level} (clearance of this group: {decision.clearance})", file=out)
                if item.hint is not None:
                    print(f"    Note: {visible(str(item.hint))}", file=out)
                for line in decision.explanation:
                    print(f"    - {line}", file=out)
                answers.append(self._ask_one(item, group))
            reply(answers)

    def _line(self, prompt: str) -> str:
        print(prompt, end="", file=self.stdout, flush=True)
        line = self.stdin.readline()
        return line.rstrip("\n")

    def _ask_one(self, item: PromptItem, group: Group) -> Answer:
        action = item.decision.action
        if action is Action.BLOCK:
            print(
                "    The policy does not allow sharing this file here. Not shared.",
                file=self.stdout,
            )
            return Answer(item.hold_id, share=False, decided_via=TERMINAL)
        choice = self._line("    Share it? [y/N] ").strip().lower()
        if choice not in ("y", "yes"):
            return Answer(item.hold_id, share=False, decided_via=TERMINAL)
        typed = justification = None
        if action in (Action.TYPE_GROUP_NAME, Action.JUSTIFY):
            typed = self._line(f'    Type the group\'s name ("{visible(group.name)}"): ')
        if action is Action.JUSTIFY:
            justification = self._line("    Why is this the right group? ")
        return Answer(
            item.hold_id,
            share=True,
            typed_name=typed,
            justification=justification,
            decided_via=TERMINAL,
        )
