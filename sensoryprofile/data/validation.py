"""The validation report: one row per problem, and per-table accounting.

Nothing is dropped silently: every input row is either used or named here
with file, row (as a person sees it in the file: the header is row 1),
column, value, the rule it broke and what was done about it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from sensoryprofile import columns as C

#: Columns whose values identify a child; never shown in a report or message.
IDENTIFYING_COLUMNS = frozenset({"display_name", "date_of_birth", "name", "notes", "note",
                                 C.FAMILY_NOTE})
HIDDEN = "(hidden: identifying)"

# What was done about a problem.
ROW_REJECTED = "row rejected"
DEPENDENT_REJECTED = "dependent row rejected"
SCORE_INVALIDATED = "score invalidated"
NOT_CLASSIFIED = "score not classified"
COLUMN_IGNORED = "column ignored"
VALUE_IGNORED = "value ignored"



def display_value(value, column: str | None = None, *, limit: int = 60) -> str:
    """A cell value as shown in a message: quoted, shortened, and hidden when
    the column identifies a child."""
    if column is not None and column in IDENTIFYING_COLUMNS:
        return HIDDEN
    if value is None or (isinstance(value, float) and value != value):
        return "(blank)"
    try:
        if pd.isna(value):
            return "(blank)"
    except (TypeError, ValueError):
        pass
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return repr(text) if isinstance(value, str) else text


@dataclass(frozen=True)
class Problem:
    """One problem with one cell, row, column or file."""

    file: str
    row: int | None
    column: str | None
    value: str
    rule: str
    action: str
    table: str | None = None
    key: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f" row {self.row}"
        if self.key:
            where += f" ({self.key})"
        if self.column:
            where += f", column {self.column}"
        value = f": value {self.value}" if self.value not in ("", None) else ""
        return f"{where}{value}: {self.rule} [{self.action}]"


@dataclass
class TableCount:
    read: int = 0
    accepted: int = 0
    rejected: int = 0

    @property
    def reconciles(self) -> bool:
        return self.read == self.accepted + self.rejected


@dataclass
class ValidationReport:
    """Problems found while reading and scoring data, plus row accounting."""

    problems: list[Problem] = field(default_factory=list)
    counts: dict[str, TableCount] = field(default_factory=dict)

    def add(self, *, file: str, row: int | None, column: str | None, value, rule: str,
            action: str, table: str | None = None, key: str | None = None,
            raw_value: bool = True) -> Problem:
        """Record a problem. ``value`` is the offending cell; it is shown
        through :func:`display_value` (identifying columns are hidden) unless
        ``raw_value`` is false, in which case it is taken as already formatted."""
        shown = display_value(value, column) if raw_value else str(value)
        problem = Problem(file=file, row=None if row is None else int(row), column=column,
                          value=shown, rule=rule, action=action, table=table, key=key)
        self.problems.append(problem)
        return problem

    def extend(self, other: ValidationReport) -> None:
        self.problems.extend(other.problems)
        for table, count in other.counts.items():
            mine = self.counts.setdefault(table, TableCount())
            mine.read += count.read
            mine.accepted += count.accepted
            mine.rejected += count.rejected

    def count(self, table: str, *, read: int, accepted: int, rejected: int) -> None:
        self.counts[table] = TableCount(read=read, accepted=accepted, rejected=rejected)

    def __len__(self) -> int:
        return len(self.problems)

    def __bool__(self) -> bool:  # a report exists even when it is empty
        return True

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_frame(self) -> pd.DataFrame:
        """One row per problem, columns :data:`~sensoryprofile.columns.REPORT_COLUMNS`."""
        rows = [[p.file, p.row, p.column, p.value, p.rule, p.action, p.table, p.key]
                for p in self.problems]
        frame = pd.DataFrame(rows, columns=C.REPORT_COLUMNS)
        frame["row"] = frame["row"].astype("Int64")
        return frame

    def accounting_frame(self) -> pd.DataFrame:
        rows = [[t, c.read, c.accepted, c.rejected, c.reconciles] for t, c in self.counts.items()]
        return pd.DataFrame(rows, columns=C.ACCOUNTING_COLUMNS)

    def format_text(self) -> str:
        lines = []
        if self.counts:
            lines.append("Rows read = accepted + rejected:")
            for table, c in self.counts.items():
                mark = "" if c.reconciles else "  (DOES NOT RECONCILE)"
                lines.append(f"  {table:<14} {c.read:>7} = {c.accepted:>7} + {c.rejected:>5}{mark}")
            lines.append("")
        if not self.problems:
            lines.append("No problems found.")
        else:
            lines.append(f"{len(self.problems)} problem(s):")
            lines.extend(f"  {p}" for p in self.problems)
        return "\n".join(lines)
