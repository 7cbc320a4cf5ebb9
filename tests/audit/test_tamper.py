"""Tampering with a real trail file, as someone with the file (and later the current key)
would, and `sendguard audit verify` finding it, with its exit status."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from sendguard.audit import AuditTrail, open_audit_trail
from sendguard.audit.chain import KeyState, link, seal
from sendguard.cli import main
from sendguard.policy import Policy
from tests.audit.conftest import MemoryKeyring, sendguard

INTACT, TAMPERED, USAGE = 0, 1, 2


def _fill(trail: AuditTrail, count: int = 12) -> None:
    """Records over three key epochs (sealed by hand; the timer would take an hour)."""
    for index in range(count):
        trail.record("held", file=f"plan-{index}.docx", group="Family", level="SECRET")
        if index in (3, 7):
            trail.seal_epoch()


@pytest.fixture
def filled(tmp_path: Path, policy: Policy, memory_keyring: MemoryKeyring) -> Path:
    data = tmp_path / "data"
    with open_audit_trail(data, policy, keyring=memory_keyring) as trail:
        _fill(trail)
    return data


def _escrow(keyring: MemoryKeyring, path: Path) -> Path:
    lines = [
        f"{user} {secret}"
        for (_service, user), secret in keyring.secrets.items()
        if user.startswith("audit-verify-key:")
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _verify(data: Path, keyring: MemoryKeyring, *extra: str) -> int:
    keys = _escrow(keyring, data.parent / "escrow.txt")
    return main(["audit", "verify", "--data-dir", str(data), "--verify-keys", str(keys), *extra])


@contextlib.contextmanager
def _db(data: Path) -> Iterator[sqlite3.Connection]:
    db = sqlite3.connect(data / "audit.sqlite3", isolation_level=None)
    try:
        yield db
    finally:
        db.close()


def _copy_db(source: Path, target: Path) -> None:
    """A consistent copy of a live SQLite file (what a backup, or a rollback, does)."""
    with (
        contextlib.closing(sqlite3.connect(source)) as src,
        contextlib.closing(sqlite3.connect(target)) as dst,
    ):
        src.backup(dst)


def _rows(db: sqlite3.Connection) -> list[tuple[int, int | None, int | None, str, str, str | None]]:
    return db.execute(
        "SELECT seq, generation, epoch, body, chain, mac FROM records ORDER BY seq"
    ).fetchall()


def _rechain(db: sqlite3.Connection, key_for_mac: bytes | None = None) -> None:
    """What a forger does after an edit: recompute every chain hash (no key needed), and
    every seal when they hold a key."""
    prev = "00" * 32
    for seq, generation, epoch, body, _chain, mac in _rows(db):
        chain = link(prev, seq, generation, epoch, body)
        new_mac = seal(key_for_mac, chain) if key_for_mac is not None and mac else mac
        db.execute("UPDATE records SET chain = ?, mac = ? WHERE seq = ?", (chain, new_mac, seq))
        prev = chain


def test_an_untouched_trail_verifies_intact(
    filled: Path, memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _verify(filled, memory_keyring) == INTACT
    out = capsys.readouterr().out
    assert "Intact" in out
    assert "sealed 15, unsealed 0" in out  # 12 records, key created, 2 epoch seals


def test_a_flipped_character_is_found_at_its_record(
    filled: Path, memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    with _db(filled) as db:
        db.execute("UPDATE records SET body = replace(body, 'SECRET', 'PUBLIC') WHERE seq = 3")
    assert _verify(filled, memory_keyring) == TAMPERED
    out = capsys.readouterr().out
    assert "TAMPERING FOUND" in out
    assert "record #3: its content, number or position was changed" in out


def test_a_flip_with_the_chain_recomputed_breaks_the_seal(
    filled: Path, memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    with _db(filled) as db:
        db.execute("UPDATE records SET body = replace(body, 'plan-1', 'plan-X') WHERE seq = 3")
        _rechain(db)
    assert _verify(filled, memory_keyring) == TAMPERED
    assert "record #3: its seal (MAC) does not match" in capsys.readouterr().out


def test_a_deleted_record_is_named(
    filled: Path, memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    with _db(filled) as db:
        db.execute("DELETE FROM records WHERE seq = 6")
    assert _verify(filled, memory_keyring) == TAMPERED
    assert "record #6 is missing: deleted from the trail" in capsys.readouterr().out


def test_a_deletion_with_renumbering_is_found(
    filled: Path, memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    with _db(filled) as db:
        db.execute("DELETE FROM records WHERE seq = 6")
        db.execute("UPDATE records SET seq = seq - 1 WHERE seq > 6")
        _rechain(db)
    assert _verify(filled, memory_keyring) == TAMPERED
    assert "record #6: its seal (MAC) does not match" in capsys.readouterr().out


def test_an_inserted_record_is_found(
    filled: Path, memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    with _db(filled) as db:
        rows = _rows(db)
        seq, generation, epoch, body, _chain, mac = rows[4]
        db.execute("UPDATE records SET seq = -seq WHERE seq >= ?", (seq,))
        db.execute("UPDATE records SET seq = -seq + 1 WHERE seq < 0")
        forged = body.replace("plan-", "alibi-")
        db.execute(
            "INSERT INTO records VALUES (?, ?, ?, ?, ?, ?)",
            (seq, generation, epoch, forged, "00" * 32, mac),
        )
        _rechain(db)
    assert _verify(filled, memory_keyring) == TAMPERED
    assert f"record #{seq}: its seal (MAC) does not match" in capsys.readouterr().out


def test_reordered_records_are_found(
    filled: Path, memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    with _db(filled) as db:
        db.execute("UPDATE records SET seq = 100 WHERE seq = 9")
        db.execute("UPDATE records SET seq = 9 WHERE seq = 10")
        db.execute("UPDATE records SET seq = 10 WHERE seq = 100")
    assert _verify(filled, memory_keyring) == TAMPERED
    assert "record #9: its content, number or position was changed" in capsys.readouterr().out


def _current_key(keyring: MemoryKeyring) -> KeyState:
    (secret,) = [v for (_s, user), v in keyring.secrets.items() if user.startswith("audit-seal")]
    state = KeyState.from_secret(secret)
    assert state is not None and state.epoch == 2
    return state


def test_resealing_the_past_with_the_stolen_current_key_is_found(
    filled: Path, memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    """The thief has the key in the keyring now (epoch 2) and rewrites a record of epoch 0,
    sealing everything again with that key."""
    stolen = bytes(_current_key(memory_keyring).key)
    with _db(filled) as db:
        db.execute("UPDATE records SET body = replace(body, 'SECRET', 'PUBLIC') WHERE seq = 2")
        _rechain(db, key_for_mac=stolen)
    assert _verify(filled, memory_keyring) == TAMPERED
    out = capsys.readouterr().out
    assert "record #1: its seal (MAC) does not match" in out  # every earlier-epoch seal
    assert "record #2: its seal (MAC) does not match" in out


def test_moving_the_past_into_the_current_epoch_is_found(
    filled: Path, memory_keyring: MemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    """The thief relabels everything after record 2 as the current epoch, drops the epoch
    seals and seals with the stolen key: the epoch sequence gives it away."""
    state = _current_key(memory_keyring)
    with _db(filled) as db:
        db.execute("DELETE FROM records WHERE body LIKE '%audit.epoch_sealed%'")
        db.execute("UPDATE records SET epoch = ? WHERE seq > 2", (state.epoch,))
        db.execute("UPDATE records SET body = replace(body, 'SECRET', 'PUBLIC') WHERE seq > 2")
        rows = _rows(db)
        db.execute("DELETE FROM records")
        for new_seq, (_seq, generation, epoch, body, chain, mac) in enumerate(rows, start=1):
            db.execute(
                "INSERT INTO records VALUES (?, ?, ?, ?, ?, ?)",
                (new_seq, generation, epoch, body, chain, mac),
            )
        _rechain(db, key_for_mac=bytes(state.key))
    assert _verify(filled, memory_keyring) == TAMPERED
    out = capsys.readouterr().out
    assert "record #3: key epoch 2 begins without epoch 0 being sealed first" in out


def test_truncation_and_rollback_show_up_through_the_collectors_anchors(
    tmp_path: Path,
    policy: Policy,
    memory_keyring: MemoryKeyring,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = tmp_path / "data"
    snapshot = tmp_path / "snapshot.sqlite3"
    with open_audit_trail(data, policy, keyring=memory_keyring) as trail:
        _fill(trail, 5)
        _copy_db(data / "audit.sqlite3", snapshot)  # what a rollback would restore
        _fill(trail, 5)
    anchors = tmp_path / "collector.jsonl"
    assert main(["audit", "export", "--format", "jsonl", "--data-dir", str(data),
                 "-o", str(anchors)]) == INTACT  # fmt: skip
    with _db(data) as db:  # cut the last three records off
        last = db.execute("SELECT MAX(seq) FROM records").fetchone()[0]
        db.execute("DELETE FROM records WHERE seq > ?", (last - 3,))
    capsys.readouterr()
    assert _verify(data, memory_keyring) == INTACT  # the chain alone cannot see a cut end
    assert _verify(data, memory_keyring, "--anchors", str(anchors)) == TAMPERED
    out = capsys.readouterr().out
    assert f"record #{last}: the collector has it" in out
    assert "truncated or rolled back" in out

    _copy_db(snapshot, data / "audit.sqlite3")  # the rollback
    assert _verify(data, memory_keyring, "--anchors", str(anchors)) == TAMPERED
    assert "truncated or rolled back" in capsys.readouterr().out


def test_verify_exit_codes_from_the_command_line(
    filled: Path, memory_keyring: MemoryKeyring, tmp_path: Path
) -> None:
    keys = _escrow(memory_keyring, tmp_path / "escrow.txt")
    base = ["audit", "verify", "--data-dir", str(filled), "--verify-keys", str(keys)]
    intact = sendguard(*base)
    assert intact.returncode == INTACT, intact.stderr
    with _db(filled) as db:
        db.execute("DELETE FROM records WHERE seq = 4")
    tampered = sendguard(*base)
    assert tampered.returncode == TAMPERED
    assert "record #4 is missing" in tampered.stdout
    missing = sendguard("audit", "verify", "--data-dir", str(tmp_path / "nowhere"))
    assert missing.returncode == USAGE
    assert "there is no audit trail at" in missing.stderr
    no_anchor_file = sendguard(*base, "--anchors", str(tmp_path / "none.log"))
    assert no_anchor_file.returncode == USAGE
    assert "no anchor file" in no_anchor_file.stderr


def test_without_its_verification_key_the_seals_cannot_be_checked(
    filled: Path, tmp_path: Path
) -> None:
    """No keyring on the checking machine and no escrow: not "intact", a clear exit 2."""
    empty = tmp_path / "empty-escrow.txt"
    empty.write_text("", encoding="utf-8")
    result = sendguard("audit", "verify", "--data-dir", str(filled), "--verify-keys", str(empty))
    assert result.returncode == USAGE
    assert "cannot be checked" in result.stderr
