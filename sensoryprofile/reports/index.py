"""The front page of a reports folder (``index.html``): one row per child with
the figures a therapist looks for first, links to every report, and the
children that have none, with the reason.

The figures come from :func:`sensoryprofile.analysis.overview.child_overview`;
this module only words them (:func:`index_rows`, tested on its own) and lays
out the page (``templates/index/``: a Jinja template, its style sheet and its
script, all copied into the page: it opens from ``file://``, offline, with no
server and nothing fetched). The table sorts by any column and filters by
therapist, site and free text; without JavaScript it is complete and in the
dataset's order.

A de-identified run (``report children --deidentify``) writes an index that
shows pseudonyms only: no ID, therapist or site of the clinic's, no calendar
date (the latest questionnaire is "month N" since referral), rows in the
order of the pseudonyms (never the clinic's order), no failure message (it
may quote an ID), and no link to the clinic-level reports, which name
children, therapists and sites.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sensoryprofile import __version__
from sensoryprofile import columns as C
from sensoryprofile.analysis import overview as O
from sensoryprofile.analysis.groups import as_of_date
from sensoryprofile.data.tables import write_text_atomic
from sensoryprofile.dates import months_between
from sensoryprofile.errors import SensoryProfileError
from sensoryprofile.reports.formatting import age_text, is_missing, long_date, number
from sensoryprofile.reports.render import NOT_RENDERED, TEMPLATE_DIR, RenderResult, short_text

INDEX_TEMPLATE_DIR = TEMPLATE_DIR / "index"

#: The status of a child's row.
STATUS_RENDERED = "rendered"
STATUS_NO_REPORT = "no report in this folder"
STATUS_EARLIER = "report from an earlier run (not in this dataset)"

#: Sort rank of each reassessment state (most urgent first).
_URGENCY = {state: k for k, state in enumerate(O.REASSESSMENT_STATES)}


@dataclass
class Link:
    """A link of a row: ``href`` relative to the index, the text shown and
    what a screen reader says (the text alone would be "PDF", "PDF", ...)."""

    href: str
    text: str
    label: str


@dataclass
class Cell:
    """A table cell: the text shown and the key the table sorts it by
    (numbers sort as numbers; an empty key sorts last)."""

    text: str
    sort: str = ""
    css: str = ""


@dataclass
class IndexRow:
    """One child's row of the index page."""

    name: str
    therapist: Cell
    site: Cell
    age: Cell
    latest: Cell
    reassessment: Cell
    t_score: Cell
    t_change: Cell
    reliable: Cell
    status: Cell
    report: Link | None = None
    links: list[Link] = field(default_factory=list)
    #: the reassessment state (:data:`~sensoryprofile.analysis.overview.REASSESSMENT_STATES`)
    state: str = ""

    @property
    def search_text(self) -> str:
        """What the free-text filter searches: every word of the row."""
        words = [self.name, self.therapist.text, self.site.text, self.age.text,
                 self.latest.text, self.reassessment.text, self.reliable.text,
                 self.status.text, *(link.text for link in self.links)]
        return " ".join(w for w in words if w).casefold()


# ---------------------------------------------------------------------------
# wording the figures
# ---------------------------------------------------------------------------
def _sort_number(value, digits: int = 3) -> str:
    return "" if is_missing(value) else f"{float(value):.{digits}f}"


def _iso(value) -> str:
    return "" if is_missing(value) else pd.Timestamp(value).date().isoformat()


def reassessment_cell(row: pd.Series, as_of, *, deidentify: bool = False) -> Cell:
    """Whether the child is due a questionnaire on ``as_of``, in words; sorted
    most urgent first (longest overdue first, then the soonest due). The key
    counts days from ``as_of``, never a calendar date."""
    state = row[C.REASSESSMENT]
    due = row[C.DUE_DATE]
    dated = not deidentify and not is_missing(due)
    rank = _URGENCY.get(state, len(_URGENCY))
    key = ("" if is_missing(due) else
           f"{rank}|{(pd.Timestamp(due) - pd.Timestamp(as_of)).days + 100000:06d}")
    if state == O.OVERDUE:
        days = int(row[C.DAYS_OVERDUE])
        text = f"Overdue by {days} day{'s' if days != 1 else ''}"
        text += f" (due {long_date(due)})" if dated else ""
        return Cell(text, key, "sp-overdue")
    if state == O.DUE_SOON:
        return Cell(f"Due soon ({long_date(due)})" if dated else "Due soon", key, "sp-due")
    if state == O.NOT_DUE:
        return Cell(f"Not due until {long_date(due)}" if dated else "Not due", key)
    text = {O.NO_QUESTIONNAIRE: "No questionnaire yet", O.DISCHARGED: "Discharged",
            O.NOT_REFERRED: "Not yet referred"}.get(state, str(state))
    return Cell(text, f"{rank}|", "sp-overdue" if state == O.NO_QUESTIONNAIRE else "")


