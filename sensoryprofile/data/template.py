"""``sensoryprofile init``: an empty dataset for a clinic to fill in.

CSV headers for every table, or a workbook with one sheet per table, header
rows and Excel data-validation dropdowns for response values, goal levels,
importance and difficulty, so that a value off the scale cannot be typed.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from sensoryprofile import columns as C
from sensoryprofile.data.dataset import DATE_COLUMNS, INSTRUMENTS_DIR, TABLES
from sensoryprofile.data.dictionary import COLUMN_MEANING, data_dictionary_markdown, table_columns
from sensoryprofile.data.tables import atomic_write, write_text_atomic
from sensoryprofile.errors import UsageError
from sensoryprofile.instruments import Instrument, load_instrument
from sensoryprofile.instruments.schema import RESPONDENTS

#: rows of a new workbook that carry data validation (header is row 1)
VALIDATED_ROWS = 2000

SETTINGS_TEMPLATE = """\
# Settings for this dataset (all optional).
name: {name}
# Allow goal level -3 (worse than baseline), the six-level GAS variant.
gas_six_level: false
# Months between sensory reassessments; later ones are listed as overdue.
reassessment_interval_months: 6
"""


def _list_validation(values, prompt: str) -> DataValidation:
    formula = '"' + ",".join(str(v) for v in values) + '"'
    dv = DataValidation(type="list", formula1=formula, allow_blank=True,
                        showErrorMessage=True, showInputMessage=True)
    dv.error = f"Choose one of: {', '.join(str(v) for v in values)}"
    dv.errorTitle = "Value not allowed"
    dv.prompt = prompt[:255]
    dv.promptTitle = "Allowed values"[:32]
    return dv


def _number_text(value: float) -> str:
    return f"{value:g}"


def write_template(out_dir: str | Path, *, xlsx: bool = False,
                   instruments: list[str | Instrument] = ("demo-child",),
                   six_level: bool = False) -> list[Path]:
    """Write an empty dataset to ``out_dir``; returns the files written.

    Refuses to overwrite existing dataset files.
    """
    out_dir = Path(out_dir)
    insts = [load_instrument(i) for i in instruments]
    if not insts:
        raise UsageError("`instruments` must name at least one instrument, but none was passed")
    targets = ([out_dir / "dataset.xlsx"] if xlsx else
               [out_dir / f"{t}.csv" for t in TABLES]) + [out_dir / "README.md"]
    existing = [p for p in targets if p.exists()]
    if existing:
        raise UsageError(f"{existing[0]} already exists: init writes a new, empty dataset and "
                         "never overwrites one")
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    if xlsx:
        written.append(atomic_write(out_dir / "dataset.xlsx",
                                    lambda tmp: _workbook(insts, six_level).save(tmp)))
    else:
        for table in TABLES:
            header = ",".join(table_columns(table, insts)) + "\n"
            written.append(write_text_atomic(header, out_dir / f"{table}.csv"))
        settings = out_dir / "dataset.yaml"
        if not settings.exists():
            text = SETTINGS_TEMPLATE.format(name=out_dir.name)
            if six_level:
                text = text.replace("gas_six_level: false", "gas_six_level: true")
            written.append(write_text_atomic(text, settings))
    readme = data_dictionary_markdown(insts, title=f"{out_dir.name}: a sensoryprofile dataset")
    written.append(write_text_atomic(readme + "\n", out_dir / "README.md"))
    written.extend(copy_definitions(insts, out_dir / INSTRUMENTS_DIR))
    return written


def copy_definitions(instruments: list[Instrument], folder: Path) -> list[Path]:
    """Copy each clinic form's definition file (not the shipped ones) into a
    dataset's ``instruments/`` folder, byte for byte, as ``ID.yaml``: the
    dataset then carries the forms its data are scored with. A different
    definition already there under that name is a :class:`UsageError`."""
    from sensoryprofile.instruments import definition_file

    written: list[Path] = []
    for inst in instruments:
        source = definition_file(inst)
        if source is None:
            continue
        target = folder / f"{inst.id}.yaml"
        content = source.read_bytes()
        if target.exists():
            if target.read_bytes() != content:
                raise UsageError(f"{target} already holds another definition of {inst.id}; "
                                 "init never overwrites one")
            continue
        folder.mkdir(parents=True, exist_ok=True)
        written.append(atomic_write(target, lambda tmp, data=content: Path(tmp).write_bytes(data)))
    return written


def _workbook(insts: list[Instrument], six_level: bool) -> Workbook:
    wb = Workbook()
    wb.remove(wb.active)
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDDDDD")
    last = VALIDATED_ROWS
    for table in TABLES:
        ws = wb.create_sheet(table)
        cols = table_columns(table, insts)
        ws.append(cols)
        ws.freeze_panes = "A2"
        for k, col in enumerate(cols, start=1):
            cell = ws.cell(row=1, column=k)
            cell.font, cell.fill = bold, fill
            letter = get_column_letter(k)
            ws.column_dimensions[letter].width = max(12, min(40, len(col) + 4))
            if col in DATE_COLUMNS[table]:
                for row in range(2, 200):
                    ws.cell(row=row, column=k).number_format = "yyyy-mm-dd"

        def add(values, col_names, prompt, ws=ws, cols=cols):
            ranges = [f"{get_column_letter(cols.index(c) + 1)}2:"
                      f"{get_column_letter(cols.index(c) + 1)}{last}"
                      for c in col_names if c in cols]
            if ranges:
                dv = _list_validation(values, prompt)
                ws.add_data_validation(dv)
                dv.sqref = " ".join(ranges)  # one rule over many columns

        if table == "children":
            add(["F", "M", "X"], [C.SEX], "F, M or X (or leave blank)")
        if table == "assessments":
            add([i.id for i in insts], [C.INSTRUMENT], "Instrument id")
            add(list(RESPONDENTS), [C.RESPONDENT], "Who answered the questionnaire")
            for inst in insts:
                values = [_number_text(v) for v in inst.response_scale.allowed_values]
                labels = "; ".join(f"{v:g} = {k}" for k, v in inst.response_scale.values.items())
                add(values, list(inst.item_ids), f"{inst.id}: {labels}")
        if table == "goals":
            add([0, 1, 2, 3], [C.IMPORTANCE], "0-3: importance to the family (blank = "
                "unweighted)")
            add([0, 1, 2, 3], [C.DIFFICULTY], "0-3: difficulty (blank = unweighted)")
            add([-1, -2], [C.BASELINE_LEVEL], "-1 some ability, -2 none")
        if table == "goal_ratings":
            levels = [-3, -2, -1, 0, 1, 2] if six_level else [-2, -1, 0, 1, 2]
            add(levels, [C.LEVEL], COLUMN_MEANING[C.LEVEL])
    ws = wb.create_sheet("settings")
    ws.append(["key", "value"])
    ws.append(["gas_six_level", "true" if six_level else "false"])
    ws.append(["reassessment_interval_months", 6])
    return wb
