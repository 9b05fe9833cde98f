"""Command-line interface: ``sensoryprofile`` (or ``python -m sensoryprofile``).

Exit codes: 0 success, 1 data problems found, 2 usage errors. Nothing a user
can cause ends in a Python traceback: package errors are printed as one clear
message.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

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

if TYPE_CHECKING:  # pandas is imported by the commands that use it: start-up stays quick
    import pandas as pd

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
def _dataset_folders(data) -> tuple:
    """A dataset's own instruments/ folder (for a workbook: beside it)."""
    if not data:
        return ()
    path = Path(data)
    return ((path if path.is_dir() else path.parent) / "instruments",)


def cmd_instruments_list(args) -> int:
    import pandas as pd

    from sensoryprofile.instruments import SHIPPED, clinic_folders, registered_instruments

    rows = []
    for entry in registered_instruments(_dataset_folders(args.data)):
        inst = entry.instrument
        source = "shipped with the package" if entry.source == SHIPPED else entry.source
        if inst is None:
            rows.append({"id": Path(entry.source).stem, "version": "", "respondents": "",
                         "ages": "", "items": "", "scores": "", "clinical use": "",
                         "status": f"INVALID ({len(entry.problems)} problem(s))",
                         "source": source})
            continue
        rows.append({"id": inst.id, "version": inst.version,
                     "respondents": ", ".join(inst.respondents), "ages": inst.age_text,
                     "items": len(inst.items), "scores": len(inst.scores),
                     "clinical use": "yes" if inst.clinical_use else "NO (demonstration)",
                     "status": (f"not used: {entry.shadowed_by} comes first"
                                if entry.shadowed_by else "ok"),
                     "source": source})
    _out(pd.DataFrame(rows).fillna("").to_string(index=False))
    folders = clinic_folders(_dataset_folders(args.data))
    _out("\nClinic forms are read from: " + (", ".join(str(f) for f in folders) or "no folder")
         + ". Register a licensed form's definition file in a dataset's instruments/ folder, "
         "with --instruments DIR, or in SENSORYPROFILE_INSTRUMENTS (see the README, \"Using "
         "your clinic's licensed form\"); check it with `sensoryprofile instruments check "
         "FILE`.")
    invalid = [e for e in registered_instruments(_dataset_folders(args.data)) if e.problems]
    for entry in invalid:
        _out(f"\n{entry.source}: invalid, {len(entry.problems)} problem(s):")
        for problem in entry.problems:
            _out(f"  {problem}")
    return EXIT_PROBLEMS if invalid else EXIT_OK


def cmd_instruments_show(args) -> int:
    import pandas as pd

    from sensoryprofile.instruments import MeanSD, load_instrument

    inst = load_instrument(args.instrument, search_dirs=_dataset_folders(args.data))
    _out(f"{inst.name}")
    _out(f"  id {inst.id}, version {inst.version}, answered by {', '.join(inst.respondents)}, "
         f"ages {inst.age_text}, direction {inst.direction}")
    scheme = inst.scheme
    _out(f"  classification: {' / '.join(lv.label for lv in scheme.by_ordinal)}"
         + (" (one-sided: from typical outward)" if scheme.one_sided else ""))
    _out("  scores: " + ", ".join(f"{s.id} ({s.kind})" for s in inst.scores)
         + "; shown by default: " + ", ".join(s.id for s in inst.primary_scores))
    if not inst.clinical_use:
        _out("  DEMONSTRATION FORM: not validated, not for clinical use.")
    _out(f"  licence: {inst.licence}")
    if inst.fhir_questionnaire:
        _out(f"  FHIR Questionnaire: {inst.fhir_questionnaire}")
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

    result = check_instrument(args.file, cache=False)  # the user asked for a check
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
    import pandas as pd
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


def cmd_score(args) -> int:
    if Path(args.assessments).is_dir():
        return _score_parquet(args)
    if args.scheduler is not None or args.dask_workers is not None:
        raise UsageError("--scheduler and --dask-workers score a Parquet dataset (a folder "
                         f"of .parquet partitions); {args.assessments} is a file")
    from sensoryprofile.data.assessments import score_assessments
    from sensoryprofile.data.dataset import days_to_dates, identifying_values
    from sensoryprofile.data.validation import (
        NOTED,
        ROW_REJECTED,
        ValidationReport,
        hide_identifying,
    )

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
    scores = hide_identifying(scores, report)
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


