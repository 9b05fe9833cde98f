"""Damaged variants of a small clinic, for the fuzz suite (:mod:`tests.data.test_fuzz`).

The clinic is the first :data:`N_CHILDREN` children of ``data/sample`` with all
their rows (:func:`tests.paths.small_clinic`), as a folder of CSV files and as
a workbook. Each :class:`Variant` writes one damaged copy of it, the way a
careless clerk or a curious outsider would make one: other encodings and
delimiters, trailing commas, unbalanced quotes, line breaks, NUL bytes,
truncation, missing, duplicated, extra and swapped columns, extreme numbers,
day offsets, Excel quirks, folders, pipes and devices where files should be,
damaged settings, instrument cells naming paths, duplicate and hostile IDs.

The generator is seeded (:data:`SEED`) and deterministic: the same seed gives
the same variants, byte for byte (cell for cell in a workbook, whose file
holds the time it was saved). Which row or cell a damage hits is drawn
from the seed; what the damage is, is written out here.

Each variant also says what a correct toolkit must do with it (the fuzz suite
checks it): whether ``validate`` must find a problem (``damaged``), which
files a whole-file error may name, which row the report must name, how many
line breaks it placed inside quoted free-text cells on purpose (so that an
independent row count can allow for them), and which identifying values it
wrote in a new form (an Excel serial number for a date of birth, say).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl import Workbook

SEED = 12
#: Children of the sample clinic in the fuzzed clinic (few: each variant is loaded
#: in full, several hundred times per run).
N_CHILDREN = 3
TABLES = ("children", "assessments", "goals", "goal_ratings")
#: The classes of damage, in the order the generator makes them.
KINDS = ("clean", "encoding", "delimiter", "trailing-comma", "field-count", "unbalanced-quote",
         "line-break", "nul", "truncated", "missing-column", "duplicated-column", "extra-column",
         "swapped-columns", "names-elsewhere", "extreme-number", "day-offset", "excel",
         "not-a-file", "settings", "instrument-cell", "ids")
WORKBOOK = "clinic.xlsx"
#: ``--today`` for validate and export: after every date of the sample clinic.
TODAY = "2026-11-01"
#: Day 0 of a no-dates extract (sensoryprofile.columns.DAY_ZERO, restated: the
#: generator does not use the package).
DAY_ZERO = dt.date(1900, 1, 1)

DATE_COLUMNS = {"date_of_birth", "referral_date", "discharge_date", "date", "set_date",
                "target_date"}
WHOLE_COLUMNS = {"importance", "difficulty", "baseline_level", "level"}
REQUIRED = {"children": ["child_id", "referral_date", "date_of_birth"],
            "assessments": ["assessment_id", "child_id", "instrument", "date"],
            "goals": ["goal_id", "child_id", "set_date", "domain", "baseline_level"],
            "goal_ratings": ["goal_id", "date", "level"]}

#: Numbers no level, weight or item can be (as text in a CSV cell).
EXTREME_TEXT = ["1e308", "inf", "-1e30", "-inf", "nan", "1e11", "1e400", "-1e400", "NaN",
                "Infinity", "1e-308", "9" * 40, "0x10", "1_0", "½", "٣"]
#: Numbers as Excel holds them (a float cell, a huge int, a boolean).
EXTREME_CELLS = [1e308, -1e30, 1e11, 1e-308, 2.5, 10 ** 40, True]
#: Ages in months (a no-dates extract's age_months) no child can have.
AGES = ["1e308", "nan", "abc", "inf", "-1", "1e400", "999999999", "-1e30"]
#: Day offsets a no-dates extract must not turn into dates.
DAY_OFFSETS = ["1e12", "-1e12", "1.5", "inf", "-inf", "nan", "1e308", "abc", "73051",
               "-73051", "9" * 30, "1e400"]


class Text(str):
    """A workbook cell written as text even when it starts with '='."""


class Formula(str):
    """A workbook cell written as a formula (no cached value, as openpyxl writes it)."""


@dataclass
class Sheet:
    header: list[str]
    rows: list[list]

    def copy(self) -> Sheet:
        return Sheet(list(self.header), [list(r) for r in self.rows])

    def col(self, name: str) -> int:
        return self.header.index(name)


@dataclass(frozen=True)
class Clinic:
    """The clean small clinic as text cells, and where its files are."""

    folder: Path
    sheets: dict[str, Sheet]

    def names(self) -> list[str]:
        s = self.sheets["children"]
        return [r[s.col("display_name")] for r in s.rows]

    def births(self) -> list[str]:
        s = self.sheets["children"]
        return [r[s.col("date_of_birth")] for r in s.rows]

    def copy(self) -> dict[str, Sheet]:
        return {t: s.copy() for t, s in self.sheets.items()}


@dataclass(frozen=True)
class Variant:
    """One damaged dataset and what a correct toolkit must do with it."""

    name: str
    kind: str
    #: Writes the dataset under a new folder; returns the DATA argument.
    make: Callable[[Path], Path]
    #: validate must report a problem (exit 1); else it must find none (exit 0).
    damaged: bool = True
    #: Files one of which a whole-file error must name.
    files: tuple[str, ...] = ()
    #: Line breaks written on purpose inside quoted free-text cells, per table.
    joined: dict = field(default_factory=dict)
    #: (file label, row) the validation report must name.
    row: tuple[str, int] | None = None
    #: Identifying values in the form this variant wrote them.
    secrets: tuple[str, ...] = ()
    #: Also run score, goals, change and export on it.
    commands: bool = False
    #: Run in a forked child with a timeout (pipes, devices).
    isolate: bool = False
    #: Every row is accepted: the damage is only noted.
    accepted: bool = False
    #: The dataset is a workbook.
    workbook: bool = False


# ---------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------
def read_clinic(folder: Path) -> Clinic:
    sheets = {}
    for table in TABLES:
        with open(folder / f"{table}.csv", newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        sheets[table] = Sheet(rows[0], rows[1:])
    return Clinic(folder=folder, sheets=sheets)


def csv_text(sheet: Sheet, *, delimiter: str = ",", terminator: str = "\n") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=terminator)
    writer.writerow(sheet.header)
    writer.writerows(sheet.rows)
    return buffer.getvalue()


def _copy_clean(clinic: Clinic, folder: Path, skip=()) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for table in TABLES:
        if table not in skip:
            shutil.copyfile(clinic.folder / f"{table}.csv", folder / f"{table}.csv")


def _typed(table: str, column: str, value):
    """A text cell as a person types it into Excel: numbers and dates as cells."""
    if value == "":
        return None
    if column in DATE_COLUMNS:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value
    if column in WHOLE_COLUMNS or column.startswith(("dc_", "dt_")):
        try:
            return int(value)
        except ValueError:
            return value
    return value


def typed_sheets(clinic: Clinic) -> dict[str, Sheet]:
    out = {}
    for table, sheet in clinic.sheets.items():
        out[table] = Sheet(list(sheet.header), [[_typed(table, c, v) for c, v in zip(
            sheet.header, row, strict=True)] for row in sheet.rows])
    return out


def write_workbook(path: Path, sheets: dict[str, Sheet], *, settings=None,
                   order=TABLES) -> Path:
    book = Workbook()
    book.remove(book.active)
    for table in order:
        sheet = sheets[table]
        ws = book.create_sheet(table)
        ws.append(sheet.header)
        for r, row in enumerate(sheet.rows, start=2):
            for c, value in enumerate(row, start=1):
                cell = ws.cell(row=r, column=c)
                if isinstance(value, Text):
                    cell.value = str(value)
                    cell.data_type = "s"
                elif isinstance(value, Formula):
                    cell.value = str(value)
                else:
                    cell.value = value
    if settings is not None:
        ws = book.create_sheet("settings")
        ws.append(["key", "value"])
        for key, value in settings:
            ws.append([key, value])
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


# ---------------------------------------------------------------------------
# the generator
# ---------------------------------------------------------------------------
class Generator:
    """Every damaged variant of ``clinic``, drawn with ``seed``."""

    def __init__(self, clinic: Clinic, seed: int = SEED):
        self.clinic = clinic
        self.seed = seed
        self.rng = random.Random(seed)
        self.variants: list[Variant] = []
        self.typed = typed_sheets(clinic)

    # -- helpers ---------------------------------------------------------------
    def pick(self, table: str) -> int:
        return self.rng.randrange(len(self.clinic.sheets[table].rows))

    def add(self, name, kind, make, **kw) -> None:
        self.variants.append(Variant(name=f"{kind}/{name}", kind=kind, make=make, **kw))

    def csv_variant(self, name, kind, table, edit: Callable[[Sheet], Sheet | None] = None, *,
                    text: Callable[[str], str] | None = None,
                    data: Callable[[str], bytes] | None = None, **kw) -> None:
        """A folder whose ``table``.csv is the clean one after ``edit`` (cells),
        then ``text`` (the CSV text), then ``data`` (text to bytes)."""
        clinic = self.clinic

        def make(folder: Path) -> Path:
            _copy_clean(clinic, folder, skip=(table,))
            sheet = clinic.sheets[table].copy()
            if edit is not None:
                sheet = edit(sheet) or sheet
            content = csv_text(sheet)
            if text is not None:
                content = text(content)
            raw = data(content) if data is not None else content.encode("utf-8")
            (folder / f"{table}.csv").write_bytes(raw)
            return folder

        kw.setdefault("files", (f"{table}.csv",))
        self.add(name, kind, make, **kw)

    def cell_variant(self, name, kind, table, column, value, *, i=None, **kw) -> None:
        """One CSV cell replaced (row drawn from the seed unless given)."""
        i = self.pick(table) if i is None else i

        def edit(sheet: Sheet) -> None:
            sheet.rows[i][sheet.col(column)] = value

        kw.setdefault("row", (f"{table}.csv", i + 2))
        self.csv_variant(name, kind, table, edit, **kw)

    def book_variant(self, name, kind, edit: Callable[[dict], None] | None = None, *,
                     settings=None, order=TABLES, after: Callable[[Path], None] | None = None,
                     **kw) -> None:
        """A workbook of the clinic after ``edit`` (typed cells)."""
        typed = self.typed

        def make(folder: Path) -> Path:
            sheets = {t: s.copy() for t, s in typed.items()}
            if edit is not None:
                edit(sheets)
            path = write_workbook(folder / WORKBOOK, sheets, settings=settings, order=order)
            if after is not None:
                after(path)
            return path

        kw.setdefault("files", (WORKBOOK,))
        self.add(name, kind, make, workbook=True, **kw)

    def book_cell(self, name, kind, table, column, value, *, i=None, **kw) -> None:
        i = self.pick(table) if i is None else i

        def edit(sheets) -> None:
            sheet = sheets[table]
            sheet.rows[i][sheet.col(column)] = value

        kw.setdefault("row", (f"{WORKBOOK}[{table}]", i + 2))
        self.book_variant(name, kind, edit, **kw)

    def folder_variant(self, name, kind, build: Callable[[Path], None], **kw) -> None:
        """The clean folder, then ``build(folder)`` changes it."""
        clinic = self.clinic

        def make(folder: Path) -> Path:
            _copy_clean(clinic, folder)
            build(folder)
            return folder

        self.add(name, kind, make, **kw)

    # -- the classes -------------------------------------------------------------
    def all(self) -> list[Variant]:
        """Every variant, in :data:`KINDS` order (the same list on every call)."""
        self.rng, self.variants = random.Random(self.seed), []
        for step in (self.clean, self.encodings, self.delimiters, self.trailing_commas,
                     self.field_counts, self.quotes, self.line_breaks, self.nul_bytes,
                     self.truncated, self.missing_columns, self.duplicated_columns,
                     self.extra_columns, self.swapped_columns, self.names_elsewhere,
                     self.extreme_numbers, self.day_offsets, self.excel, self.not_files,
                     self.settings, self.instrument_paths, self.ids):
            step()
        names = [v.name for v in self.variants]
        dupes = {n for n in names if names.count(n) > 1}
        assert not dupes, f"variant names are unique: {dupes}"
        assert [v.kind for v in self.variants if v.kind not in KINDS] == []
        return self.variants

    def clean(self) -> None:
        """Inputs that differ from the clinic only in form: no problem to find."""
        kind = "clean"
        self.folder_variant("csv", kind, lambda f: None, damaged=False, commands=True)
        self.book_variant("xlsx", kind, damaged=False, commands=True)
        for table in ("children", "goal_ratings"):
            self.csv_variant(f"utf8-bom-{table}", kind, table, damaged=False,
                             data=lambda t: b"\xef\xbb\xbf" + t.encode("utf-8"))
        for table in ("assessments", "goals"):
            self.csv_variant(f"crlf-{table}", kind, table, damaged=False,
                             text=lambda t: t.replace("\n", "\r\n"))

        def reorder(sheet: Sheet) -> Sheet:
            order = list(range(len(sheet.header)))[::-1]
            return Sheet([sheet.header[k] for k in order],
                         [[r[k] for k in order] for r in sheet.rows])

        self.csv_variant("columns-reversed-goals", kind, "goals", reorder, damaged=False)
        self.csv_variant("blank-lines-goal_ratings", kind, "goal_ratings", damaged=False,
                         text=lambda t: t.replace("\n", "\n\n", 3))
        self.csv_variant("spaces-around-cells-children", kind, "children", damaged=False,
                         edit=lambda s: Sheet([f" {h} " for h in s.header],
                                              [[f" {v} " if v else v for v in r]
                                               for r in s.rows]))

        def header_only(sheet: Sheet) -> None:
            sheet.rows.clear()

        # an empty table that nothing depends on is a clean dataset
        self.csv_variant("header-only-goal_ratings", kind, "goal_ratings", header_only,
                         damaged=False)
        self.csv_variant("header-only-assessments", kind, "assessments", header_only,
                         damaged=False)
        self.folder_variant("good-dataset-yaml", kind, lambda f: (f / "dataset.yaml").write_text(
            "name: Fuzz clinic\ngas_six_level: false\nreassessment_interval_months: 6\n"),
            damaged=False)

    def encodings(self) -> None:
        kind = "encoding"
        accents = {"children": ("site", "Crèche Süd"), "goals": ("description", "Café «é»"),
                   "goal_ratings": ("note", "Progrès noté"),
                   "assessments": ("respondent", "caregivér")}
        for table in TABLES:
            col, word = accents[table]
            i = self.pick(table)

            def accented(sheet: Sheet, col=col, word=word, i=i) -> None:
                sheet.rows[i][sheet.col(col)] = word

            self.csv_variant(f"latin1-{table}", kind, table, accented,
                             data=lambda t: t.encode("latin-1"))
            self.csv_variant(f"cp1252-quotes-{table}", kind, table,
                             lambda s, col=col, i=i: s.rows[i].__setitem__(
                                 s.col(col), "\u201cquoted\u201d \u2013 dash"),
                             data=lambda t: t.encode("cp1252"))
            self.csv_variant(f"utf16-le-bom-{table}", kind, table,
                             data=lambda t: t.encode("utf-16"))
            self.csv_variant(f"utf16-be-{table}", kind, table,
                             data=lambda t: t.encode("utf-16-be"))
            self.csv_variant(f"utf32-{table}", kind, table, data=lambda t: t.encode("utf-32"))
            self.csv_variant(f"double-bom-{table}", kind, table,
                             data=lambda t: b"\xef\xbb\xbf\xef\xbb\xbf" + t.encode("utf-8"))

            def mixed(t: str, i=i) -> bytes:  # one line saved by another program
                lines = t.split("\n")
                lines[i + 1] = lines[i + 1] + "\u00e9"
                return "\n".join(lines[: i + 1]).encode("utf-8") + b"\n" + "\n".join(
                    lines[i + 1:]).encode("latin-1")

            self.csv_variant(f"mixed-utf8-latin1-{table}", kind, table, data=mixed)
        # a BOM at the start of a data line: the ID no longer matches
        i = self.pick("children")
        self.csv_variant("bom-inside-children", kind, "children", text=lambda t, i=i: "\n".join(
            ("\ufeff" + line) if k == i + 1 else line for k, line in enumerate(t.split("\n"))),
            row=("children.csv", i + 2))

    def delimiters(self) -> None:
        kind = "delimiter"
        for table in TABLES:
            for sep, word in ((";", "semicolon"), ("\t", "tab"), ("|", "bar")):
                self.csv_variant(f"{word}-{table}", kind, table,
                                 text=lambda t, sep=sep: csv_text(
                                     Sheet(*_parse(t)), delimiter=sep))
            i = self.pick(table)
            self.csv_variant(f"one-row-semicolons-{table}", kind, table,
                             text=lambda t, i=i: _replace_line(
                                 t, i + 2, lambda line: line.replace(",", ";")),
                             row=(f"{table}.csv", i + 2))
        # old Mac line endings: one line, as far as a CSV reader can tell
        self.csv_variant("cr-only-goals", kind, "goals", text=lambda t: t.replace("\n", "\r"))
        # a decimal comma in a level: one more field on that row
        i = self.pick("goal_ratings")
        self.csv_variant("decimal-comma-level", kind, "goal_ratings", text=lambda t, i=i:
                         _replace_line(t, i + 2, lambda line: _set_field(line, 2, "1,5")),
                         row=("goal_ratings.csv", i + 2))

    def trailing_commas(self) -> None:
        kind = "trailing-comma"
        for table in TABLES:
            i = self.pick(table)
            self.csv_variant(f"one-row-{table}", kind, table, accepted=True,
                             text=lambda t, i=i: _replace_line(t, i + 2, lambda s: s + ","),
                             row=(f"{table}.csv", i + 2))
            if table in ("children", "goals"):
                self.csv_variant(f"every-row-{table}", kind, table, accepted=True,
                                 text=lambda t: "\n".join(
                    (line + ",,") if k and line else line
                    for k, line in enumerate(t.split("\n"))))
            # a trailing comma inside the row: every later value shifts one column
            # right, so a name lands under referral_date (the defect of issue 12)
            self.csv_variant(f"shifted-{table}", kind, table, text=lambda t, i=i: _replace_line(
                t, i + 2, lambda s: "," + s), row=(f"{table}.csv", i + 2))
            if table in ("children", "goal_ratings"):  # the header only: noted
                self.csv_variant(f"header-{table}", kind, table, accepted=True,
                                 text=lambda t: t.replace("\n", ",\n", 1))
            else:  # a spreadsheet's export with two empty columns at the right
                self.csv_variant(f"every-line-{table}", kind, table, accepted=True,
                                 text=lambda t: "\n".join(line + ",," if line else line
                                                          for line in t.split("\n")))

    def field_counts(self) -> None:
        kind = "field-count"
        for table in TABLES:
            i = self.pick(table)
            self.csv_variant(f"missing-field-{table}", kind, table, text=lambda t, i=i:
                             _replace_line(t, i + 2, lambda s: s.rsplit(",", 1)[0]),
                             row=(f"{table}.csv", i + 2))
            if table in ("children", "goal_ratings"):
                self.csv_variant(f"extra-field-{table}", kind, table, text=lambda t, i=i:
                                 _replace_line(t, i + 2, lambda s: s + ",surplus"),
                                 row=(f"{table}.csv", i + 2))
            else:
                self.csv_variant(f"only-key-{table}", kind, table, text=lambda t, i=i:
                                 _replace_line(t, i + 2, lambda s: s.split(",", 1)[0]),
                                 row=(f"{table}.csv", i + 2))
        # a name with an unquoted comma: the row is one field longer
        i = self.pick("children")
        self.cell_variant("unquoted-comma-in-name", kind, "children", "display_name", "X",
                          i=i, text=lambda t, i=i: _replace_line(
                              t, i + 2, lambda s: _set_field(s, 8, "Alder, N.")))

    def quotes(self) -> None:
        kind = "unbalanced-quote"
        targets = [("goals", "description"), ("goals", "level_0"), ("goal_ratings", "note"),
                   ("children", "child_id"), ("children", "date_of_birth"),
                   ("children", "display_name"), ("assessments", "assessment_id"),
                   ("assessments", "date"), ("goals", "goal_id"), ("goals", "set_date"),
                   ("goal_ratings", "goal_id"), ("goal_ratings", "date"),
                   ("assessments", "dc_001")]
        for table, column in targets:
            i = self.pick(table)
            k = self.clinic.sheets[table].col(column)
            self.csv_variant(f"open-{table}-{column}", kind, table, text=lambda t, i=i, k=k:
                             _replace_line(t, i + 2, lambda s: _set_field(
                                 s, k, '"' + _get_field(s, k).strip('"'))),
                             row=(f"{table}.csv", i + 2))
        # a quote closed too early, and a stray quote inside an unquoted cell
        i = self.pick("goal_ratings")
        # a quote inside an unquoted cell is read as it is: nothing to report
        self.csv_variant("stray-inside-note", kind, "goal_ratings", damaged=False,
                         text=lambda t, i=i: _replace_line(
                             t, i + 2, lambda s: _set_field(s, 4, 'said "no')))
        # the last row opens a quote that the file never closes
        self.csv_variant("open-at-end-goal_ratings", kind, "goal_ratings",
                         text=lambda t: t.rstrip("\n") + ',"unfinished\n')
        # an unbalanced quote early in a file whose only other quotes are far below
        self.csv_variant("open-first-note", kind, "goal_ratings", text=lambda t: _replace_line(
            t, 2, lambda s: _set_field(s, 4, '"Progress slowed')), row=("goal_ratings.csv", 2))

    def line_breaks(self) -> None:
        kind = "line-break"
        for table, column in (("goals", "description"), ("goals", "level_+2"),
                              ("goal_ratings", "note")):
            i = self.pick(table)
            self.cell_variant(f"free-text-{table}-{column}", kind, table, column,
                              "first line\nsecond line", i=i, joined={table: 1})
            if column == "note":
                self.cell_variant(f"free-text-crlf-{table}-{column}", kind, table, column,
                                  "first line\r\nsecond line", i=i, joined={table: 1})
        i = self.pick("goal_ratings")
        self.cell_variant("free-text-three-lines-note", kind, "goal_ratings", "note",
                          "one\ntwo\nthree", i=i, joined={"goal_ratings": 2})
        # characters other programs take for line breaks: not line breaks in a CSV file
        self.cell_variant("unicode-separators-in-note", kind, "goal_ratings", "note",
                          "one\u2028two\u0085three\x0cfour", damaged=False, row=None)
        # long cells: 100,000 characters are read; past the csv module's field limit
        # (131,072) the file is refused, by name
        self.cell_variant("long-description", kind, "goals", "description", "x" * 100_000,
                          damaged=False, row=None)
        self.cell_variant("huge-description", kind, "goals", "description", "x" * 200_000,
                          row=None)
        self.cell_variant("huge-child-id", kind, "children", "child_id", "C" * 200_000)
        # elsewhere a quoted line break is not kept: each line is rejected
        for table, column in (("children", "display_name"), ("children", "child_id"),
                              ("children", "date_of_birth"), ("assessments", "instrument"),
                              ("assessments", "dc_010"), ("goal_ratings", "level")):
            i = self.pick(table)
            sheet = self.clinic.sheets[table]
            value = sheet.rows[i][sheet.col(column)]
            broken = value[: len(value) // 2] + "\n" + value[len(value) // 2:]
            self.cell_variant(f"elsewhere-{table}-{column}", kind, table, column, broken, i=i)
        # in the header
        self.csv_variant("in-header-goals", kind, "goals", text=lambda t: t.replace(
            "description", '"descr\niption"', 1))

    def nul_bytes(self) -> None:
        kind = "nul"
        for table in TABLES:
            i = self.pick(table)
            self.csv_variant(f"in-cell-{table}", kind, table, text=lambda t, i=i: _replace_line(
                t, i + 2, lambda s: s[:3] + "\x00" + s[3:]))
            self.csv_variant(f"padding-{table}", kind, table, text=lambda t: t + "\x00" * 64)

    def truncated(self) -> None:
        kind = "truncated"
        for table in TABLES:
            self.csv_variant(f"mid-row-{table}", kind, table, text=_cut_last_row,
                             row=(f"{table}.csv", len(self.clinic.sheets[table].rows) + 1))
            self.csv_variant(f"empty-{table}", kind, table, text=lambda t: "")
            self.csv_variant(f"whitespace-only-{table}", kind, table, text=lambda t: " \n\n")
            self.csv_variant(f"mid-header-{table}", kind, table,
                             text=lambda t: t.split("\n", 1)[0][:12])
            if table not in ("goal_ratings", "assessments"):  # those are clean when empty
                self.csv_variant(f"header-only-{table}", kind, table,
                                 text=lambda t: t.split("\n", 1)[0] + "\n")
            self.csv_variant(f"half-{table}", kind, table, text=lambda t: t[: len(t) // 2])
        # cut inside a quoted description
        self.csv_variant("mid-quote-goals", kind, "goals",
                         text=lambda t: t[: t.rfind('"') - 5])

    def missing_columns(self) -> None:
        kind = "missing-column"
        # score --children on a file without child_id, and score on a file without
        # an instrument column (issue 12: exit 2 instead of 1) run all the commands
        commands = {("children", "child_id"), ("assessments", "instrument")}
        for table, columns in REQUIRED.items():
            for column in columns:
                self.csv_variant(f"{table}-{column}", kind, table,
                                 lambda s, column=column: _drop(s, column),
                                 commands=(table, column) in commands)
        # a header cell left empty: the column has values but no name
        self.csv_variant("blank-name-goals-domain", kind, "goals",
                         lambda s: s.header.__setitem__(s.col("domain"), ""))

    def duplicated_columns(self) -> None:
        kind = "duplicated-column"
        for table, column in (("children", "child_id"), ("children", "display_name"),
                              ("assessments", "dc_001"), ("assessments", "date"),
                              ("goals", "importance"), ("goal_ratings", "level")):
            self.csv_variant(f"{table}-{column}", kind, table,
                             lambda s, column=column: _duplicate(s, column))
        # the same name spelled with other case or spaces
        self.csv_variant("case-goal_ratings-level", kind, "goal_ratings",
                         lambda s: _duplicate(s, "level", as_name="Level"))
        self.csv_variant("space-children-sex", kind, "children",
                         lambda s: _duplicate(s, "sex", as_name=" sex "))

    def extra_columns(self) -> None:
        kind = "extra-column"
        for table in TABLES:
            self.csv_variant(f"unknown-{table}", kind, table,
                             lambda s: _add_column(s, "clinic_notes", "Alder likes trains"),
                             secrets=("Alder likes trains",))
        # pandas' index written by mistake: an unnamed first column
        self.csv_variant("index-column-children", kind, "children",
                         lambda s: Sheet([""] + s.header,
                                         [[str(k)] + r for k, r in enumerate(s.rows)]))
        self.csv_variant("full-name-column-children", kind, "children",
                         lambda s: _add_column(s, "name", "Alder Northcote"),
                         secrets=("Alder Northcote", "Northcote"))
        self.csv_variant("item-of-no-instrument", kind, "assessments",
                         lambda s: _add_column(s, "dc_999", "3"))

    def swapped_columns(self) -> None:
        kind = "swapped-columns"
        pairs = {"children": [("display_name", "referral_date"), ("display_name", "child_id"),
                              ("display_name", "sex"), ("display_name", "diagnoses"),
                              ("display_name", "site"), ("display_name", "therapist"),
                              ("display_name", "discharge_date"),
                              ("date_of_birth", "referral_date"),
                              ("date_of_birth", "discharge_date"),
                              ("date_of_birth", "child_id"), ("date_of_birth", "sex"),
                              ("date_of_birth", "diagnoses"), ("display_name", "date_of_birth")],
                 "assessments": [("date", "child_id"), ("instrument", "respondent"),
                                 ("dc_001", "date")],
                 "goals": [("importance", "baseline_level"), ("description", "domain")],
                 "goal_ratings": [("date", "level")]}
        # names under site or therapist break no rule there: nothing to find, but
        # nothing may leak either
        undetectable = {("display_name", "site"), ("display_name", "therapist")}
        for table, swaps in pairs.items():
            for a, b in swaps:
                self.csv_variant(f"{table}-{a}-{b}", kind, table,
                                 lambda s, a=a, b=b: _swap_names(s, a, b),
                                 damaged=(a, b) not in undetectable,
                                 commands=(table == "children" and a == "display_name"
                                           and b in ("referral_date", "diagnoses")))

    def names_elsewhere(self) -> None:
        """A child's name or date of birth typed into a cell of another table."""
        kind = "names-elsewhere"
        names, births = self.clinic.names(), self.clinic.births()
        sheet = self.clinic.sheets["assessments"]
        child = {r[sheet.col("assessment_id")]: r[sheet.col("child_id")] for r in sheet.rows}
        kids = self.clinic.sheets["children"]
        index = {r[kids.col("child_id")]: k for k, r in enumerate(kids.rows)}
        for table, column, commands in (("assessments", "respondent", True),
                                        ("assessments", "instrument", True),
                                        ("assessments", "dc_020", True),
                                        ("assessments", "child_id", True),
                                        ("assessments", "assessment_id", False),
                                        ("goals", "domain", False),
                                        ("goals", "importance", False),
                                        ("goal_ratings", "level", False),
                                        ("goal_ratings", "note", False)):
            i = self.pick(table)
            name = names[index[child[sheet.rows[i][0]]]] if table == "assessments" else names[0]
            self.cell_variant(f"name-in-{table}-{column}", kind, table, column, name, i=i,
                              commands=commands, damaged=column != "note",
                              row=None if column == "note" else (f"{table}.csv", i + 2))
        self.cell_variant("name-part-in-children-sex", kind, "children", "sex",
                          names[1].split()[0], i=1)
        # a date of birth as a rating date (before the goal was set) and as a level
        self.cell_variant("birth-as-rating-date", kind, "goal_ratings", "date", births[0])
        self.cell_variant("birth-as-level", kind, "goal_ratings", "level", births[0])

    def extreme_numbers(self) -> None:
        kind = "extreme-number"
        columns = [("goals", "importance"), ("goals", "difficulty"), ("goals", "baseline_level"),
                   ("goal_ratings", "level"), ("assessments", "dc_005"),
                   ("assessments", "dc_080")]
        for table, column in columns:
            # the three of issue 12 in every column, and three more drawn from the seed
            values = [*EXTREME_TEXT[:3], *self.rng.sample(EXTREME_TEXT[3:], 3)]
            for value in values:
                self.cell_variant(f"{table}-{column}-{value[:12]}", kind, table, column, value,
                                  commands=value == "1e308" and table == "goal_ratings")

    def day_offsets(self) -> None:
        kind = "day-offset"
        extract = _no_dates_extract(self.clinic)

        def make_extract(edit=None):
            def make(folder: Path) -> Path:
                folder.mkdir(parents=True, exist_ok=True)
                sheets = {t: s.copy() for t, s in extract.items()}
                if edit is not None:
                    edit(sheets)
                for table, sheet in sheets.items():
                    (folder / f"{table}.csv").write_text(csv_text(sheet), encoding="utf-8")
                return folder
            return make

        self.add("clean-extract", kind, make_extract(), damaged=False, commands=True)
        columns = [("goal_ratings", "date_day"), ("assessments", "date_day"),
                   ("goals", "set_day"), ("children", "referral_day"),
                   ("goals", "target_day"), ("assessments", "age_months")]
        for table, column in columns:
            pool = AGES if column == "age_months" else DAY_OFFSETS
            for value in [*pool[:3], *self.rng.sample(pool[3:], 2)]:
                i = self.rng.randrange(len(extract[table].rows))

                def edit(sheets, table=table, column=column, value=value, i=i):
                    sheet = sheets[table]
                    sheet.rows[i][sheet.col(column)] = value

                self.add(f"{table}-{column}-{value[:12]}", kind, make_extract(edit),
                         files=(f"{table}.csv",), row=(f"{table}.csv", i + 2),
                         commands=value == "1e12" and table == "goal_ratings")

    def excel(self) -> None:
        kind = "excel"
        serial = {b: (dt.date.fromisoformat(b) - dt.date(1899, 12, 30)).days
                  for b in self.clinic.births()}
        # dates as serial numbers (a column formatted as General)
        self.book_cell("serial-date-of-birth", kind, "children", "date_of_birth",
                       serial[self.clinic.births()[0]], i=0,
                       secrets=tuple(str(v) for v in serial.values()))
        self.book_cell("serial-assessment-date", kind, "assessments", "date", 46000)
        self.book_cell("text-serial-set-date", kind, "goals", "set_date", "46000")
        # dates outside what a table can hold
        edges = (dt.datetime(1677, 9, 21), dt.datetime(2262, 4, 12))
        for k, (column, table) in enumerate((
                ("date_of_birth", "children"), ("referral_date", "children"),
                ("date", "assessments"), ("set_date", "goals"), ("target_date", "goals"),
                ("date", "goal_ratings"))):
            for day in (dt.datetime(9999, 12, 31), dt.datetime(1000, 1, 1), edges[k % 2]):
                self.book_cell(f"{table}-{column}-{day.year}", kind, table, column, day,
                               commands=(day.year == 9999 and table == "goal_ratings"))
            if k % 3 == 0:
                self.book_cell(f"{table}-{column}-text-9999", kind, table, column,
                               "9999-12-31")
        # a date with a time of day, a date typed as text the other way round
        self.book_cell("datetime-with-time", kind, "assessments", "date",
                       dt.datetime(2025, 3, 4, 13, 30), damaged=False, row=None)
        self.book_cell("slashed-date-text", kind, "goal_ratings", "date", "04/03/2025")
        # formulas: as text, and as formulas with no saved value
        for table, column in (("goal_ratings", "level"), ("assessments", "dc_003"),
                              ("children", "child_id"), ("goals", "domain")):
            self.book_cell(f"formula-text-{table}-{column}", kind, table, column,
                           Text("=1+1"))
            self.book_cell(f"formula-{table}-{column}", kind, table, column, Formula("=1+1"))
        # free text may say anything; outputs must neutralise it
        self.book_cell("hyperlink-text", kind, "goals", "description",
                       Text('=HYPERLINK("http://x.example","click")'), damaged=False, row=None,
                       commands=True)
        # booleans, extreme numbers and mixed types
        for table, column in (("goal_ratings", "level"), ("goals", "importance"),
                              ("assessments", "dc_007"), ("children", "child_id"),
                              ("children", "date_of_birth")):
            self.book_cell(f"boolean-{table}-{column}", kind, table, column, True)
        cells = (("goal_ratings", "level"), ("goals", "difficulty"), ("assessments", "dc_011"),
                 ("goals", "baseline_level"))
        for k, value in enumerate(EXTREME_CELLS):
            for table, column in (cells[k % 4], cells[(k + 1) % 4]):
                label = "true" if value is True else f"{float(value):.3g}"
                self.book_cell(f"number-{table}-{column}-{label}", kind, table,
                               column, value)
        self.book_cell("text-number-level", kind, "goal_ratings", "level", Text("+1"),
                       damaged=False, row=None)
        # words pandas takes for blanks, an error value, and a case-changed sheet name
        self.book_cell("na-word-item", kind, "assessments", "dc_015", "N/A")
        self.book_cell("none-word-level", kind, "goal_ratings", "level", "None")
        self.book_cell("error-value-level", kind, "goal_ratings", "level", "#N/A")
        self.book_cell("error-value-item", kind, "assessments", "dc_016", "#DIV/0!")

        def rename_sheet(path: Path) -> None:
            from openpyxl import load_workbook
            book = load_workbook(path)
            book["children"].title = "Children"
            book.save(path)

        self.book_variant("sheet-name-case", kind, after=rename_sheet)

        def header_on_row_2(path: Path) -> None:
            from openpyxl import load_workbook
            book = load_workbook(path)
            book["goals"].insert_rows(1)
            book.save(path)

        self.book_variant("header-on-row-2", kind, after=header_on_row_2)
        self.book_cell("float-id", kind, "children", "child_id", 1.5)
        self.book_cell("int-goal-id", kind, "goal_ratings", "goal_id", 1)
        self.book_cell("date-in-id", kind, "assessments", "assessment_id", dt.date(2025, 1, 1))
        # sheets: missing, extra, out of order, header only, blank rows
        self.book_variant("missing-sheet", kind, lambda s: None, order=TABLES[:3])
        self.book_variant("extra-sheet", kind, lambda s: s.__setitem__(
            "notes", Sheet(["x"], [["Alder N."]])), order=(*TABLES, "notes"), damaged=False)
        self.book_variant("sheets-reordered", kind, order=TABLES[::-1], damaged=False)
        self.book_variant("header-only-children", kind,
                          lambda s: s["children"].rows.clear(), files=())
        self.book_variant("blank-row-in-goals", kind, lambda s: s["goals"].rows.insert(
            2, [None] * len(s["goals"].header)), damaged=False)

        def blank_then_bad(sheets) -> None:  # row numbers count the blank row
            rows = sheets["goal_ratings"].rows
            rows.insert(1, [None] * len(sheets["goal_ratings"].header))
            rows[5][sheets["goal_ratings"].col("level")] = "x"

        self.book_variant("blank-row-then-bad-level", kind, blank_then_bad,
                          row=(f"{WORKBOOK}[goal_ratings]", 7))
        self.book_variant("value-beyond-header", kind, lambda s: s["children"].rows[1].extend(
            [None, "Alder N."]))
        self.book_variant("settings-sheet-bad-interval", kind,
                          settings=[("reassessment_interval_months", 0)])
        self.book_variant("settings-sheet-maybe", kind, settings=[("gas_six_level", "maybe")])
        self.book_variant("settings-sheet-ok", kind, settings=[("reassessment_interval_months",
                                                                6)], damaged=False)
        # not a workbook at all
        self.add("csv-renamed-xlsx", kind, lambda f: _write(
            f / WORKBOOK, (self.clinic.folder / "children.csv").read_bytes()),
            files=(WORKBOOK,), workbook=True)
        self.add("empty-xlsx", kind, lambda f: _write(f / WORKBOOK, b""), files=(WORKBOOK,),
                 workbook=True)
        self.book_variant("truncated-xlsx", kind, after=lambda p: p.write_bytes(
            p.read_bytes()[: p.stat().st_size // 2]))
        self.add("folder-named-xlsx", kind, lambda f: _mkdir(f / WORKBOOK),
                 files=(WORKBOOK,), workbook=True)

    def not_files(self) -> None:
        kind = "not-a-file"
        for table in TABLES:
            self.folder_variant(f"folder-{table}", kind,
                                lambda f, table=table: _replace_by_folder(f / f"{table}.csv"),
                                files=(f"{table}.csv",))
            self.folder_variant(f"pipe-{table}", kind,
                                lambda f, table=table: _replace_by_fifo(f / f"{table}.csv"),
                                files=(f"{table}.csv",), isolate=True)
            self.folder_variant(f"dev-zero-{table}", kind, lambda f, table=table:
                                _replace_by_link(f / f"{table}.csv", "/dev/zero"),
                                files=(f"{table}.csv",), isolate=True)
            self.folder_variant(f"dangling-link-{table}", kind, lambda f, table=table:
                                _replace_by_link(f / f"{table}.csv", f / "nowhere.csv"),
                                files=(f"{table}.csv",))
            self.folder_variant(f"missing-{table}", kind,
                                lambda f, table=table: (f / f"{table}.csv").unlink(),
                                files=(f"{table}.csv",))
        self.folder_variant("pipe-dataset-yaml", kind,
                            lambda f: os.mkfifo(f / "dataset.yaml"), files=("dataset.yaml",),
                            isolate=True)
        self.folder_variant("dev-zero-dataset-yaml", kind,
                            lambda f: os.symlink("/dev/zero", f / "dataset.yaml"),
                            files=("dataset.yaml",), isolate=True)
        self.folder_variant("folder-dataset-yaml", kind, lambda f: _mkdir(f / "dataset.yaml"),
                            files=("dataset.yaml",))
        self.add("pipe-workbook", kind, lambda f: _fifo(f / WORKBOOK), files=(WORKBOOK,),
                 isolate=True, workbook=True)
        self.add("dev-zero-workbook", kind, lambda f: _link(f / WORKBOOK, "/dev/zero"),
                 files=(WORKBOOK,), isolate=True, workbook=True)

    def unreadable(self) -> list[Variant]:
        """Files nobody may read (chmod 000): a separate list, since root reads them."""
        out = []
        for target in (*(f"{t}.csv" for t in TABLES), "dataset.yaml"):
            def build(f: Path, target=target) -> None:
                if target == "dataset.yaml":
                    (f / target).write_text("name: x\n")
                os.chmod(f / target, 0)

            def make(folder: Path, build=build) -> Path:
                _copy_clean(self.clinic, folder)
                build(folder)
                return folder

            out.append(Variant(name=f"unreadable/{target}", kind="unreadable", make=make,
                               files=(target,)))
        return out

    def settings(self) -> None:
        kind = "settings"
        bad = {"interval-0": "reassessment_interval_months: 0\n",
               "interval-minus-6": "reassessment_interval_months: -6\n",
               "interval-1e11": "reassessment_interval_months: 1e11\n",
               "interval-6.7": "reassessment_interval_months: 6.7\n",
               "interval-inf": "reassessment_interval_months: .inf\n",
               "interval-nan": "reassessment_interval_months: .nan\n",
               "interval-text": "reassessment_interval_months: six\n",
               "interval-true": "reassessment_interval_months: true\n",
               "interval-list": "reassessment_interval_months: [6]\n",
               "interval-61": "reassessment_interval_months: 61\n",
               "six-level-maybe": "gas_six_level: maybe\n",
               "six-level-2": "gas_six_level: 2\n",
               "six-level-null": "gas_six_level:\n",
               "unknown-key": "colour: blue\n",
               "not-a-mapping-list": "- reassessment_interval_months\n- 6\n",
               "not-a-mapping-text": "just some text\n",
               "invalid-yaml": "name: [unclosed\n",
               "tabs": "name:\tx\n\t- y\n",
               "name-long": "name: " + "x" * 300 + "\n",
               "name-number": "name: 12\n",
               "diagnoses-mapping": "diagnoses: {a: b}\n",
               "diagnoses-long-term": "diagnoses: [" + "y" * 150 + "]\n",
               "duplicate-key": "gas_six_level: true\ngas_six_level: false\n",
               "anchors": "a: &a [x, x, x]\nb: &b [*a, *a, *a]\nc: [*b, *b, *b]\n",
               "python-tag": "name: !!python/object/apply:os.getcwd []\n",
               "utf16": None, "latin1": None}
        for name, text in bad.items():
            if name == "utf16":
                def build(f: Path) -> None:
                    (f / "dataset.yaml").write_bytes("name: Crèche\n".encode("utf-16"))
            elif name == "latin1":
                def build(f: Path) -> None:
                    (f / "dataset.yaml").write_bytes("name: Crèche\n".encode("latin-1"))
            else:
                def build(f: Path, text=text) -> None:
                    (f / "dataset.yaml").write_text(text, encoding="utf-8")
            self.folder_variant(name, kind, build, files=("dataset.yaml",),
                                commands=name == "interval-0")
        # dataset.yaml is valid YAML but the duplicate key: the toolkit may take either
        self.folder_variant("yml-spelling-ignored", kind, lambda f: (f / "dataset.yml")
                            .write_text("reassessment_interval_months: 0\n"), damaged=False)

    def instrument_paths(self) -> None:
        kind = "instrument-cell"
        shipped = Path(__file__).resolve().parents[2] / "sensoryprofile" / "instruments"
        values = ["/dev/zero", "../x.yaml", str(shipped / "demo-child.yaml"),
                  "instruments/demo-child.yaml", "demo-child.yaml", "~/.bashrc",
                  "DEMO-CHILD", "demo-child\u200b", "x" * 5000, "=cmd|' /C calc'!A0", ""]
        for value in values:
            self.cell_variant(f"value-{value[:24]}", kind, "assessments", "instrument", value,
                              commands=value == "/dev/zero", isolate=value == "/dev/zero")

        # a clinic's instruments folder holding things that are not definition files
        def pipe_in_instruments(f: Path) -> None:
            (f / "instruments").mkdir()
            os.mkfifo(f / "instruments" / "demo-fifo.yaml")
            _set_instrument(f, "demo-fifo")

        def zero_in_instruments(f: Path) -> None:
            (f / "instruments").mkdir()
            os.symlink("/dev/zero", f / "instruments" / "zero.yaml")
            _set_instrument(f, "some-form")

        def folder_in_instruments(f: Path) -> None:
            (f / "instruments" / "demo-dir.yaml").mkdir(parents=True)
            _set_instrument(f, "demo-dir")

        def instruments_is_a_file(f: Path) -> None:
            (f / "instruments").write_text("not a folder\n")
            _set_instrument(f, "clinic-form")

        def bad_definition(f: Path) -> None:
            (f / "instruments").mkdir()
            (f / "instruments" / "clinic-form.yaml").write_text("id: clinic-form\nitems: [\n")
            _set_instrument(f, "clinic-form")

        for name, build, isolate in (("pipe-in-instruments", pipe_in_instruments, True),
                                     ("dev-zero-in-instruments", zero_in_instruments, True),
                                     ("folder-in-instruments", folder_in_instruments, False),
                                     ("instruments-is-a-file", instruments_is_a_file, False),
                                     ("invalid-definition", bad_definition, False)):
            self.folder_variant(name, kind, build, files=("assessments.csv",), isolate=isolate)

    def ids(self) -> None:
        kind = "ids"
        for prefix in ("-", "=", "+", "@"):
            for table, column in (("children", "child_id"), ("assessments", "assessment_id"),
                                  ("goals", "goal_id"), ("goal_ratings", "goal_id"))[
                                      :4 if prefix in "=-" else 2]:
                i = self.pick(table)
                sheet = self.clinic.sheets[table]
                value = prefix + sheet.rows[i][sheet.col(column)]
                self.cell_variant(f"{prefix}-{table}-{column}", kind, table, column, value, i=i,
                                  commands=(prefix == "=" and table == "children"))
        for value in ("../../etc/passwd", "C 0001", "C\u00e90001", "x" * 65, "\tC0001"):
            self.cell_variant(f"child-{value[:16]}", kind, "children", "child_id", value)
        # a valid ID that no other table uses: its row is fine, its dependants are not
        self.cell_variant("child-CON", kind, "children", "child_id", "CON", row=None)
        # duplicates
        for table, column in (("children", "child_id"), ("assessments", "assessment_id"),
                              ("goals", "goal_id")):
            sheet = self.clinic.sheets[table]
            self.cell_variant(f"duplicate-{table}", kind, table, column,
                              sheet.rows[0][sheet.col(column)], i=len(sheet.rows) - 1)
        self.csv_variant("duplicate-row-children", kind, "children",
                         lambda s: s.rows.append(list(s.rows[0])),
                         row=("children.csv", len(self.clinic.sheets["children"].rows) + 2))
        self.csv_variant("duplicate-rating", kind, "goal_ratings",
                         lambda s: s.rows.append(list(s.rows[0])),
                         row=("goal_ratings.csv",
                              len(self.clinic.sheets["goal_ratings"].rows) + 2))


# ---------------------------------------------------------------------------
# small edits
# ---------------------------------------------------------------------------
def _parse(text: str) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(text)))
    return rows[0], rows[1:]


def _replace_line(text: str, line: int, edit: Callable[[str], str]) -> str:
    lines = text.split("\n")
    lines[line - 1] = edit(lines[line - 1])
    return "\n".join(lines)


def _split_line(line: str) -> list[str]:
    """A CSV line's fields as written (quotes kept), for edits that break quoting."""
    fields, current, quoted = [], "", False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            fields.append(current)
            current = ""
        else:
            current += ch
    fields.append(current)
    return fields


def _get_field(line: str, k: int) -> str:
    return _split_line(line)[k]


def _set_field(line: str, k: int, value: str) -> str:
    fields = _split_line(line)
    fields[k] = value
    return ",".join(fields)


def _cut_last_row(text: str) -> str:
    """The file cut inside the third field of its last row."""
    body = text.rstrip("\n")
    head, last = body.rsplit("\n", 1)
    fields = last.split(",")
    return head + "\n" + ",".join(fields[:2]) + "," + fields[2][: len(fields[2]) // 2]


def _drop(sheet: Sheet, column: str) -> Sheet:
    k = sheet.col(column)
    return Sheet(sheet.header[:k] + sheet.header[k + 1:],
                 [r[:k] + r[k + 1:] for r in sheet.rows])


def _duplicate(sheet: Sheet, column: str, as_name: str | None = None) -> Sheet:
    k = sheet.col(column)
    return Sheet(sheet.header + [as_name or column], [r + [r[k]] for r in sheet.rows])


def _add_column(sheet: Sheet, name: str, value: str) -> Sheet:
    return Sheet(sheet.header + [name], [r + [value] for r in sheet.rows])


def _swap_names(sheet: Sheet, a: str, b: str) -> None:
    ka, kb = sheet.col(a), sheet.col(b)
    sheet.header[ka], sheet.header[kb] = b, a


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True)
    return path


def _fifo(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)
    return path


def _link(path: Path, target) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(target, path)
    return path


def _replace_by_folder(path: Path) -> None:
    path.unlink()
    path.mkdir()
    (path / "children.csv").write_text("child_id\n")


def _replace_by_fifo(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


def _replace_by_link(path: Path, target) -> None:
    path.unlink()
    os.symlink(target, path)


def _set_instrument(folder: Path, name: str) -> None:
    """The first assessment of ``folder`` names instrument ``name``."""
    path = folder / "assessments.csv"
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    rows[1][rows[0].index("instrument")] = name
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")


def _months(born: dt.date, on: dt.date) -> int:
    """Completed months from ``born`` to ``on`` (same day of month = a month)."""
    months = (on.year - born.year) * 12 + on.month - born.month
    return months - (on.day < born.day)


def _no_dates_extract(clinic: Clinic) -> dict[str, Sheet]:
    """The clinic as a no-dates extract: day offsets instead of dates (days
    since DAY_ZERO), ages in months instead of dates of birth, no names."""
    def day(text: str) -> str:
        return "" if not text else str((dt.date.fromisoformat(text) - DAY_ZERO).days)

    sheets = clinic.copy()
    kids = sheets["children"]
    born = {r[kids.col("child_id")]: dt.date.fromisoformat(r[kids.col("date_of_birth")])
            for r in kids.rows}
    out = {}
    for table, sheet in sheets.items():
        header, rows = [], [[] for _ in sheet.rows]
        for k, column in enumerate(sheet.header):
            if column in ("date_of_birth", "display_name"):
                continue
            is_date = column in DATE_COLUMNS
            if is_date:
                header.append("date_day" if column == "date" else column.replace("_date",
                                                                                  "_day"))
            else:
                header.append(column)
            for row, target in zip(sheet.rows, rows, strict=True):
                target.append(day(row[k]) if is_date else row[k])
        if table == "assessments":
            header.append("age_months")
            ci, di = sheet.col("child_id"), sheet.col("date")
            for row, target in zip(sheet.rows, rows, strict=True):
                target.append(str(_months(born[row[ci]], dt.date.fromisoformat(row[di]))))
        out[table] = Sheet(header, rows)
    return out
