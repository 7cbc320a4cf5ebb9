"""Label schemes carried in document properties: MIP, Titus, Boldon James, classification.

Office custom.xml, ODF user-defined metadata, OLE property sets, PDF Info and XMP, and the
``msip_labels`` email header all carry the same name/value pairs. Each container's detector
reads its pairs; this module alone decides what they mean.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from defusedxml import ElementTree as SafeET

from sendguard.labels.model import Finding, Scheme

_GUID = r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
MSIP_KEY = re.compile(rf"^MSIP_Label_({_GUID})_(\w+)$")
#: Titus/classic pairs in a Keywords string: ``CTPClassification=CTP_IC:VisualMarkings=``.
_KEYWORD_PAIR = re.compile(r"(CTPClassification|Classification|TitusGUID)\s*=\s*([^:,;=\s]+)")
_BJ_UID = re.compile(r'uid="([^"]+)"')

#: Properties whose value is a classification in their own right (compared casefolded).
CLASSIFICATION_PROPERTIES = frozenset(
    {
        "classification",
        "sensitivity",
        "securityclassification",
        "security classification",
        "protectivemarking",
        "protective marking",
        "documentclassification",
        "document classification",
        "datatype classification",
    }
)
#: Values that say "no classification at all" rather than naming one.
_EMPTY_VALUES = frozenset({"", "none", "null", "n/a", "-", "(none)", "not set"})

Where = Callable[[str], str]
"""Turns a property name into a place, e.g. ``"PDF Info /" + name``."""


@dataclass
class MipLabel:
    """One MIP label as one source states it, before sources are reconciled."""

    guid: str
    where: list[str] = field(default_factory=list)
    site_id: str | None = None
    name: str | None = None
    enabled: bool = True
    removed: bool = False
    attributes: dict[str, str] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        return self.enabled and not self.removed

    def to_finding(self) -> Finding:
        return Finding(
            scheme=Scheme.MIP,
            where=tuple(self.where),
            guid=self.guid.lower(),
            site_id=self.site_id.lower() if self.site_id else None,
            name=self.name,
            attributes=tuple(sorted(self.attributes.items())),
        )


def _truthy(value: str) -> bool:
    return value.strip().lower() in {"true", "1", "yes"}


def mip_from_pairs(pairs: Iterable[tuple[str, str]], where: Where) -> list[MipLabel]:
    """MIP labels from ``MSIP_Label_<guid>_<Key>`` name/value pairs (custom.xml, PDF, email)."""
    labels: dict[str, MipLabel] = {}
    for key, value in pairs:
        match = MSIP_KEY.match(key.strip().lstrip("/"))
        if not match:
            continue
        guid, field_name = match.group(1).lower(), match.group(2)
        label = labels.setdefault(guid, MipLabel(guid=guid))
        place = where(key)
        if place not in label.where and (not label.where or field_name == "Enabled"):
            # One place per source is enough to check; the Enabled key names it best.
            label.where = [place]
        value = value.strip()
        lowered = field_name.lower()
        if lowered == "enabled":
            label.enabled = _truthy(value)
        elif lowered == "siteid":
            label.site_id = value.lower() or None
        elif lowered == "name":
            label.name = value or None
        elif lowered == "method":
            label.attributes["method"] = value
        elif lowered == "contentbits":
            label.attributes["content_bits"] = value
        elif lowered == "setdate":
            label.attributes["set_date"] = value
        elif lowered == "actionid":
            label.attributes["action_id"] = value
    return list(labels.values())


def mip_from_labelinfo(xml: bytes, where: str) -> list[MipLabel]:
    """MIP labels from ``docMetadata/LabelInfo.xml`` or the OLE ``LabelInfo`` stream.

    Raises the XML parser's error for malformed or hostile XML; callers make that unscannable.
    """
    root = SafeET.fromstring(xml)
    labels: list[MipLabel] = []
    for element in root.iter():
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag != "label" and not tag.endswith("}label"):
            continue
        attrs = {name.split("}")[-1].lower(): value for name, value in element.attrib.items()}
        guid = attrs.get("id", "").strip("{} ").lower()
        if not re.fullmatch(_GUID, guid):
            continue
        label = MipLabel(
            guid=guid,
            where=[where],
            site_id=attrs.get("siteid", "").strip("{} ").lower() or None,
            enabled=_truthy(attrs.get("enabled", "1")),
            removed=_truthy(attrs.get("removed", "0")),
        )
        if "method" in attrs:
            label.attributes["method"] = attrs["method"]
        if "contentbits" in attrs:
            label.attributes["content_bits"] = attrs["contentbits"]
        labels.append(label)
    return labels


def reconcile_mip(labelinfo: list[MipLabel], custom: list[MipLabel]) -> list[Finding]:
    """One finding per active label. For a tenant that LabelInfo speaks for, LabelInfo wins
    (custom.xml may be stale); custom.xml still lends the label's name, which LabelInfo lacks."""
    tenants = {label.site_id for label in labelinfo}
    by_guid = {label.guid: label for label in custom}
    findings: list[Finding] = []
    for label in labelinfo:
        if not label.active:
            continue
        twin = by_guid.get(label.guid)
        if twin is not None:
            label.name = label.name or twin.name
            label.where.extend(w for w in twin.where if w not in label.where)
            for key, value in twin.attributes.items():
                label.attributes.setdefault(key, value)
        findings.append(label.to_finding())
    for label in custom:
        if label.site_id in tenants and label.site_id is not None:
            continue
        if label.active:
            findings.append(label.to_finding())
    return findings


