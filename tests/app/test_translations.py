"""The Simplified Chinese catalogue: complete, true to the app's strings, and shipped compiled.

Real tools throughout: pyside6-lupdate rescans the app's sources and pyside6-lrelease compiles
the catalogue, exactly as `make translations` does, into tmp_path.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from defusedxml import ElementTree
from PySide6.QtCore import QTranslator

from sendguard.app.i18n import translations_folder

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "resources" / "translations" / "sendguard_zh_CN.ts"
APP_SOURCES = ROOT / "src" / "sendguard" / "app"
SHIPPED_QM = APP_SOURCES / "translations" / "sendguard_zh_CN.qm"
TOOLS = Path(sys.executable).parent
HOW_TO_FIX = "run `make translations`, translate what it marks unfinished, and run it again"

#: Names of products and technologies, the same in Chinese; and translated parts joined by a
#: dash, in the same order in Chinese.
SAME_IN_CHINESE = {
    "SendGuard",
    "Python",
    "Qt / PySide6",
    "SendGuard — {status}",
    "{forwarded} — {label}",
    "{forwarded} — {level}",
    '"{group}"',  # a name in quotes: only the quote marks change (“{group}”)
}

#: `{name}` as str.format fills it; `{{` and `}}` are literal braces and removed first.
PLACEHOLDER = re.compile(r"\{([^\W\d]\w*)\}")
ESCAPED_BRACES = re.compile(r"\{\{|\}\}")
NUMERUS = re.compile(r"%L?n")
HAN = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True)
class Message:
    context: str
    source: str
    #: Every form: one, or one per plural form for a numerus message.
    forms: tuple[str, ...]
    #: lupdate's mark: "unfinished", "obsolete", "vanished", or "" when done.
    state: str

    def __str__(self) -> str:
        return f"{self.context}: {self.source!r}"


def read_catalogue(path: Path) -> list[Message]:
    messages = []
    root = ElementTree.parse(path).getroot()
    assert root is not None and root.tag == "TS", f"{path} is not a Qt Linguist catalogue"
    for context in root.iter("context"):
        context_name = context.findtext("name") or ""
        for message in context.iter("message"):
            translation = message.find("translation")
            assert translation is not None, f"{context_name}: a message without <translation>"
            numerus = translation.findall("numerusform")
            forms = tuple(form.text or "" for form in numerus) or (translation.text or "",)
            messages.append(
                Message(
                    context_name,
                    message.findtext("source") or "",
                    forms,
                    translation.get("type", ""),
                )
            )
    return messages


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(ESCAPED_BRACES.sub("", text)))


def run_tool(name: str, *arguments: str | Path) -> str:
    result = subprocess.run(
        [str(TOOLS / name), *map(str, arguments)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"{name} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout + result.stderr


@pytest.fixture(scope="module")
def messages() -> list[Message]:
    return read_catalogue(CATALOGUE)


@pytest.fixture(scope="module")
def rescanned(tmp_path_factory: pytest.TempPathFactory) -> list[Message]:
    """The catalogue as `make translations` would leave it for today's sources."""
    copy = tmp_path_factory.mktemp("lupdate") / CATALOGUE.name
    shutil.copyfile(CATALOGUE, copy)
    sources = sorted(APP_SOURCES.glob("*.py"))
    assert sources, f"no app sources in {APP_SOURCES}"
    run_tool(
        "pyside6-lupdate",
        *sources,
        "-source-language",
        "en",
        "-target-language",
        "zh_CN",
        "-no-obsolete",
        "-locations",
        "none",
        "-ts",
        copy,
    )
    return read_catalogue(copy)


def test_every_message_has_a_finished_translation(messages: list[Message]) -> None:
    assert len(messages) > 100, "the catalogue is missing most of the app's strings"
    not_done = [f"{m} is {m.state}" for m in messages if m.state]
    empty = [str(m) for m in messages if not all(form.strip() for form in m.forms)]
    assert not not_done, f"{HOW_TO_FIX}:\n" + "\n".join(not_done)
    assert not empty, "empty translations:\n" + "\n".join(empty)


def test_every_translation_is_chinese_except_names(messages: list[Message]) -> None:
    """An English string pasted as its own translation would pass the checks above."""
    english = [
        f"{m} → {form!r}"
        for m in messages
        for form in m.forms
        if not HAN.search(form) and m.source not in SAME_IN_CHINESE
    ]
    assert not english, "translations with no Chinese in them:\n" + "\n".join(english)


def test_translations_keep_the_placeholders_of_their_source(messages: list[Message]) -> None:
    """A lost or renamed {placeholder} makes str.format raise or drop the group's name."""
    problems = []
    for message in messages:
        wanted = placeholders(message.source)
        numerus = bool(NUMERUS.search(message.source))
        for form in message.forms:
            if placeholders(form) != wanted:
                problems.append(f"{message}: {form!r} has {placeholders(form)}, wants {wanted}")
            if bool(NUMERUS.search(form)) != numerus:
                problems.append(f"{message}: {form!r} does not match the source's %n")
    assert not problems, "\n".join(problems)


def test_placeholder_check_sees_names_and_ignores_escaped_braces() -> None:
    assert placeholders('Share with "{group}"? {{literal}} {count} {{') == {"group", "count"}
    assert placeholders("{level} — {label}（位于{where}）") == {"level", "label", "where"}
    assert placeholders("{0} {} {a-b}") == set()


def test_no_app_string_lacks_a_translation(rescanned: list[Message]) -> None:
    missing = [str(m) for m in rescanned if m.state == "unfinished" or not m.forms[0]]
    assert not missing, f"app strings without a Chinese translation ({HOW_TO_FIX}):\n" + (
        "\n".join(missing)
    )


def test_catalogue_lists_only_strings_the_app_still_has(
    messages: list[Message], rescanned: list[Message]
) -> None:
    current = {(m.context, m.source) for m in rescanned}
    stale = [str(m) for m in messages if (m.context, m.source) not in current]
    assert not stale, f"no longer in the app ({HOW_TO_FIX}):\n" + "\n".join(stale)


def test_shipped_qm_is_compiled_from_the_catalogue(tmp_path: Path) -> None:
    compiled = tmp_path / SHIPPED_QM.name
    run_tool("pyside6-lrelease", CATALOGUE, "-qm", compiled)
    assert SHIPPED_QM.is_file(), f"{SHIPPED_QM} is missing: {HOW_TO_FIX}"
    assert SHIPPED_QM.read_bytes() == compiled.read_bytes(), (
        f"{SHIPPED_QM.name} is older than {CATALOGUE.name}: {HOW_TO_FIX}"
    )


def test_the_app_finds_the_qm_and_it_translates_the_dialog() -> None:
    translator = QTranslator()
    assert translator.load("sendguard_zh_CN", str(translations_folder()))
    assert translator.language() == "zh_CN"
    assert translator.translate("ConfirmDialog", 'Share with "{group}"?') == "分享给“{group}”？"
    assert translator.translate("ConfirmDialog", "Don't share") == "不分享"
    assert translator.translate("Policy", "Managed by your organisation") == "由贵单位管理"
    assert translator.translate("ConfirmDialog", "not a string of the app") == ""
