"""Audit records: what is stored (canonical JSON), and how it is written for collectors
(ECS-style JSON, CSV rows, RFC 5424 syslog messages).

A record's body is a flat JSON object with sorted keys (``event``, ``time``, ``user``,
``host``, ``version``, ``policy_sha256`` and the event's own fields). Its exact text is what
the hash chain covers, so it is stored as written and never re-serialised for checking.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sendguard.display import visible

#: The events SendGuard records (``event`` in the body, ``event.action`` in ECS).
EVENTS: dict[str, str] = {
    "app.started": "SendGuard started",
    "app.stopped": "SendGuard stopped",
    "paused": "protection paused",
    "resumed": "protection resumed",
    "policy.loaded": "policy loaded",
    "engine.started": "guarding started",
    "engine.stopped": "guarding stopped",
    "held": "file held for a decision",
    "blocked": "file held: the policy does not allow sharing it with this group",
    "shared": "held file shared after confirmation",
    "passed": "file shared without a prompt",
    "returned": "file not shared: moved to the Not shared folder",
    "notified": "file shared; the user was told",
    "kept_in_place": "file above the group's clearance left in place: the group already has it",
    "put_back": "the version the group had was put back; the changed file moved to Not shared",
    "problem": "problem",
    "audit.key_created": "audit sealing key created",
    "audit.epoch_sealed": "audit epoch sealed; the key moved on",
    "audit.unsealed": "audit records are not sealed",
    "forwarding.skipped": "records not forwarded: the spool was full",
}

#: Private SD-ID (RFC 5424 section 7.2.2): name@<enterprise number>. 32473 is the number
#: reserved for documentation (RFC 5612); collectors match on it.
SD_ID = "sendguard@32473"
#: RFC 5424 facility 13: log audit.
FACILITY = 13
_SEVERITY = {
    "problem": 4,
    "kept_in_place": 4,
    "held": 5,
    "blocked": 5,
    "shared": 5,
    "audit.unsealed": 4,
}

#: The CSV export's columns, in order.
CSV_COLUMNS = (
    "seq",
    "time",
    "event",
    "user",
    "host",
    "group",
    "file",
    "path",
    "sha256",
    "size",
    "level",
    "action",
    "labels",
    "typed_name",
    "justification",
    "reason",
    "came_from",
    "message",
    "policy_sha256",
    "version",
    "sealed",
    "epoch",
    "mac",
    # Added later: at the end, so that columns read by position keep their place.
    "decided_by",
    "decided_via",
)


def canonical(body: Mapping[str, Any]) -> str:
    """The stored form of a body: sorted keys, no spaces, UTF-8 as is, None left out."""
    return json.dumps(
        {key: value for key, value in body.items() if value is not None},
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )


@dataclass(frozen=True)
class StoredRecord:
    """One row of the trail."""

    seq: int
    generation: int | None
    epoch: int | None
    body: str
    chain: str
    mac: str | None
    trail: str

    @property
    def fields(self) -> dict[str, Any]:
        value = json.loads(self.body)
        return value if isinstance(value, dict) else {}

    @property
    def sealed(self) -> bool:
        return self.mac is not None


def iso_time(seconds: float) -> str:
    moment = datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        cleaned = {k: _drop_none(v) for k, v in value.items()}
        return {k: v for k, v in cleaned.items() if v is not None and v != {}}
    return value


def message_of(fields: Mapping[str, Any]) -> str:
    """A one-line sentence for people reading the collector."""
    event = str(fields.get("event", ""))
    text = EVENTS.get(event, event)
    if fields.get("file"):
        text += f": {visible(str(fields['file']))}"
    if fields.get("group"):
        text += f' (group "{visible(str(fields["group"]))}")'
    if fields.get("reason"):
        text += f" — {visible(str(fields['reason']))}"
    if fields.get("message"):
        text += f" — {visible(str(fields['message']))}"
    return text


def ecs(record: StoredRecord) -> dict[str, Any]:
    """The record in Elastic Common Schema field names; SendGuard's own under ``sendguard``."""
    f = record.fields
    event = str(f.get("event", ""))
    file_event = "sha256" in f or "file" in f
    document: dict[str, Any] = {
        "@timestamp": iso_time(float(f.get("time", 0))),
        "message": message_of(f),
        "event": {
            "action": event,
            "kind": "event",
            "category": ["file"] if file_event else ["configuration"],
            "dataset": "sendguard.audit",
            "sequence": record.seq,
            "reason": f.get("reason"),
        },
        "user": {"name": f.get("user")},
        "host": {"hostname": f.get("host")},
        "service": {"name": "sendguard", "version": f.get("version")},
        "file": {
            "name": f.get("file"),
            "path": f.get("path"),
            "target_path": f.get("target"),
            "size": f.get("size"),
            "hash": {"sha256": f.get("sha256")},
        },
        "error": {"message": f.get("message")} if event == "problem" else None,
        "sendguard": {
            "group": {"name": f.get("group")},
            "level": f.get("level"),
            "action": f.get("action"),
            "labels": f.get("labels"),
            "decision": f.get("decision"),
            "typed_name": f.get("typed_name"),
            "justification": f.get("justification"),
            # Who decided (an account name) and how ("dialog", "command line", …).
            "decided_by": f.get("decided_by"),
            "decided_via": f.get("decided_via"),
            # The work group forwarded content came from (then `event.reason` says so).
            "came_from": f.get("came_from"),
            "policy": {"sha256": f.get("policy_sha256"), "sources": f.get("policy_sources")},
            "details": {
                k: v
                for k, v in f.items()
                if k not in _ECS_MAPPED and not isinstance(v, dict | list)
            },
            "audit": {
                "trail": record.trail,
                "seq": record.seq,
                "generation": record.generation,
                "epoch": record.epoch,
                "chain": record.chain,
                "mac": record.mac,
                "sealed": record.sealed,
            },
        },
    }
    cleaned: dict[str, Any] = _drop_none(document)
    return cleaned


