"""`cloudpad sweep`: the grid is checked before any kernel starts, each combination runs through
the cache into its own run folder, and the table and figures land in _build/sweeps/.

Most tests use a fake executor (no kernels); one runs a real sweep of a tiny notebook.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator

import nbformat
import pytest

from cloudpad.cli import main
from cloudpad.exceptions import ParameterError
from cloudpad.pipeline import sweep
from cloudpad.pipeline.executors.base import Job, JobResult
from cloudpad.site import sweep_figures

PARAMS = (
    "n = 2  # count, 1..8: servers\n"
    "rate = 1.5  # per second, -10..10: arrival rate\n"
    "name = 'east'  # -, east|west: region\n"
    "# check: n * rate < 40"
)
GLUE = (
    "from myst_nb import glue\n"
    "glue('total', n * rate, display=False)\n"
    "glue('label', name, display=False)\n"
    "glue('constant', 1, display=False)"
)


class FakeExecutor:
    """Returns what a notebook computing total = n * rate would publish, without a kernel."""

    def __init__(self) -> None:
        self.jobs: list[Job] = []

    def run(self, jobs: Iterable[Job]) -> Iterator[JobResult]:
        for job in jobs:
            self.jobs.append(job)
            p = {"n": 2, "rate": 1.5, "name": "east", **job.parameters}
            ok = p["rate"] >= 0
            results = {"total": p["n"] * p["rate"], "label": p["name"], "constant": 1}
            yield JobResult(job.id, job.notebook, ok, 0.1, job.source, key_results=results)

    def close(self) -> None:
        pass


@pytest.fixture
def book(make_book):
    return make_book({"article": (PARAMS, [GLUE])}, data={"a.csv": "x\n1\n"})


def notebook(book):
    return book.root / "notebooks" / "article.ipynb"


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        ([["m", "1", "2"]], "unknown parameter 'm'; this notebook's parameters are: n, rate, name"),
        ([["n", "1", "two"]], "parameter 'n': 'two' is not a Python literal"),
        ([["n", "1", "2.5"]], "parameter 'n' must be of type int (default 2), got float 2.5"),
        ([["rate"]], "parameter 'rate' has an empty list of values"),
        ([["n", "1", "1"]], "parameter 'n' lists the value 1 twice"),
        (
            [["n", "1", "9"]],
            "parameter 'n' = 9 is not allowed: it must be a whole number from 1 to 8",
        ),
        (
            [["name", "north"]],
            "parameter 'name' = 'north' is not allowed: it must be one of 'east'",
        ),
        ([["n", "8"], ["rate", "2", "5"]], "must satisfy n * rate < 40; got n = 8, rate = 5.0"),
        ([["n", "1"], ["n", "2"]], "parameter 'n' is swept twice"),
        ([], "nothing to sweep"),
    ],
)
def test_bad_grids_are_refused_before_any_kernel(book, capsys, grid, message):
    args = ["--root", str(book.root), "sweep", "notebooks/article.ipynb"]
    for spec in grid:
        args += ["-p", *spec]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "notebooks/article.ipynb" in err
    assert not (book.build_dir / "sweeps").exists()


def test_grid_is_typed_and_ordered(book):
    grid = sweep.parse_grid(notebook(book), [["n", "1", "3"], ["rate", "2", "0.5"]])
    assert grid.values == ((1, 3), (2.0, 0.5))
    assert grid.combinations() == [
        {"n": 1, "rate": 2.0},
        {"n": 1, "rate": 0.5},
        {"n": 3, "rate": 2.0},
        {"n": 3, "rate": 0.5},
    ]
    with pytest.raises(ParameterError):
        sweep.parse_grid(notebook(book), [["name"]])


def test_sweep_writes_table_figures_and_own_run_folders(book):
    grid = sweep.parse_grid(notebook(book), [["n", "1", "2", "4"], ["rate", "0.5", "2"]])
    fake = FakeExecutor()
    done = sweep.run_sweep(book, grid, executor=fake)
    figures = sweep_figures.draw(done, sweep.chosen_plots(done))
    assert done.run.ok and len(fake.jobs) == 6
    assert done.folder.parent == book.build_dir / "sweeps"
    assert done.folder.name.startswith("article-")
    with open(done.table, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["n", "rate", "total", "constant", "status", "executed_notebook"]
    assert [(r["n"], r["rate"], r["total"]) for r in rows] == [
        ("1", "0.5", "0.5"),
        ("1", "2.0", "2.0"),
        ("2", "0.5", "1.0"),
        ("2", "2.0", "4.0"),
        ("4", "0.5", "2.0"),
        ("4", "2.0", "8.0"),
    ]
    # Each combination has its own executed notebook under _build/runs/, none in the edition's.
    outputs = {r["executed_notebook"] for r in rows}
    assert len(outputs) == 6
    assert all(o.startswith("_build/runs/") for o in outputs)
    assert not (book.executed_dir / "notebooks" / "article.ipynb").exists()
    # Default plots: the results that vary first; one SVG and one PNG each.
    assert sorted(f.name for f in figures) == [
        "constant.png",
        "constant.svg",
        "total.png",
        "total.svg",
    ]
    svg = (done.folder / "total.svg").read_text()
    assert "rate = 0.5" in svg and "rate = 2.0" in svg  # one line per value of the second
    # The x label is the parameter's declaration: its name, meaning and unit.
    assert "n: servers (count)" in svg


def test_sweep_uses_the_cache_and_reports_failures(book):
    grid = sweep.parse_grid(notebook(book), [["rate", "1", "-1"]])
    first = sweep.run_sweep(book, grid, executor=FakeExecutor())
    assert [o.status for o in first.run.outcomes] == ["executed", "failed"]
    with open(first.table, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["total"], r["status"]) for r in rows] == [("2.0", "executed"), ("", "failed")]
    fake = FakeExecutor()
    again = sweep.run_sweep(book, grid, executor=fake)
    assert [o.status for o in again.run.outcomes] == ["cached", "failed"]
    assert [j.parameters for j in fake.jobs] == [{"rate": -1.0}]  # only the failed one ran


def test_plot_of_an_unknown_result_is_refused_after_the_table(book, capsys):
    grid = sweep.parse_grid(notebook(book), [["n", "1", "2"]])
    done = sweep.run_sweep(book, grid, executor=FakeExecutor())
    with pytest.raises(sweep.SweepPlotError, match="'nope': not a numeric key result.*total"):
        sweep.chosen_plots(done, ["total", "nope"])
    assert (done.folder / "results.csv").is_file()
    args = ["--root", str(book.root), "sweep", "notebooks/article.ipynb", "-p", "n", "1", "2"]
    assert main([*args, "--plot", "nope"]) == 2
    assert "'nope': not a numeric key result" in capsys.readouterr().err


def test_a_numeric_parameter_is_a_numeric_axis_labelled_from_its_declaration(book):
    """A swept number is placed by value (not one tick per value) and labelled with its unit."""
    grid = sweep.parse_grid(notebook(book), [["rate", "0.5", "1", "4"]])
    done = sweep.run_sweep(book, grid, executor=FakeExecutor())
    (svg, _png) = sweep_figures.draw(done, ["total"])
    text = svg.read_text()
    assert "rate: arrival rate (per second)" in text
    # A categorical axis would have one tick per swept value (0.5, 1, 4); a numeric axis has
    # ticks between them, such as 2.5.
    assert ">2.5</text>" in text


def test_real_sweep_through_the_command_line(book, capsys):
    """Kernels run: two combinations in parallel, results read back from the notebooks."""
    grid = ["-p", "rate", "0.5", "4", "-p", "name", "west", "--plot", "total", "--jobs", "2"]
    code = main(["--root", str(book.root), "sweep", "notebooks/article.ipynb", *grid])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "2 runs of notebooks/article.ipynb: 2 executed" in err
    (folder,) = (book.build_dir / "sweeps").iterdir()
    with open(folder / "results.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["rate"], r["name"], r["total"]) for r in rows] == [
        ("0.5", "west", "1.0"),
        ("4.0", "west", "8.0"),
    ]
    assert (folder / "total.svg").is_file() and (folder / "total.png").is_file()
    executed = nbformat.read(book.root / rows[1]["executed_notebook"], as_version=4)
    injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert "rate = 4.0" in injected[0].source
    assert str(folder.relative_to(book.root)) in err
