"""One exception tree for the package; each class says when it is raised."""

from __future__ import annotations

from dataclasses import dataclass


class HaitiMSSError(Exception):
    """Base class of every error this package raises on purpose."""


@dataclass(frozen=True, order=True)
class DataProblem:
    """One problem in one cell (or row, or file) of the data, located for a human to fix.

    ``row`` counts data rows from 1 (the header is not a row); ``line`` is the line in the file.
    """

    file: str
    row: int | None
    column: str | None
    value: str | None
    expected: str

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row} (line {self.row + 1})"
        if self.column:
            where += f", column '{self.column}'"
        shown = "" if self.value is None else f": got {self.value!r}"
        return f"{where}{shown}; expected {self.expected}"


class DataValidationError(HaitiMSSError):
    """Raised when the data in ``data/`` breaks its schema or a cross-table rule.

    Carries every problem found, not only the first.
    """

    def __init__(self, problems: list[DataProblem]):
        self.problems = sorted(problems, key=lambda p: (p.file, p.row or 0, p.column or ""))
        lines = [f"{len(self.problems)} problem(s) in the data:"]
        lines += [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))


class ParameterError(HaitiMSSError):
    """Raised when a report parameter file names an unknown key or holds a bad value."""


class RenderError(HaitiMSSError):
    """Raised when a report notebook fails to execute or its HTML would leak something."""
