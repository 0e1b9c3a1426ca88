"""Exceptions with a meaning the command line maps to exit codes (2: bad input, 1: failure)."""

from __future__ import annotations

from typing import Iterable, Sequence


class RegistryError(Exception):
    """Base class. `exit_code` is what the command line returns for it."""

    exit_code = 1


class BadInput(RegistryError):
    """The user's input is wrong; nothing was written."""

    exit_code = 2


class SpecInvalid(BadInput):
    """A spec or document failed validation. `problems` is a list of (field path, message)."""

    def __init__(self, problems: Sequence[tuple[str, str]], source: str = ""):
        self.problems = list(problems)
        self.source = source
        head = f"{source}: " if source else ""
        lines = [f"{path}: {msg}" for path, msg in self.problems]
        super().__init__(head + f"{len(lines)} problem(s)\n  " + "\n  ".join(lines))

    @classmethod
    def single(cls, path: str, message: str, source: str = "") -> "SpecInvalid":
        return cls([(path, message)], source)


class AlreadyPublished(BadInput):
    """`name@version` exists; published versions are never overwritten."""


class NotFound(BadInput):
    """No such dataset or version in the registry."""


class TableUnreadable(BadInput):
    """The table's location does not exist or its metadata cannot be read."""


class PreconditionFailed(RegistryError):
    """A conditional write lost a race (someone else wrote first)."""


class ConcurrentModification(RegistryError):
    """A document changed between read and write too many times in a row."""


def problems_text(problems: Iterable[tuple[str, str]]) -> str:
    return "\n".join(f"{p}: {m}" for p, m in problems)
