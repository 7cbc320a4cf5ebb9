"""``sendguard doctor`` on real folders, a real signed policy, real sockets on 127.0.0.1 and a
real Qt subprocess for the tray."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from sendguard.cli.doctor import (
    Report,
    count_directories,
    forwarding_checks,
    inotify_check,
    tray_check,
)
from sendguard.policy.signed import KEY_FILE, generate_key_pair, sign_policy, signature_path


def doctor(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "HOME": str(tmp_path / "home"),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
    }
    return subprocess.run(
        [sys.executable, "-m", "sendguard", "doctor", "--data-dir", str(tmp_path / "data"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )


def policy_for(tmp_path: Path, folder: Path, extra: str = "") -> Path:
    path = tmp_path / "etc" / "policy.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f'[discovery]\nenabled = false\n\n[[groups]]\nname = "Editors"\nfolders = ["{folder}"]\n'
        f'clearance = "INTERNAL"\n{extra}',
        encoding="utf-8",
    )
    return path


def test_a_working_setup_is_all_well(tmp_path: Path) -> None:
    folder = tmp_path / "home" / "Dropbox" / "Editors"
    (folder / "drafts").mkdir(parents=True)
    result = doctor(tmp_path, "--policy", str(policy_for(tmp_path, folder)))
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "SendGuard: 0." in out
    assert f"Editors (system): folder {folder}: exists;" in out
    assert "watched; clearance INTERNAL" in out
    assert "same file system as the hold area" in out
    assert "Effective sha256" in out or "effective sha256" in out
    assert "signature: not required" in out
    assert "OCR:\n  [ok  ] photos and scans: the OCR model loads; photos are read" in out
    assert "All is well." in out


def test_what_to_fix_is_a_numbered_list(tmp_path: Path) -> None:
    not_a_folder = tmp_path / "home" / "Dropbox" / "Editors"
    not_a_folder.parent.mkdir(parents=True)
    not_a_folder.write_text("a file where the group's folder should be")
    policy = policy_for(tmp_path, not_a_folder)
    result = doctor(tmp_path, "--policy", str(policy))
    assert result.returncode == 1
    assert "1 thing to fix:" in result.stdout
    assert "  1. Editors (system): folder" in result.stdout
    assert "is not a folder" in result.stdout

    policy.write_text(policy.read_text().replace('"INTERNAL"', '"INTERNL"'))
    result = doctor(tmp_path, "--policy", str(policy))
    assert result.returncode == 1
    assert "holds every file until it is fixed" in result.stdout
    assert 'did you mean "INTERNAL"' in result.stdout


def test_a_missing_folder_is_a_note_not_a_problem(tmp_path: Path) -> None:
    result = doctor(tmp_path, "--policy", str(policy_for(tmp_path, tmp_path / "not-yet")))
    assert result.returncode == 0, result.stdout
    assert "does not exist yet; SendGuard creates it" in result.stdout


def test_the_signature_state_is_reported(tmp_path: Path) -> None:
    folder = tmp_path / "team"
    folder.mkdir()
    policy = policy_for(tmp_path, folder)
    private_pem, public_pem = generate_key_pair()
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    key = load_pem_private_key(private_pem, None)
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=30)
    signature_path(policy).write_text(
        sign_policy(policy.read_bytes(), key, serial=12, expires=expires)  # type: ignore[arg-type]
    )
    (policy.parent / KEY_FILE).write_bytes(public_pem)
    result = doctor(tmp_path, "--policy", str(policy), "--json")
    assert result.returncode == 0, result.stdout
    report = json.loads(result.stdout)
    assert report["ok"] is True
    signature = next(c for c in report["checks"] if c["subject"] == "signature")
    assert signature["detail"].startswith("verified: serial 12")

    policy.write_text(policy.read_text() + "\n# edited after signing\n")
    result = doctor(tmp_path, "--policy", str(policy), "--json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert any("changed since it was signed" in (c["fix"] or "") for c in report["checks"])


def test_a_usage_error_is_exit_status_2(tmp_path: Path) -> None:
    result = doctor(tmp_path, "--policy", str(tmp_path / "nothing.toml"))
    assert result.returncode == 2
    assert "no such file" in result.stderr


def test_inotify_watches_are_counted_against_the_limit(tmp_path: Path) -> None:
    for name in ("a/b/c", "a/d", "e"):
        (tmp_path / "tree" / name).mkdir(parents=True)
    (tmp_path / "tree" / "a" / "file.txt").write_text("x")
    assert count_directories([tmp_path / "tree"]) == (6, False)
    assert count_directories([tmp_path / "tree"], limit=3) == (3, True)

    report = Report()
    inotify_check(report, [tmp_path / "tree"])
    limit = int(Path("/proc/sys/fs/inotify/max_user_watches").read_text())
    assert report.checks[0].detail == f"6 folders to watch; the limit is {limit} per user"
    assert report.checks[0].status == "ok"


def test_a_listening_collector_is_reachable_and_a_closed_port_is_not() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        open_port = server.getsockname()[1]
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            closed_port = probe.getsockname()[1]  # bound, never listening: refuses
            audit = SimpleNamespace(
                syslog=f"tcp://127.0.0.1:{open_port}", http=f"http://127.0.0.1:{closed_port}/"
            )
            report = Report()
            forwarding_checks(report, SimpleNamespace(audit=audit))  # type: ignore[arg-type]
    syslog, http = report.checks
    assert syslog.status == "ok" and syslog.detail.startswith("reachable")
    assert http.status == "problem"
    assert "cannot connect" in http.detail and f"127.0.0.1:{closed_port}" in (http.fix or "")


def test_udp_collectors_are_not_checked() -> None:
    report = Report()
    audit = SimpleNamespace(syslog="udp://127.0.0.1:514", http=None)
    forwarding_checks(report, SimpleNamespace(audit=audit))  # type: ignore[arg-type]
    assert report.checks[0].status == "note" and "UDP" in report.checks[0].detail


def test_the_tray_is_asked_in_a_qt_subprocess(monkeypatch: pytest.MonkeyPatch) -> None:
    # Qt's offscreen platform has no system tray: the probe must say so, not crash.
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    report = Report()
    tray_check(report)
    assert report.checks[0].status == "note"
    assert "shows a small window instead" in report.checks[0].detail

    monkeypatch.delenv("DISPLAY")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    report = Report()
    tray_check(report)
    assert report.checks[0].detail == "not checked: no display in this session"


def test_ocr_turned_off_or_required_without_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """The extra's absence is simulated (it is installed here): find_spec says no."""
    import importlib.util

    from sendguard.cli.doctor import ocr_check

    off = SimpleNamespace(ocr=SimpleNamespace(enabled=False, required=False))
    report = Report()
    ocr_check(report, off)  # type: ignore[arg-type]
    assert [(c.status, c.detail) for c in report.checks] == [
        ("note", "OCR is turned off by the policy")
    ]
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "rapidocr" else real_find_spec(name, *a),
    )
    required = SimpleNamespace(ocr=SimpleNamespace(enabled=True, required=True))
    report = Report()
    ocr_check(report, required)  # type: ignore[arg-type]
    (check,) = report.checks
    assert check.status == "problem"
    assert "every photo is held as unscannable" in check.detail
    assert check.fix is not None and "sendguard[ocr]" in check.fix
