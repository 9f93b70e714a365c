"""Render the site: stage the book with executed notebooks, then run Jupyter Book (no execution).

The staged book in ``_build/src`` is the source tree with each notebook
replaced by its executed copy from ``_build/executed`` and the generated pages
(:data:`cloudpad.site.registry.PAGES`) written in.  Jupyter Book 1.x renders it
to ``_build/html`` with ``execute_notebooks: off`` and warnings as errors
(``-W -n --keep-going``), so a broken reference, a missing figure or an unknown
glue key fails the build.  Files are copied with their modification times so
Sphinx rebuilds only pages that changed; after a failed build the next one
starts from scratch, so no warning is hidden by an incremental build.

Each staged article is its executed copy made ready for readers: what the
kernel wrote to stderr (warnings, log lines) is dropped, the ``parameters``
cell is collapsed (its declarations are the assumptions table printed right
after it), and a note under the title says when the article was last executed
and whether the datasets it read are still within their declared freshness
(:func:`article_note`).  The site's address is set in one place,
``html.baseurl`` in ``_config.yml``: the staged configuration and ``robots.txt``
take the link previews' and the sitemap's address from it (:func:`site_url`).
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import yaml

from cloudpad.exceptions import ConfigError, ExecutionFailed
from cloudpad.pipeline import notebooks
from cloudpad.pipeline.outcomes import Outcome, RunResult
from cloudpad.pipeline.project import Project
from cloudpad.site import registry

#: Marker written after a clean build; without it the next build is a full one.
OK_MARKER = ".book-ok"

#: Folders of the project staged as they are: static assets and theme templates, files
#: copied to the site's root (``html_extra_path``), images.
STAGED_FOLDERS = ("_static", "_templates", "_extra", "images")

#: Pages the note under an article's title links to, when the toc has them.
EXECUTION_PAGE = "reports/execution"
DATA_PAGE = "reports/data-sources"


def staging_dir(project: Project) -> Path:
    return project.build_dir / "src"


def html_dir(project: Project) -> Path:
    return project.build_dir / "html"


def _copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    if (
        dst.exists()
        and dst.stat().st_mtime == src.stat().st_mtime
        and (dst.read_bytes() == src.read_bytes())
    ):
        return
    shutil.copy2(src, dst)


def _write_if_changed(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def stage(project: Project, outcomes: list[Outcome]) -> Path:
    """Assemble the book to render in ``_build/src`` and return that folder.

    Refuses (:class:`ExecutionFailed`) when a notebook of the toc has no
    successful executed copy, so a site is never built from a failed notebook.
    """
    failed = [o.notebook for o in outcomes if o.status == "failed"]
    if failed:
        raise ExecutionFailed(f"not rendering the site: failed notebooks {', '.join(failed)}")
    executed = {o.notebook: project.root / o.output for o in outcomes}
    by_notebook = {o.notebook: o for o in outcomes}
    datasets = Datasets.of(project)
    out = staging_dir(project)
    wanted: set[Path] = set()

    def put(src: Path, rel: Path) -> None:
        _copy(src, out / rel)
        wanted.add(out / rel)

    _write_if_changed(out / "_config.yml", staged_config(project.config()))
    wanted.add(out / "_config.yml")
    put(project.toc_path, Path("_toc.yml"))
    for bib in project.config().get("bibtex_bibfiles") or []:
        bib_path = project.root / bib
        if not bib_path.is_file():
            raise ConfigError(
                f"{project.config_path}: bibtex_bibfiles names {bib}, which is missing"
            )
        put(bib_path, Path(bib))
    for folder in STAGED_FOLDERS:
        for path in sorted((project.root / folder).rglob("*")):
            if path.is_file():
                put(path, project.relative(path))
    robots = out / "_extra" / "robots.txt"
    _write_if_changed(robots, robots_txt(project.config()))
    wanted.add(robots)
    for entry in project.toc_entries():
        source = project.resolve_entry(entry)
        if source is None:
            continue  # a generated page, written below
        rel = project.relative(source)
        if source.suffix == ".ipynb":
            copy = executed.get(rel.as_posix())
            if copy is None or not copy.is_file():
                raise ExecutionFailed(f"not rendering the site: {rel} has no executed copy")
            outcome = by_notebook[rel.as_posix()]
            _write_if_changed(
                out / rel, reader_copy(copy, article_note(project, outcome, datasets))
            )
            wanted.add(out / rel)
        else:
            put(source, rel)
        for asset in source.parent.iterdir():  # images beside a page
            if asset.is_file() and asset.suffix.lower() in (".png", ".svg", ".jpg", ".gif"):
                put(asset, project.relative(asset))

    for page, text in generated_pages(project, outcomes).items():
        _write_if_changed(out / f"{page}.md", text)
        wanted.add(out / f"{page}.md")
    for path in sorted(out.rglob("*"), reverse=True):  # drop what is no longer in the book
        if path.is_file() and path not in wanted:
            path.unlink()
    return out


def site_url(config: dict[str, Any]) -> str:
    """The published site's address: ``html.baseurl`` of ``_config.yml`` ("" when unset).

    The one place a fork sets it: the staged configuration and ``robots.txt``
    derive the link previews' address (``ogp_site_url``) and the sitemap's from it.
    """
    url = str((config.get("html") or {}).get("baseurl") or "")
    return url if not url or url.endswith("/") else url + "/"


def staged_config(config: dict[str, Any]) -> str:
    """``_config.yml`` as the staged book gets it: the link previews' address from the site URL."""
    staged = copy.deepcopy(config)
    url = site_url(config)
    if url:
        sphinx = staged.setdefault("sphinx", {}).setdefault("config", {})
        sphinx["ogp_site_url"] = url
    return "# Generated by cloudpad from _config.yml; edit that file.\n" + yaml.safe_dump(
        staged, sort_keys=False, allow_unicode=True
    )


