"""Durable state: the journal of holds (SQLite) and, later, the audit trail."""
