"""The edition commands of the command line: ``diff``, ``accept`` and ``sweep``; executor options.

:mod:`cloudpad.cli` adds these parsers (:func:`add_parsers`) and hands the
commands named in :data:`COMMANDS` to :func:`main`.  Exit codes:

* ``diff``: 0 nothing drifted, 1 a result moved beyond its tolerance (or an
  article is new, missing or failed), 2 bad input (no run yet, no baseline, a
  damaged manifest or baseline);
* ``accept``: 0 written, 2 refused (no run, a failed or partial run, a damaged
  manifest or baseline);
* ``sweep``: 0 every combination ran, 1 one failed, 2 bad input (unknown
  parameter, wrong type, empty list of values, more runs than ``--max-runs``,
  ``--plot`` of an unknown result).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cloudpad import data
from cloudpad.exceptions import CloudpadError
from cloudpad.pipeline import baseline, notebooks, sweep
from cloudpad.pipeline.executors.base import Executor
from cloudpad.pipeline.outcomes import Outcome, RunResult, failure_report
from cloudpad.pipeline.plan import check_notebook, select
from cloudpad.pipeline.project import Project, exclusive
from cloudpad.site import sweep_figures

COMMANDS = frozenset({"diff", "accept", "sweep"})
EXECUTORS = ("local", "dask")
#: The modules of the optional ``dask`` extra (not in the runtime lock).
DASK_MODULES = frozenset({"dask", "distributed"})
DASK_MISSING = (
    "--executor dask needs the optional dask extra, which is not installed: "
    "run `.venv/bin/pip install --require-hashes -r requirements-dask.txt` "
    "(or `pip install 'cloudpad[dask]'` outside the book's locks)"
)
#: Seconds to try reaching a Dask scheduler (``--connect-timeout``).
DEFAULT_CONNECT_TIMEOUT_S = 30.0


# --- executor options (run and sweep) ----------------------------------------------


def add_executor_options(parser: argparse.ArgumentParser) -> None:
    """``--executor local|dask`` and ``--scheduler ADDRESS``."""
    parser.add_argument(
        "--executor",
        choices=EXECUTORS,
        default=None,
        help="where notebooks execute: local worker processes (default) or a Dask cluster",
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        default=None,
        help="Dask scheduler, e.g. tcp://10.0.0.5:8786 (implies --executor dask; without it, "
        "--executor dask starts a LocalCluster of --jobs workers on this machine)",
    )
    parser.add_argument(
        "--connect-timeout",
        metavar="SECONDS",
        type=float,
        default=DEFAULT_CONNECT_TIMEOUT_S,
        help="how long to try reaching the --scheduler before giving up "
        f"(default {DEFAULT_CONNECT_TIMEOUT_S:g})",
    )


def make_executor(args: argparse.Namespace, root: Path | None = None) -> Executor:
    """The executor ``args`` ask for: local processes, or Dask (a scheduler or a LocalCluster).

    A Dask scheduler is reached, and its workers' software compared with this
    client's for the book at ``root``, before this returns.
    """
    kind = getattr(args, "executor", None)
    address = getattr(args, "scheduler", None)
    jobs = getattr(args, "jobs", None)
    if jobs is not None and jobs < 1:
        raise CloudpadError(f"--jobs must be a whole number >= 1, got {jobs}")
    if kind == "local" and address:
        raise CloudpadError(
            f"--scheduler {address} needs --executor dask (the local executor has no scheduler)"
        )
    timeout = getattr(args, "connect_timeout", DEFAULT_CONNECT_TIMEOUT_S)
    if not timeout > 0:
        raise CloudpadError(f"--connect-timeout must be a number of seconds > 0, got {timeout:g}")
    if kind == "dask" or address:
        try:  # the optional extra, imported here so its absence is one sentence, up front
            import dask  # noqa: F401
            import distributed  # noqa: F401
        except ModuleNotFoundError as exc:
            if exc.name not in DASK_MODULES:
                raise
            raise CloudpadError(DASK_MISSING) from None
        from cloudpad.pipeline.executors.dask import DaskExecutor

        executor = DaskExecutor(address=address, workers=jobs, connect_timeout_s=timeout)
        if address and root is not None:
            executor.check_software(root)
        return executor
    from cloudpad.pipeline.executors.local import ProcessPoolExecutor

    return ProcessPoolExecutor(jobs)


# --- parsers ---------------------------------------------------------------------------


def add_parsers(sub: Any) -> None:
    """The ``diff``, ``accept`` and ``sweep`` subcommands."""
    sub.add_parser(
        "diff",
        help="compare the latest run's key results with results/baseline.json",
        description="Per article, each key result that moved beyond its tolerance since the "
        "accepted baseline, old -> new, and the inputs that changed. Exit 0 when nothing "
        "drifted, 1 when something did, 2 when there is no run or no baseline.",
    )
    sub.add_parser(
        "accept",
        help="write results/baseline.json from the latest run (after review)",
        description="Accept the latest edition run's key results as the baseline; refused when "
        "a notebook failed or was not run. Per-result tolerances in the old baseline are kept.",
    )
    p = sub.add_parser(
        "sweep",
        help="run one article over a grid of parameter values",
        description="Run NOTEBOOK once per combination of the values given with -p, in "
        "parallel and through the cache; write _build/sweeps/<name>-<digest>/results.csv "
        "and a figure per chosen result against the first swept parameter.",
    )
    p.add_argument("notebook", type=Path, metavar="NOTEBOOK")
    p.add_argument(
        "-p",
        "--parameter",
        nargs="+",
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="a parameter and one or more values (Python literals); repeat for a grid",
    )
    p.add_argument(
        "--plot",
        action="append",
        default=[],
        metavar="RESULT",
        help=f"a key result to plot (repeatable; default: up to {sweep.DEFAULT_PLOTS} that vary)",
    )
    p.add_argument("--jobs", "-j", type=int, default=None, help="runs at once (default: cores)")
    p.add_argument("--force", action="store_true", help="ignore the cache, execute every run")
    p.add_argument(
        "--max-runs",
        type=int,
        default=sweep.DEFAULT_MAX_RUNS,
        metavar="N",
        help="the most runs this sweep may start; a bigger grid is refused before any kernel "
        f"(default {sweep.DEFAULT_MAX_RUNS})",
    )
    add_executor_options(p)


def main(project: Project, console: Console, args: argparse.Namespace) -> int:
    """Run the edition command ``args.command``; returns the exit code."""
    if args.command == "diff":
        return diff_command(project, console)
    if args.command == "accept":
        with exclusive(project):
            return accept_command(project, console)
    return sweep_command(project, console, args)


# --- diff and accept ---------------------------------------------------------------


def _package(info: dict[str, Any]) -> str:
    if not info.get("name"):
        return "unknown"
    return f"{info['name']} {info.get('version', '(no version declared)')}"


def print_diff(project: Project, console: Console, result: baseline.EditionDiff) -> None:
    """The per-article report of ``cloudpad diff``."""
    packages = _package(result.baseline_data_package)
    if result.data_package != result.baseline_data_package:
        packages += f" → {_package(result.data_package)}"
    console.print(
        f"Latest run compared with the baseline accepted {result.accepted_at[:10]} "
        f"(data package {escape(packages)})"
    )
    for article in result.changed:
        title = notebooks.title(project.root / article.notebook)
        console.rule(f"[bold]{escape(title)}[/] [dim]{escape(article.notebook)}[/]", align="left")
        if article.state == "new":
            console.print(
                f"new article, not in the baseline: {len(article.results)} key results "
                "(`cloudpad accept` records them)"
            )
            continue
        if article.state == "missing":
            console.print("[bold red]in the baseline, but not in the latest run[/]")
            continue
        if article.state == "failed":
            console.print("[bold red]failed in the latest run[/]: its results were not compared")
            continue
        table = Table(show_edge=False, box=None, pad_edge=False)
        for column, justify in (
            ("result", "left"),
            ("accepted", "right"),
            ("now", "right"),
            ("change", "right"),
        ):
            table.add_column(column, justify=justify)
        for c in article.results:
            old = "—" if c.kind == "added" else baseline.show(c.old)
            new = "—" if c.kind == "removed" else baseline.show(c.new)
            table.add_row(escape(c.name), escape(old), escape(new), baseline.change_text(c))
        console.print(table)
        if article.inputs:
            console.print("inputs that changed:")
            for item in article.inputs:
                console.print(f"  - {escape(item.describe())}")
        else:
            console.print(
                "[bold red]no input changed[/] (code, parameters, data, modules and "
                "environment are as accepted): unexplained drift"
            )
        if article.unchanged:
            console.print(f"[dim]{article.unchanged} other results within tolerance[/]")
    for article in result.inputs_only:
        items = "; ".join(i.describe() for i in article.inputs)
        console.print(
            f"[dim]{escape(article.notebook)}: inputs changed ({escape(items)}), every result "
            "within tolerance[/]"
        )
    moved = sum(len(a.results) for a in result.changed if a.state == "compared")
    steady = sum(1 for a in result.articles if not a.drifted)
    if result.drifted:
        console.print(
            f"[bold]{moved} result{'s' if moved != 1 else ''} moved[/] in "
            f"{len(result.changed)} article{'s' if len(result.changed) != 1 else ''}; "
            f"{steady} unchanged. After review: `cloudpad accept`."
        )
    else:
        console.print(
            f"[bold green]No change:[/] every key result of {steady} articles is within its "
            "tolerance of the baseline."
        )


def diff_command(project: Project, console: Console) -> int:
    result = baseline.diff(project)
    print_diff(project, Console(highlight=False, soft_wrap=True), result)  # the report: stdout
    return 1 if result.drifted else 0


def accept_command(project: Project, console: Console) -> int:
    done = baseline.accept(project)
    where = project.relative(done.path)
    console.print(
        f"wrote {where}: {done.results} key results of {done.notebooks} articles, accepted "
        f"{done.accepted_at} (data package {escape(_package(done.data_package))})"
    )
    if done.previous is None:
        console.print("first baseline of this book")
    else:
        moved = sum(len(a.results) for a in done.previous.changed)
        console.print(
            f"{moved} result{'s' if moved != 1 else ''} changed since the previous baseline "
            f"({len(done.previous.changed)} articles); commit {where} with the change"
        )
    return 0


def print_notes(console: Console, result: RunResult) -> None:
    """What a run repaired or removed on its own (a damaged cache record, evicted runs), once."""
    for note in result.notes:
        console.print(f"note: {note}", markup=False, highlight=False)


# --- sweep ---------------------------------------------------------------------------


def sweep_command(project: Project, console: Console, args: argparse.Namespace) -> int:
    (notebook,) = select(project, [args.notebook])
    check_notebook(notebook)
    grid = sweep.parse_grid(notebook, args.parameter, data.lookup(project.data_dir))
    if args.max_runs < 1:
        raise CloudpadError(f"--max-runs must be a whole number >= 1, got {args.max_runs}")
    total = sweep.check_size(project, grid, args.max_runs)
    executor = make_executor(args, project.root)
    counts = {"hits": 0, "failed": 0}
    columns = (
        TextColumn("[bold]sweep"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[hits]} from cache, {task.fields[failed]} failed"),
        TimeElapsedColumn(),
    )
    started = time.perf_counter()
    try:
        with exclusive(project), Progress(*columns, console=console) as bar:
            task = bar.add_task("sweep", total=total, hits=0, failed=0)

            def progress(outcome: Outcome, done: int, total: int) -> None:
                counts["hits"] += outcome.status == "cached"
                counts["failed"] += outcome.status == "failed"
                bar.update(task, completed=done, total=total, **counts)

            result = sweep.run_sweep(
                project, grid, force=args.force, executor=executor, progress=progress
            )
    finally:
        executor.close()
    try:
        figures = sweep_figures.draw(result, sweep.chosen_plots(result, args.plot))
        error = None
    except sweep.SweepPlotError as exc:
        figures, error = [], exc
    run = result.run
    console.print(
        f"{total} run{'s' if total != 1 else ''} of {escape(project.relative(notebook).as_posix())}"
        f": {len(run.executed)} executed, {len(run.cached)} from cache, {len(run.failed)} "
        f"failed in {time.perf_counter() - started:.1f} s"
    )
    console.print(f"table: {escape(project.relative(result.table).as_posix())}")
    print_notes(console, run)
    svgs = [f for f in figures if f.suffix == ".svg"]
    if svgs:
        names = ", ".join(f.stem for f in svgs)
        where = project.relative(result.folder).as_posix()
        console.print(f"figures (SVG and PNG) in {escape(where)}/: {escape(names)}")
    console.print(
        f"executed notebooks: {escape(project.relative(project.runs_dir).as_posix())}/<digest>/"
        "executed/ (one folder per combination; see the table's last column)"
    )
    if run.failed:
        console.print(failure_report(run), markup=False, highlight=False)
    if error is not None:
        console.print(f"error: {error}", markup=False, style="bold red")
        return 2
    return 0 if run.ok else 1
