"""Findings + group + policy → a decision, with every step explained in words.

Pure: no I/O. Quiet when nothing is wrong (no label, or a label within the group's
clearance → no prompt); fail closed otherwise (an unscannable file gets the ``unscannable``
level, a label no mapping knows gets ``unknown_mip_label`` or ``unmapped``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sendguard.labels.model import Finding, Findings, Scheme
from sendguard.policy.load import ANY_SYSTEM, normalise_mip_key, normalise_term
from sendguard.policy.model import Action, Group, Level, Policy, key_path


@dataclass(frozen=True)
class LabelLevel:
    """One label, the level it maps to, and the rule that says so."""

    finding: Finding
    level: Level
    #: ``mappings.titus.ctp_ic (built-in)``, or the fallback and why it applied.
    rule: str

    def describe(self) -> str:
        where = "; ".join(self.finding.where) or "the file"
        return f"{self.finding.describe()}, found in {where} → {self.level} by {self.rule}"


@dataclass(frozen=True)
class LevelResult:
    """A file's level: the highest of its labels' levels (None: no label at all)."""

    level: Level | None
    #: One line per label (which label, found where, which rule), then unscannable if so.
    reasons: list[str]
    labels: tuple[LabelLevel, ...] = ()
    unscannable: bool = False

    @property
    def trigger(self) -> LabelLevel | None:
        """The label that set the level (the first of the highest), for the prompt."""
        if not self.labels:
            return None
        top = max(label.level for label in self.labels)
        return next(label for label in self.labels if label.level == top)


@dataclass(frozen=True)
class Forwarding:
    """The content came from a work source (a group with ``forwarding`` in the policy) and
    is being added to another group: why it is asked about even without a label. Set on the
    decision by `sendguard.engine.forwarding.with_forwarding`; it never sets a level."""

    #: The work group's name, as the policy spells it.
    source: str
    #: The file's name where it was seen there.
    seen_as: str
    #: Same bytes (True), or a picture that looks the same: a resized or re-compressed copy.
    exact: bool
    #: The work group's ``forwarding`` action.
    action: Action

    def how(self) -> str:
        """«a resized or re-compressed copy of a picture seen there as IMG_0412.jpg»."""
        if self.exact:
            return f"the same content as {self.seen_as} there"
        return f"a resized or re-compressed copy of a picture seen there as {self.seen_as}"


@dataclass(frozen=True)
class Decision:
    """What to do with one file shared into one group, and why."""

    #: None: share without a prompt.
    action: Action | None
    level: Level | None
    clearance: Level
    #: How many levels the file's level is above the clearance (0 when at or below it).
    excess: int
    explanation: list[str]
    group: str = ""
    labels: tuple[LabelLevel, ...] = ()
    #: Set when the policy could not be used: the file is held (not returned) until it is.
    hold_reason: str | None = None
    #: The effective policy's hash, for the audit event.
    policy_sha256: str = ""
    #: Set when the content was forwarded from a work group: then that is the reason.
    forwarded: Forwarding | None = None

    @property
    def prompt(self) -> bool:
        """True when the file is held for the user (every action but ``notify``)."""
        return self.action is not None and self.action is not Action.NOTIFY

    @property
    def headline(self) -> str:
        """Why, in one line, for the places that show a decision in one line (the headless
        output, the audit record): the policy's problem; else where the content was
        forwarded from; else the level above the clearance. The level is never made up:
        forwarded content without a label says so, after the reason."""
        if self.hold_reason is not None:
            return self.hold_reason
        level = self.level.name if self.level is not None else None
        above = f"{level} is above {self.clearance}" if self.excess > 0 else None
        forwarded = self.forwarded
        if forwarded is None:
            return above or f"{level or 'no label'}, cleared for {self.clearance}"
        content = f'content from "{forwarded.source}"'
        to = f'"{self.group}" ({self.clearance})'
        if forwarded.action is Action.BLOCK:
            rule = f"{content} may not go to {to}"
        elif forwarded.action is Action.NOTIFY:
            rule = f"{content} went to {to}; you are told"
        else:
            rule = f"{content} is asked about before it goes to {to}"
        if above is not None:
            label = f"; also labelled {level}, above {self.clearance}"
        else:
            label = "; it carries no label" if level is None else ""
        return f'Forwarded from "{forwarded.source}" ({forwarded.how()}) — {rule}{label}'


def _rule(policy: Policy, *key: str) -> str:
    name = key_path(*key)
    setting = policy.settings.get(name)
    return f"{name} ({setting.provenance()})" if setting is not None else name


#: A mapping that matched: its key path and the level it gives.
_Hit = tuple[tuple[str, ...], Level]


def _best(hits: Iterable[_Hit]) -> _Hit | None:
    """The strictest of several matching rules (fail closed); the first among equals."""
    best: _Hit | None = None
    for key, level in hits:
        if best is None or level > best[1]:
            best = (key, level)
    return best


def _hits(
    table: Mapping[str, Level], prefix: tuple[str, ...], terms: Iterable[str | None]
) -> list[_Hit]:
    found: list[_Hit] = []
    for term in terms:
        if term and term in table and (*prefix, term) not in (key for key, _ in found):
            found.append(((*prefix, term), table[term]))
    return found


def _marking_hits(
    policy: Policy, system: str | None, terms: list[str | None]
) -> tuple[list[_Hit], bool]:
    """Rules for a marking term: its own system's and ``any``; else every system's.

    The second value is True when only another system's reading of the term matched.
    """
    markings = policy.mappings.markings
    hits: list[_Hit] = []
    for name in (system, ANY_SYSTEM):
        if name and name in markings:
            hits.extend(_hits(markings[name], ("mappings", "markings", name), terms))
    if hits:
        return hits, False
    for name, table in markings.items():
        hits.extend(_hits(table, ("mappings", "markings", name), terms))
    return hits, True


def _fallback(policy: Policy, finding: Finding, key: str, why: str) -> LabelLevel:
    level = policy.unknown_mip_label if key == "unknown_mip_label" else policy.unmapped
    return LabelLevel(finding, level, f"{_rule(policy, 'levels', key)}: {why}")


def label_level(finding: Finding, policy: Policy) -> LabelLevel:
    """The level one label maps to under `policy`, and the rule that maps it."""
    mappings = policy.mappings
    if finding.scheme is Scheme.MIP:
        guid = normalise_mip_key(finding.guid or "")
        hits = _hits(mappings.mip, ("mappings", "mip"), [guid])
        if not hits and finding.name:
            # A sub-label's name may carry its parent's: "Confidential\All Employees".
            parent = finding.name.replace("/", "\\").split("\\", 1)[0]
            names = [normalise_term(finding.name), normalise_term(parent)]
            hits = _hits(mappings.mip, ("mappings", "mip"), names)
        best = _best(hits)
        if best is None:
            return _fallback(
                policy, finding, "unknown_mip_label", "no mapping for this label's GUID or name"
            )
        return LabelLevel(finding, best[1], _rule(policy, *best[0]))

    if finding.marking is not None or finding.scheme is Scheme.MARKING:
        terms = [_term(finding.value), _term(finding.marking)]
        hits, other_system = _marking_hits(policy, finding.system, terms)
        best = _best(hits)
        if best is None:
            return _fallback(policy, finding, "unmapped", "no mapping for this marking")
        rule = _rule(policy, *best[0])
        if other_system:
            rule += ", the term as that system uses it (the strictest reading)"
        return LabelLevel(finding, best[1], rule)

    if finding.scheme is Scheme.TITUS:
        if not finding.value:
            return _fallback(policy, finding, "unmapped", "a Titus label with no classification")
        hits = _hits(mappings.titus, ("mappings", "titus"), [_term(finding.value)])
    elif finding.scheme is Scheme.BOLDON_JAMES:
        hits = _hits(mappings.boldon_james, ("mappings", "boldon_james"), [_term(finding.value)])
    elif finding.scheme is Scheme.DOCUMENT_PROPERTY:
        value = _term(finding.value)
        pair = f"{_term(finding.name)}={value}" if finding.name and value else None
        hits = _hits(mappings.properties, ("mappings", "properties"), [pair, value])
        if not hits and value:
            # A classification property whose value is a marking term: "Restricted".
            hits, _ = _marking_hits(policy, None, [value])
            best = _best(hits)
            if best is not None:
                rule = _rule(policy, *best[0]) + ", the property's value read as a marking"
                return LabelLevel(finding, best[1], rule)
    elif finding.scheme is Scheme.FILE_NAME and finding.name is not None:
        hits = _hits(mappings.patterns, ("mappings", "patterns"), [finding.name])
    else:
        hits = []
    best = _best(hits)
    if best is None:
        return _fallback(policy, finding, "unmapped", "no mapping for this label")
    return LabelLevel(finding, best[1], _rule(policy, *best[0]))


def _term(text: str | None) -> str | None:
    return normalise_term(text) if text else None


def level_of(findings: Findings, policy: Policy) -> LevelResult:
    """The file's level: the highest of its labels', and ``unscannable``'s if it is so."""
    labels = tuple(label_level(finding, policy) for finding in findings.labels)
    reasons = [label.describe() for label in labels]
    level = max((label.level for label in labels), default=None)
    unscannable = findings.unscannable_reason is not None
    if unscannable:
        reasons.append(
            f"could not be fully scanned ({findings.unscannable_reason}) →"
            f" {policy.unscannable} by {_rule(policy, 'levels', 'unscannable')}"
        )
        level = policy.unscannable if level is None else max(level, policy.unscannable)
    return LevelResult(level, reasons, labels, unscannable)


