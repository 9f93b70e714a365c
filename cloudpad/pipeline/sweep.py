"""Parameter sweeps: one article run once per combination of a grid, then one table and figures.

``cloudpad sweep NOTEBOOK -p NAME V1 V2 … [-p NAME2 …]`` checks every value
before any kernel starts (:func:`parse_grid`), runs the grid through the
runner (the same cache, in parallel, on any executor: each combination is a
``-p`` run with its own cache record and its own folder ``_build/runs/<digest>/``
for the executed notebook), and writes ``_build/sweeps/<stem>-<digest>/results.csv``:
one row per combination, the swept parameters, then every numeric key result,
then the run's status and its executed notebook.  The figures of chosen results
(``<result>.svg`` and ``.png`` in the same folder) are drawn outside the
pipeline, by :mod:`cloudpad.site.sweep_figures`; :func:`chosen_plots` says
which results to draw.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cloudpad.declarations import Lookup
from cloudpad.exceptions import ParameterError
from cloudpad.pipeline import cache, runner
from cloudpad.pipeline.baseline import is_number
from cloudpad.pipeline.executors.base import Executor
from cloudpad.pipeline.outcomes import Outcome, RunResult
from cloudpad.pipeline.parameters import check_values, notebook_parameters, parse_overrides
from cloudpad.pipeline.plan import Planned, prepare
from cloudpad.pipeline.project import Project

#: Results plotted when none are chosen with ``--plot``.
DEFAULT_PLOTS = 4
#: The most runs a sweep starts without ``--max-runs`` (a bigger grid is refused up front).
DEFAULT_MAX_RUNS = 300


@dataclass(frozen=True)
class Grid:
    """The swept parameters of one notebook, each with its typed values, in command-line order."""

    notebook: Path
    names: tuple[str, ...]
    values: tuple[tuple[Any, ...], ...]

    def combinations(self) -> list[dict[str, Any]]:
        """Every combination, the last parameter varying fastest."""
        return [
            dict(zip(self.names, combo, strict=True)) for combo in itertools.product(*self.values)
        ]

    def digest(self, project: Project) -> str:
        """A short name for this grid of this notebook (the sweep folder's suffix)."""
        text = json.dumps(
            [project.relative(self.notebook).as_posix(), list(self.names), self.values],
            default=repr,
        )
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def parse_grid(
    notebook: Path, specs: Sequence[Sequence[str]], lookup: Lookup | None = None
) -> Grid:
    """The grid of ``-p NAME V1 V2 …`` specs; :class:`ParameterError` for any bad one.

    Refused, naming the notebook, the parameter, the value and what is allowed:
    no ``-p`` at all, a name without values, a name given twice, an unknown
    name, a value of the wrong type, a value its declaration does not allow, a
    value listed twice, and a combination that breaks a ``# check:`` constraint.
    ``lookup`` resolves values declared ``in DATASET.COLUMN``.
    """
    if not specs:
        raise ParameterError(
            f"{notebook}: nothing to sweep; give -p NAME V1 V2 … (one or more values) for at "
            "least one parameter (see `cloudpad params NOTEBOOK`)"
        )
    params = notebook_parameters(notebook)
    names: list[str] = []
    values: list[tuple[Any, ...]] = []
    for spec in specs:
        name, texts = spec[0], list(spec[1:])
        if name in names:
            raise ParameterError(
                f"{notebook}: parameter {name!r} is swept twice; give all its values after one -p"
            )
        if name in params and not texts:
            raise ParameterError(
                f"{notebook}: parameter {name!r} has an empty list of values; give one or more "
                f"after the name, e.g. -p {name} {params[name].default!r}"
            )
        typed: list[Any] = []
        for text in texts or [""]:
            value = parse_overrides(notebook, [(name, text)], lookup, check=False)[name]
            problem = params[name].problem(value, lookup)
            if problem:
                raise ParameterError(f"{notebook}: {problem}")
            if any(value == v and type(value) is type(v) for v in typed):
                raise ParameterError(
                    f"{notebook}: parameter {name!r} lists the value {value!r} twice; "
                    "give each value once"
                )
            typed.append(value)
        names.append(name)
        values.append(tuple(typed))
    grid = Grid(notebook, tuple(names), tuple(values))
    for combo in grid.combinations():
        check_values(notebook, params, combo, lookup)
    return grid


def check_size(project: Project, grid: Grid, max_runs: int = DEFAULT_MAX_RUNS) -> int:
    """The grid's number of runs; :class:`ParameterError` when it is more than ``max_runs``.

    The refusal says how many runs, and roughly how much kernel time they take:
    the count times the last recorded run of the notebook (its cache records).
    """
    count = math.prod(len(v) for v in grid.values)
    if count <= max_runs:
        return count
    shape = " × ".join(str(len(v)) for v in grid.values)
    last = cache.last_duration(project, grid.notebook)
    if last is None:
        estimate = "no run of it is recorded yet, so there is no estimate of the time it takes"
    else:
        estimate = (
            f"its last run took {last:.1f} s, so the grid needs about "
            f"{_duration(count * last)} of kernel time, shared by the --jobs running at once"
        )
    raise ParameterError(
        f"{grid.notebook}: the grid has {count:,} runs ({shape} values), more than the "
        f"{max_runs:,} a sweep starts without asking; {estimate}; give --max-runs {count} to "
        "run it anyway, or fewer values"
    )


def _duration(seconds: float) -> str:
    """``45 s``, ``12 min``, ``3 h 20 min``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60} min"


def sweep_dir(project: Project, grid: Grid) -> Path:
    """``_build/sweeps/<notebook stem>-<digest>/``."""
    return project.build_dir / "sweeps" / f"{grid.notebook.stem}-{grid.digest(project)}"


def plan(project: Project, grid: Grid) -> list[Planned]:
    """One planned run per combination (the notebook checked once, as ``cloudpad run`` does)."""
    (base,) = prepare(project, [grid.notebook])
    return [replace(base, parameters=combo) for combo in grid.combinations()]


def numeric_results(outcomes: Sequence[Outcome]) -> list[str]:
    """Names of the numeric key results of the successful runs, in the order first published."""
    names: dict[str, None] = {}
    for o in outcomes:
        if o.status != "failed":
            names.update({k: None for k, v in o.key_results.items() if is_number(v)})
    return list(names)


def _cell(value: Any) -> Any:
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value)
    return value


def write_csv(path: Path, grid: Grid, outcomes: Sequence[Outcome]) -> list[str]:
    """Write ``results.csv`` (one row per combination); returns the result columns."""
    results = numeric_results(outcomes)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([*grid.names, *results, "status", "executed_notebook"])
        for o in outcomes:
            row = [_cell(o.parameters.get(n)) for n in grid.names]
            row += [o.key_results.get(r, "") if o.status != "failed" else "" for r in results]
            writer.writerow([*row, o.status, o.output])
    return results


def default_plots(outcomes: Sequence[Outcome], count: int = DEFAULT_PLOTS) -> list[str]:
    """A few numeric results to plot: those that vary across the grid first."""
    names = numeric_results(outcomes)
    ok = [o for o in outcomes if o.status != "failed"]
    varying = [n for n in names if len({repr(o.key_results.get(n)) for o in ok}) > 1]
    return (varying + [n for n in names if n not in varying])[:count]


@dataclass
class SweepResult:
    """What a sweep ran and wrote."""

    grid: Grid
    run: RunResult
    folder: Path
    table: Path
    results: list[str]


def run_sweep(
    project: Project,
    grid: Grid,
    *,
    jobs: int | None = None,
    force: bool = False,
    executor: Executor | None = None,
    progress: runner.Progress | None = None,
) -> SweepResult:
    """Run every combination of ``grid`` and write the table (``results.csv``)."""
    result = runner.run(
        project,
        plan=plan(project, grid),
        jobs=jobs,
        force=force,
        executor=executor,
        progress=progress,
    )
    folder = sweep_dir(project, grid)
    table = folder / "results.csv"
    results = write_csv(table, grid, result.outcomes)
    return SweepResult(grid, result, folder, table, results)


def chosen_plots(sweep: SweepResult, plots: Sequence[str] = ()) -> list[str]:
    """The results to draw: ``plots`` (default: :func:`default_plots`), each checked.

    Raises :class:`SweepPlotError` naming a chosen result that no run published
    as a number.
    """
    unknown = [n for n in plots if n not in sweep.results]
    if unknown and sweep.results:
        raise SweepPlotError(sweep, unknown)
    return list(dict.fromkeys(plots)) or default_plots(sweep.run.outcomes)


class SweepPlotError(ParameterError):
    """``--plot`` named a result that is not a numeric key result of the article."""

    def __init__(self, sweep: SweepResult, unknown: list[str]) -> None:
        self.sweep = sweep
        super().__init__(
            f"{sweep.grid.notebook}: --plot {', '.join(map(repr, unknown))}: not a numeric key "
            f"result of this article; its numeric results are: {', '.join(sweep.results)}"
        )
