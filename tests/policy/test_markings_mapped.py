"""Every marking the label engine can report has a level in the built-in policy.

A marking that fell through to `unmapped` would be held at CONFIDENTIAL whatever it says —
a prompt for TLP:CLEAR or "Public" is the kind that trains people to click through.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sendguard.labels.markings import Zone, find_markings
from sendguard.labels.model import Findings
from sendguard.policy import level_of, load_policy

BANNERS = {
    "TLP:CLEAR": "PUBLIC",
    "TLP:WHITE": "PUBLIC",
    "TLP:GREEN": "INTERNAL",
    "TLP:AMBER": "CONFIDENTIAL",
    "TLP:AMBER+STRICT": "SECRET",
    "TLP:RED": "SECRET",
    "OFFICIAL": "INTERNAL",
    "OFFICIAL-SENSITIVE": "CONFIDENTIAL",
    "UK SECRET": "SECRET",
    "UNCLASSIFIED": "PUBLIC",
    "CUI//SP-PRVCY": "CONFIDENTIAL",
    "SECRET//NOFORN": "SECRET",
    "TOP SECRET//SCI//NOFORN": "TOP SECRET",
    "NATO SECRET": "SECRET",
    "COSMIC TOP SECRET": "TOP SECRET",
    "机密★1年": "SECRET",
    "绝密★启用前": "TOP SECRET",
    "秘密★6个月": "CONFIDENTIAL",
    "内部资料": "INTERNAL",
    "Contoso Confidential": "CONFIDENTIAL",
    "Internal Use Only": "INTERNAL",
    "Highly Confidential": "SECRET",
    "Public": "PUBLIC",
}


@pytest.mark.parametrize(("banner", "level"), sorted(BANNERS.items()))
def test_built_in_levels_of_markings(banner: str, level: str, tmp_path: Path) -> None:
    policy = load_policy(tmp_path / "none.toml", tmp_path / "none-user.toml", home=tmp_path)
    findings = Findings(path="x")
    findings.extend(find_markings(banner, "page 1, top lines", Zone.HEADER_FOOTER))
    result = level_of(findings, policy)
    assert result.level is not None and result.level.name == level
    assert all("levels.unmapped" not in reason for reason in result.reasons)