def reliable_cell(row: pd.Series) -> Cell:
    """Reliable change between the latest questionnaire and the one before
    (the series the child's report shows), in words; sorted by the number of
    scores that moved reliably toward typical less those that moved away."""
    if is_missing(row[C.LAST_ASSESSMENT]):
        return Cell("No questionnaire")
    if is_missing(row[C.FROM_DATE]):
        return Cell("Only one questionnaire")
    compared = int(row[C.N_COMPARED])
    if not compared:
        return Cell("Not compared (scores missing)")
    toward, away = int(row[C.N_RELIABLE_TOWARD]), int(row[C.N_RELIABLE_AWAY])
    within = int(row[C.N_RELIABLE_WITHIN])
    other = int(row[C.N_RELIABLE]) - toward - away - within
    parts = [f"{n} {words}" for n, words in ((toward, "toward typical"),
                                             (away, "away from typical"),
                                             (within, "within typical"),
                                             (other, "with no classification to judge "
                                                     "the direction")) if n]
    text = (", ".join(parts) if parts else "None reliable") + f" (of {compared})"
    return Cell(text, f"{toward - away:+d}", "sp-away" if away > toward else "")


def latest_cell(row: pd.Series, *, deidentify: bool = False) -> Cell:
    """The latest questionnaire's date, or months since referral when de-identified."""
    when = row[C.LAST_ASSESSMENT]
    if is_missing(when):
        return Cell("None yet")
    if deidentify:
        months = months_between(row[C.REFERRAL_DATE], when)
        return Cell(f"month {months}", f"{months:05d}")
    return Cell(long_date(when), _iso(when))


def figure_cells(row: pd.Series | None, as_of=None, *, deidentify: bool = False
                 ) -> dict[str, Cell]:
    """The figure cells of a child's row on ``as_of`` (empty for a child the
    data do not hold)."""
    if row is None:
        return {key: Cell("") for key in ("therapist", "site", "age", "latest", "reassessment",
                                          "t_score", "t_change", "reliable")}
    t, change = row[C.T_SCORE], row[C.T_CHANGE]
    return {
        "therapist": Cell("" if deidentify else str(row[C.THERAPIST])),
        "site": Cell("" if deidentify else str(row[C.SITE])),
        "age": Cell(age_text(row[C.AGE_MONTHS]), _sort_number(row[C.AGE_MONTHS], 0)),
        "latest": latest_cell(row, deidentify=deidentify),
        "reassessment": reassessment_cell(row, as_of, deidentify=deidentify),
        "t_score": (Cell("No review yet") if is_missing(t)
                    else Cell(number(t, 0), _sort_number(t))),
        "t_change": (Cell("") if is_missing(change)
                     else Cell(number(change, 0, signed=True).replace("-", "\u2212"),
                               _sort_number(change))),
        "reliable": reliable_cell(row),
    }


def _state(row: pd.Series | None) -> str:
    return "" if row is None else str(row[C.REASSESSMENT])


def due_summary(rows: list[IndexRow]) -> str:
    """How many children are overdue, due soon, without a questionnaire:
    "2 children are overdue for a questionnaire, 3 due within a month, 1 has
    none yet." (empty when the rows have no figures)."""
    counts = {state: sum(row.state == state for row in rows) for state in O.REASSESSMENT_STATES}
    if not any(row.state for row in rows):
        return ""
    late, soon, none = counts[O.OVERDUE], counts[O.DUE_SOON], counts[O.NO_QUESTIONNAIRE]
    return (f"{late} {'child is' if late == 1 else 'children are'} overdue for a "
            f"questionnaire, {soon} due within {O.DUE_SOON_MONTHS} month"
            f"{'s' if O.DUE_SOON_MONTHS != 1 else ''}, {none} without a questionnaire yet.")


def report_links(out_dir: Path, name: str, *, family: bool = True) -> tuple[Link | None,
                                                                           list[Link]]:
    """The child's report (HTML), and the other files beside it: the PDF and,
    unless ``family`` is False, the family reports in each language."""
    report, links = None, []
    folder = out_dir / "children" / name
    if (folder / "report.html").is_file():
        report = Link(f"children/{name}/report.html", name, f"Report of {name} (HTML)")
    if (folder / "report.pdf").is_file():
        links.append(Link(f"children/{name}/report.pdf", "PDF", f"Report of {name} (PDF)"))
    if family:
        for page in sorted((out_dir / "family" / name).glob("*/report.html")):
            lang = page.parent.name
            if lang.startswith("."):
                continue
            links.append(Link(f"family/{name}/{lang}/report.html", f"family ({lang})",
                              f"Family report of {name}, language {lang}"))
            if (page.parent / "report.pdf").is_file():
                links.append(Link(f"family/{name}/{lang}/report.pdf", f"family PDF ({lang})",
                                  f"Family report of {name}, language {lang} (PDF)"))
    return report, links