def robots_txt(config: dict[str, Any]) -> str:
    """``robots.txt`` at the site's root: crawlers welcome, the sitemap at the site URL."""
    url = site_url(config)
    return "User-agent: *\nAllow: /\n" + (f"\nSitemap: {url}sitemap.xml\n" if url else "")


def hide_parameters_cell(nb: nbformat.NotebookNode) -> None:
    """Collapse the ``parameters`` cell's code for readers (tag it ``hide-input``).

    The declarations are the assumptions table the next cell prints, so the
    page shows them once; a reader opens the cell with its toggle.  The source
    notebook is not changed, only the staged copy.
    """
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if cell.cell_type == "code" and "parameters" in tags and "hide-input" not in tags:
            cell.metadata["tags"] = [*tags, "hide-input"]


@dataclass(frozen=True)
class Datasets:
    """The data files of the book's resources, which are past their freshness, which not refreshed.

    Freshness counts from the later of a dataset's retrieval and the last day its
    sources confirmed it (:func:`cloudpad.refresh.status.freshness`).
    """

    files: dict[str, str]  # file, as outcomes name it (project-relative or absolute) -> resource
    stale: frozenset[str]  # names of the resources past their declared freshness
    not_refreshed: frozenset[str] = frozenset()  # the last refresh kept (part of) the old file

    @classmethod
    def of(cls, project: Project, today: dt.date | None = None) -> Datasets:
        from cloudpad import data
        from cloudpad.refresh import status

        root = project.root.resolve()
        files = {}
        for name in data.resource_names(project.data_dir):
            path = (project.data_dir / data.describe(name, project.data_dir)["path"]).resolve()
            files[str(path)] = name
            if path.is_relative_to(root):
                files[path.relative_to(root).as_posix()] = name
        fresh = status.freshness(project.data_dir, today=today).values()
        return cls(
            files,
            frozenset(item.name for item in fresh if item.stale),
            frozenset(item.name for item in fresh if item.not_refreshed),
        )


def _day(iso: str) -> str:
    """``2026-11-26T14:05:00+00:00`` -> ``26 November 2026``."""
    when = dt.datetime.fromisoformat(iso)
    return f"{when.day} {when:%B %Y}"


def article_note(project: Project, outcome: Outcome, datasets: Datasets) -> str:
    """The line under an article's title: when it was last executed, and how fresh its data is.

    The datasets an article read are the resource files among its outcome's
    dependencies (the files its kernel opened).
    """
    entries = set(project.toc_entries())
    executed = f"Last executed on {_day(outcome.executed_at)}"
    if EXECUTION_PAGE in entries:
        executed += f" ({{doc}}`execution report </{EXECUTION_PAGE}>`)"
    read = {datasets.files[f] for f in outcome.dependencies if f in datasets.files}
    old = sorted(read & datasets.stale)
    kept = sorted(read & datasets.not_refreshed)
    if not read:
        freshness = "reads no dataset"
    elif old:
        names = ", ".join(f"`{name}`" for name in old)
        freshness = f"**data past its declared freshness**: {names}"
    else:
        freshness = "data current"
    if kept:
        names = ", ".join(f"`{name}`" for name in kept)
        freshness += f"; the last refresh of {names} failed, the earlier data is kept"
    if read and DATA_PAGE in entries:
        freshness += f" ({{doc}}`data sources </{DATA_PAGE}>`)"
    return f"{executed} · {freshness}"


