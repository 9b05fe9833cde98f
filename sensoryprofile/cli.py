"""Command-line interface: ``sensoryprofile`` (or ``python -m sensoryprofile``).

Exit codes: 0 success, 1 data problems found, 2 usage errors. Nothing a user
can cause ends in a Python traceback: package errors are printed as one clear
message.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import pandas as pd

from sensoryprofile import __version__
from sensoryprofile import columns as C
from sensoryprofile.errors import (
    DataProblemsError,
    DatasetError,
    InstrumentError,
    Interrupted,
    SensoryProfileError,
    UsageError,
)

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors name the command and exit 2 without a traceback."""

    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _out(text: str = "") -> None:
    print(text)


def _err(text: str) -> None:
    print(text, file=sys.stderr)


# ---------------------------------------------------------------------------
# instruments
# ---------------------------------------------------------------------------
def cmd_instruments_list(args) -> int:
    from sensoryprofile.instruments import list_instruments

    rows = []
    for inst in list_instruments():
        rows.append({"id": inst.id, "version": inst.version, "respondent": inst.respondent,
                     "ages (months)": f"{inst.age_min}-{inst.age_max}",
                     "items": len(inst.items), "scores": len(inst.scores),
                     "clinical use": "yes" if inst.clinical_use else "NO (demonstration)"})
    _out(pd.DataFrame(rows).to_string(index=False))
    _out("\nClinics load their licensed instruments from their own definition files: "
         "see docs/instrument-format.md and `sensoryprofile instruments check FILE`.")
    return EXIT_OK


def cmd_instruments_show(args) -> int:
    from sensoryprofile.instruments import MeanSD, load_instrument

    inst = load_instrument(args.instrument)
    _out(f"{inst.name}")
    _out(f"  id {inst.id}, version {inst.version}, respondent {inst.respondent}, "
         f"ages {inst.age_min}-{inst.age_max} months, direction {inst.direction}")
    if not inst.clinical_use:
        _out("  DEMONSTRATION FORM: not validated, not for clinical use.")
    _out(f"  licence: {inst.licence}")
    scale = ", ".join(f"{k} = {v:g}" for k, v in inst.response_scale.values.items())
    _out(f"  response scale: {scale}")
    if inst.response_scale.na_codes:
        counts = ("excluded (like a blank)" if inst.response_scale.na_counts_as is None
                  else f"counted as {inst.response_scale.na_counts_as:g}")
        _out(f"  does not apply: {', '.join(f'{c:g}' for c in inst.response_scale.na_codes)}, "
             f"{counts}")
    _out("\nScores:")
    rows = []
    for score in inst.scores:
        rel = inst.reliability.get(score.id)
        rows.append({"score": score.id, "name": score.name, "kind": score.kind,
                     "items": len(score.items), "direction": score.direction,
                     "max missing": score.max_missing,
                     "prorate": "yes" if score.prorate else "no",
                     "reliability": f"r={rel.r:.2f} ({rel.kind}), SD {rel.sd:g}" if rel else "-"})
    _out(pd.DataFrame(rows).to_string(index=False))
    _out("\nNorm bands:")
    for band in inst.norms:
        if not band.scores:
            _out(f"  {band.label}: no norms" + (f" ({band.note})" if band.note else ""))
            continue
        kinds = {"mean/SD" if isinstance(v, MeanSD) else "cut table" for v in band.scores.values()}
        _out(f"  {band.label}: {len(band.scores)} score(s), {', '.join(sorted(kinds))}")
    if args.items:
        _out("\nItems:")
        rows = [{"item": i.id, "section": i.section or "-", "quadrant": i.quadrant or "-",
                 "text": i.text or ""} for i in inst.items]
        _out(pd.DataFrame(rows).to_string(index=False))
    return EXIT_OK