def _clearance_source(group: Group, policy: Policy) -> str:
    if group.discovered:
        return f"{_rule(policy, 'discovery', 'default_clearance')} (a group {group.source})"
    return _rule(policy, "groups", group.name, "clearance")


def _action_rule(policy: Policy, excess: int, action: Action) -> str:
    """The ``actions.above_<n>`` setting that gives `action` at `excess`."""
    for steps in range(min(excess, len(policy.actions)), 0, -1):
        setting = policy.settings.get(key_path("actions", f"above_{steps}"))
        if setting is not None and setting.value == action.value:
            return _rule(policy, "actions", f"above_{steps}")
    return "the action ladder"


def decide(findings: Findings, group: Group, policy: Policy) -> Decision:
    """Whether sharing `findings`' file into `group` needs a prompt, which one, and why."""
    result = level_of(findings, policy)
    clearance = group.clearance
    excess = max(0, result.level.rank - clearance.rank) if result.level is not None else 0

    def decision(
        action: Action | None, explanation: list[str], hold_reason: str | None = None
    ) -> Decision:
        return Decision(
            action=action,
            level=result.level,
            clearance=clearance,
            excess=excess,
            explanation=explanation,
            group=group.name,
            labels=result.labels,
            hold_reason=hold_reason,
            policy_sha256=policy.sha256,
        )

    if policy.holds_all(group):
        return decision(
            Action.BLOCK,
            [
                "Held: the policy cannot be used, so every file is held until it is fixed."
                if policy.hold_everything
                else f"Held: the policy cannot be used, and it names {group.name}'s folder"
                " (or the group was discovered), so every new file there is held until it is"
                " fixed; other groups are guarded by the last valid policy.",
                str(policy.error),
                *result.reasons,
            ],
            hold_reason=str(policy.error),
        )
    cleared = f"{group.name} is cleared for {clearance} by {_clearance_source(group, policy)}"
    if result.level is None:
        return decision(None, ["No label found: shared without a prompt."])
    if excess == 0:
        return decision(
            None,
            [*result.reasons, f"{cleared}; {result.level} is within it: shared without a prompt."],
        )
    # Every ladder has a step per possible excess; BLOCK only if that were ever not so.
    action = policy.action_for(excess) or Action.BLOCK
    steps = "level" if excess == 1 else "levels"
    return decision(
        action,
        [
            *result.reasons,
            f"{cleared}; {result.level} is {excess} {steps} above it →"
            f" {action.value} by {_action_rule(policy, excess, action)}.",
        ],
    )
