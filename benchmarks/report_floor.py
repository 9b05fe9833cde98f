"""The floor of one report: the papermill + nbconvert HTML path on a trivial
parameterised notebook, in one process (run by ``benchmarks/reports.py``).

From a cold interpreter, in this order: import papermill and nbconvert;
write a notebook holding only a parameters cell and a ``print`` of the
parameter; execute it with papermill, injecting a child id (papermill
starts the environment's ``python3`` kernel and waits for it); export the
executed notebook to HTML with nbconvert's ``HTMLExporter``, code hidden as
in a report; write the HTML. Nothing of sensoryprofile is imported or run:
it is what any report rendered through a notebook costs at least.

    .venv/bin/python benchmarks/report_floor.py FOLDER
"""

from __future__ import annotations

import sys
from pathlib import Path


def main(folder: str) -> int:
    import nbformat
    import papermill as pm
    from nbconvert import HTMLExporter

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("child_id = 'C0001'")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell("print(child_id)")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, out / "floor.ipynb")
    pm.execute_notebook(str(out / "floor.ipynb"), str(out / "floor-out.ipynb"),
                        parameters={"child_id": "C0002"}, progress_bar=False)
    exporter = HTMLExporter()
    exporter.exclude_input = True
    body, _ = exporter.from_notebook_node(nbformat.read(out / "floor-out.ipynb", as_version=4))
    (out / "floor.html").write_text(body, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
