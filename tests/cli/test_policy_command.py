"""``sendguard policy check`` and ``explain`` as IT and users run them."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from sendguard.cli import policy as policy_command
from tests.labels.photos import page, photograph, save_jpeg

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "real"
MINIMAL = """\
[[groups]]
name = "Family"
folders = ["~/Dropbox/Family"]
clearance = "PUBLIC"
"""


def _run(*argv: str) -> int:
    """Runs the command through a parser built from ``register``, as ``sendguard`` will."""
    parser = argparse.ArgumentParser(prog="sendguard")
    commands = parser.add_subparsers(dest="command")
    policy_command.register(commands)
    args = parser.parse_args(["policy", *argv])
    result: int = args.handler(args)
    return result


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary home and config folder: no test reads the real user's settings."""
    home = tmp_path / "home"
    (home / "Dropbox" / "Work").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    return home


def _policy(tmp_path: Path, text: str = MINIMAL, name: str = "policy.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_check_prints_every_value_with_its_source_and_the_hash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _policy(tmp_path)
    assert _run("check", str(path)) == 0
    out = capsys.readouterr().out
    assert out.startswith("Policy: valid\n")
    assert f"System policy: {path} — loaded, sha256 " in out
    assert re.search(r"^Effective policy sha256: [0-9a-f]{64}$", out, re.MULTILINE)
    assert re.search(
        rf'^groups\.Family\.clearance +"PUBLIC" +system policy {re.escape(str(path))}, locked$',
        out,
        re.MULTILINE,
    )
    assert re.search(r'^levels\.unscannable +"CONFIDENTIAL" +built-in$', out, re.MULTILINE)
    assert "Discovered groups" in out and "Work:" in out
    assert "User settings" not in out  # a file checked alone is checked as IT ships it


def test_check_an_invalid_policy_exits_one_with_file_line_and_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _policy(tmp_path, MINIMAL.replace('"PUBLIC"', '"SECRTE"'))
    assert _run("check", str(path)) == 1
    captured = capsys.readouterr()
    assert "Policy: INVALID — SendGuard holds every file until it is fixed" in captured.out
    assert "SETTING" not in captured.out
    assert captured.err == (
        f"error: {path}, line 4, groups[0].clearance: expected one of PUBLIC, INTERNAL,"
        ' CONFIDENTIAL, SECRET, TOP SECRET; got "SECRTE". Fix: did you mean "SECRET"?\n'
    )


def test_check_with_user_settings_shows_what_was_ignored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    system = _policy(tmp_path)
    user = _policy(
        tmp_path,
        '[[groups]]\nname = "Family"\nfolders = ["~/Dropbox/Family"]\nclearance = "SECRET"\n',
        "settings.toml",
    )
    assert _run("check", "--system", str(system), "--user", str(user)) == 0
    out = capsys.readouterr().out
    assert f"User settings: {user} — loaded" in out
    assert "Notes:" in out
    assert 'groups.Family.clearance = "SECRET" ignored' in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["check", "/no/such/policy.toml"], "no such file: /no/such/policy.toml"),
        (["check", "a.toml", "--system", "b.toml"], "not both"),
        (["explain", "/no/such/file.pdf", "--group", "Family"], "no such file"),
        ([], "usage: sendguard policy"),
    ],
)
def test_usage_errors_exit_two(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(*argv) == 2
    captured = capsys.readouterr()
    assert message in captured.err
    assert captured.out == ""


def test_explain_a_public_titus_label_into_a_public_group(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _policy(tmp_path)
    target = CORPUS / "intelfsp_broadwellde_keywords_ctp_public.pdf"
    assert _run("explain", str(target), "--group", "family", "--policy", str(path)) == 0
    out = capsys.readouterr().out
    assert "Level:     PUBLIC" in out
    assert "Decision:  share without a prompt" in out
    assert (
        "Titus CTP_PUBLIC, found in PDF Info /Keywords → PUBLIC by mappings.titus.CTP_PUBLIC" in out
    )


def test_explain_a_mip_label_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _policy(tmp_path)
    target = CORPUS / "xlsxwriter_properties06_doc_example_label.xlsx"
    assert _run("explain", str(target), "--group", "Family", "--policy", str(path)) == 0
    out = capsys.readouterr().out
    assert "Scanned:   labelled (xlsx)" in out
    assert "Level:     CONFIDENTIAL" in out
    assert "Decision:  type-group-name (2 above the clearance)" in out
    assert (
        "MIP Confidential (2096f6a2-d2f7-48be-b329-b73aaa526e5d), found in docProps/custom.xml"
        " → CONFIDENTIAL by mappings.mip.CONFIDENTIAL (built-in)"
    ) in out
    assert "Family is cleared for PUBLIC by groups.Family.clearance" in out
    assert "→ type-group-name by actions.above_2 (built-in)" in out


def test_explain_into_a_discovered_group(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = CORPUS / "msrc_csw2009_nolabel.pdf"
    assert _run("explain", str(target), "--group", "Work", "--policy", str(_policy(tmp_path))) == 0
    out = capsys.readouterr().out
    assert "Group:     Work, cleared for PUBLIC; from discovered under ~/Dropbox" in out
    assert "No label found: shared without a prompt." in out


def test_explain_an_unknown_group_lists_the_groups(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = CORPUS / "msrc_csw2009_nolabel.pdf"
    assert _run("explain", str(target), "--group", "Famly", "--policy", str(_policy(tmp_path))) == 2
    assert "no group named 'Famly'; the groups are: Family, Work" in capsys.readouterr().err


def test_explain_under_an_invalid_policy_shows_the_hold(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _policy(tmp_path, "[ui]\nallow_quit = 1\n")
    target = CORPUS / "msrc_csw2009_nolabel.pdf"
    assert _run("explain", str(target), "--group", "Work", "--policy", str(path)) == 0
    out = capsys.readouterr().out
    assert "Decision:  hold (the policy cannot be used)" in out
    assert f"{path}, line 2, ui.allow_quit: expected true or false" in out


def test_explain_reads_a_photo_by_ocr_as_the_policy_says(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The guard holds a photo of a page and reads it by OCR: explain says what it will find;
    with ``[ocr] enabled = false`` the guard shares it unread, and explain says that too."""
    photo = save_jpeg(
        photograph(page(top="TLP:RED"), frame=(1500, 2000), seed=5), tmp_path / "IMG_0042.jpg"
    )
    path = _policy(tmp_path)
    assert _run("explain", str(photo), "--group", "Family", "--policy", str(path)) == 0
    out = capsys.readouterr().out
    assert re.search(r"^Scanned:   labelled \(jpeg\); read by OCR in \d+\.\d s$", out, re.M)
    assert "marking TLP:RED, found in image, top (OCR)" in out
    assert "Decision:  share without a prompt" not in out
    path = _policy(tmp_path, MINIMAL + "\n[ocr]\nenabled = false\n", name="no-ocr.toml")
    assert _run("explain", str(photo), "--group", "Family", "--policy", str(path)) == 0
    out = capsys.readouterr().out
    assert "Scanned:   clean (jpeg); not read by OCR ([ocr] enabled = false)" in out
    assert "Decision:  share without a prompt" in out