def cmd_instruments_check(args) -> int:
    from sensoryprofile.instruments import check_instrument

    result = check_instrument(args.file)
    for message in result.errors:
        _out(f"error: {message}")
    for message in result.warnings:
        _out(f"warning: {message}")
    if result.ok:
        inst = result.instrument
        _out(f"{Path(args.file).name}: valid ({len(inst.items)} items, {len(inst.scores)} "
             f"scores, {len(inst.norms)} norm bands)"
             + (f", {len(result.warnings)} warning(s)" if result.warnings else ""))
        return EXIT_OK
    _out(f"{Path(args.file).name}: invalid, {len(result.errors)} problem(s)")
    return EXIT_PROBLEMS


# ---------------------------------------------------------------------------
# score
# ---------------------------------------------------------------------------
def format_scores(scores: pd.DataFrame) -> str:
    """A readable table of scores for a terminal (rounded only here)."""
    if scores.empty:
        return "(no assessments)"
    view = pd.DataFrame({
        "assessment": scores[C.ASSESSMENT_ID].astype(str),
        "instrument": scores[C.INSTRUMENT].astype(str),
        "score": scores[C.SCORE].astype(str),
        "raw": scores[C.RAW].map(lambda v: "" if pd.isna(v) else f"{v:.1f}"),
        "age (m)": scores[C.AGE_MONTHS].map(lambda v: "" if pd.isna(v) else f"{v:.0f}"),
        "z": scores[C.Z].map(lambda v: "" if pd.isna(v) else f"{v:+.2f}"),
        "pct": scores[C.PERCENTILE].map(lambda v: "" if pd.isna(v) else f"{v:.0f}"),
        "classification": scores[C.CLASSIFICATION].astype(object).where(
            scores[C.CLASSIFICATION].notna(), "-"),
        "note": scores[C.INVALID_REASON].astype(object).where(
            scores[C.INVALID_REASON].notna(),
            scores[C.UNCLASSIFIED_REASON].astype(object)).fillna("")
        + scores[C.PRORATED].map({True: " (prorated)", False: ""}),
    })
    view["note"] = view["note"].str.strip()
    return view.to_string(index=False)


def _score_input(args):
    """The assessments to score and the children table for ages: a CSV file,
    or a dataset workbook (its assessments and children sheets)."""
    from sensoryprofile.data.tables import EXCEL_SUFFIXES, read_rows, require_regular_file

    path = require_regular_file(args.assessments)
    sheet, children_sheet = 0, None
    if path.suffix.lower() in EXCEL_SUFFIXES:
        import pandas as pd

        try:
            with pd.ExcelFile(path, engine="openpyxl") as book:
                names = book.sheet_names
        except Exception as exc:  # openpyxl raises many kinds for a damaged file
            raise DatasetError(f"{path.name}: cannot be read as an Excel workbook "
                               f"({type(exc).__name__})") from None
        if "assessments" in names:  # a dataset workbook
            sheet = "assessments"
            children_sheet = "children" if "children" in names else None
    assessments = read_rows(path, sheet, free_text=C.FREE_TEXT_COLUMNS)
    if args.children:
        children = read_rows(args.children).frame
    elif children_sheet is not None:
        children = read_rows(path, children_sheet).frame
    else:
        children = None
    return assessments, children


def _hide_identifying(frame: pd.DataFrame, report) -> pd.DataFrame:
    """``frame`` with each text cell that is, or quotes, a name or date of birth of
    the dataset hidden (``report.hidden``): score echoes its input's IDs, instrument
    and respondent cells, and a name typed into one must not reach its output."""
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


def cmd_score(args) -> int:
    from sensoryprofile.data.assessments import score_assessments
    from sensoryprofile.data.dataset import days_to_dates, identifying_values
    from sensoryprofile.data.validation import NOTED, ROW_REJECTED, ValidationReport

    report = ValidationReport()
    read, children = _score_input(args)
    frames = {"assessments": read.frame}
    days_to_dates(frames)  # a no-dates extract's date_day, as the dataset loader reads it
    if children is not None:
        report.hide(identifying_values(children))
    for problem in read.problems:
        report.add(file=read.source, row=problem.line, column=None, value="", rule=problem.rule,
                   action=ROW_REJECTED if problem.rejected else NOTED, table="assessments",
                   raw_value=False)
    scores = score_assessments(frames["assessments"], args.instrument, children=children,
                               report=report, source=read.source,
                               search_dirs=(Path(args.assessments).parent / "instruments",))
    scores = _hide_identifying(scores, report)
    if args.out:
        from sensoryprofile.data.tables import write_csv_atomic

        write_csv_atomic(scores, args.out)
        _out(f"wrote {len(scores)} score rows for {scores[C.ASSESSMENT_ID].nunique()} "
             f"assessment(s) to {args.out}")
    else:
        _out(format_scores(scores))
    if report.problems:
        _err(f"\n{len(report.problems)} problem(s) in the input:")
        for problem in report.problems:
            _err(f"  {problem}")
        return EXIT_PROBLEMS
    return EXIT_OK