def _score_parquet(args) -> int:
    """`score FOLDER --out DIR`: a Parquet dataset, partition by partition (on a
    Dask cluster with --scheduler/--dask-workers)."""
    import contextlib

    from sensoryprofile.data.partitioned import require_pyarrow, score_parquet

    if not args.out:
        raise UsageError(f"{args.assessments} is a Parquet dataset: give --out DIR, a new "
                         "folder for the scores (one Parquet file per partition)")
    require_pyarrow()
    children = None
    if args.children:
        from sensoryprofile.data.tables import read_rows

        children = read_rows(args.children).frame
    spec = _cluster(args)
    with contextlib.ExitStack() as stack:
        client = None
        if spec is not None:
            from sensoryprofile.data.dask_client import open_client

            client = stack.enter_context(open_client(spec))
        result = score_parquet(args.assessments, args.out, instrument=args.instrument,
                               children=children, client=client, progress=not args.quiet)
    where = "" if spec is None else f" on {result.workers} Dask worker(s)"
    scored = sum(p.rows for p in result.parts if p.error is None)
    _out(f"wrote {result.score_rows} score rows for {scored} assessment(s) in "
         f"{len(result.parts)} partition(s) to {result.out}{where}, in {result.seconds:.1f} s")
    if result.skipped:
        _err(f"not read: {', '.join(result.skipped)} (not Parquet partitions: a partition's "
             "name ends in .parquet)")
    problems = result.problems
    if problems:
        _err(f"\n{len(problems)} problem(s) in the input:")
        for problem in problems:
            _err(f"  {problem}")
    for part in result.failed:
        _err(f"FAILED {part.error}")
    return EXIT_PROBLEMS if problems or result.failed else EXIT_OK


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
    if args.format != "csv":
        return _sample_system(args)
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
    import pandas as pd

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
    from sensoryprofile.measures.change import primary_rows, sensory_change

    dataset = _load_for_analysis(args)
    table = sensory_change(dataset, child_id=args.child)
    if args.out:
        write_csv_atomic(table, args.out)
        _out(f"wrote {len(table)} comparison row(s) to {args.out}")
    else:
        cols = [C.CHILD_ID, C.INSTRUMENT, C.RESPONDENT, C.SCORE, C.COMPARISON, C.FROM_DATE,
                C.TO_DATE, C.RAW_CHANGE, C.RCI, C.RELIABLE, C.BAND_TRANSITION, C.DIRECTION,
                C.NOT_COMPARED_REASON]
        # each form's primary scores (quadrants, or its sections and total)
        shown = table if args.all_scores else table[primary_rows(table, dataset.instruments)]
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

    if not args.family and (args.lang != "en" or args.strategies):
        raise UsageError("--lang and --strategies are for the family reports: add --family")
    cluster = _cluster(args)
    with _warnings_printed():
        jobs = 1 if args.jobs is None else args.jobs
        batch = render_children(args.data, out_dir=args.out, jobs=jobs, pdf=args.pdf,
                                as_of=args.as_of, deidentify=args.deidentify,
                                progress=not args.quiet, key_file=args.key_file,
                                wait=args.wait, family=args.family, lang=args.lang,
                                strategies=args.strategies, cluster=cluster)
    _out(format_summary(batch))
    return EXIT_PROBLEMS if batch.failed else EXIT_OK


def _cluster(args):
    """The Dask cluster of ``--scheduler``/``--dask-workers`` (None: the local
    batch, which needs no Dask)."""
    if getattr(args, "scheduler", None) is None and getattr(args, "dask_workers", None) is None:
        return None
    from sensoryprofile.data.dask_client import ClusterSpec, require_dask

    spec = ClusterSpec.from_args(args.scheduler, args.dask_workers)
    if getattr(args, "jobs", None) is not None:
        raise UsageError("--jobs is for local worker processes: with --scheduler or "
                         "--dask-workers the cluster's workers render (leave out --jobs)")
    require_dask()
    return spec


def _cluster_options(q) -> None:
    g = q.add_argument_group("on a Dask cluster (needs the `dask` extra; README: Running on "
                             "a cluster)")
    g.add_argument("--scheduler", metavar="ADDRESS", help="an existing dask.distributed "
                   "scheduler, e.g. tcp://host:8786 (its workers must see the data and the "
                   "output folder at the same paths)")
    g.add_argument("--dask-workers", type=int, metavar="N", help="start a local Dask cluster "
                   "of N worker processes for this command")


def cmd_report_caseload(args) -> int:
    from sensoryprofile.reports.lock import output_lock
    from sensoryprofile.reports.render import render_caseload

    with output_lock(args.out, wait=args.wait):
        result = render_caseload(args.data, out_dir=args.out, as_of=args.as_of,
                                 period_start=args.period_start, period_end=args.period_end,
                                 site=args.site, therapist=args.therapist, pdf=args.pdf)
        for path in result.files:
            _out(f"wrote {path}")
        from sensoryprofile.reports.index import write_index  # pandas: after the kernel started

        write_index(Path(args.out), data_dir=args.data, as_of=args.as_of)
    return EXIT_OK


