"""The generated pages, declared in one place.

Each :class:`Page` is a toc entry that exists only in the staged book and a
function of the project and the run's outcomes that returns the page's MyST
markdown.  To add a page: write ``cloudpad/site/pages/<name>.py`` with a
``markdown(project, outcomes) -> str`` function, add a line to :data:`PAGES`
and list its entry in ``_toc.yml``.  Pages read outcomes (what each notebook
did, read and published), never cache internals.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cloudpad.pipeline.outcomes import Outcome
from cloudpad.pipeline.project import Project, find_project


@dataclass(frozen=True)
class Page:
    """A generated page: its toc entry, one line on what it shows, and the module writing it."""

    entry: str  # toc entry, e.g. "reports/execution" (written as reports/execution.md)
    summary: str
    module: str  # a module of cloudpad.site.pages with markdown(project, outcomes) -> str

    def markdown(self, project: Project, outcomes: Sequence[Outcome]) -> str:
        """The page's text for this run."""
        module = importlib.import_module(f"cloudpad.site.pages.{self.module}")
        return module.markdown(project, list(outcomes))


PAGES: tuple[Page, ...] = (
    Page(
        "reports/changes", "key results that moved since the accepted baseline, and why", "changes"
    ),
    Page("reports/execution", "status, duration and cache use of every notebook", "execution"),
    Page("reports/data-sources", "every dataset with source, licence and users", "data_sources"),
)


def entries() -> frozenset[str]:
    """The toc entries of the generated pages."""
    return frozenset(page.entry for page in PAGES)


def book(root: Path | None = None) -> Project:
    """The book at ``root`` (default: found from the current folder) with its generated pages."""
    if root is None:
        return find_project(generated=entries())
    return Project(root.resolve(), entries())