# ---------------------------------------------------------------------------
# datasets: validate, init, sample
# ---------------------------------------------------------------------------
def cmd_validate(args) -> int:
    from sensoryprofile.data.dataset import load_dataset
    from sensoryprofile.data.tables import write_csv_atomic, write_text_atomic

    dataset = load_dataset(args.data, strict=False, today=args.today)
    report = dataset.report
    if args.format == "csv":
        frame = report.to_frame()
        if args.out:
            write_csv_atomic(frame, args.out)
        else:
            from sensoryprofile.data.tables import spreadsheet_safe

            sys.stdout.write(spreadsheet_safe(frame).to_csv(index=False, lineterminator="\n"))
    else:
        text = report.format_text()
        if args.out:
            write_text_atomic(text + "\n", args.out)
        else:
            _out(text)
    if args.out:
        _out(f"{len(report.problems)} problem(s); report written to {args.out}")
        _out(report.format_text().split("\n\n")[0])
    if report.problems:
        if args.strict:
            _err(f"sensoryprofile: strict mode: {len(report.problems)} problem(s) found")
        return EXIT_PROBLEMS
    return EXIT_OK


def cmd_init(args) -> int:
    from sensoryprofile.data.template import write_template

    written = write_template(args.dir, xlsx=args.xlsx, instruments=args.instrument or [
        "demo-child"], six_level=args.six_level)
    for path in written:
        _out(f"wrote {path}")
    _out(f"Fill in the tables, then check them with: sensoryprofile validate {args.dir}")
    return EXIT_OK


def cmd_sample(args) -> int:
    from sensoryprofile.synthetic.clinic import write_clinic

    if args.messy:
        from sensoryprofile.synthetic.messy import write_messy_clinic

        for path in write_messy_clinic(args.out).values():
            _out(f"wrote {path}")
        return EXIT_OK
    if args.children < 1:
        raise UsageError(f"--children must be at least 1, but {args.children} was passed")
    written = write_clinic(args.out, n_children=args.children, seed=args.seed)
    for path in written.values():
        _out(f"wrote {path}")
    from sensoryprofile.data.tables import write_text_atomic
    from sensoryprofile.synthetic.clinic import sample_readme

    readme = write_text_atomic(sample_readme(args.children, args.seed),
                               Path(args.out) / "README.md")
    _out(f"wrote {readme}")
    return EXIT_OK


# ---------------------------------------------------------------------------
# goals and change
# ---------------------------------------------------------------------------
def _load_for_analysis(args):
    from sensoryprofile.data.dataset import load_dataset

    dataset = load_dataset(args.data, today=getattr(args, "today", None))
    if getattr(args, "child", None):
        from sensoryprofile.ids import check_id

        check_id(args.child)
        dataset.child(args.child)  # a clear error if the child is unknown or rejected
    return dataset


def _problem_note(dataset) -> int:
    """Exit 1, with a pointer to the report, when the dataset had problems."""
    n = len(dataset.report.problems)
    if n:
        _err(f"note: {n} data problem(s) in {dataset.path}; rows with problems are left out. "
             f"See: sensoryprofile validate {dataset.path}")
        return EXIT_PROBLEMS
    return EXIT_OK


