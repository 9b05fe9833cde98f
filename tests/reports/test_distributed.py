"""Report batches on a Dask cluster (issue 17): a LocalCluster of two worker
processes, the same guarantees as the local batch (failures isolated, every
child accounted for, nothing partial left), and a clear refusal when the
workers cannot write into the output folder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import distributed  # the `dask` extra: `make` installs it, so these tests run in CI
import pandas as pd
import pytest

from sensoryprofile import columns as C
from sensoryprofile.cli import main
from sensoryprofile.data.dask_client import ClusterSpec, check_workers
from sensoryprofile.errors import UsageError
from sensoryprofile.reports import batch, render
from tests.paths import small_clinic
from tests.processes import alive, descendants

AS_OF = "2026-09-30"


@pytest.fixture(scope="module")
def cluster():
    """Two worker processes, one thread each: the cluster --dask-workers 2 starts."""
    from sensoryprofile.data.dask_client import local_cluster

    with local_cluster(2) as local:
        yield local


@pytest.fixture(scope="module")
def client(cluster):
    with distributed.Client(cluster) as c:
        yield c


def _hidden(out: Path) -> list[str]:
    """Hidden folders (partial or old copies) anywhere in the output folder."""
    return sorted(str(p.relative_to(out)) for p in out.rglob(".*")
                  if p.is_dir())


def _outputs(path: Path) -> list:
    """A notebook's outputs, without execution metadata."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    return [[{k: v for k, v in o.items() if k != "metadata"} for o in cell.get("outputs", [])]
            for cell in nb.cells if cell.cell_type == "code"]


# ---------------------------------------------------------------------------
# failures isolated, reports as the local batch renders them
# ---------------------------------------------------------------------------
@pytest.mark.slow
def test_a_broken_child_fails_alone_and_the_others_render(tmp_path, cluster):
    data = small_clinic(tmp_path / "data", 4)
    out = tmp_path / "out"
    spec = ClusterSpec(scheduler=cluster.scheduler_address)
    result = batch.render_children(data, ["C0001", "NOPE", "C0003", "C0002"], out_dir=out,
                                   as_of=AS_OF, progress=False, cluster=spec)
    assert [r.name for r in result.results] == ["C0001", "NOPE", "C0003", "C0002"]
    assert sorted(r.name for r in result.rendered) == ["C0001", "C0002", "C0003"]
    (failed,) = result.failed
    # the error names the child and the notebook cell, as in the local batch
    assert failed.name == "NOPE" and failed.error.startswith("child NOPE: cell ")
    assert "DatasetError" in failed.error and "\n" not in failed.error
    assert "Rendered 3 report(s), not rendered 0, failed 1" in batch.format_summary(result)
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "children/C0002/report.html" in index and "NOPE" in index
    assert sorted(p.name for p in (out / "children").iterdir()) == ["C0001", "C0002", "C0003"]
    assert _hidden(out) == []
    # a kernel reused on a worker leaks nothing: C0003 equals C0003 rendered alone
    alone = render.render_child(data, "C0003", out_dir=tmp_path / "alone", as_of=AS_OF)
    assert _outputs(out / "children" / "C0003" / "report.ipynb") == _outputs(
        alone.folder / "report.ipynb")


@pytest.mark.slow
def test_command_accounts_for_every_child_on_a_cluster(tmp_path, cluster, capsys):
    data = small_clinic(tmp_path / "data", 3)
    kids = pd.read_csv(data / "children.csv", dtype=str, keep_default_na=False)
    kids.loc[1, C.SEX] = "unknown"  # C0002: sex is F, M, X or blank -> row rejected
    kids.to_csv(data / "children.csv", index=False)
    out = tmp_path / "out"
    code = main(["report", "children", "--data", str(data), "--out", str(out), "--as-of",
                 AS_OF, "--quiet", "--scheduler", cluster.scheduler_address])
    text = capsys.readouterr().out
    assert code == 1  # as the local batch: a child without a report is a data problem
    assert "Rendered 2 report(s), not rendered 1, failed 0" in text
    assert "NOT RENDERED C0002: not rendered: the child's row was rejected" in text
    assert sorted(p.name for p in (out / "children").iterdir()) == ["C0001", "C0003"]


# ---------------------------------------------------------------------------
# a worker lost mid-batch
# ---------------------------------------------------------------------------


