"""What each part of the package imports: numbers never load a plotting
library, the command line starts without pandas, commands that do not
render load nothing from Jupyter, and nothing imports ``jsonschema`` unless
it checks an instrument definition, and nothing but a Dask command loads Dask
(the local batch and scoring need no ``dask`` extra). (What these imports cost is measured by
``benchmarks/reports.py``; these tests only check which modules load.)

Each check runs in a fresh interpreter, so modules the test process already
holds cannot hide an import.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.paths import ROOT, SAMPLE

JUPYTER = {"IPython", "ipykernel", "jupyter_client", "jupyter_core", "nbclient", "nbconvert",
           "nbformat", "papermill", "zmq"}
PLOTTING = {"matplotlib", "seaborn"}
DASK = {"dask", "distributed"}


def imported_after(code: str) -> set[str]:
    """Top-level names of the modules a fresh interpreter holds after ``code``."""
    script = (f"{code}\nimport json, sys\n"
              "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=dict(os.environ), check=False)
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def command(argv: list[str]) -> str:
    """Code that runs one command line in-process, its output discarded."""
    return ("import contextlib, io\nfrom sensoryprofile.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    code = main({argv!r})\n"
            "assert code == 0, code\n")


def test_measures_and_analysis_never_import_matplotlib():
    code = ("import importlib, pkgutil\n"
            "import sensoryprofile.analysis, sensoryprofile.measures\n"
            "for pkg in (sensoryprofile.measures, sensoryprofile.analysis):\n"
            "    for info in pkgutil.iter_modules(pkg.__path__):\n"
            "        importlib.import_module(f'{pkg.__name__}.{info.name}')\n"
            "assert 'sensoryprofile.analysis.cohort' in sys.modules\n"
            "assert 'sensoryprofile.measures.scoring' in sys.modules\n")
    loaded = imported_after("import sys\n" + code)
    assert "sensoryprofile" in loaded and "pandas" in loaded  # the modules did load
    assert not loaded & PLOTTING


def test_the_version_needs_no_pandas():
    loaded = imported_after(command(["--version"]).replace("assert code == 0, code\n", ""))
    assert not loaded & ({"pandas", "numpy", "yaml"} | JUPYTER | PLOTTING)


@pytest.mark.parametrize("argv", [
    ["validate", str(SAMPLE)],
    ["score", str(SAMPLE / "assessments.csv"), "--children", str(SAMPLE / "children.csv")],
    ["goals", str(SAMPLE)],
    ["change", str(SAMPLE)],
    ["instruments", "list"],
    ["instruments", "show", "demo-child"],
], ids=lambda argv: " ".join(argv[:2]) if argv[0] == "instruments" else argv[0])
def test_commands_that_do_not_render_load_nothing_from_jupyter(argv):
    imported_after(command(argv))  # the first run checks the shipped definitions once
    loaded = imported_after(command(argv))
    assert "pandas" in loaded  # the command did its work
    assert not loaded & JUPYTER
    assert not loaded & PLOTTING
    assert not loaded & DASK
    assert "jsonschema" not in loaded  # the definitions were checked by the first run


def test_checking_a_definition_does_import_jsonschema():
    # the opposite case, so the test above can fail: `instruments check` always checks
    loaded = imported_after(command(["instruments", "check", str(
        ROOT / "sensoryprofile" / "instruments" / "demo-child.yaml")]))
    assert "jsonschema" in loaded


def test_the_local_batch_imports_no_dask():
    # the command line of a local batch, parsed and set up as `main` does
    loaded = imported_after(
        "from sensoryprofile.cli import build_parser, _cluster\n"
        "import sensoryprofile.reports.batch\n"
        "args = build_parser().parse_args(['report', 'children', '--data', 'x', '--jobs', '2'])\n"
        "assert _cluster(args) is None\n")
    assert "sensoryprofile" in loaded and not loaded & DASK


@pytest.mark.slow
def test_a_local_batch_renders_without_loading_dask(tmp_path):
    # a real batch of two children on two local worker processes (--jobs 2):
    # the command's process never imports Dask (the workers import only the
    # batch module, checked above)
    from tests.paths import small_clinic

    data = small_clinic(tmp_path / "data", 2)
    out = tmp_path / "out"
    loaded = imported_after(command(["report", "children", "--data", str(data), "--out",
                                     str(out), "--as-of", "2026-09-30", "--jobs", "2",
                                     "--quiet"]))
    assert sorted(p.name for p in (out / "children").iterdir()) == ["C0001", "C0002"]
    assert "concurrent" in loaded  # its process pool rendered them
    assert not loaded & DASK


@pytest.mark.parametrize("kind", ["child", "caseload"])
def test_a_report_command_starts_its_kernel_before_importing_pandas(tmp_path, kind):
    # the kernel imports the report's libraries while the command checks the
    # data: anything the command imported before starting it (pandas for a
    # --as-of date, the batch module for its signal handler) would delay the
    # whole report. The kernel's start is replaced by a probe that records
    # what the command's process holds at that moment, then exits.
    argv = ["report", kind, *(["C0002"] if kind == "child" else []), "--data", str(SAMPLE),
            "--out", str(tmp_path / "out"), "--as-of", "2026-10-31"]
    script = ("import json, os, sys\n"
              "import sensoryprofile.reports.render as render\n"
              "def probe(self, *args, **kwargs):\n"
              "    print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})), flush=True)\n"
              "    os._exit(0)\n"
              "render.KernelSession.__init__ = probe\n"
              "from sensoryprofile.cli import main\n"
              f"main({argv!r})\n"
              "sys.exit('the kernel was never started')\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=dict(os.environ), check=False)
    assert done.returncode == 0, done.stderr
    loaded = set(json.loads(done.stdout.strip().splitlines()[-1]))
    assert "sensoryprofile" in loaded
    assert not loaded & ({"pandas", "numpy", "yaml"} | PLOTTING)


def console_script(argv: list[str], env: dict | None = None) -> subprocess.CompletedProcess:
    """The command as the installed ``sensoryprofile`` script runs it
    (``cli.run``), with a last ``atexit`` report of what the process held:
    whether hypothesis was imported, and whether the garbage collector's
    objects were frozen before the interpreter's exit."""
    script = ("import atexit, gc, json, sys\n"
              "def last():\n"
              "    held = sys.modules.get('hypothesis') is not None\n"
              "    print(json.dumps({'hypothesis': held, 'pandera': 'pandera' in sys.modules,\n"
              "                      'frozen': gc.get_freeze_count()}), file=sys.stderr)\n"
              "atexit.register(last)\n"
              f"sys.argv = ['sensoryprofile', *{argv!r}]\n"
              "from sensoryprofile.cli import run\n"
              "run()\n")
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env or dict(os.environ), check=False)


