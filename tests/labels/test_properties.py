"""The one place where property name/value pairs become labels."""

from __future__ import annotations

import pytest
from defusedxml import EntitiesForbidden

from sendguard.labels.model import Findings, Scheme
from sendguard.labels.properties import (
    findings_from_pairs,
    mip_from_labelinfo,
    mip_from_pairs,
    parse_msip_header,
    reconcile_mip,
)

GUID = "2096f6a2-d2f7-48be-b329-b73aaa526e5d"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
OTHER_TENANT = "46c98d88-e344-4ed4-8496-4ed7712e255d"


def _where(key: str) -> str:
    return f"custom.xml {key}"


def _mip_pairs(guid: str, tenant: str, enabled: str = "true") -> list[tuple[str, str]]:
    return [
        (f"MSIP_Label_{guid}_Enabled", enabled),
        (f"MSIP_Label_{guid}_SiteId", tenant),
        (f"MSIP_Label_{guid}_Name", "Confidential"),
        (f"MSIP_Label_{guid}_Method", "Privileged"),
        (f"MSIP_Label_{guid}_ContentBits", "2"),
    ]


def test_mip_pairs_make_one_label() -> None:
    [finding] = findings_from_pairs(_mip_pairs(GUID, TENANT), _where)
    assert finding.scheme is Scheme.MIP
    assert (finding.guid, finding.site_id, finding.name) == (GUID, TENANT, "Confidential")
    assert dict(finding.attributes) == {"method": "Privileged", "content_bits": "2"}
    assert finding.where == (f"custom.xml MSIP_Label_{GUID}_Enabled",)


def test_disabled_mip_label_is_not_a_label() -> None:
    assert findings_from_pairs(_mip_pairs(GUID, TENANT, enabled="false"), _where) == []


def test_labelinfo_wins_for_its_tenant_only() -> None:
    labelinfo = (
        b'<clbl:labelList xmlns:clbl="http://schemas.microsoft.com/office/2020/mipLabelMetadata">'
        b'<clbl:label id="{11111111-2222-3333-4444-555555555555}" enabled="1" method="Standard"'
        b' siteId="{' + TENANT.encode() + b'}" removed="0"/></clbl:labelList>'
    )
    stale = mip_from_pairs(_mip_pairs(GUID, TENANT), _where)
    other = mip_from_pairs(_mip_pairs("99999999-2222-3333-4444-555555555555", OTHER_TENANT), _where)
    findings = reconcile_mip(mip_from_labelinfo(labelinfo, "LabelInfo.xml"), stale + other)
    assert sorted(f.guid or "" for f in findings) == [
        "11111111-2222-3333-4444-555555555555",
        "99999999-2222-3333-4444-555555555555",
    ]


def test_removed_label_in_labelinfo_is_not_a_label() -> None:
    labelinfo = (
        b'<clbl:labelList xmlns:clbl="http://schemas.microsoft.com/office/2020/mipLabelMetadata">'
        b'<clbl:label id="' + GUID.encode() + b'" enabled="1" siteId="' + TENANT.encode() + b'"'
        b' removed="1"/></clbl:labelList>'
    )
    assert reconcile_mip(mip_from_labelinfo(labelinfo, "LabelInfo.xml"), []) == []


def test_labelinfo_entity_attack_is_refused() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><labelList>&b;</labelList>'
    )
    with pytest.raises(EntitiesForbidden):
        mip_from_labelinfo(bomb, "LabelInfo.xml")


def test_titus_guid_classification_and_keywords_merge_into_one_label() -> None:
    pairs = [
        ("/TitusGUID", "16fba14b-b749-41e1-a9b5-4282776873bd"),
        ("/CTPClassification", "CTP_IC"),
        ("/Keywords", "CTPClassification=CTP_IC:VisualMarkings="),
    ]
    findings = Findings(path="x")
    findings.extend(findings_from_pairs(pairs, lambda key: f"PDF Info {key}"))
    [label] = findings.labels
    assert label.scheme is Scheme.TITUS
    assert (label.value, label.guid) == ("CTP_IC", "16fba14b-b749-41e1-a9b5-4282776873bd")
    assert label.where == ("PDF Info /CTPClassification", "PDF Info /Keywords")


def test_boldon_james_label_xml_split_over_properties() -> None:
    pairs = [
        ("bjDocumentLabelXML", '<sisl xmlns="http://x"><element uid="id_classification_conf"'),
        ("bjDocumentLabelXML-0001", ' value="" /></sisl>'),
    ]
    [finding] = findings_from_pairs(pairs, _where)
    assert finding.scheme is Scheme.BOLDON_JAMES
    assert finding.value == "id_classification_conf"


@pytest.mark.parametrize("value", ["", "None", "n/a"])
def test_empty_classification_property_is_not_a_label(value: str) -> None:
    assert findings_from_pairs([("Classification", value)], _where) == []


def test_classification_property_is_a_label() -> None:
    [finding] = findings_from_pairs([("Classification", "Restricted")], _where)
    assert (finding.scheme, finding.name, finding.value) == (
        Scheme.DOCUMENT_PROPERTY,
        "Classification",
        "Restricted",
    )


def test_msip_header_pairs() -> None:
    header = f"MSIP_Label_{GUID}_Enabled=true; MSIP_Label_{GUID}_SiteId={TENANT};"
    assert parse_msip_header(header) == [
        (f"MSIP_Label_{GUID}_Enabled", "true"),
        (f"MSIP_Label_{GUID}_SiteId", TENANT),
    ]
