"""The dialog's label line says where a label was found in words a person understands,
from the real findings of the example files."""

from __future__ import annotations

from pathlib import Path

import pytest

from sendguard.app.dialog import label_line
from sendguard.engine.decider import PromptItem
from sendguard.labels import detect
from sendguard.policy import load_policy
from sendguard.policy.decide import decide

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # An e-mail's msip_labels header is a label, not a page header.
        ("quarterly.eml", "in the sensitivity label (Microsoft Purview)"),
        ("board-minutes.docx", "in the sensitivity label (Microsoft Purview)"),
        ("budget-2027.docx", "in the document's properties"),
        ("incident-report.txt", "marking TLP:AMBER in the first lines"),
        ("briefing.pdf", "marking OFFICIAL-SENSITIVE in the top of the page"),
        # Inside an archive, the innermost place counts.
        ("handover.zip", "in the document's properties"),
    ],
)
def test_where_the_label_was_found_in_words(
    qapp,
    tmp_path: Path,
    name: str,
    expected: str,  # type: ignore[no-untyped-def]
) -> None:
    policy_file = tmp_path / "policy.toml"
    policy_file.write_text(
        f'[[groups]]\nname = "Family"\nfolders = ["{tmp_path}/family"]\nclearance = "PUBLIC"\n',
        encoding="utf-8",
    )
    policy = load_policy(policy_file, system_required=True, home=tmp_path)
    findings = detect(EXAMPLES / name)
    item = PromptItem(1, name, findings, decide(findings, policy.groups[0], policy))
    line = label_line(item)
    assert line.endswith(expected), line


def test_a_label_in_the_file_name_says_so(qapp, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    policy_file = tmp_path / "policy.toml"
    policy_file.write_text(
        f'[[groups]]\nname = "Family"\nfolders = ["{tmp_path}/family"]\nclearance = "PUBLIC"\n',
        encoding="utf-8",
    )
    policy = load_policy(policy_file, system_required=True, home=tmp_path)
    path = tmp_path / "plan [SECRET].txt"
    path.write_text("nothing marked inside\n", encoding="utf-8")
    findings = detect(path, name_patterns=policy.name_patterns)
    if not findings.labels:
        pytest.fail(f"no label from the name with patterns {policy.name_patterns}")
    item = PromptItem(1, path.name, findings, decide(findings, policy.groups[0], policy))
    assert label_line(item).endswith("in the file name")
