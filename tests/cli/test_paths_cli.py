"""``sendguard doctor`` prints every path SendGuard uses: a real process, a temporary home."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def doctor(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "HOME": str(tmp_path / "home"),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
    }  # no XDG_* variables: the defaults under the temporary home
    return subprocess.run(
        [sys.executable, "-m", "sendguard", "doctor", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )


def section(out: str, title: str) -> list[str]:
    lines = out.splitlines()
    start = lines.index(f"{title}:") + 1
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("  ")), len(lines))
    return lines[start:end]


def test_doctor_prints_every_path_with_the_defaults(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    result = doctor(tmp_path)
    assert result.returncode in (0, 1), result.stderr
    data = home / ".local" / "share" / "SendGuard"
    assert section(result.stdout, "Paths") == [
        f"  [ok  ] data folder: {data} (not created yet)",
        f"  [ok  ] journal: {data / 'journal.sqlite3'} (not created yet)",
        f"  [ok  ] hold area: {data / 'hold'} (not created yet)",
        f"  [ok  ] audit trail: {data / 'audit.sqlite3'} (not created yet)",
        f"  [ok  ] last good policy copies: {data / 'last-good'} (not created yet)",
        f'  [ok  ] "Not shared" folder: {home / "SendGuard" / "Not shared"} (not created yet)',
        f"  [ok  ] user settings: {home / '.config' / 'sendguard' / 'settings.toml'} (none)",
        "  [ok  ] system policy: /etc/sendguard/policy.toml"
        + ("" if Path("/etc/sendguard/policy.toml").exists() else " (none)"),
    ]
    assert not (home / ".local").exists(), "doctor changes nothing"


def test_doctor_prints_the_paths_the_options_give(tmp_path: Path) -> None:
    (tmp_path / "home").mkdir()
    policy = tmp_path / "etc" / "policy.toml"
    policy.parent.mkdir()
    policy.write_text("[discovery]\nenabled = false\n", encoding="utf-8")
    data, kept = tmp_path / "data", tmp_path / "kept"
    data.mkdir()
    (data / "settings.toml").write_text("", encoding="utf-8")
    options = ["--policy", str(policy), "--data-dir", str(data), "--not-shared", str(kept)]
    text = doctor(tmp_path, *options)
    assert text.returncode == 0, text.stdout + text.stderr
    paths = section(text.stdout, "Paths")
    assert f"  [ok  ] data folder: {data}" in paths
    assert f"  [ok  ] hold area: {data / 'hold'} (not created yet)" in paths
    assert f'  [ok  ] "Not shared" folder: {kept} (not created yet)' in paths
    assert f"  [ok  ] user settings: {data / 'settings.toml'}" in paths  # it follows --data-dir
    assert f"  [ok  ] system policy: {policy}" in paths

    as_json = doctor(tmp_path, "--json", *options)
    document = json.loads(as_json.stdout)
    assert document["paths"] == {
        "data_dir": str(data),
        "journal": str(data / "journal.sqlite3"),
        "hold": str(data / "hold"),
        "audit": str(data / "audit.sqlite3"),
        "last_good": str(data / "last-good"),
        "not_shared": str(kept),
        "settings": str(data / "settings.toml"),
        "system_policy": str(policy),
        "demo_groups": str(tmp_path / "home" / "SendGuard" / "Demo groups"),
    }
    checks = [(c["section"], c["subject"]) for c in document["checks"]]
    assert ("paths", '"Not shared" folder') in checks
