"""Links from generated pages to articles: the article's title as the link text."""

from __future__ import annotations

from pathlib import PurePosixPath

from cloudpad.pipeline import notebooks
from cloudpad.pipeline.project import Project


def article_link(project: Project, notebook: str, from_page: str) -> str:
    """A MyST link from generated page ``from_page`` to ``notebook`` (both project-relative)."""
    depth = len(PurePosixPath(from_page).parent.parts)
    target = "../" * depth + notebook
    return f"[{notebooks.title(project.root / notebook)}]({target})"
