"""Shared fixtures: the real project, and small throw-away book projects for pipeline tests."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
import yaml

from cloudpad.pipeline.project import Project

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def project() -> Project:
    """The Cloud Architecture Notepad itself."""
    return Project(ROOT)


def write_notebook(
    path: Path,
    parameters: str,
    cells: list[str],
    *,
    title: str = "A test article",
    metadata: dict | None = None,
) -> Path:
    """Write a clean notebook: a title, a ``parameters`` cell, then code cells."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    nb.metadata.update(metadata or {})
    params = nbformat.v4.new_code_cell(textwrap.dedent(parameters).strip())
    params.metadata["tags"] = ["parameters"]
    nb.cells = [
        nbformat.v4.new_markdown_cell(f"# {title}\n\nSome prose."),
        params,
        *(nbformat.v4.new_code_cell(textwrap.dedent(src).strip()) for src in cells),
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


BookFactory = Callable[..., Project]


@pytest.fixture
def make_book(tmp_path: Path) -> BookFactory:
    """Build a small book in ``tmp_path``: ``make_book({"a": (params, [cells...]), ...})``.

    Each notebook goes to ``notebooks/<name>.ipynb`` and into ``_toc.yml``;
    ``data`` maps file names to contents written under ``data/``.
    """

    def factory(
        notebooks: dict[str, tuple[str, list[str]]],
        *,
        data: dict[str, str] | None = None,
        timeout: int = 60,
        metadata: dict[str, dict] | None = None,
    ) -> Project:
        (tmp_path / "intro.md").write_text("# Test book\n\nIntro.\n")
        config = {
            "title": "Test book",
            "only_build_toc_files": True,
            "execute": {"execute_notebooks": "off", "timeout": timeout},
        }
        (tmp_path / "_config.yml").write_text(yaml.safe_dump(config))
        toc = {
            "format": "jb-book",
            "root": "intro",
            "chapters": [{"file": f"notebooks/{name}"} for name in notebooks],
        }
        (tmp_path / "_toc.yml").write_text(yaml.safe_dump(toc))
        for name, (params, cells) in notebooks.items():
            write_notebook(
                tmp_path / "notebooks" / f"{name}.ipynb",
                params,
                cells,
                metadata=(metadata or {}).get(name),
            )
        (tmp_path / "data").mkdir(exist_ok=True)
        for name, text in (data or {}).items():
            (tmp_path / "data" / name).write_text(text)
        return Project(tmp_path)

    return factory
