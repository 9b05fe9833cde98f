"""The validation report: one row per problem, and per-table accounting.

Nothing is dropped silently: every input row is either used or named here
with file, row (as a person sees it in the file: the header is row 1),
column, value, the rule it broke and what was done about it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

from sensoryprofile import columns as C

#: Columns whose values identify a child, or may (free text); never shown in a
#: report or message.
IDENTIFYING_COLUMNS = frozenset({C.DISPLAY_NAME, C.DATE_OF_BIRTH, "name",
                                 *C.FREE_TEXT_COLUMNS})
HIDDEN = "(hidden: identifying)"
#: Shortest part of a name that is looked for inside a shown value.
_NAME_PART = 3
#: A value quoted inside a rule or a reason (messages quote the values they name).
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")

# What was done about a problem.
ROW_REJECTED = "row rejected"
DEPENDENT_REJECTED = "dependent row rejected"
SCORE_INVALIDATED = "score invalidated"
NOT_CLASSIFIED = "score not classified"
COLUMN_IGNORED = "column ignored"
VALUE_IGNORED = "value ignored"
NOTED = "noted"


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
    #: The child the row belongs to, when known (never shown; for the child's report).
    child_id: str | None = field(default=None, compare=False)

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
    #: The dataset's names and dates of birth (case-folded): never shown.
    secrets: set[str] = field(default_factory=set, repr=False)

    def hide(self, values) -> None:
        """Never show these values (names, dates of birth), in any column:
        a column that is not what its header says cannot leak them."""
        self.secrets.update(str(v).strip().casefold() for v in values if str(v).strip())
        self._parts = {part for value in self.secrets for part in value.replace(
            ",", " ").split() if len(part) >= _NAME_PART and part.isalpha()}

    def _identifying(self, text: str) -> bool:
        folded = text.strip().casefold()
        if not self.secrets:
            return False
        if folded in self.secrets:
            return True
        words = set(folded.replace(",", " ").replace(".", " ").split())
        return bool(words & getattr(self, "_parts", set()))

    def hidden(self, text):
        """``text`` as it may be shown: :data:`HIDDEN` when it is a name or date of
        birth of the dataset (or holds a part of a name), else with each quoted
        value in it that is one hidden. Anything but text is returned as it is."""
        if not isinstance(text, str) or not self.secrets:
            return text
        if self._identifying(text):
            return HIDDEN
        return self._hide_quoted(text)

    def _hide_quoted(self, text: str) -> str:
        if not self.secrets or ("'" not in text and '"' not in text):
            return text
        return _QUOTED.sub(lambda m: HIDDEN if self._identifying(m.group()[1:-1])
                           else m.group(), text)

    def add(self, *, file: str, row: int | None, column: str | None, value, rule: str,
            action: str, table: str | None = None, key: str | None = None,
            raw_value: bool = True, child_id: str | None = None) -> Problem:
        """Record a problem. ``value`` is the offending cell; it is shown
        through :func:`display_value` (identifying columns are hidden, and so is
        any value that matches a name or date of birth of the dataset) unless
        ``raw_value`` is false, in which case it is taken as already formatted.
        A value the ``rule`` quotes is hidden the same way."""
        shown = display_value(value, column) if raw_value else str(value)
        if raw_value and shown != HIDDEN and self._identifying(str(value)):
            shown = HIDDEN
        if key is not None and self._identifying(key.split("=", 1)[-1]):
            key = None
        rule = self._hide_quoted(rule)  # a rule may quote the cell it is about
        problem = Problem(file=file, row=None if row is None else int(row), column=column,
                          value=shown, rule=rule, action=action, table=table, key=key,
                          child_id=child_id)
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
            width = max(14, *(len(t) for t in self.counts))  # imports name longer sources
            for table, c in self.counts.items():
                mark = "" if c.reconciles else "  (DOES NOT RECONCILE)"
                lines.append(f"  {table:<{width}} {c.read:>7} = {c.accepted:>7} + "
                             f"{c.rejected:>5}{mark}")
            lines.append("")
        if not self.problems:
            lines.append("No problems found.")
        else:
            lines.append(f"{len(self.problems)} problem(s):")
            lines.extend(f"  {p}" for p in self.problems)
        return "\n".join(lines)


def hide_identifying(frame: pd.DataFrame, report: ValidationReport) -> pd.DataFrame:
    """``frame`` with each text cell that is, or quotes, a name or date of birth of
    the dataset hidden (``report.hidden``): ``score`` echoes its input's IDs,
    instrument and respondent cells, and a name typed into one must not reach
    its output (a CSV file, or a Parquet partition written by a Dask worker)."""
    if not report.secrets:
        return frame
    out = frame
    for col in frame.columns:
        values = frame[col]
        if not (values.dtype == object or pd.api.types.is_string_dtype(values)
                or isinstance(values.dtype, pd.CategoricalDtype)):
            continue
        text = values.astype(object)
        hidden = {v: report.hidden(v) for v in pd.unique(text) if isinstance(v, str)}
        changed = {v: h for v, h in hidden.items() if h != v}
        if changed:
            out = out.copy() if out is frame else out
            out[col] = text.replace(changed)
    return out