def cmd_report_cohort(args) -> int:
    from sensoryprofile.reports.index import write_index
    from sensoryprofile.reports.lock import output_lock
    from sensoryprofile.reports.render import forms_in, render_cohorts

    if args.instrument:  # checked here, before a kernel starts
        from sensoryprofile.data.dataset import load_dataset_cached

        present = forms_in(load_dataset_cached(args.data))
        if args.instrument not in present:
            raise UsageError(f"--instrument {args.instrument!r}: the dataset has no accepted "
                             "assessment on this form, so there is no cohort to analyse "
                             f"(forms with assessments: {', '.join(present) or 'none'})")
    with output_lock(args.out, wait=args.wait):
        results = render_cohorts(args.data, out_dir=args.out,
                                 instruments=[args.instrument] if args.instrument else None,
                                 seed=args.seed, n_boot=args.n_boot, pdf=args.pdf)
        for result in results:
            for path in result.files:
                _out(f"wrote {path}")
        if not results:
            _out("No questionnaire in the data: no cohort analysis to run.")
        write_index(Path(args.out), data_dir=args.data)
    return EXIT_OK


def cmd_report_all(args) -> int:
    """Every child, the caseload report and the index (the cohort analysis too
    with --cohort)."""
    from sensoryprofile.reports.batch import format_summary, render_children
    from sensoryprofile.reports.lock import output_lock
    from sensoryprofile.reports.render import ClinicReports

    start = time.perf_counter()
    cluster = _cluster(args)
    with output_lock(args.out, wait=args.wait):
        jobs = 2 if args.jobs is None else args.jobs
        clinic = ClinicReports(args.data, out_dir=args.out, as_of=args.as_of, pdf=args.pdf,
                               cohort=args.cohort)
        # with worker processes rendering the children, the clinic's reports
        # render meanwhile in a kernel of their own (a core would otherwise sit
        # idle while the last children finish, and again during the clinic's
        # reports); one kernel in this process, or a Dask cluster, renders
        # them after the children, as before
        alongside = cluster is None and jobs > 1
        try:
            if alongside:
                clinic.start()
            batch = render_children(args.data, out_dir=args.out, jobs=jobs, pdf=args.pdf,
                                    as_of=args.as_of, progress=not args.quiet, cluster=cluster)
            clinic.finish()  # renders them now unless they were started above
        except BaseException:
            clinic.stop()
            raise
        failed = list(batch.failed)
        for name, error in clinic.outcomes:
            if error is None:
                _out(f"Rendered the {name} report.")
            else:
                failed.append(error)
                _err(f"FAILED {name} report: {error}")
        from sensoryprofile.reports.index import write_index

        batch.index = write_index(Path(args.out), batch.results, data_dir=args.data,
                                  as_of=args.as_of)
    _out(format_summary(batch))
    _out(f"All reports in {time.perf_counter() - start:.1f} s.")
    return EXIT_PROBLEMS if failed else EXIT_OK


def cmd_export(args) -> int:
    from sensoryprofile.data.export import export_deidentified, new_key

    if args.new_key:
        path = new_key(args.new_key)
        _out(f"wrote a new key to {path} (readable by you only). Keep it secret and keep it: "
             "the same key gives the same pseudonyms in later exports.")
        if not args.data:
            return EXIT_OK
    if args.strict:
        if not args.data or not args.out or not args.linkage:
            raise UsageError("export --strict needs DATA, --out DIR and --linkage FILE (a new "
                             "file outside DIR that receives the table of original IDs and "
                             "study codes, kept by the clinic)")
    elif not args.data or not args.out or not args.key_file:
        raise UsageError("export needs DATA, --out DIR and --key-file KEY (or only "
                         "--new-key KEY to create a key), or --strict with --linkage FILE")
    elif args.linkage:
        raise UsageError("--linkage belongs to --strict; a keyed export links through its key")
    manifest = export_deidentified(args.data, args.out, key_file=args.key_file,
                                   no_dates=args.no_dates, keep_sites=args.keep_sites,
                                   strict=args.strict, linkage_file=args.linkage,
                                   today=args.today)
    if manifest.strict:
        _out(f"wrote a strict (HIPAA Safe Harbor) de-identified dataset to {args.out} (see "
             "MANIFEST.md there): years only, random study codes, no key")
        _out(f"wrote the linkage table to {args.linkage} (readable by you only): keep it at "
             "the clinic, never with the export; it is the only way back to the children")
    else:
        _out(f"wrote a keyed de-identified dataset to {args.out} (see MANIFEST.md there): a "
             "limited data set (share under a data use agreement), not Safe Harbor; "
             "--strict makes a Safe Harbor export")
    for table, info in manifest.tables.items():
        _out(f"  {table:<13} {info.rows_in:>6} rows in, {info.rows_out:>6} out")
    return EXIT_OK


