"""The index page of an output folder: every report rendered there."""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path

from sensoryprofile.data.tables import write_text_atomic
from sensoryprofile.reports.render import RenderResult


def write_index(out_dir: Path, results: list[RenderResult] | None = None) -> Path:
    """``out_dir/index.html`` linking every report present under ``out_dir``
    (children, their family reports, caseload, cohort); failures of this run
    are listed too."""
    out_dir = Path(out_dir)
    results = results or []
    failed = {r.name: r.error for r in results if not r.ok}
    clinical = {p.parent.name for p in (out_dir / "children").glob("*/report.html")}
    family = {p.parent.parent.name for p in (out_dir / "family").glob("*/*/report.html")}
    children = sorted(c for c in clinical | family if not c.startswith("."))
    rows = []
    for child in children:
        name = html.escape(child)
        pdf = out_dir / "children" / child / "report.pdf"
        link = (f"<a href='children/{name}/report.html'>{name}</a>" if child in clinical
                else name)
        if pdf.exists():
            link += f" (<a href='children/{name}/report.pdf'>PDF</a>)"
        langs = sorted(p.parent.name for p in (out_dir / "family" / child).glob("*/report.html")
                       if not p.parent.name.startswith("."))
        if langs:
            link += " &middot; family: " + ", ".join(
                f"<a href='family/{name}/{html.escape(lang)}/report.html'>{html.escape(lang)}</a>"
                for lang in langs)
        rows.append(f"<li>{link}</li>")
    others = []
    for name, label in (("caseload", "Caseload report"), ("cohort", "Cohort analysis")):
        if (out_dir / name / "report.html").exists():
            others.append(f"<li><a href='{name}/report.html'>{label}</a></li>")
    fail_rows = "".join(f"<li>{html.escape(n)}: {html.escape(e or '')}</li>"
                        for n, e in failed.items())
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>sensoryprofile reports</title>
<style>body{{font-family:sans-serif;max-width:50rem;margin:2rem auto;}}
ul.children{{columns:3;}} .failed{{color:#8b0000;}}</style></head>
<body><h1>Reports</h1>
<p>Rendered {html.escape(dt.datetime.now().strftime('%Y-%m-%d %H:%M'))}.</p>
{'<h2>Clinic</h2><ul>' + ''.join(others) + '</ul>' if others else ''}
<h2>Children ({len(children)})</h2><ul class="children">{''.join(rows)}</ul>
{f'<h2 class="failed">Failed ({len(failed)})</h2><ul class="failed">{fail_rows}</ul>'
 if failed else ''}
</body></html>
"""
    return write_text_atomic(page, out_dir / "index.html")
