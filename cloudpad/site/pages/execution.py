"""The execution report (``reports/execution``): how this edition was executed.

Per notebook: status, duration, whether it came from the cache, when it last
ran and why; the versions of Python and the key packages; datasets past their
declared freshness.
"""

from __future__ import annotations

import datetime as dt

from cloudpad.pipeline.manifest import package_versions
from cloudpad.pipeline.outcomes import Outcome
from cloudpad.pipeline.project import Project
from cloudpad.site.links import article_link

_STATUS = {"executed": "executed", "cached": "from cache", "failed": "FAILED"}


def stale_data(project: Project) -> list[str]:
    """One line per dataset past the freshness its descriptor declares."""
    from cloudpad import data

    return [
        f"`{item.name}`: retrieved {item.retrieved}, declared current for "
        f"{item.valid_for_days} days, now {item.age_days} days old"
        for item in data.stale_resources(data_dir=project.data_dir)
    ]


def markdown(project: Project, outcomes: list[Outcome], now: dt.datetime | None = None) -> str:
    """The execution report page for ``outcomes`` of the run that built this edition."""
    now = now or dt.datetime.now(dt.UTC)
    stale = stale_data(project)
    page = "reports/execution.md"
    lines = [
        "# Execution report",
        "",
        "Every article of this edition was executed by Papermill through `cloudpad run` before "
        "the site was rendered; Jupyter Book itself executed nothing. A notebook shown as "
        "*from cache* was not re-executed because nothing it depends on (its code, its "
        "parameters, the `cloudpad` modules and data files it read, the versions of the "
        "libraries its kernel imported, Python and the kernel) changed since the run shown.",
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
            f"| {article_link(project, o.notebook, page)} | {_STATUS[o.status]} | "
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
    lines += [f"| {name} | {version} |" for name, version in package_versions().items()]
    return "\n".join(lines) + "\n"