# ---------------------------------------------------------------------------
# family reports and strategy libraries (issue #16)
# ---------------------------------------------------------------------------
@contextlib.contextmanager
def _warnings_printed():
    """Package warnings (a missing translation) as one 'warning:' line each on
    stderr, not Python's file:line form."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            seen = set()
            for w in caught:
                text = str(w.message)
                if text not in seen and issubclass(w.category, UserWarning):
                    seen.add(text)
                    _err(f"sensoryprofile: warning: {text}")


def cmd_report_family(args) -> int:
    from sensoryprofile.ids import check_id
    from sensoryprofile.reports.render import render_family

    check_id(args.child_id)
    with _warnings_printed():
        result = render_family(args.data, args.child_id, out_dir=args.out, as_of=args.as_of,
                               lang=args.lang, strategies=args.strategies, pdf=args.pdf,
                               wait=args.wait)
    for path in result.files:
        _out(f"wrote {path}")
    _out(f"{result.pages} printed page(s)")
    return EXIT_OK


def cmd_strategies_check(args) -> int:
    from sensoryprofile.reports.strategies import check_strategies

    result = check_strategies(args.file)
    for message in result.errors:
        _out(f"error: {message}")
    if result.ok:
        lib = result.library
        counts = ", ".join(f"{n} {part}" for part, n in lib.counts().items())
        _out(f"{Path(args.file).name}: valid ({len(lib)} strategies in {lib.language!r}: "
             f"{counts}; mode {lib.mode})")
        return EXIT_OK
    _out(f"{Path(args.file).name}: invalid, {len(result.errors)} problem(s)")
    return EXIT_PROBLEMS


def cmd_strategies_list(args) -> int:
    from sensoryprofile.reports.i18n import available_languages
    from sensoryprofile.reports.strategies import shipped_languages, shipped_library

    _out("Languages of the family report (gettext catalogs): "
         + ", ".join(available_languages()))
    for lang in shipped_languages():
        lib = shipped_library(lang)
        counts = ", ".join(f"{n} {part}" for part, n in lib.counts().items())
        _out(f"  strategies {lang}: {len(lib)} ({counts})")
        if args.entries:
            for s in lib.entries():
                _out(f"    {s.id:<28} {s.key:<34} {s.title}")
    return EXIT_OK


def _family_options(q, *, batch: bool) -> None:
    """--lang and --strategies (and, for a batch, --family)."""
    if batch:
        q.add_argument("--family", action="store_true", help="render the family reports "
                       "(plain words, ideas for home) instead of the clinical ones")
    q.add_argument("--lang", default="en", help="the family's language (default en; "
                   "`sensoryprofile strategies list` shows the languages)")
    q.add_argument("--strategies", metavar="FILE", help="a clinic's strategy library (YAML) "
                   "replacing or extending the shipped ideas for home")


def _add_family_parsers(sub, rsub, common) -> None:
    q = rsub.add_parser("family", help="one child's report for the family, in the family's "
                        "language (out/family/ID/LANG/)")
    q.add_argument("child_id")
    common(q, deid=False)
    _family_options(q, batch=False)
    q.set_defaults(func=cmd_report_family)

    p = sub.add_parser("strategies", help="check a clinic's strategy library, list the "
                       "shipped ones")
    ssub = p.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser)
    ssub.required = True
    q = ssub.add_parser("check", help="validate a strategy file (exit 0 valid, 1 invalid)")
    q.add_argument("file")
    q.set_defaults(func=cmd_strategies_check)
    q = ssub.add_parser("list", help="languages and the shipped strategies per language")
    q.add_argument("--entries", action="store_true", help="also list every entry")
    q.set_defaults(func=cmd_strategies_list)


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
# imports from clinic systems (REDCap, FHIR) and the FHIR export (issue #15)
# ---------------------------------------------------------------------------
def _redcap_files(args) -> tuple[Path | None, Path | None, Path | None]:
    """(records, dictionary, mapping): SOURCE is a records CSV or a folder
    holding records.csv, dictionary.csv and mapping.yaml."""
    records = Path(args.source) if args.source else None
    dictionary = Path(args.dictionary) if args.dictionary else None
    mapping = Path(args.mapping) if args.mapping else None
    if records is not None and records.is_dir():
        folder = records
        records = folder / "records.csv"
        dictionary = dictionary or folder / "dictionary.csv"
        mapping = mapping or folder / "mapping.yaml"
    return records, dictionary, mapping


def _import_summary(dataset, report, out) -> int:
    counts = ", ".join(f"{len(getattr(dataset, t))} {t.replace('_', ' ')}"
                       for t in ("children", "assessments", "goals", "goal_ratings"))
    _out(f"wrote a dataset to {out}: {counts} accepted")
    _out("")
    _out(report.format_text())
    return EXIT_PROBLEMS if report.problems else EXIT_OK


def _write_import_report(report, path) -> None:
    from sensoryprofile.data.tables import write_csv_atomic

    write_csv_atomic(report.to_frame(), path)
    _out(f"report written to {path}")


def _sample_system(args) -> int:
    """`sample --format redcap|fhir`: the sample clinic as a clinic system exports it."""
    if args.format == "redcap":
        from sensoryprofile.synthetic.redcap import write_redcap_sample

        written = write_redcap_sample(args.out, n_children=args.children, seed=args.seed)
    else:
        from sensoryprofile.synthetic.fhir import write_fhir_sample

        written = write_fhir_sample(args.out, n_children=args.children, seed=args.seed)
    for path in written.values():
        _out(f"wrote {path}")
    return EXIT_OK


def _import_redcap_api(args, mapping_path) -> int:
    """`import redcap --api-url URL`: download with PyCap, then the file route."""
    import tempfile

    from sensoryprofile.data.imported import check_output_folder
    from sensoryprofile.data.redcap import TOKEN_VARIABLE, download_redcap

    token = os.environ.get(TOKEN_VARIABLE, "").strip()
    if not token:
        raise UsageError(f"--api-url needs the project's API token in the environment "
                         f"variable {TOKEN_VARIABLE} (never on the command line)")
    if args.source or args.dictionary:
        raise UsageError("--api-url downloads the records and the dictionary: give no "
                         "RECORDS and no --dictionary with it")
    if mapping_path is None and not args.draft_mapping:
        raise UsageError("--api-url needs --mapping FILE (or --draft-mapping FILE)")
    if args.out:
        check_output_folder(args.out)
    with tempfile.TemporaryDirectory(prefix="sensoryprofile-redcap-") as tmp:
        folder = Path(args.keep_export) if args.keep_export else Path(tmp)
        files = download_redcap(args.api_url, token, folder)
        _out(f"downloaded the records and the data dictionary from {args.api_url}"
             + (f" into {folder}" if args.keep_export else ""))
        args.api_url = None
        args.source, args.dictionary = str(files["records"]), str(files["dictionary"])
        return cmd_import_redcap(args)


def cmd_import_redcap(args) -> int:
    from sensoryprofile.data.redcap_dictionary import load_mapping, read_dictionary

    records, dictionary_path, mapping_path = _redcap_files(args)
    if args.api_url:
        return _import_redcap_api(args, mapping_path)
    if dictionary_path is None:
        raise UsageError("import redcap needs --dictionary FILE (the project's data "
                         "dictionary CSV), or a SOURCE folder holding dictionary.csv")
    from sensoryprofile.instruments import clinic_folders

    # --instruments (taken by main() for every command) and SENSORYPROFILE_INSTRUMENTS
    search = clinic_folders(tuple(Path(d) for d in (args.instruments or [])))
    if args.draft_mapping:
        from sensoryprofile.data.redcap import EVENT, read_records
        from sensoryprofile.data.redcap_draft import draft_mapping, mapping_yaml
        from sensoryprofile.data.tables import write_text_atomic
        from sensoryprofile.instruments import list_instruments, load_instrument

        dictionary = read_dictionary(dictionary_path)
        instruments = list_instruments() + [load_instrument(p) for d in search
                                            for p in sorted(d.glob("*.y*ml"))]
        events = None
        if records is not None and records.exists():
            frame = read_records(records)
            if EVENT in frame.columns:
                events = list(dict.fromkeys(frame[EVENT].dropna().str.strip()))
        data, unmatched = draft_mapping(dictionary, instruments, events=events)
        write_text_atomic(mapping_yaml(data, unmatched), args.draft_mapping)
        forms = ", ".join(f"{a['form']} = {a['instrument']}" for a in data["assessments"])
        _out(f"wrote a draft mapping to {args.draft_mapping}")
        _out(f"  children: form {data['children']['form']}; instruments: {forms or 'none'}")
        if "goals" in data:
            _out(f"  goals: form {data['goals']['form']}"
                 + (f"; ratings: form {data['goal_ratings']['form']}"
                    if "goal_ratings" in data else ""))
        if unmatched:
            _out(f"  {len(unmatched)} field(s) not matched (listed at the end of the file):")
            for line in unmatched[:20]:
                _out(f"    {line}")
            if len(unmatched) > 20:
                _out(f"    ... and {len(unmatched) - 20} more")
        _out("Read it and correct it before importing: a draft is not a checked mapping.")
        return EXIT_OK
    if records is None or mapping_path is None or not args.out:
        raise UsageError("import redcap needs RECORDS (or a folder), --mapping FILE and --out "
                         "DIR (or --draft-mapping FILE to write a first mapping)")
    from sensoryprofile.data.imported import check_output_folder, write_imported_dataset
    from sensoryprofile.data.redcap import import_redcap

    check_output_folder(args.out)
    dictionary = read_dictionary(dictionary_path)
    mapping = load_mapping(mapping_path, dictionary, search_dirs=search)
    imported = import_redcap(records, dictionary, mapping, min_status=args.min_status)
    dataset, report = write_imported_dataset(imported, args.out, today=args.today)
    if args.report:
        _write_import_report(report, args.report)
    return _import_summary(dataset, report, args.out)


def cmd_import_fhir(args) -> int:
    from sensoryprofile.data.fhir import import_fhir
    from sensoryprofile.data.imported import check_output_folder, write_imported_dataset

    check_output_folder(args.out)
    from sensoryprofile.instruments import clinic_folders

    # --instruments (taken by main() for every command) and SENSORYPROFILE_INSTRUMENTS
    search = clinic_folders(tuple(Path(d) for d in (args.instruments or [])))
    imported = import_fhir(args.source, search_dirs=search,
                           child_id_system=args.child_id_system)
    dataset, report = write_imported_dataset(imported, args.out, today=args.today)
    if args.report:
        _write_import_report(report, args.report)
    return _import_summary(dataset, report, args.out)


def cmd_export_fhir(args) -> int:
    from sensoryprofile.data.dataset import load_dataset
    from sensoryprofile.data.fhir import export_bundle, write_bundle

    dataset = load_dataset(args.data, today=args.today)
    bundle = export_bundle(dataset, scores=not args.no_scores)
    write_bundle(bundle, args.out)
    kinds: dict[str, int] = {}
    for entry in bundle["entry"]:
        kind = entry["resource"]["resourceType"]
        kinds[kind] = kinds.get(kind, 0) + 1
    _out(f"wrote a FHIR R4 Bundle to {args.out} (validated with fhir.resources): "
         + ", ".join(f"{n} {k}" for k, n in kinds.items()))
    return _problem_note(dataset)


def export_fhir_parser() -> argparse.ArgumentParser:
    """`export fhir DATA --out FILE`: main() routes it here, since `export DATA` is
    the de-identified extract (a dataset folder named `fhir` is `./fhir` there)."""
    q = _Parser(prog="sensoryprofile export fhir", description=(
        "Write each scored administration as a QuestionnaireResponse and each score as an "
        "Observation (with the Patients, Goals and goal ratings) in a FHIR R4 Bundle."))
    q.add_argument("data", help="dataset folder or .xlsx workbook")
    q.add_argument("--out", required=True, help="Bundle JSON file to write")
    q.add_argument("--no-scores", action="store_true", help="leave out the score Observations")
    q.add_argument("--today", type=_date_arg, default=None, help=argparse.SUPPRESS)
    q.set_defaults(func=cmd_export_fhir)
    return q


def _add_import_parsers(sub) -> None:
    p = sub.add_parser("import", help="turn a clinic system's export into a dataset "
                       "(REDCap, FHIR)")
    isub = p.add_subparsers(dest="system", metavar="SYSTEM", parser_class=_Parser)
    isub.required = True
    q = isub.add_parser("redcap", help="a REDCap records export + data dictionary + mapping")
    q.add_argument("source", nargs="?", help="records CSV (raw or labelled values), or a "
                   "folder with records.csv, dictionary.csv and mapping.yaml")
    q.add_argument("--dictionary", help="the project's data dictionary CSV")
    q.add_argument("--mapping", help="mapping YAML (docs/redcap-import.md)")
    q.add_argument("--out", help="new, empty folder for the dataset")
    q.add_argument("--draft-mapping", metavar="FILE", help="write a first mapping drafted from "
                   "the dictionary (and the events of RECORDS, if given) instead of importing")
    q.add_argument("--min-status", choices=["complete", "unverified", "incomplete"],
                   default="complete", help="least form status imported (default: complete)")
    q.add_argument("--instruments", action="append", metavar="DIR", help="folder of "
                   "instrument definition files (repeatable)")
    q.add_argument("--report", metavar="CSV", help="also write the problems as CSV")
    q.add_argument("--api-url", metavar="URL", help="download the records and the dictionary "
                   "through the REDCap API (needs PyCap: the `redcap` extra; the token is "
                   "read from the environment variable REDCAP_API_TOKEN)")
    q.add_argument("--keep-export", metavar="DIR", help="with --api-url: keep the downloaded "
                   "records.csv and dictionary.csv in DIR")
    q.add_argument("--today", type=_date_arg, default=None, help=argparse.SUPPRESS)
    q.set_defaults(func=cmd_import_redcap)
    q = isub.add_parser("fhir", help="FHIR R4 resources: a Bundle (JSON) or NDJSON files")
    q.add_argument("source", help="Bundle JSON file, NDJSON file, or a folder of NDJSON files")
    q.add_argument("--out", required=True, help="new, empty folder for the dataset")
    q.add_argument("--instruments", action="append", metavar="DIR", help="folder of "
                   "instrument definition files (repeatable): their fhir.questionnaire URLs")
    q.add_argument("--child-id-system", metavar="URL", help="take child_id from the Patient "
                   "identifier of this system (default: the Patient id)")
    q.add_argument("--report", metavar="CSV", help="also write the problems as CSV")
    q.add_argument("--today", type=_date_arg, default=None, help=argparse.SUPPRESS)
    q.set_defaults(func=cmd_import_fhir)



# ---------------------------------------------------------------------------
def _date_arg(text: str):
    # a plain YYYY-MM-DD is read here, as to_date reads it, without importing
    # pandas: `report child --as-of` starts its kernel that much sooner
    day = text.strip()
    if len(day) == 10 and day[4] == day[7] == "-" and (day[:4] + day[5:7] + day[8:]).isdigit():
        with contextlib.suppress(ValueError):
            return datetime.date.fromisoformat(day)
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
    parser.add_argument("--instruments", metavar="DIR", action="append", help="a folder of "
                        "the clinic's instrument definition files, for every command "
                        "(repeatable; before or after the command; also "
                        "SENSORYPROFILE_INSTRUMENTS)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    p = sub.add_parser("instruments", help="list, show or check instrument definitions")
    isub = p.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser)
    isub.required = True
    q = isub.add_parser("list", help="every form found (the clinic's and the shipped ones) "
                        "and where it came from")
    q.add_argument("--data", help="also a dataset's own instruments/ folder")
    q.set_defaults(func=cmd_instruments_list)
    q = isub.add_parser("show", help="one instrument: scale, scores, norms")
    q.add_argument("instrument", help="id (a clinic's or shipped form) or path to a "
                   "definition file")
    q.add_argument("--data", help="also look in a dataset's own instruments/ folder")
    q.add_argument("--items", action="store_true", help="also list every item")
    q.set_defaults(func=cmd_instruments_show)
    q = isub.add_parser("check", help="validate a definition file (exit 0 valid, 1 invalid)")
    q.add_argument("file")
    q.set_defaults(func=cmd_instruments_check)

    p = sub.add_parser("score", help="score a CSV/XLSX of assessments, or a Parquet dataset")
    p.add_argument("assessments", help="assessments file: one row per assessment, one "
                   "column per item id; or a folder of Parquet partitions")
    p.add_argument("--children", help="children file (child_id, date_of_birth) for age at "
                   "assessment")
    p.add_argument("--instrument", help="shipped id or definition file; default: each row's "
                   "`instrument` column")
    p.add_argument("--out", help="write the tidy score table to this CSV instead of printing "
                   "(a Parquet dataset: a new folder, one Parquet file per partition)")
    p.add_argument("--quiet", action="store_true", help="no progress bar (Parquet datasets)")
    _cluster_options(p)
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
    p.add_argument("--format", choices=["csv", "redcap", "fhir"], default="csv",
                   help="csv: a dataset folder (default); redcap: a REDCap export "
                   "(data/sample-redcap); fhir: a FHIR R4 Bundle (data/sample-fhir)")
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
    p.add_argument("--all-scores", action="store_true", help="print every score, not only "
                   "those each form shows by default (its quadrants, or else its sections "
                   "and total)")
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
    q.add_argument("--jobs", type=int, default=None, help="worker processes (default 1)")
    q.add_argument("--quiet", action="store_true", help="no progress bar")
    _family_options(q, batch=True)
    _cluster_options(q)
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
    q.add_argument("--instrument", default=None, help="one form's id (default: every form "
                   "in the data, each in out/cohort/ID/: forms are never pooled)")
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
    q.add_argument("--jobs", type=int, default=None, help="worker processes (default 2)")
    q.add_argument("--cohort", action="store_true", help="also the cohort analysis of each "
                   "form in the data (out/cohort/ID/)")
    q.add_argument("--quiet", action="store_true", help="no progress bar")
    _cluster_options(q)
    q.set_defaults(func=cmd_report_all)

    _add_family_parsers(sub, rsub, common)

    p = sub.add_parser("export", help="a de-identified copy of a dataset for research ("
                       "`export fhir DATA --out FILE`: a FHIR R4 Bundle of the scores)")
    p.add_argument("data", nargs="?", help="dataset folder or .xlsx workbook")
    p.add_argument("--out", help="new, empty output folder")
    p.add_argument("--key-file", help="secret key file (HMAC-SHA256 pseudonyms, date shifts; "
                   "the default, keyed mode: a limited data set, not Safe Harbor)")
    p.add_argument("--new-key", metavar="KEY", help="create a new key file (owner-only)")
    p.add_argument("--no-dates", action="store_true", help="days since intake instead of "
                   "shifted dates")
    p.add_argument("--keep-sites", action="store_true", help="keep site and therapist names")
    p.add_argument("--strict", action="store_true", help="HIPAA Safe Harbor: years only, "
                   "random study codes (no key), no site or therapist (docs/privacy.md)")
    p.add_argument("--linkage", metavar="FILE", help="with --strict: new file outside --out "
                   "for the table of original IDs and study codes (kept by the clinic)")
    p.add_argument("--today", type=_date_arg, default=None, help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("demo", help="score an example assessment for each shipped instrument")
    p.set_defaults(func=cmd_demo)
    _add_import_parsers(sub)
    return parser


def _take_instruments(argv: list[str]) -> tuple[list[str], list[str]]:
    """``--instruments DIR`` (or ``--instruments=DIR``) anywhere in ``argv``:
    the folders, and the other arguments."""
    folders, rest = [], []
    items = iter(argv)
    for arg in items:
        if arg == "--instruments":
            folders.append(next(items, None))
        elif arg.startswith("--instruments="):
            folders.append(arg.split("=", 1)[1])
        else:
            rest.append(arg)
    return folders, rest


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    folders, argv = _take_instruments(argv)
    if not folders:
        return _main(argv)
    # --instruments holds for this command (and every process it starts) only
    saved = os.environ.get("SENSORYPROFILE_INSTRUMENTS")
    try:
        return _main(argv, folders)
    finally:
        if saved is None:
            os.environ.pop("SENSORYPROFILE_INSTRUMENTS", None)
        else:
            os.environ["SENSORYPROFILE_INSTRUMENTS"] = saved


def _main(argv: list[str], folders: list | None = None) -> int:
    if folders:
        from sensoryprofile.instruments import add_clinic_folders

        try:
            if None in folders or "" in folders:
                raise UsageError("--instruments needs a folder: --instruments DIR")
            add_clinic_folders(folders)
        except UsageError as exc:
            _err(f"sensoryprofile: error: {exc}")
            return EXIT_USAGE
    if argv[:2] == ["export", "fhir"]:
        parser, argv = export_fhir_parser(), argv[2:]
    else:
        parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error (already printed)
        return int(exc.code or 0)
    try:
        if getattr(args, "command", None) == "report":
            from sensoryprofile.errors import stop_on_signals

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


#: Modules a command never uses but a library imports when they are installed:
#: pandera imports ``hypothesis`` (for its data-synthesis strategies), and with
#: it trio's and pytest's test helpers, which costs about 0.7 s per command in
#: an environment that has the test tools. Marking them absent makes pandera
#: skip them, as on a user's machine.
NEVER_USED = ("hypothesis",)


def run() -> None:
    """The console script (and ``python -m sensoryprofile``): :func:`main`,
    then exit without the interpreter's last full garbage collection.

    That collection walks every object pandas, matplotlib and Jupyter left
    behind (0.3 to 0.4 s after a report) to free memory the process is about
    to give back anyway. Freezing moves them out of the collector's reach;
    files, kernels and locks are already closed by then, and ``atexit``
    handlers and module teardown still run. ``main`` itself collects as usual,
    so a test or a program calling it in-process is unaffected."""
    import gc

    for name in NEVER_USED:
        sys.modules.setdefault(name, None)
    code = main()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    run()
