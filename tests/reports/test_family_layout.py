"""The family report's notebook and page template, read without running them:
layout only, the parameters the renderer passes, and large type."""

from __future__ import annotations

import re

import nbformat

from sensoryprofile.reports.render import NOTEBOOK_DIR, TEMPLATE_DIR
from tests.paths import ROOT

NOTEBOOK = NOTEBOOK_DIR / "family_report.ipynb"
TEMPLATE = TEMPLATE_DIR / "sensoryprofile-family" / "index.html.j2"


def test_notebook_is_layout_only_and_linked_for_researchers():
    link = ROOT / "notebooks" / "family_report.ipynb"
    assert link.is_symlink() and link.resolve() == NOTEBOOK.resolve()
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code[0].metadata.get("tags") == ["parameters"]
    for name in ("data_dir", "child_id", "as_of", "lang", "strategies"):
        assert re.search(rf"^{name} = ", code[0].source, re.M), name
    # every text comes from the model (translated): no markdown prose in the notebook
    assert [c.cell_type for c in nb.cells] == ["code"] * len(nb.cells)
    for cell in code:
        assert cell.outputs == [] and cell.execution_count is None
        assert not re.search(r"^\s*(def|class|if|for) ", cell.source, re.M)
        assert ".merge(" not in cell.source and "pd." not in cell.source
    joined = "\n".join(c.source for c in code)
    assert "FamilyReport.build(" in joined and "plots.plot_goal_steps(" in joined
    assert 'set_matplotlib_formats("svg")' in joined


def test_large_type_in_the_page_template():
    css = TEMPLATE.read_text(encoding="utf-8")
    assert "extends 'sensoryprofile/index.html.j2'" in css
    screen = [float(v) for v in re.findall(r"font-size:\s*(\d+(?:\.\d+)?)px", css)]
    printed = [float(v) * 96 / 72 for v in re.findall(r"font-size:\s*(\d+(?:\.\d+)?)pt", css)]
    assert screen and printed
    # the base font is at least 14px everywhere, the small print included
    assert min(screen + printed) >= 14
    body = re.search(r"body \{ font-size: (\d+)px", css)
    assert body and int(body.group(1)) >= 16