def parse_msip_header(value: str) -> list[tuple[str, str]]:
    """Pairs from an (unfolded) ``msip_labels:`` header: ``MSIP_Label_<guid>_Enabled=true; ...``."""
    pairs: list[tuple[str, str]] = []
    for item in value.split(";"):
        key, sep, val = item.partition("=")
        if sep:
            pairs.append((key.strip(), val.strip()))
    return pairs


def classic_from_pairs(pairs: Iterable[tuple[str, str]], where: Where) -> list[Finding]:
    """Titus, Boldon James and classification properties (everything that is not MIP)."""
    findings: list[Finding] = []
    titus_guid: tuple[str, str] | None = None
    titus_values: list[Finding] = []
    bj_xml: dict[str, tuple[str, str]] = {}
    for raw_key, raw_value in pairs:
        key = raw_key.strip().lstrip("/")
        value = raw_value.strip()
        folded = key.casefold()
        if folded == "titusguid" and value:
            titus_guid = (value.strip("{} ").lower(), where(raw_key))
        elif folded == "ctpclassification" and value.lower() not in _EMPTY_VALUES:
            titus_values.append(
                Finding(Scheme.TITUS, (where(raw_key),), name="CTPClassification", value=value)
            )
        elif folded == "keywords" and "=" in value:
            for name, found in _KEYWORD_PAIR.findall(value):
                if name == "TitusGUID":
                    titus_guid = titus_guid or (found.lower(), where(raw_key))
                elif name == "CTPClassification":
                    titus_values.append(
                        Finding(Scheme.TITUS, (where(raw_key),), name=name, value=found)
                    )
                elif found.lower() not in _EMPTY_VALUES:
                    findings.append(
                        Finding(Scheme.DOCUMENT_PROPERTY, (where(raw_key),), name=name, value=found)
                    )
        elif folded == "bjdocumentsecuritylabel" and value.lower() not in _EMPTY_VALUES:
            findings.append(Finding(Scheme.BOLDON_JAMES, (where(raw_key),), name=key, value=value))
        elif folded.startswith("bjdocumentlabelxml"):
            bj_xml[folded] = (value, where(raw_key))
        elif folded in CLASSIFICATION_PROPERTIES and value.lower() not in _EMPTY_VALUES:
            findings.append(
                Finding(Scheme.DOCUMENT_PROPERTY, (where(raw_key),), name=key, value=value)
            )
    if bj_xml and not any(f.scheme is Scheme.BOLDON_JAMES for f in findings):
        # The label XML is split over bjDocumentLabelXML, bjDocumentLabelXML-0001, ...
        ordered = [bj_xml[name] for name in sorted(bj_xml)]
        joined = "".join(value for value, _ in ordered)
        uids = [uid for uid in _BJ_UID.findall(joined) if uid]
        if uids:
            findings.append(
                Finding(
                    Scheme.BOLDON_JAMES,
                    (ordered[0][1],),
                    name="bjDocumentLabelXML",
                    value=uids[0],
                    attributes=(("uids", ",".join(uids)),),
                )
            )
    if titus_values:
        for finding in titus_values:
            if titus_guid is not None:
                finding = Finding(
                    Scheme.TITUS,
                    finding.where,
                    guid=titus_guid[0],
                    name=finding.name,
                    value=finding.value,
                )
            findings.append(finding)
    elif titus_guid is not None:
        findings.append(
            Finding(Scheme.TITUS, (titus_guid[1],), guid=titus_guid[0], name="TitusGUID")
        )
    return findings


def findings_from_pairs(pairs: Iterable[tuple[str, str]], where: Where) -> list[Finding]:
    """Every label in one property set (no LabelInfo to reconcile with)."""
    materialised = list(pairs)
    findings = [label.to_finding() for label in mip_from_pairs(materialised, where) if label.active]
    findings.extend(classic_from_pairs(materialised, where))
    return findings
