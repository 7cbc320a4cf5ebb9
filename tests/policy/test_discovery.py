"""Groups discovered under known sync roots, in a temporary home folder."""

from __future__ import annotations

from pathlib import Path

from sendguard.policy import Level, discover_groups, find_sync_roots
from sendguard.policy.discovery import expand_home
from tests.policy import MINIMAL, load

PUBLIC = Level(0, "PUBLIC")


def _mkdirs(home: Path, *folders: str) -> None:
    for folder in folders:
        (home / folder).mkdir(parents=True)


def test_every_known_sync_root_is_found(tmp_path: Path) -> None:
    _mkdirs(
        tmp_path,
        "Dropbox",
        "Dropbox (Contoso)",
        "OneDrive",
        "OneDrive - Contoso",
        "Nextcloud",
        "ownCloud",
        "Seafile",
        "Sync",
        "Google Drive",
        "GoogleDrive",
        "Library/CloudStorage/OneDrive-Contoso",
        "Library/CloudStorage/GoogleDrive-ann@example.com",
        "Documents",
    )
    (tmp_path / "Nextcloud.txt").write_text("a file, not a root")
    roots = {
        (root.service, root.path.relative_to(tmp_path).as_posix())
        for root in find_sync_roots(tmp_path)
    }
    assert roots == {
        ("Dropbox", "Dropbox"),
        ("Dropbox", "Dropbox (Contoso)"),
        ("OneDrive", "OneDrive"),
        ("OneDrive", "OneDrive - Contoso"),
        ("Nextcloud", "Nextcloud"),
        ("ownCloud", "ownCloud"),
        ("Seafile", "Seafile"),
        ("Syncthing", "Sync"),
        ("Google Drive", "Google Drive"),
        ("Google Drive", "GoogleDrive"),
        ("OneDrive", "Library/CloudStorage/OneDrive-Contoso"),
        ("Google Drive", "Library/CloudStorage/GoogleDrive-ann@example.com"),
    }


def test_each_sub_folder_is_a_group_named_after_it(tmp_path: Path) -> None:
    _mkdirs(tmp_path, "Dropbox/Family", "Dropbox/Book Club", "Dropbox/.dropbox.cache", "Sync/Band")
    (tmp_path / "Dropbox" / "loose file.pdf").write_text("x")
    groups = discover_groups(tmp_path, clearance=PUBLIC)
    assert [(g.name, g.folders) for g in groups] == [
        ("Book Club", (tmp_path / "Dropbox" / "Book Club",)),
        ("Family", (tmp_path / "Dropbox" / "Family",)),
        ("Band", (tmp_path / "Sync" / "Band",)),
    ]
    assert all(g.clearance == PUBLIC and g.discovered for g in groups)
    assert str(groups[0].source).startswith("discovered under ")


def test_google_drive_containers_are_looked_into(tmp_path: Path) -> None:
    _mkdirs(tmp_path, "Google Drive/My Drive/Trip", "Google Drive/Shared drives/Sales")
    groups = discover_groups(tmp_path, clearance=PUBLIC)
    assert [g.name for g in groups] == ["Trip", "Sales"]


def test_names_that_clash_are_qualified_by_their_root(tmp_path: Path) -> None:
    _mkdirs(tmp_path, "Dropbox/Team", "OneDrive/Team")
    groups = discover_groups(tmp_path, clearance=PUBLIC, taken_names=["team"])
    assert [g.name for g in groups] == ["Team (Dropbox)", "Team (OneDrive)"]


def test_exclude_by_name_or_path_pattern_and_claimed_folders(tmp_path: Path) -> None:
    _mkdirs(
        tmp_path,
        "Dropbox/Camera Uploads",
        "Dropbox/Family/Sub",
        "Dropbox/Friends",
        "OneDrive - Contoso/Documents",
        "OneDrive - Contoso/Board",
    )
    groups = discover_groups(
        tmp_path,
        clearance=PUBLIC,
        exclude=["Camera Uploads", "~/OneDrive - */Documents"],
        claimed=[tmp_path / "Dropbox" / "Family"],
    )
    assert [g.name for g in groups] == ["Friends", "Board"]
    claimed_root = discover_groups(tmp_path, clearance=PUBLIC, claimed=[tmp_path / "Dropbox"])
    assert [g.name for g in claimed_root] == ["Board", "Documents"]


def test_extra_roots_and_no_roots(tmp_path: Path) -> None:
    assert discover_groups(tmp_path, clearance=PUBLIC) == []
    _mkdirs(tmp_path, "Shares/Lab")
    groups = discover_groups(tmp_path, clearance=PUBLIC, extra_roots=[tmp_path / "Shares"])
    assert [g.name for g in groups] == ["Lab"]
    assert discover_groups(tmp_path, clearance=PUBLIC, extra_roots=[tmp_path / "nope"]) == []


def test_policy_groups_win_over_discovered_ones_and_discovery_can_be_off(tmp_path: Path) -> None:
    _mkdirs(tmp_path / "home", "Dropbox/Family", "Dropbox/Work", "Extra/Lab")
    system = MINIMAL + '\n[discovery]\ndefault_clearance = "INTERNAL"\nroots = ["~/Extra"]\n'
    policy = load(tmp_path, system, discover=True)
    by_name = {g.name: g for g in policy.groups}
    assert set(by_name) == {"Family", "Work", "Lab"}
    assert not by_name["Family"].discovered and by_name["Family"].clearance.name == "PUBLIC"
    assert by_name["Work"].discovered and by_name["Work"].clearance.name == "INTERNAL"
    # Discovered groups depend on the disk, not the policy: they are not in its hash.
    assert not any(key.startswith("groups.Work") for key in policy.settings)
    off = load(tmp_path, MINIMAL + "\n[discovery]\nenabled = false\n", discover=True)
    assert [g.name for g in off.groups] == ["Family"]


def test_expand_home() -> None:
    home = Path("/home/ann")
    assert expand_home("~/Dropbox/A", home) == Path("/home/ann/Dropbox/A")
    assert expand_home("~", home) == home
    assert expand_home("/srv/share/../x", home) == Path("/srv/x")
    assert expand_home("~bob/x", home) == Path("~bob/x")
