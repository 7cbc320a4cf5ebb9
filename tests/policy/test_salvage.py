"""What a broken policy file still says: its folders, read line by line; and an unreadable one."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from sendguard.policy import Policy, load_policy
from sendguard.policy.last_good import LAST_GOOD_DIR
from sendguard.policy.salvage import salvage_folders

HOME = Path("/home/me")


def folders(text: str) -> list[tuple[str, int, str | None]]:
    return [(str(f.path), f.line, f.group) for f in salvage_folders(text, HOME)]


def test_a_missing_bracket_still_names_the_folder_and_its_group() -> None:
    text = '[[groups]]\nname = "Family"\nfolders = ["/home/me/Family"\nclearance = "PUBLIC"\n'
    assert folders(text) == [("/home/me/Family", 3, "Family")]


def test_arrays_over_several_lines_comments_and_a_name_after_the_folders() -> None:
    text = (
        "[[groups]]\n"
        "folders = [\n"
        '  "~/Work",   # the team\n'
        "  '/srv/a#b',\n"
        "]\n"
        'name = "Work"\n'
        'outbox = "/home/me/Out\n'  # the quote left open
        "[[groups]]\n"
        "name = 'Bare'\n"
        "folders = [/home/me/Bare Folder, C:\\Users\\me\\Team]\n"
    )
    assert folders(text) == [
        ("/home/me/Work", 3, "Work"),
        ("/srv/a#b", 4, "Work"),
        ("/home/me/Out", 7, "Work"),
        ("/home/me/Bare Folder", 10, "Bare"),
        ("C:\\Users\\me\\Team", 10, "Bare"),
    ]


def test_chat_download_folders_and_discovery_roots_are_not_held_in() -> None:
    # Files there come from the group: holding them would be wrong even for a broken policy.
    text = (
        '[[groups]]\nname = "Work"\nsources = ["/home/me/WeChat/Work"]\n'
        '[discovery]\nroots = ["/home/me/Sync"]\nfolders = ["/not/a/group"]\n'
    )
    assert folders(text) == []


def test_text_that_is_not_toml_at_all_names_nothing() -> None:
    assert folders("\x00\x01 garbage = [[[ \n}}}\n") == []


def test_an_unreadable_policy_file_is_replaced_by_its_kept_copy_and_says_so() -> None:
    """chmod 000. Root reads any file, so as root the load runs with the effective user
    "nobody" (seteuid, and back): a real permission error either way."""
    base = Path(tempfile.mkdtemp(prefix="sendguard-unreadable-"))
    policy = base / "policy.toml"
    try:
        base.chmod(0o755)
        (base / "Family").mkdir()
        policy.write_text(f'[[groups]]\nname = "Family"\nfolders = ["{base}/Family"]\n')
        data = base / "data"

        def load() -> Policy:
            return load_policy(
                policy, base / "none.toml", system_required=True, home=base, data_dir=data,
                last_good=data / LAST_GOOD_DIR, discover=False,
            )  # fmt: skip

        assert load().error is None  # valid: its copy is kept
        for path in [data, *data.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)  # the guard's own files, readable
        policy.chmod(0o000)
        as_root = os.geteuid() == 0
        if as_root:
            os.seteuid(65534)
        try:
            broken = load()
        finally:
            if as_root:
                os.seteuid(0)
        assert broken.error is not None
        assert "expected a readable TOML file; got Permission denied" in str(broken.error)
        assert "chmod 644" in str(broken.error)
        # Nothing can be salvaged from a file that cannot be read: the kept copy guards, and
        # it names Family's folder, guarded by its rules.
        assert [k.copy for k in broken.last_good] == [data / LAST_GOOD_DIR / "policy.toml"]
        assert [(g.name, g.folders, g.hold_all) for g in broken.groups] == [
            ("Family", (base / "Family",), False)
        ]
    finally:
        policy.chmod(0o644)
        shutil.rmtree(base)


def test_discovered_groups_hold_everything_while_the_policy_is_broken(tmp_path: Path) -> None:
    (tmp_path / "Dropbox" / "Family").mkdir(parents=True)
    (tmp_path / "Work").mkdir()
    policy_file = tmp_path / "policy.toml"
    good = f'[[groups]]\nname = "Work"\nfolders = ["{tmp_path}/Work"]\nclearance = "SECRET"\n'
    policy_file.write_text(good)

    def load() -> Policy:
        return load_policy(
            policy_file, tmp_path / "none.toml", system_required=True, home=tmp_path,
            data_dir=tmp_path / "data", last_good=tmp_path / "data" / LAST_GOOD_DIR,
        )  # fmt: skip

    valid = load()
    assert [(g.name, g.discovered, g.hold_all) for g in valid.groups] == [
        ("Work", False, False),
        ("Family", True, False),
    ]
    policy_file.write_text(good.replace('"SECRET"', "SECRET"))  # quotes missing
    broken = load()
    # Work's folder is still named by the broken text; Family was discovered.
    assert [(g.name, g.hold_all) for g in broken.groups] == [("Work", True), ("Family", True)]
    assert all(broken.holds_all(group) for group in broken.groups)
    assert not broken.hold_everything  # the kept copy still says how Work is cleared
    work = broken.group("Work")
    assert work is not None and work.clearance.name == "SECRET"
