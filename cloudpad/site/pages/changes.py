"""The page "What changed in this edition" (``reports/changes``), written for readers.

Compares the key results of the run that built this edition with the accepted
baseline (``results/baseline.json``, :mod:`cloudpad.pipeline.baseline`) and
leads with what a reader cares about: the results that moved (accepted and new
value, linked to the article), then the data that changed (datasets, the data
package, parameters).  Code and software changes (the article's code,
``cloudpad`` modules, library versions, Python) are one collapsed line per
article, a ``<details>`` element that opens on a click.  An edition without a
change says so; a book without a baseline says that.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from cloudpad.exceptions import CloudpadError
from cloudpad.pipeline import baseline
from cloudpad.pipeline.outcomes import Outcome
from cloudpad.pipeline.project import Project
from cloudpad.site.links import article_link

PAGE = "reports/changes.md"
#: Inputs a reader reads about in the open: the data and the assumptions behind a result.
DATA_KINDS = frozenset({"dataset", "descriptor", "parameter"})


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _package(info: dict) -> str:
    if not info.get("name"):
        return ""
    version = info.get("version")
    return f"`{info['name']}`" + (f" version {version}" if version else " (no version declared)")


def _intro(diff: baseline.EditionDiff, default_tolerance: float) -> list[str]:
    date = diff.accepted_at[:10] or "an unknown date"
    package = _package(diff.baseline_data_package)
    moved = _package(diff.data_package)
    data = f" with data package {package}" if package else ""
    if package and moved and moved != package:
        data += f" (this edition reads {moved})"
    return [
        "Every number an article prints is computed, and each one it publishes for its prose "
        "is a *key result* of the edition. This page compares the key results of this edition "
        f"with the baseline a reviewer accepted on {date}{data}. A number counts as changed "
        f"when it moved by more than its tolerance ({default_tolerance:.1%} of the accepted "
        "value unless a result sets its own); text and yes/no results change when they differ. "
        "Under each change: the data and parameters behind it that changed, and, folded into "
        "one line, changes to the code and software it ran with.",
        "",
    ]


def _data_changes(inputs: Sequence[baseline.InputChange]) -> list[baseline.InputChange]:
    return [i for i in inputs if i.kind in DATA_KINDS]


def _technical(inputs: Sequence[baseline.InputChange]) -> str:
    """One collapsed line: the code and software changes behind an article ("" if none)."""
    items = [i.describe() for i in inputs if i.kind not in DATA_KINDS]
    if not items:
        return ""
    count = f"{len(items)} change{'s' if len(items) != 1 else ''}"
    body = "; ".join(html.escape(item) for item in items)
    return (
        f'<details class="code-changes"><summary>Code and software: {count}</summary>'
        f"<p>{body}.</p></details>"
    )


def _article(project: Project, article: baseline.ArticleDiff) -> list[str]:
    link = article_link(project, article.notebook, PAGE)
    if article.state == "new":
        return [f"- {link}: new in this edition ({len(article.results)} key results)."]
    if article.state == "missing":
        return [f"- `{article.notebook}`: in the accepted edition, no longer in this one."]
    if article.state == "failed":
        return [f"- {link}: failed to run; its results were not compared."]
    count = len(article.results)
    lines = [
        f"### {link}",
        "",
        f"{count} key result{'s' if count != 1 else ''} changed"
        + (f"; {article.unchanged} held." if article.unchanged else "."),
        "",
        "| Result | Accepted | This edition | Change |",
        "| --- | ---: | ---: | ---: |",
    ]
    for c in article.results:
        old = "—" if c.kind == "added" else _cell(baseline.show(c.old))
        new = "—" if c.kind == "removed" else _cell(baseline.show(c.new))
        lines.append(f"| `{c.name}` | {old} | {new} | {baseline.change_text(c)} |")
    lines.append("")
    if not article.inputs:
        lines.append(
            "None of the inputs behind these numbers changed (code, parameters, data, modules, "
            "software): the change is unexplained and is a defect of this edition."
        )
        return [*lines, ""]
    data = _data_changes(article.inputs)
    if data:
        lines += ["Data and parameters behind these numbers that changed:", ""]
        lines += [f"- {_cell(item.describe())}" for item in data]
        lines.append("")
    technical = _technical(article.inputs)
    if technical:
        lines += [technical, ""]
    return lines


def _changed_data(project: Project, diff: baseline.EditionDiff) -> list[str]:
    """The datasets (and descriptor) that changed, each with the articles that read them."""
    readers: dict[str, list[str]] = {}
    for article in diff.articles:
        for item in article.inputs:
            if item.kind in ("dataset", "descriptor"):
                label = item.describe()
                readers.setdefault(label, []).append(article_link(project, article.notebook, PAGE))
    if not readers:
        return []
    lines = ["## Data that changed", ""]
    for label, links in readers.items():
        lines.append(f"- {_cell(label)}: read by {', '.join(links)}.")
    return [*lines, ""]


def markdown(project: Project, outcomes: list[Outcome]) -> str:
    """The page for the run that built this edition."""
    lines = ["# What changed in this edition", ""]
    try:
        accepted = baseline.load(project)
    except CloudpadError as exc:
        return "\n".join([*lines, f"The baseline could not be read: {_cell(str(exc))}", ""])
    if accepted is None:
        lines.append(
            "No baseline has been accepted for this book yet (`results/baseline.json`), so "
            "there is no earlier edition to compare with. Once a reviewer runs `cloudpad accept`, "
            "this page lists every key result that moves in a later edition, and why."
        )
        return "\n".join(lines) + "\n"
    diff = baseline.compare_outcomes(project, accepted, outcomes)
    default = float(accepted.get("default_tolerance", baseline.DEFAULT_TOLERANCE))
    lines += _intro(diff, default)
    compared = [a for a in diff.articles if a.state == "compared"]
    results = sum(a.unchanged + len(a.results) for a in compared)
    if not diff.drifted:
        lines += [
            f"**No change.** All {results} key results of the {len(compared)} articles are "
            "within their tolerance of the accepted values.",
            "",
        ]
    else:
        changed = [a for a in diff.changed if a.state == "compared"]
        others = [a for a in diff.changed if a.state != "compared"]
        if changed:
            lines += ["## Results that moved", ""]
            for article in changed:
                lines += _article(project, article)
        if others:
            lines += ["## Articles added, removed or not run", ""]
            for article in others:
                lines += _article(project, article)
            lines.append("")
    lines += _changed_data(project, diff)
    if diff.inputs_only:
        lines += [
            "## Inputs that changed without moving a result",
            "",
            "These articles ran with changed inputs, and every key result stayed within its "
            "tolerance:",
            "",
        ]
        for article in diff.inputs_only:
            data = "; ".join(_cell(i.describe()) for i in _data_changes(article.inputs))
            technical = _technical(article.inputs)
            link = article_link(project, article.notebook, PAGE)
            lines.append(f"- {link}" + (f": {data}." if data else "") + "")
            if technical:
                lines += ["", f"  {technical}", ""]
    return "\n".join(lines).rstrip() + "\n"