def reader_copy(executed: Path, note: str) -> str:
    """The executed notebook as readers get it: no stderr outputs, ``note`` under the title.

    The ``parameters`` cell is collapsed (:func:`hide_parameters_cell`).
    """
    nb = notebooks.read(executed)
    hide_parameters_cell(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [
                o for o in cell.outputs if not (o.output_type == "stream" and o.name == "stderr")
            ]
    # An admonition, so link previews (sphinxext-opengraph) skip it when they take the
    # page's description from its first lines; _static/book.css draws it as a plain line.
    block = f"\n\n:::{{admonition}} About this page\n:class: article-note\n{note}\n:::\n"
    for cell in nb.cells:
        lines = cell.source.split("\n") if cell.cell_type == "markdown" else []
        title = next((i for i, line in enumerate(lines) if line.startswith("# ")), None)
        if title is not None:
            rest = "\n".join(lines[title + 1 :]).lstrip("\n")
            cell.source = "\n".join(lines[: title + 1]) + block + ("\n" + rest if rest else "")
            break
    else:
        nb.cells.insert(0, nbformat.v4.new_markdown_cell(block.strip()))
    return nbformat.writes(nb) + "\n"


def generated_pages(project: Project, outcomes: list[Outcome]) -> dict[str, str]:
    """Text of each page of the registry (:data:`cloudpad.site.registry.PAGES`), by toc entry."""
    return {page.entry: page.markdown(project, outcomes) for page in registry.PAGES}


@dataclass
class Rendered:
    """What :func:`build` did: Jupyter Book's exit code and output, or that nothing was needed."""

    returncode: int
    stdout: str = ""
    stderr: str = ""
    skipped: bool = False


def fingerprint(staged: Path) -> str:
    """SHA-256 over every staged file but the execution report (which only describes the run).

    Two builds with the same fingerprint render the same site, so a build whose
    notebooks all came from the cache and whose fingerprint matches the last
    good build's has nothing to render.
    """
    digest = hashlib.sha256()
    for path in sorted(staged.rglob("*")):
        rel = path.relative_to(staged).as_posix()
        if path.is_file() and rel != "reports/execution.md":
            digest.update(rel.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def jupyter_book_command(staged: Path, output: Path, builder: str) -> list[str]:
    """``jupyter-book build`` of the staged book with ``builder``, writing to ``output/_build``.

    Jupyter Book writes the html and linkcheck builders' output to
    ``<output>/_build/html``.
    """
    jb = Path(sys.executable).with_name("jupyter-book")
    command = [str(jb) if jb.exists() else "jupyter-book", "build", str(staged)]
    return [*command, "--path-output", str(output), "--builder", builder]


def render(project: Project, staged: Path) -> Rendered:
    """Run Jupyter Book on the staged book into ``_build/html``; warnings are errors.

    After a failed build the next one re-reads every page (``--all``), so an
    incremental build cannot hide a warning of an unchanged page.
    """
    marker = project.build_dir / OK_MARKER
    full = not marker.exists()
    marker.unlink(missing_ok=True)
    command = [*jupyter_book_command(staged, project.root, "html"), "-W", "-n", "--keep-going"]
    if full:
        command.append("--all")
    done = subprocess.run(command, capture_output=True, text=True, cwd=project.root)
    if done.returncode == 0:
        marker.write_text(fingerprint(staged) + "\n", encoding="utf-8")
    return Rendered(done.returncode, done.stdout, done.stderr)


def build(project: Project, result: RunResult) -> Rendered:
    """Stage and render the site for a successful run ``result``.

    Nothing is rendered when every notebook came from the cache and the staged
    book is the one the current site was rendered from (same fingerprint): the
    site, its execution report included, already describes this edition.
    """
    staged = stage(project, result.outcomes)
    marker = project.build_dir / OK_MARKER
    current = (
        marker.exists()
        and (html_dir(project) / "index.html").exists()
        and all(o.status == "cached" for o in result.outcomes)
        and marker.read_text(encoding="utf-8").strip() == fingerprint(staged)
    )
    if current:
        return Rendered(0, skipped=True)
    return render(project, staged)
