"""The error of a policy file that cannot be used: below both the loader and the model, so
neither imports the other for it."""

from __future__ import annotations

from pathlib import Path


class PolicyError(Exception):
    """A policy file that cannot be used, and where and how to fix it.

    ``str(error)`` reads like ``/etc/sendguard/policy.toml, line 12, groups[0].clearance:
    expected one of PUBLIC, INTERNAL, …; got "SECRTE". Fix: did you mean "SECRET"?``.
    ``others`` holds the further errors found in the same file, so all can be fixed at once.
    """

    def __init__(
        self,
        path: Path,
        *,
        line: int | None,
        key: str | None,
        expected: str,
        got: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.path = path
        self.line = line
        self.key = key
        self.expected = expected
        self.got = got
        self.hint = hint
        self.others: list[PolicyError] = []
        super().__init__(str(self))

    def __str__(self) -> str:
        where = [str(self.path)]
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.key:
            where.append(self.key)
        text = f"{', '.join(where)}: expected {self.expected}"
        if self.got is not None:
            text += f"; got {self.got}"
        text += "."
        if self.hint:
            text += f" Fix: {self.hint}"
        return text

    def all(self) -> list[PolicyError]:
        """This error and the others found with it, in file order."""
        return [self, *self.others]
