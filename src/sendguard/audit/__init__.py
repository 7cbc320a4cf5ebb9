"""The tamper-evident audit trail: every decision and state change as a record, chained and
sealed with a forward-secure key kept in the OS keyring, and shipped to the organisation's
collector (syslog or HTTP) through a durable spool. No Qt.

See ``docs/audit.md``; the entry point is ``open_audit_trail``.
"""

from sendguard.audit.chain import AuditStore, AuditStoreError
from sendguard.audit.forward import ForwardingState
from sendguard.audit.keys import ALLOWED_BACKENDS, SERVICE, KeyringProblem
from sendguard.audit.trail import (
    AUDIT_FILE,
    AuditListener,
    AuditStatus,
    AuditTrail,
    open_audit_trail,
)
from sendguard.audit.verify import Report, read_anchors, verify

__all__ = [
    "ALLOWED_BACKENDS",
    "AUDIT_FILE",
    "SERVICE",
    "AuditListener",
    "AuditStatus",
    "AuditStore",
    "AuditStoreError",
    "AuditTrail",
    "ForwardingState",
    "KeyringProblem",
    "Report",
    "open_audit_trail",
    "read_anchors",
    "verify",
]
