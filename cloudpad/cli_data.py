"""The data commands of the command line: ``cloudpad data refresh|status|report``.

    cloudpad data refresh [DATASET ...] [--accept-large-change]
    cloudpad data status
    cloudpad data report [--output FILE]

``refresh`` (:func:`cloudpad.refresh.core.refresh`) prints one sentence per
dataset and writes what it did to ``_build/refresh/summary.json`` for
``report``.  Exit codes: 0 every dataset refreshed or unchanged; 1 a source
failed or a change was refused (its files are kept as they were); 2 bad input
(a dataset that is not refreshable).  ``status``: 0.  ``report``: the Markdown
what-changed report of the last refresh and of the key results that moved in
the latest run (``cloudpad diff``), to standard output or ``FILE``; 0, or 2 when
no refresh summary exists.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from cloudpad.exceptions import CloudpadError
from cloudpad.files import write_atomic
from cloudpad.pipeline import baseline
from cloudpad.pipeline.project import Project

SUMMARY = Path("refresh") / "summary.json"


def add_parser(sub: Any) -> None:
    """The ``data`` command and its subcommands."""
    data = sub.add_parser("data", help="refresh datasets from their sources; their status")
    commands = data.add_subparsers(dest="data_command", required=True)
    refresh = commands.add_parser(
        "refresh",
        help="fetch the refreshable datasets from their providers (default: all of them)",
        description="Fetch each refreshable dataset from its provider, check it and write it "
        "when its content changed. A source that fails keeps the previous file (exit 1).",
    )
    refresh.add_argument("datasets", nargs="*", metavar="DATASET")
    refresh.add_argument(
        "--accept-large-change",
        action="store_true",
        help="write a refresh that lost more than 10 %% of a dataset's rows or moved a value "
        "by more than 3x (after review)",
    )
    commands.add_parser("status", help="when each dataset was retrieved and checked; current?")
    report = commands.add_parser(
        "report", help="the what-changed report of the last refresh and run (Markdown)"
    )
    report.add_argument("--output", "-o", type=Path, default=None, metavar="FILE")


def main(project: Project, console: Console, args: argparse.Namespace) -> int:
    """Run ``cloudpad data <command>``; returns the exit code."""
    if args.data_command == "refresh":
        return refresh_command(project, console, args.datasets, args.accept_large_change)
    if args.data_command == "status":
        return status_command(project, console)
    return report_command(project, console, args.output)


def refresh_command(project: Project, console: Console, names: list[str], accept: bool) -> int:
    from cloudpad.refresh import core, report

    results = core.refresh(names, data_dir=project.data_dir, accept_large_change=accept)
    for result in results:
        style = "" if result.ok else "bold red"
        console.print(escape(result.sentence()), style=style)
    today = dt.datetime.now(dt.UTC).date().isoformat()
    text = json.dumps(report.summary(results, today), indent=2, ensure_ascii=False) + "\n"
    write_atomic(project.build_dir / SUMMARY, text)
    return 0 if all(r.ok for r in results) else 1


def status_command(project: Project, console: Console) -> int:
    from cloudpad.refresh import status

    for item in status.freshness(project.data_dir).values():
        life = f"valid {item.valid_for_days} days" if item.valid_for_days else "no expiry"
        state = "STALE" if item.stale else "current"
        done = item.status or ("never run" if item.refreshable else "curated by hand")
        line = (
            f"{item.name}: retrieved {item.retrieved or '?'}, {life}, {state}; last refresh: "
            f"{done}" + (f" on {item.checked}" if item.checked else "")
        )
        if item.reason:
            line += f" ({item.reason})"
        if item.edited:
            line += "; the file was edited since the refresh wrote it"
        console.print(escape(line), style="bold red" if item.stale or item.not_refreshed else "")
    return 0


def moved_results(project: Project) -> list[dict[str, str]]:
    """Key results of the latest run that moved against the baseline (rows for the report)."""
    from cloudpad.pipeline import notebooks

    try:
        diff = baseline.diff(project)
    except baseline.EditionError:
        return []
    rows = []
    for article in diff.changed:
        title = notebooks.title(project.root / article.notebook)
        for change in article.results:
            rows.append(
                {
                    "article": title,
                    "notebook": article.notebook,
                    "result": change.name,
                    "old": "—" if change.kind == "added" else baseline.show(change.old),
                    "new": "—" if change.kind == "removed" else baseline.show(change.new),
                    "change": baseline.change_text(change),
                }
            )
    return rows


def report_command(project: Project, console: Console, output: Path | None) -> int:
    from cloudpad.refresh import report

    path = project.build_dir / SUMMARY
    if not path.is_file():
        raise CloudpadError(
            f"no refresh to report: {project.relative(path)} is missing; run "
            "`cloudpad data refresh` first"
        )
    text = report.markdown(json.loads(path.read_text(encoding="utf-8")), moved_results(project))
    if output is None:
        print(text, end="")
    else:
        write_atomic(output, text)
        console.print(f"report written to {escape(str(output))}")
    return 0
