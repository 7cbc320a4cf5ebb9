"""The app in Simplified Chinese: every string translated, nothing cut off."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QAbstractButton, QLabel

from sendguard.app import i18n
from sendguard.app.dialog import ConfirmDialog, find_truncated
from sendguard.engine.decider import Batch, PromptItem
from sendguard.labels import detect
from sendguard.policy import load_policy
from sendguard.policy.decide import decide

POLICY = """
[[groups]]
name = "编辑部"
folders = ["{root}/编辑部"]
clearance = "PUBLIC"
members = 8
external = true
colour = "#c2410c"
"""
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def chinese(qapp) -> Iterator[None]:  # type: ignore[no-untyped-def]
    translators = i18n.install(qapp, "zh_CN")
    assert translators, "the zh_CN catalogue did not load"
    yield
    for translator in translators:
        QCoreApplication.removeTranslator(translator)


def batch(tmp_path: Path, *names: str) -> Batch:
    (tmp_path / "policy.toml").write_text(POLICY.format(root=tmp_path), encoding="utf-8")
    policy = load_policy(tmp_path / "policy.toml", system_required=True, home=tmp_path)
    group = policy.groups[0]
    items = []
    for number, name in enumerate(names):
        path = tmp_path / name
        path.write_text("机密★1年\n关于春季预算的通知\n", encoding="utf-8")
        findings = detect(path)
        items.append(PromptItem(number + 1, name, findings, decide(findings, group, policy)))
    return Batch(group, tuple(items))


def test_the_chinese_dialog_is_translated_and_nothing_is_cut_off(
    chinese: None,
    qtbot,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    for names in (("预算.txt",), ("预算.txt", "会议纪要.txt")):
        dialog = ConfirmDialog(batch(tmp_path, *names), arm_delay_ms=50)
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitUntil(lambda dialog=dialog: dialog.armed)
        assert dialog.windowTitle() == "分享给“编辑部”？"
        assert dialog.dont_share.text() == "不分享"
        texts = [label.text() for label in dialog.findChildren(QLabel) if label.isVisible()]
        texts += [b.text() for b in dialog.findChildren(QAbstractButton) if b.isVisible()]
        untranslated = [
            text for text in texts if text and not CJK.search(text) and text not in names
        ]
        assert untranslated == []
        assert find_truncated(dialog) == []
        dialog.reject()
