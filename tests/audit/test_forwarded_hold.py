"""Issue 13 in the audit trail: a resized copy of a photo received in the "Work" group's chat,
put into a PUBLIC group, is recorded as held *for being forwarded from "Work"* — `came_from`
and the reason — and so is the "Don't share" that follows; the collector's forms (ECS, CSV,
the one-line message) carry it too. Real engine, real folders, real SQLite."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from sendguard.audit import AuditStore, open_audit_trail
from sendguard.audit.records import csv_header, csv_row, ecs, message_of
from sendguard.engine.decider import Answer, ScriptedDecider
from sendguard.engine.guard import Engine, EngineConfig, run_until
from tests.engine.test_forwarded_reason import forward_a_resized_photo, make_policy
from tests.keyrings import MemoryKeyring


def test_a_forwarded_hold_is_recorded_with_where_it_came_from(tmp_path: Path) -> None:
    for folder in ("Dropbox/Work", "Dropbox/Family", "Telegram Desktop"):
        (tmp_path / folder).mkdir(parents=True)
    policy = make_policy(tmp_path)
    data = tmp_path / "data"

    def events() -> list[dict[str, Any]]:
        return [record.fields for record in trail.store.records()]

    with open_audit_trail(data, policy, keyring=MemoryKeyring()) as trail:
        engine = Engine(
            policy,
            EngineConfig(data_dir=data, batch_window=0.1),
            ScriptedDecider(lambda batch: [Answer(i.hold_id, share=False) for i in batch.items]),
            trail.listener(),
        )
        trail.listener().lookup = engine.journal.get
        with engine:
            forward_a_resized_photo(tmp_path, engine)
            assert run_until(lambda: "returned" in {e["event"] for e in events()}, 20)

    store = AuditStore(data / "audit.sqlite3", create=False)
    records = list(store.records())
    store.close()
    held = next(r for r in records if r.fields["event"] == "held")
    fields = held.fields
    assert fields["file"] == "from work.jpg" and fields["group"] == "Family"
    assert fields["came_from"] == "Work"
    assert fields["reason"].startswith('Forwarded from "Work" (a resized or re-compressed copy')
    assert '"Family" (PUBLIC)' in fields["reason"]
    assert "level" not in fields  # no label: no level is made up
    assert fields["action"] == "confirm" and fields["clearance"] == "PUBLIC"
    returned = next(r.fields for r in records if r.fields["event"] == "returned")
    assert returned["came_from"] == "Work"

    # What the collectors read.
    assert 'Forwarded from "Work"' in message_of(fields)
    document = ecs(held)
    assert document["sendguard"]["came_from"] == "Work"
    assert document["event"]["reason"] == fields["reason"]
    [row] = csv.DictReader(io.StringIO(csv_header() + csv_row(held)))
    assert row["came_from"] == "Work" and row["reason"] == fields["reason"]
