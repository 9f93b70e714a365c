"""Links from generated pages to articles: the article's title as the link text."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from cloudpad.pipeline import notebooks
from cloudpad.pipeline.project import Project


def notebook_title(path: Path) -> str:
    """The first ``# heading`` of a notebook, else its file name."""
    try:
        nb = notebooks.read(path, mutable=False)
    except (OSError, ValueError):
        return path.stem
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return path.stem


def article_link(project: Project, notebook: str, from_page: str) -> str:
    """A MyST link from generated page ``from_page`` to ``notebook`` (both project-relative)."""
    depth = len(PurePosixPath(from_page).parent.parts)
    target = "../" * depth + notebook
    return f"[{notebook_title(project.root / notebook)}]({target})"