def _show(frame: pd.DataFrame, *, floats: int = 1) -> str:
    if frame.empty:
        return "(none)"
    view = frame.copy()
    for col in view.columns:
        if pd.api.types.is_float_dtype(view[col]):
            view[col] = view[col].map(lambda v, f=floats: "" if pd.isna(v) else f"{v:.{f}f}")
        elif pd.api.types.is_datetime64_any_dtype(view[col]):
            view[col] = view[col].dt.strftime("%Y-%m-%d").fillna("")
    return view.to_string(index=False)


def cmd_goals(args) -> int:
    from sensoryprofile.data.tables import write_csv_atomic
    from sensoryprofile.measures.goals import goal_attainment

    dataset = _load_for_analysis(args)
    if args.child:
        goals = dataset.goals[dataset.goals[C.CHILD_ID] == args.child]
        dataset.goals = goals
        dataset.goal_ratings = dataset.goal_ratings[
            dataset.goal_ratings[C.GOAL_ID].isin(goals[C.GOAL_ID])]
    result = goal_attainment(dataset, as_of=args.as_of)
    if args.out:
        out = Path(args.out)
        per_goal = out.with_name(out.stem + "-per-goal" + (out.suffix or ".csv"))
        write_csv_atomic(result.reviews, out)
        write_csv_atomic(result.goals, per_goal)
        _out(f"wrote {len(result.reviews)} review row(s) to {out} and {len(result.goals)} goal "
             f"row(s) to {per_goal}")
    else:
        _out(f"Goal attainment ({result.gas_scale} scale, rho = {result.rho}) as of "
             f"{result.as_of}:\n")
        _out("Per child and review date:")
        _out(_show(result.reviews))
        _out("\nPer goal:")
        _out(_show(result.goals))
    return _problem_note(dataset)


def cmd_change(args) -> int:
    from sensoryprofile.data.tables import write_csv_atomic
    from sensoryprofile.measures.change import sensory_change

    dataset = _load_for_analysis(args)
    table = sensory_change(dataset, child_id=args.child)
    if args.out:
        write_csv_atomic(table, args.out)
        _out(f"wrote {len(table)} comparison row(s) to {args.out}")
    else:
        cols = [C.CHILD_ID, C.INSTRUMENT, C.RESPONDENT, C.SCORE, C.COMPARISON, C.FROM_DATE,
                C.TO_DATE, C.RAW_CHANGE, C.RCI, C.RELIABLE, C.BAND_TRANSITION, C.DIRECTION,
                C.NOT_COMPARED_REASON]
        shown = table[table[C.KIND] == "quadrant"] if not args.all_scores else table
        _out(_show(shown[cols], floats=2))
    return _problem_note(dataset)


# ---------------------------------------------------------------------------
# reports
# ---------------------------------------------------------------------------
def cmd_report_child(args) -> int:
    from sensoryprofile.ids import check_id
    from sensoryprofile.reports.render import render_child

    check_id(args.child_id)
    result = render_child(args.data, args.child_id, out_dir=args.out, as_of=args.as_of,
                          deidentify=args.deidentify, pdf=args.pdf, key_file=args.key_file,
                          wait=args.wait)
    for path in result.files:
        _out(f"wrote {path}")
    if args.deidentify:
        _out(f"de-identified report of {args.child_id} under the name {result.name}")
    return EXIT_OK


def cmd_report_children(args) -> int:
    from sensoryprofile.reports.batch import format_summary, render_children

    batch = render_children(args.data, out_dir=args.out, jobs=args.jobs, pdf=args.pdf,
                            as_of=args.as_of, deidentify=args.deidentify,
                            progress=not args.quiet, key_file=args.key_file, wait=args.wait)
    _out(format_summary(batch))
    return EXIT_PROBLEMS if batch.failed else EXIT_OK


def cmd_report_caseload(args) -> int:
    from sensoryprofile.reports.index import write_index
    from sensoryprofile.reports.lock import output_lock
    from sensoryprofile.reports.render import render_caseload

    with output_lock(args.out, wait=args.wait):
        result = render_caseload(args.data, out_dir=args.out, as_of=args.as_of,
                                 period_start=args.period_start, period_end=args.period_end,
                                 site=args.site, therapist=args.therapist, pdf=args.pdf)
        for path in result.files:
            _out(f"wrote {path}")
        write_index(Path(args.out))
    return EXIT_OK


