"""Errors that reach the user.

Every bad input ends as one ``ExportKBError`` whose message names the file, the
field path, the value and the fix; the CLI prints it and exits 2. No traceback
ever reaches an analyst for a mistake in a case file.
"""
from __future__ import annotations

from dataclasses import dataclass


class ExportKBError(Exception):
    """Base class for errors the CLI reports with exit code 2."""


@dataclass
class FieldProblem:
    """One problem with one field of one case file."""

    file: str
    path: str
    message: str
    fix: str = ""
    line: int | None = None
    value: object = None
    has_value: bool = False

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        field = self.path or "(document)"
        val = f" = {self.value!r}" if self.has_value else ""
        text = f"{where}: {field}{val}: {self.message}"
        if self.fix:
            text += f" (fix: {self.fix})"
        return text


class CaseError(ExportKBError):
    """A case file that cannot be used, with every problem found in it."""

    def __init__(self, problems: list[FieldProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class KBError(ExportKBError):
    """The knowledge base itself is malformed (parse error, missing annotation...)."""


class SolveError(ExportKBError):
    """The solver did not produce exactly one answer for a case, or hit a limit."""