_ECS_MAPPED = frozenset(
    {
        "time",
        "event",
        "reason",
        "user",
        "host",
        "version",
        "file",
        "path",
        "target",
        "size",
        "sha256",
        "message",
        "group",
        "level",
        "action",
        "labels",
        "decision",
        "typed_name",
        "justification",
        "decided_by",
        "decided_via",
        "came_from",
        "policy_sha256",
        "policy_sources",
    }
)


def csv_header() -> str:
    return _csv_line(CSV_COLUMNS)


def csv_row(record: StoredRecord) -> str:
    f = record.fields
    values: list[object] = []
    for column in CSV_COLUMNS:
        if column == "seq":
            values.append(record.seq)
        elif column == "time":
            values.append(iso_time(float(f.get("time", 0))))
        elif column == "labels":
            labels = f.get("labels")
            values.append(json.dumps(labels, ensure_ascii=False) if labels else "")
        elif column == "sealed":
            values.append("yes" if record.sealed else "no")
        elif column == "epoch":
            values.append("" if record.epoch is None else record.epoch)
        elif column == "mac":
            values.append(record.mac or "")
        else:
            value = f.get(column)
            values.append("" if value is None else value)
    return _csv_line(values)


def _csv_line(values: object) -> str:
    out = io.StringIO()
    # Every field quoted, line breaks inside fields kept as they are (RFC 4180).
    csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerow(values)  # type: ignore[arg-type]
    return out.getvalue()


# --- RFC 5424 -------------------------------------------------------------------------------


def _sd_value(value: object) -> str:
    """A PARAM-VALUE: control and bidi characters made visible (one line, no reordering),
    then ``\\``, ``"`` and ``]`` escaped as RFC 5424 section 6.3.3 requires."""
    text = visible(str(value))
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


def _header_token(text: str, limit: int) -> str:
    """HOSTNAME, APP-NAME, MSGID: printable US-ASCII without spaces, or ``-``."""
    token = "".join(c for c in text if 33 <= ord(c) <= 126)[:limit]
    return token or "-"


def syslog_message(
    record: StoredRecord | None, document: Mapping[str, Any], *, pid: int, hostname: str
) -> bytes:
    """One RFC 5424 message: structured data for searching and anchors, and the whole
    record as ASCII-only JSON in MSG (exact, one line whatever the names contain)."""
    event = str(document.get("event", {}).get("action", "-"))
    severity = _SEVERITY.get(event, 6)
    params: dict[str, object] = {}
    audit = document.get("sendguard", {}).get("audit", {})
    for key in ("trail", "seq", "generation", "epoch", "chain", "mac"):
        if audit.get(key) is not None:
            params[key] = audit[key]
    f = record.fields if record is not None else {}
    for key in ("group", "file", "sha256", "level", "action", "came_from", "user"):
        if f.get(key) is not None:
            params[key] = f[key]
    sd = "[" + SD_ID + "".join(f' {k}="{_sd_value(v)}"' for k, v in params.items()) + "]"
    header = " ".join(
        (
            f"<{FACILITY * 8 + severity}>1",
            str(document.get("@timestamp", "-")),
            _header_token(hostname, 255),
            "sendguard",
            str(pid),
            _header_token(event, 32),
        )
    )
    body = json.dumps(document, ensure_ascii=True, separators=(",", ":"))
    return f"{header} {sd} {body}".encode()
