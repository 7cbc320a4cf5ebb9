"""The wrong-group hint in the dialog, worded in the user's language from its parts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QLabel

from sendguard.app import i18n
from sendguard.app.dialog import ConfirmDialog
from sendguard.engine.decider import Batch, PromptItem
from sendguard.engine.hints import Hint
from sendguard.labels import detect
from sendguard.policy import load_policy
from sendguard.policy.decide import decide

LEVEL_HINT = Hint("Family", level="SECRET", usual=("Editors", "Board"))
NAME_HINT = Hint("Family", name="plan.docx", went_to="Editors", seconds_ago=3 * 86400)


def texts_for(tmp_path: Path, qtbot, hint: Hint) -> list[str]:  # type: ignore[no-untyped-def]
    policy_file = tmp_path / "policy.toml"
    folder = tmp_path / "Family"
    folder.mkdir(exist_ok=True)
    policy_file.write_text(
        f'[[groups]]\nname = "Family"\nfolders = ["{folder}"]\nclearance = "PUBLIC"\n'
        "[discovery]\nenabled = false\n"
    )
    policy = load_policy(policy_file, tmp_path / "none.toml", system_required=True, home=tmp_path)
    path = tmp_path / "plan.docx.txt"
    path.write_text("SECRET\nThe plan.\n")
    findings = detect(path)
    item = PromptItem(1, path.name, findings, decide(findings, policy.groups[0], policy), hint=hint)
    dialog = ConfirmDialog(Batch(policy.groups[0], (item,)), arm_delay_ms=50)
    qtbot.addWidget(dialog)
    dialog.show()
    texts = [label.text() for label in dialog.findChildren(QLabel) if label.isVisible()]
    dialog.reject()
    return texts


def test_the_hint_reads_as_a_sentence_in_english(tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    assert str(LEVEL_HINT) in texts_for(tmp_path, qtbot, LEVEL_HINT)
    assert 'A file named "plan.docx" went to "Editors" 3 days ago. This is "Family".' in texts_for(
        tmp_path, qtbot, NAME_HINT
    )


@pytest.fixture
def chinese(qapp) -> Iterator[None]:  # type: ignore[no-untyped-def]
    translators = i18n.install(qapp, "zh_CN")
    yield
    for translator in translators:
        QCoreApplication.removeTranslator(translator)


def test_the_hint_is_chinese_in_the_chinese_dialog(tmp_path: Path, qtbot, chinese: None) -> None:  # type: ignore[no-untyped-def]
    level = texts_for(tmp_path, qtbot, LEVEL_HINT)
    assert any(
        "SECRET" in t and "“Editors”" in t and "“Board”" in t and "“Family”" in t for t in level
    ), level
    assert not any("usually" in t for t in level)
    named = texts_for(tmp_path, qtbot, NAME_HINT)
    assert any("plan.docx" in t and "3 天前" in t for t in named), named
    assert not any("went to" in t for t in named)