@pytest.mark.slow
def test_killing_a_worker_mid_batch_loses_no_report(tmp_path, cluster, client):
    data = small_clinic(tmp_path / "data", 6)
    out = tmp_path / "out"
    killed: dict = {}

    def kill_one_mid_report():
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            partial = list((out / "children").glob(".*.partial-*")) if (
                out / "children").exists() else []
            busy = [w for w, keys in client.processing().items()
                    if any(str(k).startswith("sensoryprofile-report-") for k in keys)]
            if partial and busy:
                pid = client.run(os.getpid, workers=[busy[0]])[busy[0]]
                killed["kernels"] = descendants(pid)
                killed["partial"] = partial[0].name
                os.kill(pid, signal.SIGKILL)  # no clean-up of any kind
                killed["pid"] = pid
                return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_one_mid_report, daemon=True)
    killer.start()
    result = batch.render_children(data, out_dir=out, as_of=AS_OF, progress=False,
                                   cluster=ClusterSpec(scheduler=cluster.scheduler_address))
    killer.join(timeout=5)
    assert "pid" in killed, "no worker was killed mid-report"
    # Dask sent the lost report to a live worker: all six rendered, none partial
    assert [r.name for r in result.results] == [f"C000{k}" for k in range(1, 7)]
    assert result.failed == []
    for k in range(1, 7):
        html = (out / "children" / f"C000{k}" / "report.html").read_text(encoding="utf-8")
        assert html.rstrip().endswith("</html>")
    assert _hidden(out) == []
    # the dead worker's kernel does not outlive it (ipykernel watches its parent)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(alive(p) for p in killed["kernels"]):
        time.sleep(0.2)
    assert not [p for p in killed["kernels"] if alive(p)]


