"""``cloudpad`` command line: a thin layer over :mod:`cloudpad.pipeline` and :mod:`cloudpad.site`.

    cloudpad run [NOTEBOOK ...] [-p NAME VALUE ...] [--jobs N] [--force]
    cloudpad build [--jobs N] [--force]
    cloudpad params NOTEBOOK
    cloudpad clean

Exit codes: 0 success, 1 a notebook or the site build failed, 2 bad input
(unknown parameter, wrong type, missing notebook, bad configuration).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cloudpad.exceptions import CloudpadError, ExecutionFailed
from cloudpad.pipeline import runner
from cloudpad.pipeline.outcomes import Outcome, RunResult, failure_report
from cloudpad.pipeline.parameters import describe, notebook_parameters
from cloudpad.pipeline.plan import prepare
from cloudpad.pipeline.project import Project, exclusive, find_project
from cloudpad.site import render as site


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cloudpad",
        description="Execute the Cloud Architecture Notepad with Papermill and render it.",
    )
    parser.add_argument(
        "--root", type=Path, default=None, help="book folder (default: found from here)"
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
    build = sub.add_parser("build", help="execute all notebooks, then render the site")
    common(build)
    params = sub.add_parser("params", help="list a notebook's parameters")
    params.add_argument("notebook", type=Path)
    sub.add_parser("clean", help="remove _build (executed notebooks, cache, site)")
    return parser


def _execute(
    project: Project, console: Console, args: argparse.Namespace, notebooks=None, pairs=()
) -> RunResult:
    if args.jobs is not None and args.jobs < 1:
        raise CloudpadError(f"--jobs must be a whole number >= 1, got {args.jobs}")
    columns = (
        TextColumn("[bold]notebooks"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[hits]} from cache, {task.fields[failed]} failed"),
        TimeElapsedColumn(),
    )
    plan = prepare(project, notebooks, pairs)  # refuse bad input before any bar
    counts = {"hits": 0, "failed": 0}
    with Progress(*columns, console=console, transient=False) as bar:
        task = bar.add_task("run", total=None, hits=0, failed=0)

        def progress(outcome: Outcome, done: int, total: int) -> None:
            if outcome.status == "cached":
                counts["hits"] += 1
            if outcome.status == "failed":
                counts["failed"] += 1
            bar.update(task, completed=done, total=total, **counts)

        result = runner.run(project, jobs=args.jobs, force=args.force, progress=progress, plan=plan)
        bar.update(task, completed=len(result.outcomes), total=len(result.outcomes), **counts)
    console.print(
        f"{len(result.outcomes)} notebook{'' if len(result.outcomes) == 1 else 's'}: "
        f"{len(result.executed)} executed, "
        f"{len(result.cached)} from cache, {len(result.failed)} failed "
        f"in {result.elapsed_s:.1f} s; executed notebooks in "
        f"{', '.join(sorted({str(Path(o.output).parent) for o in result.outcomes})) or '-'}"
    )
    if result.failed:
        console.print(failure_report(result), markup=False, highlight=False)
    return result


def _run_or_build(project: Project, console: Console, args: argparse.Namespace) -> int:
    """``run`` or ``build``, with the book's lock held; returns the exit code."""
    if args.command == "run":
        result = _execute(project, console, args, args.notebooks, args.parameter)
        return 0 if result.ok else 1
    result = _execute(project, console, args)
    if not result.ok:
        console.print("site not rendered: fix the failed notebooks first")
        return 1
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
    console = Console(stderr=True, highlight=False)

    def waiting(pid: str) -> None:
        console.print(f"waiting: another cloudpad run (process {pid}) is using _build")

    try:
        project = Project(args.root.resolve()) if args.root else find_project()
        if args.command == "params":
            print(describe(notebook_parameters(args.notebook.resolve())))
            return 0
        if args.command == "clean":
            problems = runner.clean(project)
            for problem in problems:
                console.print(f"could not remove {problem}", markup=False, style="bold red")
            return 1 if problems else 0
        with exclusive(project, on_wait=waiting):
            return _run_or_build(project, console, args)
    except CloudpadError as exc:
        console.print(f"error: {exc}", markup=False, style="bold red")
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
