"""The book's generated pages: the execution report and the data-sources page.

Both are MyST markdown written into the staged book by ``cloudpad build``:

* ``reports/execution.md``: per notebook, status, duration, whether it came from
  the cache, when it last ran, and the versions of Python and the key packages;
  datasets past their declared freshness are flagged.
* ``reports/data-sources.md``: every dataset of ``data/datapackage.json`` with
  source, licence, date and columns (:func:`cloudpad.data.sources_markdown`),
  and the articles that read it, taken from the cache records (the files each
  kernel really opened).
"""

from __future__ import annotations

import datetime as dt
import platform
from importlib import metadata
from pathlib import Path, PurePosixPath

import nbformat

from cloudpad.pipeline import cache
from cloudpad.pipeline.project import Project
from cloudpad.pipeline.runner import Outcome

#: Packages whose versions the execution report lists.
KEY_PACKAGES: tuple[str, ...] = (
    "cloudpad",
    "papermill",
    "nbclient",
    "ipykernel",
    "jupyter-book",
    "myst-nb",
    "sphinx",
    "numpy",
    "pandas",
    "scipy",
    "matplotlib",
    "frictionless",
)

_STATUS = {"executed": "executed", "cached": "from cache", "failed": "FAILED"}


def notebook_title(path: Path) -> str:
    """The first ``# heading`` of a notebook, else its file name."""
    try:
        nb = nbformat.read(path, as_version=4)
    except (OSError, ValueError):
        return path.stem
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return path.stem


def _link(project: Project, notebook: str, from_page: str) -> str:
    """A MyST link from generated page ``from_page`` to ``notebook`` (both project-relative)."""
    depth = len(PurePosixPath(from_page).parent.parts)
    target = "../" * depth + notebook
    return f"[{notebook_title(project.root / notebook)}]({target})"


def package_versions() -> list[tuple[str, str]]:
    """``(name, version)`` of Python and :data:`KEY_PACKAGES` (``"not installed"`` if absent)."""
    rows = [("Python", platform.python_version())]
    for name in KEY_PACKAGES:
        try:
            rows.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            rows.append((name, "not installed"))
    return rows


def execution_markdown(
    project: Project,
    outcomes: list[Outcome],
    stale: list[str] | None = None,
    now: dt.datetime | None = None,
) -> str:
    """The execution report page for ``outcomes`` of the run that built this edition."""
    now = now or dt.datetime.now(dt.UTC)
    page = "reports/execution.md"
    lines = [
        "# Execution report",
        "",
        "Every article of this edition was executed by Papermill through `cloudpad run` before "
        "the site was rendered; Jupyter Book itself executed nothing. A notebook shown as "
        "*from cache* was not re-executed because nothing it depends on (its code, its "
        "parameters, the `cloudpad` modules and data files it read, the kernel and the pinned "
        "requirements) changed since the run shown.",
        "",
        f"Site built {now:%Y-%m-%d %H:%M} UTC.",
        "",
        "| Article | Status | Duration (s) | Last ran (UTC) | Why it ran |",
        "| --- | --- | ---: | --- | --- |",
    ]
    for o in outcomes:
        ran = o.executed_at.replace("T", " ").replace("+00:00", "")
        reason = "—" if o.status == "cached" else o.reason
        lines.append(
            f"| {_link(project, o.notebook, page)} | {_STATUS[o.status]} | "
            f"{o.duration_s:.1f} | {ran} | {reason} |"
        )
    total = sum(o.duration_s for o in outcomes)
    lines += [
        "",
        f"{len(outcomes)} notebook{'s' if len(outcomes) != 1 else ''}, "
        f"{total:.1f} s of execution in all "
        f"({sum(o.status == 'cached' for o in outcomes)} from cache).",
        "",
        "## Data freshness",
        "",
    ]
    if stale:
        lines.append("These datasets are older than the freshness their descriptor declares:")
        lines.append("")
        lines += [f"- {item}" for item in stale]
    else:
        lines.append("Every dataset is within the freshness its descriptor declares.")
    lines += ["", "## Versions", "", "| Software | Version |", "| --- | --- |"]
    lines += [f"| {name} | {version} |" for name, version in package_versions()]
    return "\n".join(lines) + "\n"


def data_usage(project: Project, notebooks: list[Path]) -> dict[str, list[str]]:
    """Data file (project-relative) -> links to the articles that read it (from cache records)."""
    usage: dict[str, list[str]] = {}
    for nb in notebooks:
        record = cache.load_record(project, nb)
        if record is None:
            continue
        rel = str(project.relative(nb))
        for dep in record.dependencies:
            if dep.startswith("data/"):
                usage.setdefault(dep, []).append(_link(project, rel, "reports/data-sources.md"))
    return usage
