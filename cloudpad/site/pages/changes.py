"""The page "What changed in this edition" (``reports/changes``).

Compares the key results of the run that built this edition with the accepted
baseline (``results/baseline.json``, :mod:`cloudpad.pipeline.baseline`): per
article, each result that moved beyond its tolerance with its accepted and new
value, linked to the article, and the inputs behind it that changed (datasets,
``cloudpad`` modules, parameters, the article's code, the environment).  An
edition without a change says so; a book without a baseline says that.
"""

from __future__ import annotations

from cloudpad.exceptions import CloudpadError
from cloudpad.pipeline import baseline
from cloudpad.pipeline.outcomes import Outcome
from cloudpad.pipeline.project import Project
from cloudpad.site.links import article_link

PAGE = "reports/changes.md"


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
        "For each change the page lists what changed behind it: the datasets and `cloudpad` "
        "modules the article read, its parameters, its code, or the software it ran with.",
        "",
    ]


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
    if article.inputs:
        lines += ["What changed behind these numbers:", ""]
        lines += [f"- {_cell(item.describe())}" for item in article.inputs]
    else:
        lines.append(
            "None of the inputs behind these numbers changed (code, parameters, data, modules, "
            "software): the change is unexplained and is a defect of this edition."
        )
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
        lines.append(
            f"**No change.** All {results} key results of the {len(compared)} articles are "
            "within their tolerance of the accepted values."
        )
    else:
        changed = [a for a in diff.changed if a.state == "compared"]
        others = [a for a in diff.changed if a.state != "compared"]
        if changed:
            lines += ["## Results that changed", ""]
            for article in changed:
                lines += _article(project, article)
        if others:
            lines += ["## Articles added, removed or not run", ""]
            for article in others:
                lines += _article(project, article)
            lines.append("")
    if diff.inputs_only:
        lines += [
            "## Inputs that changed without moving a result",
            "",
            "These articles read changed inputs, and every key result stayed within its tolerance:",
            "",
        ]
        for article in diff.inputs_only:
            items = "; ".join(_cell(i.describe()) for i in article.inputs)
            lines.append(f"- {article_link(project, article.notebook, PAGE)}: {items}.")
    return "\n".join(lines).rstrip() + "\n"
