"""The OS keyring, as the audit trail uses it: allowlisted backends, one remembered backend,
errors in words, every call serialised.

Entries live under the service ``SendGuard`` (user names in ``docs/audit.md``):

* ``audit-seal-key:<trail>`` — the current sealing key (it evolves; the old one is erased);
* ``audit-verify-key:<trail>:<generation>`` — the first key of a generation, for verifying;
* ``forward-http-token`` — the HTTP collector's token.
"""

from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass
from typing import Literal

import keyring.errors
from keyring.backend import KeyringBackend

SERVICE = "SendGuard"
HTTP_TOKEN = "forward-http-token"

#: Backends that keep secrets encrypted by the OS, by class; nothing else is used unasked
#: (never a plaintext file backend, never a silent fallback).
ALLOWED_BACKENDS: dict[str, str] = {
    "keyring.backends.Windows.WinVaultKeyring": "Windows Credential Locker",
    "keyring.backends.macOS.Keyring": "macOS Keychain",
    "keyring.backends.SecretService.Keyring": "Secret Service",
    "keyring.backends.kwallet.DBusKeyring": "KWallet",
    "keyring.backends.kwallet.DBusKeyringKWallet4": "KWallet",
}

ProblemKind = Literal["unavailable", "locked", "failed"]

#: One lock for every keyring call in the process: Secret Service and KWallet talk over one
#: D-Bus connection per backend object, which is not safe to share between threads.
_CALLS = threading.RLock()


def seal_key_name(trail: str) -> str:
    return f"audit-seal-key:{trail}"


def verify_key_name(trail: str, generation: int) -> str:
    return f"audit-verify-key:{trail}:{generation}"


def backend_id(backend: KeyringBackend) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


def backend_name(backend: KeyringBackend) -> str:
    """What the Diagnostics window shows: ``Secret Service``."""
    ident = backend_id(backend)
    return ALLOWED_BACKENDS.get(ident, getattr(backend, "name", None) or ident)


class KeyringProblem(Exception):
    """The keyring cannot be used; ``str()`` is a sentence for the user."""

    def __init__(self, kind: ProblemKind, message: str) -> None:
        super().__init__(message)
        self.kind: ProblemKind = kind


def _unavailable(detail: str) -> KeyringProblem:
    return KeyringProblem(
        "unavailable",
        "No system keyring is available to seal the audit records"
        f" ({detail}). SendGuard uses the Secret Service (GNOME Keyring), KWallet, the"
        " Windows Credential Locker or the macOS Keychain.",
    )


def _viable_backends() -> list[KeyringBackend]:
    """The allowlisted backends that can run now. Checked afresh on each call (keyring's own
    list is computed once per process: a keyring started later would never be seen)."""
    found: list[KeyringBackend] = []
    for ident in ALLOWED_BACKENDS:
        module_name, _, class_name = ident.rpartition(".")
        try:
            cls = getattr(importlib.import_module(module_name), class_name)
            if cls.priority <= 0:  # raises when the backend cannot run here
                continue
            found.append(cls())
        except Exception:  # not this OS, no D-Bus, the service is not running
            continue
    return found


def choose_backend(remembered: str | None) -> KeyringBackend:
    """The allowlisted backend to use: the remembered one, or the best one available.

    Raises KeyringProblem("unavailable") when none is, or when the remembered backend is
    gone (it is never silently switched: the key is in that one).
    """
    with _CALLS:
        allowed = _viable_backends()
    if remembered is not None:
        for backend in allowed:
            if backend_id(backend) == remembered:
                return backend
        name = ALLOWED_BACKENDS.get(remembered, remembered)
        raise KeyringProblem(
            "unavailable",
            f"The keyring that holds the audit key ({name}) is not available now. Start it"
            " (log in to the desktop session) — SendGuard does not switch to another keyring,"
            " as the key is in that one.",
        )
    if not allowed:
        raise _unavailable("none of the supported keyrings is running")
    return max(allowed, key=lambda b: b.priority)


@dataclass
class SecretKeeper:
    """One keyring backend; every call serialised, every error a KeyringProblem."""

    backend: KeyringBackend

    @property
    def name(self) -> str:
        return backend_name(self.backend)

    @property
    def ident(self) -> str:
        return backend_id(self.backend)

    def get(self, user: str) -> str | None:
        with _CALLS:
            try:
                return self.backend.get_password(SERVICE, user)
            except Exception as exc:
                raise self._problem(exc) from exc

    def set(self, user: str, secret: str) -> None:
        with _CALLS:
            try:
                self.backend.set_password(SERVICE, user, secret)
            except Exception as exc:
                raise self._problem(exc) from exc

    def delete(self, user: str) -> None:
        with _CALLS:
            try:
                self.backend.delete_password(SERVICE, user)
            except keyring.errors.PasswordDeleteError:
                return
            except Exception as exc:
                raise self._problem(exc) from exc

    def _problem(self, exc: Exception) -> KeyringProblem:
        if isinstance(exc, keyring.errors.KeyringLocked):
            return KeyringProblem(
                "locked",
                f"The keyring ({self.name}) is locked. Unlock it (log in again, or open your"
                " passwords and keys application) so SendGuard can seal its audit records.",
            )
        if isinstance(exc, keyring.errors.NoKeyringError | keyring.errors.InitError):
            return _unavailable(str(exc))
        return KeyringProblem(
            "failed", f"The keyring ({self.name}) refused a request: {type(exc).__name__}: {exc}"
        )
