"""What the label engine reports: findings, and a verdict for one file."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any


class Scheme(enum.StrEnum):
    """Which labelling system a finding belongs to."""

    MIP = "mip"
    TITUS = "titus"
    BOLDON_JAMES = "boldon-james"
    DOCUMENT_PROPERTY = "document-property"
    MARKING = "marking"
    FILE_TAG = "file-tag"
    FILE_NAME = "file-name"


class Verdict(enum.StrEnum):
    LABELLED = "labelled"
    CLEAN = "clean"
    UNSCANNABLE = "unscannable"


@dataclass(frozen=True)
class Finding:
    """One label, with every place it was found.

    ``where`` names places a person can check, e.g. ``docMetadata/LabelInfo.xml``,
    ``PDF Info /MSIP_Label_<guid>_Enabled``, ``word/footer1.xml`` or
    ``page 1, top line``. Nested places use `` › `` (``inner.zip › a.docx › word/footer1.xml``).
    """

    scheme: Scheme
    where: tuple[str, ...]
    #: MIP label id, Titus GUID.
    guid: str | None = None
    #: MIP tenant (site) id.
    site_id: str | None = None
    #: Label name (MIP ``_Name``) or the property's name (``CTPClassification``).
    name: str | None = None
    #: The raw value as found: ``CTP_IC``, a marking's text as it appears on the page.
    value: str | None = None
    #: Markings only: the canonical term (``TLP:AMBER+STRICT``, ``OFFICIAL-SENSITIVE``, ``机密``).
    marking: str | None = None
    #: Markings only: the marking system (``tlp``, ``uk``, ``us``, ``nato``, ``cn``,
    #: ``corporate``, ``classification`` for words shared by several systems).
    system: str | None = None
    #: Further details, e.g. MIP ``method``/``content_bits``, a Chinese marking's period.
    attributes: tuple[tuple[str, str], ...] = ()

    def identity(self) -> tuple[str, ...]:
        """Findings with the same identity are one label found in several places."""
        if self.scheme is Scheme.MIP:
            return (self.scheme.value, (self.guid or "").lower())
        if self.scheme is Scheme.MARKING or (
            self.scheme in (Scheme.FILE_TAG, Scheme.FILE_NAME) and self.marking
        ):
            return (self.scheme.value, self.system or "", self.marking or self.value or "")
        if self.scheme is Scheme.DOCUMENT_PROPERTY:
            return (self.scheme.value, (self.name or "").lower(), (self.value or "").casefold())
        if self.scheme is Scheme.TITUS:
            return (self.scheme.value, (self.value or self.guid or "").casefold())
        return (self.scheme.value, self.guid or "", (self.value or "").casefold())

    def merged_with(self, other: Finding) -> Finding:
        """Join two sightings of one label: places are united, missing fields filled in."""
        where = self.where + tuple(w for w in other.where if w not in self.where)
        attrs = dict(other.attributes)
        attrs.update(dict(self.attributes))
        return replace(
            self,
            where=where,
            guid=self.guid or other.guid,
            site_id=self.site_id or other.site_id,
            name=self.name or other.name,
            value=self.value or other.value,
            marking=self.marking or other.marking,
            system=self.system or other.system,
            attributes=tuple(sorted(attrs.items())),
        )

    def nested(self, prefix: str) -> Finding:
        """The same finding seen from outside a container (an archive member, an attachment)."""
        return replace(self, where=tuple(f"{prefix} › {w}" for w in self.where))

    def describe(self) -> str:
        """A short human description, e.g. ``mip Confidential (2096f6a2-…)``."""
        if self.scheme is Scheme.MIP:
            label = self.name or "label"
            return f"MIP {label} ({self.guid})"
        if self.scheme is Scheme.MARKING:
            shown = self.marking or self.value or ""
            if self.value and self.value.casefold() != shown.casefold():
                return f"marking {shown} ({self.value})"
            return f"marking {shown}"
        if self.scheme is Scheme.TITUS:
            return f"Titus {self.value or self.guid}"
        if self.scheme is Scheme.DOCUMENT_PROPERTY:
            return f"{self.name}={self.value}"
        return f"{self.scheme.value} {self.value or self.guid or ''}".strip()

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"scheme": self.scheme.value}
        for key in ("guid", "site_id", "name", "value", "marking", "system"):
            item = getattr(self, key)
            if item is not None:
                data[key] = item
        if self.attributes:
            data["attributes"] = dict(self.attributes)
        data["where"] = list(self.where)
        return data


@dataclass
class Findings:
    """Everything found in one file, and the verdict that follows."""

    path: str
    #: The format found by content sniffing (``docx``, ``pdf``, ``zip``, ``text``, ...).
    format: str = "unknown"
    labels: list[Finding] = field(default_factory=list)
    #: Why the file could not be fully scanned; set means the verdict is ``unscannable``.
    unscannable_reason: str | None = None
    #: Notes that do not change the verdict (e.g. the extension does not match the content).
    notes: list[str] = field(default_factory=list)
    elapsed_ms: float = 0.0
    #: The time budget ran out: a longer scan might find more (the engine holds and rescans).
    timed_out: bool = False
    #: The file has content only OCR can read (a photo, a page without text) and this scan
    #: did not run OCR (``Limits.ocr`` off): a scan with OCR might find more.
    ocr_pending: bool = False
    #: OCR read the file's pictures (a photo, scanned pages): how long it took, model loading
    #: included. None when OCR did not run (not needed, not asked for, or not installed).
    ocr_ms: float | None = None

    @property
    def verdict(self) -> Verdict:
        if self.unscannable_reason is not None:
            return Verdict.UNSCANNABLE
        if self.labels:
            return Verdict.LABELLED
        return Verdict.CLEAN

    def add(self, finding: Finding) -> None:
        key = finding.identity()
        for index, known in enumerate(self.labels):
            if known.identity() == key:
                self.labels[index] = known.merged_with(finding)
                return
        self.labels.append(finding)

    def extend(self, findings: Iterable[Finding]) -> None:
        for finding in findings:
            self.add(finding)

    def mark_unscannable(self, reason: str) -> None:
        """Record the first reason; later ones are notes (the first usually explains the rest)."""
        if self.unscannable_reason is None:
            self.unscannable_reason = reason
        elif reason != self.unscannable_reason:
            self.notes.append(reason)

    def __iter__(self) -> Iterator[Finding]:
        return iter(self.labels)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "path": self.path,
            "verdict": self.verdict.value,
            "format": self.format,
            "labels": [finding.to_dict() for finding in self.labels],
        }
        if self.unscannable_reason is not None:
            data["reason"] = self.unscannable_reason
        if self.notes:
            data["notes"] = list(self.notes)
        if self.ocr_pending:
            data["ocr_pending"] = True
        if self.ocr_ms is not None:
            data["ocr_ms"] = round(self.ocr_ms, 1)
        data["elapsed_ms"] = round(self.elapsed_ms, 3)
        return data