def cmd_report_cohort(args) -> int:
    from sensoryprofile.reports.index import write_index
    from sensoryprofile.reports.lock import output_lock
    from sensoryprofile.reports.render import render_cohort

    with output_lock(args.out, wait=args.wait):
        result = render_cohort(args.data, out_dir=args.out, instrument=args.instrument,
                               seed=args.seed, n_boot=args.n_boot, pdf=args.pdf)
        for path in result.files:
            _out(f"wrote {path}")
        write_index(Path(args.out))
    return EXIT_OK


def cmd_report_all(args) -> int:
    """Every child, the caseload report and the index (the cohort analysis too
    with --cohort)."""
    from sensoryprofile.reports.batch import format_summary, render_children
    from sensoryprofile.reports.index import write_index
    from sensoryprofile.reports.lock import output_lock
    from sensoryprofile.reports.render import render_caseload, render_cohort

    with output_lock(args.out, wait=args.wait):
        batch = render_children(args.data, out_dir=args.out, jobs=args.jobs, pdf=args.pdf,
                                as_of=args.as_of, progress=not args.quiet)
        failed = list(batch.failed)
        clinic = [("caseload", lambda: render_caseload(args.data, out_dir=args.out,
                                                       as_of=args.as_of, pdf=args.pdf))]
        if args.cohort:
            clinic.append(("cohort", lambda: render_cohort(args.data, out_dir=args.out,
                                                           pdf=args.pdf)))
        for name, render in clinic:
            try:
                render()
                _out(f"Rendered the {name} report.")
            except SensoryProfileError as exc:
                failed.append(exc)
                _err(f"FAILED {name} report: {exc}")
        batch.index = write_index(Path(args.out), batch.results)
    _out(format_summary(batch))
    return EXIT_PROBLEMS if failed else EXIT_OK


def cmd_export(args) -> int:
    from sensoryprofile.data.export import export_deidentified, new_key

    if args.new_key:
        path = new_key(args.new_key)
        _out(f"wrote a new key to {path} (readable by you only). Keep it secret and keep it: "
             "the same key gives the same pseudonyms in later exports.")
        if not args.data:
            return EXIT_OK
    if not args.data or not args.out or not args.key_file:
        raise UsageError("export needs DATA, --out DIR and --key-file KEY (or only "
                         "--new-key KEY to create a key)")
    manifest = export_deidentified(args.data, args.out, key_file=args.key_file,
                                   no_dates=args.no_dates, keep_sites=args.keep_sites,
                                   today=args.today)
    _out(f"wrote a de-identified dataset to {args.out} (see MANIFEST.md there)")
    for table, info in manifest.tables.items():
        _out(f"  {table:<13} {info.rows_in:>6} rows in, {info.rows_out:>6} out")
    return EXIT_OK


# ---------------------------------------------------------------------------
# demo
# ---------------------------------------------------------------------------
def cmd_demo(args) -> int:
    from sensoryprofile.data.assessments import score_assessments
    from sensoryprofile.instruments import list_instruments
    from sensoryprofile.synthetic.examples import example_assessments

    for inst in list_instruments():
        frame = example_assessments(inst)
        scores = score_assessments(frame, inst)
        _out(f"== {inst.name} ==")
        _out(format_scores(scores))
        _out("")
    return EXIT_OK