@pytest.mark.slow
def test_ctrl_c_stops_a_local_cluster_batch_and_leaves_nothing(tmp_path):
    data = small_clinic(tmp_path / "data", 6)
    out = tmp_path / "out"
    process = subprocess.Popen(
        [sys.executable, "-m", "sensoryprofile", "report", "children", "--data", str(data),
         "--out", str(out), "--as-of", AS_OF, "--quiet", "--dask-workers", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    everyone: set[int] = set()
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:  # until a report is published, mid-batch
        everyone |= descendants(process.pid)
        published = (out / "children").exists() and any(
            p.is_dir() for p in (out / "children").glob("C*"))
        if published:
            break
        time.sleep(0.1)
    everyone |= descendants(process.pid)
    assert len(everyone) >= 4  # two worker processes and their kernels at least
    os.killpg(process.pid, signal.SIGINT)  # Ctrl-C: the whole foreground group
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    # the cluster's processes ignore the terminal's Ctrl-C: only the command speaks
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    assert "interrupted (SIGINT)" in stderr and "not rendered: the batch was interrupted" in stdout
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(alive(p) for p in everyone):
        time.sleep(0.2)
    assert not [p for p in everyone if alive(p)]
    assert _hidden(out) == []


# ---------------------------------------------------------------------------
# the output folder must be shared
# ---------------------------------------------------------------------------
@pytest.mark.slow
def test_an_output_folder_the_workers_cannot_write_is_named(tmp_path, client):
    # a folder only this process has (as an output folder on a local disk is,
    # seen from workers on other machines)
    unshared = tmp_path / "not-mounted-there"
    with pytest.raises(UsageError) as caught:
        check_workers(client, unshared, (str(tmp_path / "data-elsewhere"),))
    text = str(caught.value)
    workers = sorted(client.scheduler_info()["workers"])
    for address in workers:  # every worker is named, with the path it cannot use
        assert f"worker {address}" in text
    assert text.count(f"cannot write into the output folder {unshared}") == len(workers)
    assert text.count(f"does not see {tmp_path / 'data-elsewhere'}") == len(workers)
    assert "shared filesystem" in text
    # a folder the workers can write: the probe leaves nothing behind
    shared = tmp_path / "shared"
    shared.mkdir()
    answers = check_workers(client, shared)
    assert len(answers) == len(workers) and list(shared.iterdir()) == []


# ---------------------------------------------------------------------------
# the command line; the local batch needs no Dask
# ---------------------------------------------------------------------------
def test_jobs_and_a_cluster_together_are_a_usage_error(tmp_path, capsys):
    code = main(["report", "children", "--data", str(tmp_path), "--out", str(tmp_path / "o"),
                 "--jobs", "2", "--dask-workers", "2"])
    assert code == 2 and "--jobs is for local worker processes" in capsys.readouterr().err
    code = main(["report", "all", "--data", str(tmp_path), "--out", str(tmp_path / "o"),
                 "--scheduler", "tcp://127.0.0.1:1", "--dask-workers", "2"])
    assert code == 2 and "either --scheduler ADDRESS or --dask-workers N, not both" in (
        capsys.readouterr().err)
    code = main(["report", "children", "--data", str(tmp_path), "--dask-workers", "0"])
    assert code == 2 and "--dask-workers must be at least 1, but 0" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_without_dask_the_flags_say_which_extra_to_install(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed fails
    code = main(["report", "children", "--data", "x", "--dask-workers", "2"])
    err = capsys.readouterr().err
    assert code == 2 and "pip install 'sensoryprofile[dask]'" in err


def test_a_scheduler_that_is_not_there_is_a_usage_error(tmp_path, capsys, monkeypatch):
    from sensoryprofile.data import dask_client

    data, out = small_clinic(tmp_path / "data", 1), tmp_path / "out"
    code = main(["report", "children", "--data", str(data), "--out", str(out),
                 "--scheduler", "scheduler-host"])  # no port, no scheme
    err = capsys.readouterr().err
    assert code == 2 and "the Dask scheduler at scheduler-host: not a scheduler address " in err
    assert "give one such as tcp://scheduler-host:8786" in err
    monkeypatch.setattr(dask_client, "CONNECT_SECONDS", 2)  # nobody listens on port 1
    code = main(["report", "all", "--data", str(data), "--out", str(out),
                 "--scheduler", "tcp://127.0.0.1:1"])
    err = capsys.readouterr().err
    assert code == 2 and "cannot reach the Dask scheduler at tcp://127.0.0.1:1 within 2 s" in err
    assert "is it running, and is the address right?" in err and "Traceback" not in err
    # nothing was rendered, and no partial folder made
    assert not (out / "children").exists() and _hidden(out) == []


# ---------------------------------------------------------------------------
# the command's clinic forms reach workers that were already running
# ---------------------------------------------------------------------------
@pytest.mark.slow
def test_scoring_on_running_workers_finds_the_commands_clinic_forms(tmp_path, client,
                                                                   monkeypatch):
    from sensoryprofile.data.partitioned import score_parquet
    from sensoryprofile.instruments import INSTRUMENTS_ENV
    from tests.paths import ROOT

    shapes = ROOT / "tests" / "fixtures" / "instruments" / "shapes"
    items = [f"fs_{s}{k}" for s in "tam" for k in range(1, 5)]
    frame = pd.DataFrame({C.ASSESSMENT_ID: ["A1", "A2"], C.CHILD_ID: ["C1", "C2"],
                          C.INSTRUMENT: "fx-short", C.DATE: "2026-01-15",
                          C.AGE_MONTHS: [48, 100]} | {item: [3, 3] for item in items})
    data = tmp_path / "registry"
    data.mkdir()
    frame.to_parquet(data / "p.parquet", index=False)
    # the form is registered for this process only (as --instruments does);
    # the cluster's workers started before, without it
    monkeypatch.setenv(INSTRUMENTS_ENV, str(shapes))
    result = score_parquet(data, tmp_path / "out", client=client)
    assert result.failed == [] and result.problems == []
    got = pd.read_parquet(tmp_path / "out" / "p.parquet").set_index([C.ASSESSMENT_ID, C.SCORE])
    # every answer 3: a section sums 4 items (4 x 3 = 12), the total 12 (12 x 3 = 36)
    assert got.loc[("A1", "tactile"), C.RAW] == 12 and got.loc[("A1", "total"), C.RAW] == 36
    # fx-short's cuts: 36-71 months, tactile 12 in probable [12, 14], total 36 in
    # definite [12, 36]; 72-143 months, tactile 12 in definite [4, 12]
    assert got.loc[("A1", "tactile"), C.CLASSIFICATION] == "Probable Difference"
    assert got.loc[("A1", "total"), C.CLASSIFICATION] == "Definite Difference"
    assert got.loc[("A2", "tactile"), C.CLASSIFICATION] == "Definite Difference"


def test_the_kernel_plugin_gives_workers_the_commands_clinic_forms(tmp_path, monkeypatch):
    import pickle

    from sensoryprofile.instruments import INSTRUMENTS_ENV
    from sensoryprofile.reports.cluster import KernelPlugin

    monkeypatch.setenv(INSTRUMENTS_ENV, "/the/workers/own")
    plugin = pickle.loads(pickle.dumps(KernelPlugin(str(tmp_path), "t", "/shared/forms")))
    assert (plugin.runtime, plugin.token, plugin.instruments) == (str(tmp_path), "t",
                                                                  "/shared/forms")
    plugin.setup()
    assert os.environ[INSTRUMENTS_ENV] == "/shared/forms"  # the kernel inherits it
    plugin.teardown()
    assert os.environ[INSTRUMENTS_ENV] == "/the/workers/own"
