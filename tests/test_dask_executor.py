"""The Dask executor against a LocalCluster: the same outcomes as the local pool, results as data.

One LocalCluster of two single-threaded worker processes serves the module;
the books are tiny (conftest.make_book), so the module takes seconds, most of
them kernel starts.
"""

from __future__ import annotations

import csv
import json

import nbformat
import pytest

from cloudpad.cli import main
from cloudpad.exceptions import CloudpadError
from cloudpad.pipeline import runner, sweep
from cloudpad.pipeline.executors.dask import DaskExecutor
from cloudpad.pipeline.executors.local import ProcessPoolExecutor
from cloudpad.site import sweep_figures

PARAMS = "n = 2  # count, 1..100: items\nrate = 1.5  # per second, 0..100: rate"
READS = (
    "import cloudpad\n"
    "from myst_nb import glue\n"
    "rows = open('../data/a.csv').read().split()\n"
    "glue('rows', len(rows), display=False)\n"
    "glue('total', n * rate, display=False)\n"
    "print(rows)"
)
CHECKS = (
    "import cloudpad.models.checks\n"
    "from myst_nb import glue\n"
    "cloudpad.models.checks.positive('n', n)\n"
    "glue('double', 2 * n, display=False)"
)


@pytest.fixture(scope="module")
def dask_executor():
    executor = DaskExecutor(workers=2)  # no address: a LocalCluster on this machine
    yield executor
    executor.close()


@pytest.fixture
def book(make_book):
    return make_book(
        {"reads": (PARAMS, [READS]), "checks": (PARAMS, [CHECKS])},
        data={"a.csv": "x\n1\n2\n"},
    )


def outputs(project, outcome) -> list:
    nb = nbformat.read(project.root / outcome.output, as_version=4)
    return [c.outputs for c in nb.cells if c.cell_type == "code"]


def test_dask_gives_the_same_outcomes_as_the_local_pool(book, dask_executor):
    local = runner.run(book, executor=ProcessPoolExecutor(2))
    local_outputs = [outputs(book, o) for o in local.outcomes]
    remote = runner.run(book, force=True, executor=dask_executor)
    assert [o.status for o in remote.outcomes] == ["executed", "executed"]
    for a, b in zip(local.outcomes, remote.outcomes, strict=True):
        assert b.key_results == a.key_results
        assert b.dependencies == a.dependencies
        assert b.figures == a.figures
    assert remote.outcomes[0].key_results == {"rows": 3, "total": 3.0}
    assert "data/a.csv" in remote.outcomes[0].dependencies
    assert any(d.endswith("cloudpad/models/checks.py") for d in remote.outcomes[1].dependencies)
    assert [outputs(book, o) for o in remote.outcomes] == local_outputs
    manifest = json.loads(book.manifest_path.read_text())
    assert [e["status"] for e in manifest["notebooks"]] == ["executed", "executed"]
    again = runner.run(book, executor=dask_executor)  # the same cache
    assert [o.status for o in again.outcomes] == ["cached", "cached"]


def test_a_failing_notebook_on_dask_is_reported_with_its_cell(make_book, dask_executor):
    book = make_book({"bad": (PARAMS, ["x = 1", "raise ValueError('bad input')"])})
    result = runner.run(book, executor=dask_executor)
    (failed,) = result.failed
    assert failed.failure.exception == "ValueError"
    assert failed.failure.cell == 4  # title, parameters, x = 1, then this one
    assert (book.root / failed.output).is_file()


def test_sweep_through_dask(book, dask_executor):
    grid = sweep.parse_grid(book.root / "notebooks" / "reads.ipynb", [["n", "1", "2", "3"]])
    done = sweep.run_sweep(book, grid, executor=dask_executor)
    assert done.run.ok
    with open(done.table, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["n"], r["total"], r["rows"]) for r in rows] == [
        ("1", "1.5", "3"),
        ("2", "3.0", "3"),
        ("3", "4.5", "3"),
    ]
    assert sweep_figures.draw(done, ["total"])[0] == done.folder / "total.svg"


def test_command_line_with_a_scheduler_address(book, dask_executor, capsys):
    address = dask_executor.client.scheduler.address
    code = main(["--root", str(book.root), "run", "--scheduler", address])
    assert code == 0, capsys.readouterr().err
    assert "2 executed" in capsys.readouterr().err
    code = main(["--root", str(book.root), "run", "--executor", "local", "--scheduler", address])
    assert code == 2
    assert "needs --executor dask" in capsys.readouterr().err


def test_an_unreachable_scheduler_is_bad_input():
    with pytest.raises(CloudpadError, match="cannot reach the Dask scheduler"):
        DaskExecutor(address="tcp://127.0.0.1:9", connect_timeout_s=1)