def last_report(done: subprocess.CompletedProcess) -> dict:
    return json.loads(done.stderr.strip().splitlines()[-1])


def test_the_console_script_keeps_the_exit_code_and_skips_hypothesis():
    pytest.importorskip("hypothesis")  # installed with the test extra: the case that costs
    done = console_script(["validate", str(SAMPLE)])
    assert done.returncode == 0, done.stderr
    assert "No problems found." in done.stdout
    state = last_report(done)
    # pandera checked the tables without loading hypothesis (and trio, pytest with it)
    assert state["pandera"] and not state["hypothesis"]
    # the collector's objects were frozen before the interpreter's exit
    assert state["frozen"] > 10_000

    # a usage error keeps its exit code (2) through the wrapper
    done = console_script(["validate"])
    assert done.returncode == 2
    assert "the following arguments are required" in done.stderr
    # data problems keep theirs (1)
    done = console_script(["validate", str(ROOT / "data" / "sample-messy")])
    assert done.returncode == 1, done.stderr


def test_main_alone_leaves_hypothesis_importable():
    # a program (or a test) that calls main() in-process keeps its own imports
    # and its collector: only the console script marks hypothesis absent
    pytest.importorskip("hypothesis")
    loaded = imported_after(command(["validate", str(SAMPLE)]) + "import hypothesis\n"
                            "import gc\nassert gc.get_freeze_count() == 0\n")
    assert "hypothesis" in loaded
