"""The "Data sources" page (``reports/data-sources``), generated from ``data/datapackage.json``.

One section per dataset: title, file, description, sources with links and the
version or date of each document, licence, date retrieved, how it is refreshed
and what its last refresh did (``data/refresh-status.json``), freshness (or why
it does not expire), a table of its columns with type,
description/unit and constraints, and the articles that read it (from the
run's outcomes: the files each kernel really opened).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from cloudpad.data import data_folder, read_descriptor
from cloudpad.pipeline.outcomes import Outcome
from cloudpad.pipeline.project import Project
from cloudpad.refresh.status import REFRESHABLE, Freshness, freshness
from cloudpad.site.links import article_link


def usage(project: Project, outcomes: Sequence[Outcome]) -> dict[str, list[str]]:
    """Dataset name -> links to the articles that read its file (from the outcomes)."""
    folder = project.data_dir
    by_path: dict[Path, str] = {
        (folder / str(res.get("path"))).resolve(): res["name"]
        for res in read_descriptor(folder)["resources"]
    }
    used: dict[str, list[str]] = {}
    for outcome in outcomes:
        for dep in outcome.dependencies:
            path = Path(dep) if Path(dep).is_absolute() else project.root / dep
            name = by_path.get(path.resolve())
            if name is not None:
                link = article_link(project, outcome.notebook, "reports/data-sources.md")
                used.setdefault(name, []).append(link)
    return {name: sorted(set(links)) for name, links in used.items()}


def markdown(project: Project, outcomes: list[Outcome]) -> str:
    """The page for this run."""
    return sources_markdown(usage(project, outcomes), data_dir=project.data_dir)


def sources_markdown(
    usage: Mapping[str, Sequence[str]] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    today: dt.date | None = None,
) -> str:
    """MyST markdown of the book's "Data sources" page, generated from ``datapackage.json``.

    One ``##`` section per resource (title, file, description, sources with links
    and document versions, license, date retrieved, freshness, a table of its columns with type,
    description/unit and constraints, and "Used by:" followed by ``usage[name]``,
    ready-made markdown links supplied by the caller).  Headings go ``#`` then
    ``##`` only and each section carries a unique ``(data-<name>)=`` label, so
    Sphinx builds it with warnings as errors.  ``today`` (default: local date)
    decides which resources are flagged stale.
    """
    folder = data_folder(data_dir)
    usage = usage or {}
    today = today or dt.date.today()
    descriptor = read_descriptor(folder)
    fresh = freshness(folder, today)
    out = [
        "# Data sources",
        "",
        "Every number an article starts from is read from the project's `data/` folder. This page "
        "is generated from `data/datapackage.json`, a "
        "[Frictionless Data Package](https://datapackage.org/standard/data-package/), and every "
        "file below is validated against its schema each time an article loads it with "
        "`cloudpad.data.load(name)`. Figures marked as assumptions or authored example data are "
        "not measurements.",
        "",
    ]
    for res in descriptor["resources"]:
        name = res["name"]
        out += [f"(data-{name.replace('_', '-')})=", f"## {_md(res.get('title', name))}", ""]
        out += [f"**File:** `data/{res.get('path')}` (resource `{name}`)", ""]
        out += [_md(str(res.get("description", ""))), ""]
        sources = [_source(src) for src in res.get("sources", [])] or ["not stated"]
        out += ["**Sources:**", ""] + [f"- {src}" for src in sources] + [""]
        licenses = [_link(lic) for lic in res.get("licenses", [])] or ["not stated"]
        out += [f"**License:** {'; '.join(licenses)}", ""]
        out += [f"**Retrieved:** {res.get('retrieved', 'not stated')}", ""]
        out += [f"**Refreshed:** {_refreshed(fresh[name])}", ""]
        out += [f"**Freshness:** {_freshness(res, fresh[name])}", ""]
        out += [*_columns_table(res), ""]
        used = [str(link) for link in usage.get(name, [])]
        out += [f"**Used by:** {', '.join(used) if used else 'not used by any article yet'}", ""]
    return "\n".join(out).rstrip() + "\n"


def _refreshed(item: Freshness) -> str:
    """How the dataset is refreshed, and what its last refresh did."""
    if not item.refreshable:
        return "curated by hand (no source the book can read automatically)"
    how = f"by `cloudpad data refresh {item.name}` from {_md(REFRESHABLE[item.name])}"
    if item.status is None:
        return f"{how}; not refreshed by it yet"
    text = f"{how}; last run on {item.checked}: {item.status}"
    if item.reason:
        text += f" ({_md(_short(item.reason))})"
    if item.confirmed:
        text += f"; sources last confirmed this data on {item.confirmed}"
    if item.sources:
        text += "; read from " + ", ".join(f"<{url}>" for url in item.sources)
    if item.edited:
        text += "; **the file was edited by hand after the refresh wrote it**"
    return text


def _short(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _freshness(res: Mapping[str, Any], item: Freshness) -> str:
    life = item.valid_for_days
    if life is None:
        reason = res.get("x-no-expiry")
        return f"does not expire: {_md(str(reason))}" if reason else "no expiry declared"
    since = f"retrieved {item.retrieved}"
    if item.confirmed and item.confirmed != item.retrieved:
        since += f", confirmed {item.confirmed}"
    if item.stale:
        return (
            f"**STALE**: declared current for {life} days after retrieval ({since}); now "
            f"{item.age_days} days old. Refresh this file."
        )
    return f"current, within its declared {life} days ({since})"


def _columns_table(res: Mapping[str, Any]) -> list[str]:
    key = res.get("schema", {}).get("primaryKey", [])
    key = [key] if isinstance(key, str) else list(key)
    rows = [
        "| column | type | meaning and unit | constraints |",
        "| --- | --- | --- | --- |",
    ]
    for field in res.get("schema", {}).get("fields", []):
        rules = []
        cons = field.get("constraints", {})
        if field["name"] in key:
            rules.append("primary key" if len(key) == 1 else f"part of key ({', '.join(key)})")
        if cons.get("required"):
            rules.append("required")
        for word, sign in (("minimum", "≥"), ("exclusiveMinimum", ">"), ("maximum", "≤")):
            if word in cons:
                rules.append(f"{sign} {cons[word]}")
        if "enum" in cons:
            rules.append("one of " + ", ".join(f"`{v}`" for v in cons["enum"]))
        if "pattern" in cons:
            rules.append(f"matches `{cons['pattern']}`")
        if cons.get("unique"):
            rules.append("unique")
        for prop, text in (("x-emptyIf", "empty when"), ("x-requiredUnless", "required unless")):
            if prop in field:
                rules.append(f"{text} {field[prop]['field']} = `{field[prop]['equals']}`")
        rows.append(
            f"| `{field['name']}` | {field.get('type', 'string')} | "
            f"{_md(field.get('description', ''))} | {'; '.join(rules) or '—'} |"
        )
    return rows


def _md(text: str) -> str:
    """Escape table pipes and dollar signs (the book enables MyST dollarmath); fold newlines."""
    return text.replace("|", "\\|").replace("$", "\\$").replace("\n", " ")


def _source(entry: Mapping[str, Any]) -> str:
    """A source with its link and the version or date of the document the figures come from."""
    version = entry.get("version")
    return _link(entry) + (f" (version: {_md(str(version))})" if version else "")


def _link(entry: Mapping[str, Any]) -> str:
    title = _md(str(entry.get("title") or entry.get("name") or ""))
    url = entry.get("path")
    if url and str(url).startswith(("http://", "https://")):
        return f"[{title}]({url})"
    return title
