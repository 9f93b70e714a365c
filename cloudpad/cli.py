"""``cloudpad`` command line: a thin layer over :mod:`cloudpad.pipeline` and :mod:`cloudpad.site`.

    cloudpad --version
    cloudpad run [NOTEBOOK ...] [-p NAME VALUE ...] [--jobs N] [--force]
                 [--executor local|dask] [--scheduler ADDRESS] [--connect-timeout SECONDS]
    cloudpad build [--jobs N] [--force]
    cloudpad params NOTEBOOK
    cloudpad clean [--runs]                 # _build, or only what -p runs and sweeps keep
    cloudpad diff                           # latest run vs results/baseline.json
    cloudpad accept                         # write results/baseline.json from the latest run
    cloudpad sweep NOTEBOOK -p NAME V1 V2 ... [-p NAME2 ...] [--plot RESULT ...] [--max-runs N]
                 [--jobs N] [--force] [--executor local|dask] [--scheduler ADDRESS]
    cloudpad data refresh [DATASET ...] [--accept-large-change]
    cloudpad data status | cloudpad data report [--output FILE]

Exit codes: 0 success; 1 a notebook or the site build failed, an output could
not be written, or ``--check-deterministic`` found a cell whose output changed;
2 bad input (unknown parameter, wrong type, missing or invalid notebook, bad
configuration, no ``python3`` kernel — refused before any kernel starts — or a
parameter the notebook's own check refused; an unreachable Dask scheduler or
workers with other software); 130 interrupted (Ctrl-C, SIGTERM).
``--verbose`` adds tracebacks to refused input.
``diff``: 0 nothing drifted, 1 a key result moved beyond its tolerance (or an
article is new, missing or failed), 2 no run yet, no baseline, or either
damaged.  ``accept``: 0 written, 2 refused (no run, a failed or partial one, a
damaged manifest or baseline).  ``sweep``: 0 every combination ran, 1 one
failed, 2 bad grid (unknown name, wrong type, empty list of values, more runs
than ``--max-runs``) or ``--plot`` of an unknown result
(:mod:`cloudpad.cli_edition`).  ``data refresh``: 0 every dataset refreshed or
unchanged, 1 a source failed or a change was refused, 2 a dataset that cannot be
refreshed (:mod:`cloudpad.cli_data`).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from cloudpad import __version__, cli_data
from cloudpad import cli_edition as edition
from cloudpad.exceptions import CloudpadError, ExecutionFailed, OutputError
from cloudpad.pipeline import retention, runner
from cloudpad.pipeline.executors.base import Executor
from cloudpad.pipeline.outcomes import Outcome, RunResult, failure_report
from cloudpad.pipeline.parameters import describe, notebook_parameters
from cloudpad.pipeline.plan import prepare
from cloudpad.pipeline.project import Project, exclusive
from cloudpad.site import registry
from cloudpad.site import render as site


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cloudpad",
        description="Execute the Cloud Architecture Notepad with Papermill and render it.",
    )
    parser.add_argument("--version", action="version", version=f"cloudpad {__version__}")
    parser.add_argument(
        "--root", type=Path, default=None, help="book folder (default: found from here)"
    )
    parser.add_argument(
        "--verbose", "-v", action="store_true", help="show tracebacks of refused input too"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--jobs",
            "-j",
            type=int,
            default=None,
            help=f"notebooks executed at once (default: cores, here {os.cpu_count()})",
        )
        p.add_argument("--force", action="store_true", help="ignore the cache, execute all")
        p.add_argument(
            "--check-deterministic",
            action="store_true",
            help="execute each notebook a second time and name any cell whose output changed",
        )

    run = sub.add_parser("run", help="execute notebooks (default: all in _toc.yml)")
    run.add_argument("notebooks", nargs="*", type=Path, metavar="NOTEBOOK")
    run.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="override a parameter; VALUE is a Python literal (repeatable)",
    )
    common(run)
    edition.add_executor_options(run)
    build = sub.add_parser("build", help="execute all notebooks, then render the site")
    common(build)
    params = sub.add_parser("params", help="list a notebook's parameters")
    params.add_argument("notebook", type=Path)
    clean = sub.add_parser("clean", help="remove _build (executed notebooks, cache, site)")
    clean.add_argument(
        "--runs",
        action="store_true",
        help="remove only what -p runs and sweeps keep (_build/runs, their cache records, "
        "_build/sweeps); the edition stays",
    )
    edition.add_parsers(sub)  # diff, accept, sweep
    cli_data.add_parser(sub)  # data refresh, status, report
    return parser


def _make_executor(args: argparse.Namespace, project: Project) -> Executor:
    """The executor the command line asked for (default: local worker processes)."""
    return edition.make_executor(args, project.root)  # --executor local|dask, --scheduler


class _Running(ProgressColumn):
    """The notebooks the executor is running now, so a long wait names what it waits for."""

    def __init__(self, executor: Executor) -> None:
        super().__init__()
        self.executor = executor

    def render(self, task: Task) -> Text:
        names = [Path(n).stem for n in getattr(self.executor, "running", list)()]
        return Text(f"running: {', '.join(names)}" if names else "", style="dim")


def _execute(
    project: Project, console: Console, args: argparse.Namespace, notebooks=None, pairs=()
) -> RunResult:
    if args.jobs is not None and args.jobs < 1:
        raise CloudpadError(f"--jobs must be a whole number >= 1, got {args.jobs}")
    plan = prepare(project, notebooks, pairs)  # refuse bad input before any bar
    executor = _make_executor(args, project)
    columns = (
        TextColumn("[bold]notebooks"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[hits]} from cache, {task.fields[failed]} failed"),
        TimeElapsedColumn(),
        _Running(executor),
    )
    counts = {"hits": 0, "failed": 0}
    try:
        with Progress(*columns, console=console, transient=False) as bar:
            task = bar.add_task("run", total=None, hits=0, failed=0)

            def progress(outcome: Outcome, done: int, total: int) -> None:
                if outcome.status == "cached":
                    counts["hits"] += 1
                if outcome.status == "failed":
                    counts["failed"] += 1
                bar.update(task, completed=done, total=total, **counts)

            result = runner.run(
                project, force=args.force, progress=progress, plan=plan, executor=executor
            )
            bar.update(task, completed=len(result.outcomes), total=len(result.outcomes), **counts)
            if args.check_deterministic and result.ok:
                result.nondeterministic = runner.check_deterministic(project, plan, executor)
    finally:
        executor.close()
    console.print(
        f"{len(result.outcomes)} notebook{'' if len(result.outcomes) == 1 else 's'}: "
        f"{len(result.executed)} executed, "
        f"{len(result.cached)} from cache, {len(result.failed)} failed "
        f"in {result.elapsed_s:.1f} s; executed notebooks in "
        f"{', '.join(sorted({str(Path(o.output).parent) for o in result.outcomes})) or '-'}"
    )
    edition.print_notes(console, result)
    if result.failed:
        report = failure_report(result, verbose=args.verbose)
        console.print(report, markup=False, highlight=False)
    for problem in result.nondeterministic:
        console.print(f"NOT DETERMINISTIC {problem}", markup=False, style="bold red")
    return result


def _exit_code(result: RunResult) -> int:
    """0 all good; 2 every failure is refused input (a parameter the notebook checked); else 1."""
    if result.failed and all(o.failure and o.failure.refused_input for o in result.failed):
        return 2
    return 0 if result.ok and not result.nondeterministic else 1


def _run_or_build(project: Project, console: Console, args: argparse.Namespace) -> int:
    """``run`` or ``build``, with the book's lock held; returns the exit code."""
    if args.command == "run":
        result = _execute(project, console, args, args.notebooks, args.parameter)
        return _exit_code(result)
    result = _execute(project, console, args)
    if not result.ok or result.nondeterministic:
        failed = ", ".join(o.notebook for o in result.failed) or "none failed"
        console.print(f"site not rendered: fix the notebooks first ({failed})", markup=False)
        return _exit_code(result) or 1
    started = time.perf_counter()
    try:
        done = site.build(project, result)
    except ExecutionFailed as exc:
        console.print(f"error: {exc}", markup=False, style="bold red")
        return 1
    if done.returncode != 0:
        console.print(done.stdout[-6000:], markup=False, highlight=False)
        console.print(done.stderr[-6000:], markup=False, highlight=False)
        console.print("[bold red]Jupyter Book failed[/] (warnings are errors)")
        return 1
    index = project.relative(site.html_dir(project) / "index.html")
    if done.skipped:
        console.print(f"site up to date (nothing changed): {index}")
    else:
        console.print(f"site rendered in {time.perf_counter() - started:.1f} s: {index}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``cloudpad`` and ``python -m cloudpad``; returns the exit code."""
    args = _parser().parse_args(argv)
    console = Console(stderr=True, highlight=False, soft_wrap=True)

    def waiting(holder: str) -> None:
        console.print(
            f"waiting: another cloudpad run ({holder}) is using _build; "
            "this run starts when it ends",
            markup=False,
        )

    def terminate(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt  # SIGTERM stops a run the way Ctrl-C does

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        if args.command == "params":  # reads only the notebook: works outside a book folder
            print(describe(notebook_parameters(args.notebook.resolve())))
            return 0
        project = registry.book(args.root)
        if args.command == "clean":
            if args.runs:
                with exclusive(project, on_wait=waiting):
                    count, problems = retention.clean_runs(project)
                console.print(f"removed {count} parameterised run{'' if count == 1 else 's'}")
            else:
                problems = retention.clean(project)
            for problem in problems:
                console.print(f"could not remove {problem}", markup=False, style="bold red")
            return 1 if problems else 0
        if args.command in edition.COMMANDS:
            return edition.main(project, console, args)
        if args.command == "data":
            return cli_data.main(project, console, args)
        with exclusive(project, on_wait=waiting):
            return _run_or_build(project, console, args)
    except KeyboardInterrupt:
        console.print(
            "interrupted: the running notebooks and their kernels were stopped; finished "
            "notebooks are cached and the next run executes the rest",
            markup=False,
            style="bold red",
        )
        return 130
    except OutputError as exc:
        console.print(f"error: {exc}", markup=False, style="bold red")
        return 1
    except CloudpadError as exc:
        if args.verbose:
            console.print_exception()
        console.print(f"error: {exc}", markup=False, style="bold red")
        return 2
    finally:
        signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