def _status(result: RenderResult | None, report: Link | None, links: list[Link], *,
            deidentify: bool) -> Cell:
    if result is not None and not result.ok:
        if result.status == NOT_RENDERED:
            reason = (result.error or "").removeprefix("not rendered: ")
            text = "Not rendered" + ("" if deidentify or not reason else f": {reason}")
            return Cell(text, "1", "sp-failed")
        text = "Failed" + ("" if deidentify or not result.error else f": {result.error}")
        return Cell(text, "0", "sp-failed")
    if report is not None or links:
        return Cell("Rendered", "3")
    return Cell(STATUS_NO_REPORT.capitalize(), "2")


def pseudonymous(results: list[RenderResult]) -> list[RenderResult]:
    """The results of a de-identified run that go by a pseudonym; the others
    (a row rejected by validation, an invalid ID, a worker that died) carry
    the clinic's ID or a row number and are only counted on the page."""
    return [r for r in results if r.child_id and r.name != r.child_id]


def index_rows(overview: pd.DataFrame | None, *, out_dir: str | Path, as_of=None,
               results: list[RenderResult] | None = None,
               deidentify: bool = False) -> list[IndexRow]:
    """The rows of the index page.

    Parameters
    ----------
    overview : DataFrame from :func:`~sensoryprofile.analysis.overview.child_overview`
        (None: the data could not be read; rows then come from ``results``
        and the folder alone).
    out_dir : the reports folder (links are made to the files present).
    as_of : the day ``overview`` describes (default today).
    results : this run's results (a batch), with the reason a child has no report.
    deidentify : rows for this run's results only, named by their pseudonyms
        (:func:`pseudonymous`; see the module's notes), sorted by pseudonym.

    Returns
    -------
    list of IndexRow
        Identified: every child of ``overview`` in its order, then children
        only the results know (rejected by validation, invalid IDs), then
        reports in the folder of children the data do not hold.
    """
    out_dir = Path(out_dir)
    as_of = as_of_date(as_of)
    results = list(results or [])
    figures = ({} if overview is None else
               {str(r[C.CHILD_ID]): r for _, r in overview.iterrows()})
    rows: list[IndexRow] = []
    if deidentify:
        for result in sorted(pseudonymous(results), key=lambda r: r.name):
            report, links = report_links(out_dir, result.name, family=False)
            row = figures.get(result.child_id or "")
            rows.append(IndexRow(name=result.name, report=report, links=links,
                                 status=_status(result, report, links, deidentify=True),
                                 state=_state(row),
                                 **figure_cells(row, as_of, deidentify=True)))
        return rows
    by_name = {r.name: r for r in results}
    for child, row in figures.items():
        report, links = report_links(out_dir, child)
        rows.append(IndexRow(name=child, report=report, links=links, state=_state(row),
                             status=_status(by_name.get(child), report, links,
                                            deidentify=False), **figure_cells(row, as_of)))
    for result in results:
        if result.name not in figures:
            report, links = report_links(out_dir, result.name)
            rows.append(IndexRow(name=result.name, report=report, links=links,
                                 status=_status(result, report, links, deidentify=False),
                                 **figure_cells(None)))
    known = {row.name for row in rows}
    present = {p.parent.name for p in (out_dir / "children").glob("*/report.html")}
    present |= {p.parent.parent.name for p in (out_dir / "family").glob("*/*/report.html")}
    for name in sorted(n for n in present - known if not n.startswith(".")):
        report, links = report_links(out_dir, name)
        rows.append(IndexRow(name=name, report=report, links=links,
                             status=Cell(STATUS_EARLIER.capitalize(), "4"),
                             **figure_cells(None)))
    return rows


# ---------------------------------------------------------------------------
# the page
# ---------------------------------------------------------------------------
@dataclass
class ClinicLink:
    """A clinic-level report of the folder (caseload, cohort)."""

    title: str
    href: str
    pdf: str | None


def clinic_links(out_dir: Path) -> list[ClinicLink]:
    found = []
    for name, title in (("caseload", "Caseload report"), ("cohort", "Cohort analysis")):
        if (out_dir / name / "report.html").is_file():
            pdf = f"{name}/report.pdf" if (out_dir / name / "report.pdf").is_file() else None
            found.append(ClinicLink(title, f"{name}/report.html", pdf))
    return found


