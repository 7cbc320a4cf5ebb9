"""Forwarding between groups: content seen in a work group, added to another group's folder.

A group with ``forwarding = "<action>"`` in the policy is a *work source*. What appears in its
folders, or in its ``sources`` (the folders where chat apps put what its chats received), is
remembered by fingerprint (`sendguard.store.fingerprints`). When the same content — the same
bytes, or a picture that looks the same after resizing or re-compression — is then added to
another group's folder, the file gets the source's forwarding action even if it carries no
label, and the prompt names both groups.

Not asked about (quiet when nothing is wrong):
* content already seen in the target group itself (it was synced in from there, or shared
  there before): a sync client moving a download in from its cache is not a forwarding;
* forwarding into another work source cleared at least as high as the source.

Neither rule touches the label decision: a labelled file is still decided by its label, and
the stricter of the two actions applies.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, replace
from pathlib import Path

from sendguard.policy import Group, Policy
from sendguard.policy.decide import Decision, Forwarding
from sendguard.policy.model import key_path
from sendguard.store.fingerprints import Fingerprint, FingerprintStore, fingerprint_file


@dataclass(frozen=True)
class Forwarded(Forwarding):
    """The content came from a work source. The decision carries it (`Decision.forwarded`):
    it is the reason the file is held, wherever the hold is shown."""

    def explanation(self, target: Group, policy: Policy) -> str:
        how = "the same content" if self.exact else "a picture that looks the same"
        rule = key_path("groups", self.source, "forwarding")
        setting = policy.settings.get(rule)
        where = f"{rule} ({setting.provenance()})" if setting is not None else rule
        return (
            f'This came from "{self.source}" ({how} as {self.seen_as}); adding it to'
            f' "{target.name}" forwards it → {self.action.value} by {where}.'
        )


def forwarding_sources(policy: Policy) -> list[Group]:
    return [group for group in policy.groups if group.forwarding is not None]


def forwarded_from(
    fingerprint: Fingerprint, target: Group, policy: Policy, store: FingerprintStore
) -> Forwarded | None:
    """The work source this content came from, when adding it to `target` is forwarding."""
    sightings = store.sightings(fingerprint)
    folded = target.name.casefold()
    if any(sighting.group_name.casefold() == folded for sighting in sightings):
        return None  # seen in this group already: synced in, or shared there before
    for sighting in sightings:  # newest first
        source = policy.group(sighting.group_name)
        if source is None or source.forwarding is None:
            continue
        if target.forwarding is not None and target.clearance >= source.clearance:
            continue  # between work groups, into one cleared at least as high
        return Forwarded(source.name, sighting.name, sighting.exact, source.forwarding)
    return None


def with_forwarding(
    decision: Decision, forwarded: Forwarded, target: Group, policy: Policy
) -> Decision:
    """The label decision, made at least as strict as forwarding asks. The decision carries
    `forwarded`: the reason every place showing the hold leads with (`Decision.headline`);
    its level stays the label's (None without one)."""
    if decision.hold_reason is not None:
        return decision  # the policy cannot be used: held anyway
    line = forwarded.explanation(target, policy)
    if decision.action is None:
        # The last line said "shared without a prompt": no longer so.
        return replace(
            decision,
            action=forwarded.action,
            explanation=[*decision.explanation[:-1], line],
            forwarded=forwarded,
        )
    return replace(
        decision,
        action=max(decision.action, forwarded.action),
        explanation=[*decision.explanation, line],
        forwarded=forwarded,
    )


def fingerprint_or_none(path: Path) -> Fingerprint | None:
    try:
        return fingerprint_file(path)
    except OSError:
        return None


#: What a failing fingerprint store raises (a full disk, a damaged file).
StoreError = (sqlite3.Error, OSError)
