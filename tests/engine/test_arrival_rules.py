"""The arrival classifier's rules on their own: network shares, Dropbox's staging folder, the
mount table. The engine-level replays are in test_arrivals.py."""

from __future__ import annotations

from pathlib import Path

from sendguard.engine.arrivals import ArrivalClassifier, How, Kind, Observation, default_clients
from sendguard.engine.arrivals.network import file_system_type, is_network, mounts

# A network share cannot be mounted here (no SMB or NFS server): the mount table is given,
# in the format of /proc/self/mountinfo (proc(5)), escaped space included.
MOUNTINFO = """\
22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
40 22 0:35 / /mnt/team\\040share rw,relatime shared:20 - cifs //files/team rw,vers=3.1.1
41 22 0:36 / /mnt/team\\040share/local rw shared:21 - tmpfs tmpfs rw
42 22 0:37 / /srv/nfs rw shared:22 - nfs4 files:/export rw
"""


def test_the_mount_table_gives_each_folder_its_file_system(tmp_path: Path) -> None:
    table_file = tmp_path / "mountinfo"
    table_file.write_text(MOUNTINFO)
    table = mounts(table_file)
    assert (Path("/mnt/team share"), "cifs") in table
    assert file_system_type(Path("/mnt/team share/Family"), table) == "cifs"
    assert file_system_type(Path("/mnt/team share/local/x"), table) == "tmpfs"
    assert file_system_type(Path("/srv/nfs/Family"), table) == "nfs4"
    assert file_system_type(Path("/home/ann/Sync"), table) == "ext4"
    assert is_network("cifs") and is_network("nfs4") and is_network("fuse.sshfs")
    assert not is_network("ext4") and not is_network("tmpfs") and not is_network(None)


def test_on_a_network_share_every_arrival_is_this_computers_own(tmp_path: Path) -> None:
    """inotify sees only this machine's writes there: even a client's temporary name is a
    program of this user's, so the file is a share (or, over a file there, an edit)."""
    folder = tmp_path / "share" / "Family"
    classifier = ArrivalClassifier(default_clients(home=tmp_path), file_system=lambda _: "cifs")
    seen = Observation(
        folder / "plan.docx",
        "Family",
        folder,
        How.RENAMED,
        source=folder / ".syncthing.plan.docx.tmp",
    )
    arrival = classifier.classify(seen)
    assert arrival.kind is Kind.SHARE and arrival.may_move
    assert "network share" in arrival.why
    edit = classifier.classify(
        Observation(folder / "plan.docx", "Family", folder, How.WRITTEN, replaces_known=True)
    )
    assert edit.kind is Kind.EDIT


def test_dropbox_staging_folder_is_weak_evidence_of_a_download(tmp_path: Path) -> None:
    root = tmp_path / "Dropbox"
    (root / ".dropbox.cache").mkdir(parents=True)
    classifier = ArrivalClassifier(default_clients(home=tmp_path), file_system=lambda _: "ext4")
    arrival = classifier.classify(
        Observation(
            root / "plan.docx",
            "Family",
            root,
            How.RENAMED,
            source=root / ".dropbox.cache" / "2026-12-06" / "plan (deleted 1a2b).docx",
        )
    )
    assert arrival.kind is Kind.DOWNLOAD and arrival.client == "Dropbox"
    assert not arrival.may_move
    assert arrival.evidence[0].strength.name == "WEAK"


def test_a_new_name_with_no_evidence_is_a_share(tmp_path: Path) -> None:
    folder = tmp_path / "Family"
    folder.mkdir()
    classifier = ArrivalClassifier(default_clients(home=tmp_path), file_system=lambda _: "ext4")
    arrival = classifier.classify(Observation(folder / "a.txt", "Family", folder, How.WRITTEN))
    assert arrival.kind is Kind.SHARE and arrival.may_move
    assert arrival.why == "file system: created here"


def test_the_real_mount_table_is_read(tmp_path: Path) -> None:
    kind = file_system_type(tmp_path)
    assert kind is not None  # this machine's own /proc/self/mountinfo
    assert not is_network(kind)