def newest_record(dataset, as_of: pd.Timestamp) -> pd.Timestamp | None:
    """The latest date of a questionnaire or goal rating up to ``as_of``."""
    dates = [frame[C.DATE][frame[C.DATE] <= as_of].max()
             for frame in (dataset.assessments, dataset.goal_ratings) if len(frame)]
    dates = [d for d in dates if not is_missing(d)]
    return max(dates) if dates else None


def _options(rows: list[IndexRow], key: str) -> list[str]:
    values = {getattr(row, key).text for row in rows} - {""}
    return sorted(values, key=lambda v: (v == C.NOT_RECORDED, v.casefold()))


def render_index(rows: list[IndexRow], *, clinic: list[ClinicLink], as_of: dt.date | None,
                 newest: dt.date | None, deidentify: bool, note: str | None = None,
                 written: dt.datetime | None = None) -> str:
    """The index page's HTML (self-contained: style and script inline)."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape
    from markupsafe import Markup

    env = Environment(loader=FileSystemLoader(str(INDEX_TEMPLATE_DIR)),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      trim_blocks=True, lstrip_blocks=True)
    css = (INDEX_TEMPLATE_DIR / "index.css").read_text(encoding="utf-8")
    script = (INDEX_TEMPLATE_DIR / "index.js").read_text(encoding="utf-8")
    written = written or dt.datetime.now()
    return env.get_template("index.html.j2").render(
        rows=rows, clinic=clinic, deidentify=deidentify, note=note, version=__version__,
        as_of=None if as_of is None or deidentify else long_date(as_of),
        newest=None if newest is None or deidentify else long_date(newest),
        written=None if deidentify else written.strftime("%Y-%m-%d %H:%M"),
        therapists=[] if deidentify else _options(rows, "therapist"),
        sites=[] if deidentify else _options(rows, "site"),
        n_rendered=sum(row.report is not None or bool(row.links) for row in rows),
        due=due_summary(rows),
        css=Markup(css), script=Markup(script))


def write_index(out_dir: Path, results: list[RenderResult] | None = None, *,
                data_dir: str | Path | None = None, dataset=None, as_of=None,
                deidentify: bool = False) -> Path:
    """Write ``out_dir/index.html`` (atomically) and return its path.

    Parameters
    ----------
    out_dir : the reports folder; every report present in it is linked.
    results : this run's results, if a batch (failures and children not
        rendered are listed with the reason; de-identified, they name the rows).
    data_dir, dataset : the dataset the figures come from (``dataset`` if
        already loaded, else read from ``data_dir``); without either the page
        lists the reports present, with no figures. Data that cannot be read
        leave the figures out with a note, never the page.
    as_of : the day the figures describe (default today), as the reports.
    deidentify : an index for a de-identified run (see the module's notes).
    """
    out_dir = Path(out_dir)
    as_of_ts = as_of_date(as_of)
    overview, newest, note = None, None, None
    if dataset is None and data_dir is not None:
        from sensoryprofile.data.dataset import load_dataset_cached

        try:
            dataset = load_dataset_cached(data_dir)
        except SensoryProfileError as exc:
            note = f"The figures are left out: the data could not be read ({exc})."
            if deidentify:
                note = "The figures are left out: the data could not be read."
    if dataset is not None:
        try:
            overview = O.child_overview(dataset, as_of=as_of_ts)
            newest = newest_record(dataset, as_of_ts)
        except Exception as exc:  # noqa: BLE001 - the reports are written: the page must be too
            overview, newest = None, None
            what = str(exc) if isinstance(exc, SensoryProfileError) else type(exc).__name__
            note = ("The figures are left out: they could not be computed"
                    + ("." if deidentify else f" ({short_text(what)})."))
    rows = index_rows(overview, out_dir=out_dir, as_of=as_of_ts, results=results,
                      deidentify=deidentify)
    unnamed = len(results or []) - len(pseudonymous(results or [])) if deidentify else 0
    if unnamed:
        note = " ".join(filter(None, [note, (
            f"{unnamed} more {'child was' if unnamed == 1 else 'children were'} not rendered "
            "(rejected by validation or failed): see the output of the command that wrote "
            "this page.")]))
    page = render_index(rows, clinic=[] if deidentify else clinic_links(out_dir),
                        as_of=as_of_ts.date() if overview is not None else None,
                        newest=None if newest is None else newest.date(),
                        deidentify=deidentify, note=note)
    return write_text_atomic(page, out_dir / "index.html")


__all__ = ["IndexRow", "index_rows", "render_index", "write_index"]