# ---------------------------------------------------------------------------
def _date_arg(text: str):
    from sensoryprofile.dates import to_date

    try:
        return to_date(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="sensoryprofile", description=(
        "Score sensory-processing questionnaires into Dunn's quadrants, track goal "
        "attainment, and render reports."))
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    p = sub.add_parser("instruments", help="list, show or check instrument definitions")
    isub = p.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser)
    isub.required = True
    q = isub.add_parser("list", help="the shipped instruments")
    q.set_defaults(func=cmd_instruments_list)
    q = isub.add_parser("show", help="one instrument: scale, scores, norms")
    q.add_argument("instrument", help="shipped id or path to a definition file")
    q.add_argument("--items", action="store_true", help="also list every item")
    q.set_defaults(func=cmd_instruments_show)
    q = isub.add_parser("check", help="validate a definition file (exit 0 valid, 1 invalid)")
    q.add_argument("file")
    q.set_defaults(func=cmd_instruments_check)

    p = sub.add_parser("score", help="score a CSV/XLSX of assessments")
    p.add_argument("assessments", help="assessments file: one row per assessment, one "
                   "column per item id")
    p.add_argument("--children", help="children file (child_id, date_of_birth) for age at "
                   "assessment")
    p.add_argument("--instrument", help="shipped id or definition file; default: each row's "
                   "`instrument` column")
    p.add_argument("--out", help="write the tidy score table to this CSV instead of printing")
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("validate", help="check a dataset; every problem listed, rows "
                       "accounted for (exit 0 clean, 1 problems)")
    p.add_argument("data", help="dataset folder of CSV files, or an .xlsx workbook")
    p.add_argument("--format", choices=["text", "csv"], default="text")
    p.add_argument("--out", help="write the report to this file")
    p.add_argument("--strict", action="store_true", help="treat any problem as fatal")
    p.add_argument("--today", type=_date_arg, default=None, help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("init", help="write an empty dataset to fill in")
    p.add_argument("dir")
    p.add_argument("--xlsx", action="store_true", help="one workbook with dropdowns instead "
                   "of CSV files")
    p.add_argument("--instrument", action="append", help="instrument whose item columns to "
                   "include (repeatable; default demo-child)")
    p.add_argument("--six-level", action="store_true", help="allow GAS level -3")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("sample", help="write a synthetic clinic dataset (deterministic)")
    p.add_argument("--out", required=True)
    p.add_argument("--children", type=int, default=60)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--messy", action="store_true", help="the small clinic with planted "
                   "defects (data/sample-messy)")
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser("goals", help="goal attainment (GAS T-scores) per review and per goal")
    p.add_argument("data", help="dataset folder or .xlsx workbook")
    p.add_argument("--child", help="one child's goals only")
    p.add_argument("--as-of", type=_date_arg, default=None, help="YYYY-MM-DD: ignore ratings "
                   "dated later (default: today)")
    p.add_argument("--out", help="write the per-review table to this CSV (and the per-goal "
                   "table beside it, *-per-goal.csv)")
    p.set_defaults(func=cmd_goals)

    p = sub.add_parser("change", help="change in sensory scores between administrations, "
                       "with the reliable change index")
    p.add_argument("data", help="dataset folder or .xlsx workbook")
    p.add_argument("--child", help="one child only")
    p.add_argument("--out", help="write the full comparison table to this CSV")
    p.add_argument("--all-scores", action="store_true", help="print sections too, not only "
                   "quadrants")
    p.set_defaults(func=cmd_change)

    p = sub.add_parser("report", help="render reports (HTML, optionally PDF)")
    rsub = p.add_subparsers(dest="kind", metavar="KIND", parser_class=_Parser)
    rsub.required = True

    def common(q, *, deid=True):
        q.add_argument("--data", required=True, help="dataset folder or .xlsx workbook")
        q.add_argument("--out", default="reports", help="output folder (default: reports/)")
        q.add_argument("--as-of", type=_date_arg, default=None, help="YYYY-MM-DD: ignore "
                       "anything dated later (default: today)")
        q.add_argument("--pdf", action="store_true", help="also write a PDF")
        q.add_argument("--wait", action="store_true", help="if another run is writing into "
                       "the output folder, wait for it (default: refuse)")
        if deid:
            q.add_argument("--deidentify", action="store_true", help="no name, no dates, no "
                           "free text, no therapist or site; the report goes by a pseudonym")
            q.add_argument("--key-file", help="with --deidentify: the export's key, so that "
                           "the pseudonym is the extract's (default: a random study code)")

    q = rsub.add_parser("child", help="one child's report")
    q.add_argument("child_id")
    common(q)
    q.set_defaults(func=cmd_report_child)
    q = rsub.add_parser("children", help="every child's report, with an index page")
    common(q)
    q.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    q.add_argument("--quiet", action="store_true", help="no progress bar")
    q.set_defaults(func=cmd_report_children)

    q = rsub.add_parser("caseload", help="the caseload report for clinic directors")
    common(q, deid=False)
    q.add_argument("--from", dest="period_start", type=_date_arg, default=None,
                   help="period start YYYY-MM-DD (default: 12 months before the end)")
    q.add_argument("--to", dest="period_end", type=_date_arg, default=None, help="period end YYYY-MM-DD (default: --as-of)")
    q.add_argument("--site")
    q.add_argument("--therapist")
    q.set_defaults(func=cmd_report_caseload)
    q = rsub.add_parser("cohort", help="the research cohort analysis (psychometrics, effect "
                        "sizes, provenance)")
    q.add_argument("--data", required=True)
    q.add_argument("--out", default="reports")
    q.add_argument("--instrument", default="demo-child")
    q.add_argument("--seed", type=int, default=None, help="bootstrap seed (default: the "
                   "package's, so reruns give the same numbers)")
    q.add_argument("--n-boot", type=int, default=None, help="bootstrap resamples per interval "
                   "(default: the package's)")
    q.add_argument("--pdf", action="store_true")
    q.add_argument("--wait", action="store_true", help="if another run is writing into the "
                   "output folder, wait for it (default: refuse)")
    q.set_defaults(func=cmd_report_cohort)
    q = rsub.add_parser("all", help="every child, the caseload report and the index")
    common(q, deid=False)
    q.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    q.add_argument("--cohort", action="store_true", help="also the cohort analysis")
    q.add_argument("--quiet", action="store_true", help="no progress bar")
    q.set_defaults(func=cmd_report_all)

    p = sub.add_parser("export", help="a de-identified copy of a dataset for research")
    p.add_argument("data", nargs="?", help="dataset folder or .xlsx workbook")
    p.add_argument("--out", help="new, empty output folder")
    p.add_argument("--key-file", help="secret key file (HMAC-SHA256 pseudonyms, date shifts)")
    p.add_argument("--new-key", metavar="KEY", help="create a new key file (owner-only)")
    p.add_argument("--no-dates", action="store_true", help="days since intake instead of "
                   "shifted dates")
    p.add_argument("--keep-sites", action="store_true", help="keep site and therapist names")
    p.add_argument("--today", type=_date_arg, default=None, help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("demo", help="score an example assessment for each shipped instrument")
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error (already printed)
        return int(exc.code or 0)
    try:
        if args.command == "report":
            from sensoryprofile.reports.batch import stop_on_signals

            with stop_on_signals():  # SIGINT/SIGTERM: clean up, exit 130/143
                return args.func(args)
        return args.func(args)
    except Interrupted as stop:
        if stop.batch is not None:
            from sensoryprofile.reports.batch import format_summary

            _out(format_summary(stop.batch))
        _err(f"sensoryprofile: interrupted ({'SIGINT' if stop.exit_code == 130 else 'SIGTERM'}); "
             "what finished is in the index, nothing partial is left")
        return stop.exit_code
    except UsageError as exc:
        _err(f"sensoryprofile: error: {exc}")
        return EXIT_USAGE
    except DataProblemsError as exc:
        _err(f"sensoryprofile: {exc}")
        return EXIT_PROBLEMS
    except InstrumentError as exc:
        _err(f"sensoryprofile: {exc}")
        return EXIT_PROBLEMS
    except SensoryProfileError as exc:
        _err(f"sensoryprofile: {exc}")
        return EXIT_PROBLEMS
    except BrokenPipeError:  # output piped into a program that stopped reading
        return EXIT_OK
    except Exception as exc:  # a bug, not the user's doing: say so, briefly
        if os.environ.get("SENSORYPROFILE_DEBUG"):
            raise
        _err(f"sensoryprofile: internal error ({type(exc).__name__}: {exc}). This is a bug in "
             "sensoryprofile; rerun with SENSORYPROFILE_DEBUG=1 for the traceback and report "
             "it (without any child's data).")
        return EXIT_PROBLEMS
    except KeyboardInterrupt:
        _err("sensoryprofile: interrupted")
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
