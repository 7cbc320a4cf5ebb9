"""decide() for the real-world cases, from Findings built by hand."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sendguard.labels import Finding, Findings, Scheme
from sendguard.policy import Action, Group, Policy, decide, level_of
from tests.policy import MINIMAL, load

UNKNOWN_GUID = "87867195-f2b8-4ac2-b0b6-6bb73cb33afc"


@pytest.fixture
def policy(tmp_path: Path) -> Policy:
    return load(tmp_path, MINIMAL)


def _group(policy: Policy, clearance: str, name: str = "Family") -> Group:
    return Group(name, (Path("/groups") / name,), policy.level(clearance))


def _file(*labels: Finding, unscannable: str | None = None) -> Findings:
    findings = Findings(path="/groups/Family/report.docx", format="docx")
    findings.extend(labels)
    if unscannable is not None:
        findings.mark_unscannable(unscannable)
    return findings


def _marking(marking: str, system: str, value: str | None = None) -> Finding:
    return Finding(
        Scheme.MARKING,
        ("word/footer1.xml",),
        value=value or marking,
        marking=marking,
        system=system,
    )


def _titus(value: str | None) -> Finding:
    return Finding(Scheme.TITUS, ("PDF Info /Keywords",), name="CTPClassification", value=value)


def _mip(guid: str, name: str | None = None) -> Finding:
    return Finding(Scheme.MIP, ("docProps/custom.xml",), guid=guid, name=name)


def test_unlabelled_file_is_shared_without_a_prompt(policy: Policy) -> None:
    decision = decide(_file(), _group(policy, "PUBLIC"), policy)
    assert decision.action is None and decision.level is None and not decision.prompt
    assert decision.explanation == ["No label found: shared without a prompt."]


def test_label_within_clearance_is_quiet(policy: Policy) -> None:
    decision = decide(_file(_marking("OFFICIAL", "uk")), _group(policy, "CONFIDENTIAL"), policy)
    assert decision.action is None
    assert decision.level is not None and decision.level.name == "INTERNAL"
    assert decision.excess == 0
    assert "within it: shared without a prompt" in decision.explanation[-1]


def test_tlp_red_into_a_public_group_follows_the_ladder(policy: Policy) -> None:
    family = policy.group("Family")
    assert family is not None
    decision = decide(_file(_marking("TLP:RED", "tlp")), family, policy)
    assert decision.level is not None and decision.level.name == "SECRET"
    assert decision.excess == 3
    assert decision.action is Action.JUSTIFY
    assert decision.prompt
    why = "\n".join(decision.explanation)
    assert "marking TLP:RED, found in word/footer1.xml → SECRET" in why
    assert 'mappings.markings.tlp."TLP:RED" (built-in)' in why
    assert "Family is cleared for PUBLIC by groups.Family.clearance (system policy" in why
    assert "3 levels above it → justify by actions.above_3 (built-in)" in why
    assert decision.policy_sha256 == policy.sha256


def test_the_ladder_by_excess(policy: Policy) -> None:
    public = _group(policy, "PUBLIC")
    cases = {
        "TLP:GREEN": Action.CONFIRM,
        "TLP:AMBER": Action.TYPE_GROUP_NAME,
        "TLP:AMBER+STRICT": Action.JUSTIFY,
    }
    for marking, action in cases.items():
        assert decide(_file(_marking(marking, "tlp")), public, policy).action is action
    top = decide(_file(_marking("绝密", "cn", "绝密★启用前")), public, policy)
    assert (top.excess, top.action) == (4, Action.JUSTIFY)


def test_unscannable_file_gets_the_unscannable_level(policy: Policy) -> None:
    findings = _file(unscannable="truncated zip")
    result = level_of(findings, policy)
    assert result.level is not None and result.level.name == "CONFIDENTIAL"
    assert result.unscannable
    assert "could not be fully scanned (truncated zip) → CONFIDENTIAL" in result.reasons[0]
    assert decide(findings, _group(policy, "PUBLIC"), policy).action is Action.TYPE_GROUP_NAME
    assert decide(findings, _group(policy, "CONFIDENTIAL"), policy).action is None


def test_labels_found_before_the_scan_failed_still_count(policy: Policy) -> None:
    findings = _file(_marking("TLP:RED", "tlp"), unscannable="time budget spent")
    assert level_of(findings, policy).level == policy.level("SECRET")


def test_unknown_mip_guid_is_confidential(policy: Policy) -> None:
    result = level_of(_file(_mip(UNKNOWN_GUID)), policy)
    assert result.level is not None and result.level.name == "CONFIDENTIAL"
    assert (
        "levels.unknown_mip_label (built-in): no mapping for this label's GUID" in result.reasons[0]
    )


def test_mip_guid_mapping_wins_over_name_and_names_map_without_guid(tmp_path: Path) -> None:
    policy = load(tmp_path, f'[mappings.mip]\n"{UNKNOWN_GUID.upper()}" = "PUBLIC"\n')
    by_guid = level_of(_file(_mip(UNKNOWN_GUID, "Highly Confidential")), policy)
    assert by_guid.level == policy.level("PUBLIC")
    assert f"mappings.mip.{UNKNOWN_GUID} (system policy" in by_guid.reasons[0]
    by_name = level_of(_file(_mip("2096f6a2-d2f7-48be-b329-b73aaa526e5d", "Confidential")), policy)
    assert by_name.level == policy.level("CONFIDENTIAL")
    sub_label = level_of(
        _file(_mip("11111111-2222-3333-4444-555555555555", "Highly Confidential\\Board")), policy
    )
    assert sub_label.level == policy.level("SECRET")


def test_titus_public_into_a_public_group_is_quiet(policy: Policy) -> None:
    decision = decide(_file(_titus("CTP_PUBLIC")), _group(policy, "PUBLIC"), policy)
    assert decision.action is None
    assert "mappings.titus.CTP_PUBLIC (built-in)" in decision.explanation[0]


def test_titus_values_without_a_mapping_fail_closed(policy: Policy) -> None:
    assert level_of(_file(_titus("CTP_IC")), policy).level == policy.level("CONFIDENTIAL")
    unmapped = level_of(_file(_titus("CTP_NT")), policy)
    assert unmapped.level == policy.level("CONFIDENTIAL")
    assert "levels.unmapped (built-in)" in unmapped.reasons[0]
    guid_only = Finding(Scheme.TITUS, ("PDF Info /TitusGUID",), guid="16fba14b", name="TitusGUID")
    assert "no classification" in level_of(_file(guid_only), policy).reasons[0]


def test_document_property_values(tmp_path: Path) -> None:
    policy = load(tmp_path, '[mappings.properties]\n"Sensitivity=Orchid" = "TOP SECRET"\n')

    def prop(name: str, value: str) -> Findings:
        return _file(
            Finding(Scheme.DOCUMENT_PROPERTY, ("docProps/custom.xml",), name=name, value=value)
        )

    assert level_of(prop("Sensitivity", "orchid"), policy).level == policy.level("TOP SECRET")
    restricted = level_of(prop("Classification", "Restricted"), policy)
    assert restricted.level == policy.level("SECRET")
    assert "read as a marking" in restricted.reasons[0]
    nobody = level_of(prop("Classification", "Blue"), policy)
    assert nobody.level == policy.level("CONFIDENTIAL")
    assert "levels.unmapped" in nobody.reasons[0]


def test_marking_mappings_match_the_text_as_found_and_the_strictest_wins(tmp_path: Path) -> None:
    policy = load(tmp_path, '[mappings.markings.any]\n"Contoso Confidential" = "SECRET"\n')
    contoso = _marking("Confidential", "corporate", "Contoso Confidential")
    assert level_of(_file(contoso), policy).level == policy.level("SECRET")
    other = _marking("Confidential", "corporate", "Fabrikam Confidential")
    assert level_of(_file(other), policy).level == policy.level("CONFIDENTIAL")


def test_a_marking_from_an_unknown_system_is_read_the_strictest_way(policy: Policy) -> None:
    result = level_of(_file(_marking("RESTRICTED", "elsewhere")), policy)
    assert result.level == policy.level("SECRET")
    assert "strictest reading" in result.reasons[0]
    unknown = level_of(_file(_marking("PURPLE", "elsewhere")), policy)
    assert unknown.level == policy.level("CONFIDENTIAL")


def test_file_name_patterns_and_tags(tmp_path: Path) -> None:
    policy = load(tmp_path, "[mappings.patterns]\n'\\[ORCHID\\]' = \"TOP SECRET\"\n")
    by_pattern = Finding(Scheme.FILE_NAME, ("file name",), name=r"\[ORCHID\]", value="[ORCHID]")
    assert level_of(_file(by_pattern), policy).level == policy.level("TOP SECRET")
    tag = Finding(
        Scheme.FILE_TAG, ("Finder tag",), value="TLP:GREEN", marking="TLP:GREEN", system="tlp"
    )
    assert level_of(_file(tag), policy).level == policy.level("INTERNAL")


def test_the_highest_label_sets_the_level_and_is_the_trigger(policy: Policy) -> None:
    result = level_of(
        _file(_titus("CTP_PUBLIC"), _marking("TLP:RED", "tlp"), _mip(UNKNOWN_GUID)), policy
    )
    assert result.level == policy.level("SECRET")
    assert result.trigger is not None and result.trigger.finding.marking == "TLP:RED"
    assert len(result.reasons) == 3


def test_block_and_notify_from_the_policy(tmp_path: Path) -> None:
    policy = load(tmp_path, '[actions]\nabove_1 = "notify"\nabove_3 = "block"\n')
    public = _group(policy, "PUBLIC")
    notify = decide(_file(_marking("TLP:GREEN", "tlp")), public, policy)
    assert notify.action is Action.NOTIFY and not notify.prompt
    blocked = decide(_file(_marking("TLP:RED", "tlp")), public, policy)
    assert blocked.action is Action.BLOCK
    assert "block by actions.above_3 (system policy" in blocked.explanation[-1]


def test_hold_everything_holds_even_clean_files(tmp_path: Path) -> None:
    policy = load(tmp_path, MINIMAL.replace("folders", "foldrs"))
    assert policy.hold_everything
    decision = decide(_file(), _group(policy, "TOP SECRET"), policy)
    assert decision.action is Action.BLOCK
    assert decision.hold_reason is not None and "groups[0].foldrs" in decision.hold_reason
    assert decision.explanation[0].startswith("Held: the policy cannot be used")


def test_action_severity_order() -> None:
    ordered = [Action.NOTIFY, Action.CONFIRM, Action.TYPE_GROUP_NAME, Action.JUSTIFY, Action.BLOCK]
    assert sorted(reversed(ordered)) == ordered
    assert max(Action.CONFIRM, Action.BLOCK, Action.NOTIFY) is Action.BLOCK
    assert Action("type-group-name") is Action.TYPE_GROUP_NAME


_TERMS = ["TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED"]


@given(
    marking=st.sampled_from(_TERMS),
    low=st.integers(0, 4),
    high=st.integers(0, 4),
)
def test_quiet_within_clearance_and_never_milder_further_above(
    marking: str, low: int, high: int
) -> None:
    policy = _SHARED_POLICY
    low, high = sorted((low, high))
    findings = _file(_marking(marking, "tlp"))
    at_high = decide(findings, Group("H", (Path("/h"),), policy.levels[high]), policy)
    at_low = decide(findings, Group("L", (Path("/l"),), policy.levels[low]), policy)
    assert at_high.level is not None
    if at_high.level <= policy.levels[high]:
        assert at_high.action is None
    if at_high.action is not None:
        # A lower clearance is never a milder prompt.
        assert at_low.action is not None and at_low.action >= at_high.action


def _built_in_policy() -> Policy:
    from sendguard.policy import load_policy

    missing = Path("/nonexistent/sendguard-test")
    return load_policy(missing / "p.toml", missing / "s.toml", home=missing, discover=False)


_SHARED_POLICY = _built_in_policy()
