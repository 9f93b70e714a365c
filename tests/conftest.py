"""Shared fixtures: the real project, one build of the real book per test session, and small
throw-away book projects for pipeline tests."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import nbformat
import pytest
import yaml

from cloudpad.pipeline.project import Project
from cloudpad.site import registry

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def project() -> Project:
    """The Cloud Architecture Notepad itself (with its generated pages)."""
    return registry.book(ROOT)


#: Set to the root of a project whose book is already built (``_build/html``) to run the
#: book and browser tests against it instead of building a fresh copy (for quick iteration).
PREBUILT_ENV = "CLOUDPAD_TEST_BOOK"

#: What is not copied into the temporary project the book is built in.
_NOT_COPIED = shutil.ignore_patterns(
    "_build",
    ".venv",
    ".git",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
    "__pycache__",
    "*.egg-info",
    ".ipynb_checkpoints",
)


def _shared_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder every xdist worker of this session sees (the parent of the per-worker ones)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def built_book(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    """The real book, executed and rendered ONCE per test session in a temporary copy.

    The project (without ``_build``, ``.venv``, ``.git``) is copied to a temporary
    folder and ``cloudpad build`` runs there, so the tests never touch the
    working tree's ``_build``.  Under pytest-xdist the first worker that asks
    builds while holding a lock; the others wait for it and share the result
    (or its failure).  With ``CLOUDPAD_TEST_BOOK=/path/to/project`` the tests
    use that project's existing build instead.
    """
    prebuilt = os.environ.get(PREBUILT_ENV)
    if prebuilt:
        project = registry.book(Path(prebuilt))
        assert (project.build_dir / "html" / "index.html").is_file(), (
            f"{PREBUILT_ENV}={prebuilt}: no built site in {project.build_dir / 'html'}"
        )
        yield project
        return
    shared = _shared_tmp(tmp_path_factory)
    copy = shared / "book"
    log = shared / "book-build.log"
    with open(shared / "book.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not log.exists():
            shutil.copytree(ROOT, copy, ignore=_NOT_COPIED, symlinks=True)
            done = subprocess.run(
                [sys.executable, "-m", "cloudpad", "--root", str(copy), "build"],
                capture_output=True,
                text=True,
                env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
            )
            log.write_text(f"exit code {done.returncode}\n{done.stdout}\n{done.stderr}")
    text = log.read_text()
    assert text.startswith("exit code 0\n"), f"cloudpad build of the book failed:\n{text}"
    yield registry.book(copy)


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


def run_cli(book: Project, capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str]:
    """``cloudpad --root BOOK ARGS…`` in this process: the exit code and all it printed."""
    from cloudpad.cli import main

    code = main(["--root", str(book.root), *args])
    captured = capsys.readouterr()
    return code, captured.err + captured.out


def no_traceback(text: str) -> None:
    """The user sees the message, not a stack trace."""
    assert "Traceback" not in text and 'File "' not in text, text


def one_sentence(text: str) -> None:
    """All the user sees is one line, without a stack trace."""
    no_traceback(text)
    assert len(text.strip().splitlines()) == 1, text


def write_book(
    root: Path,
    notebooks: dict[str, tuple[str, list[str]]],
    *,
    data: dict[str, str] | None = None,
    timeout: int = 60,
    metadata: dict[str, dict] | None = None,
) -> Project:
    """Write a small book in ``root``: ``{"a": (params, [cells...]), ...}``.

    Each notebook goes to ``notebooks/<name>.ipynb`` and into ``_toc.yml``;
    ``data`` maps file names to contents written under ``data/``.
    """
    root.mkdir(parents=True, exist_ok=True)
    (root / "intro.md").write_text("# Test book\n\nIntro.\n")
    config = {
        "title": "Test book",
        "only_build_toc_files": True,
        "execute": {"execute_notebooks": "off", "timeout": timeout},
    }
    (root / "_config.yml").write_text(yaml.safe_dump(config))
    toc = {
        "format": "jb-book",
        "root": "intro",
        "chapters": [{"file": f"notebooks/{name}"} for name in notebooks],
    }
    (root / "_toc.yml").write_text(yaml.safe_dump(toc))
    for name, (params, cells) in notebooks.items():
        write_notebook(
            root / "notebooks" / f"{name}.ipynb",
            params,
            cells,
            metadata=(metadata or {}).get(name),
        )
    (root / "data").mkdir(exist_ok=True)
    for name, text in (data or {}).items():
        (root / "data" / name).write_text(text)
    return Project(root)


@pytest.fixture
def make_book(tmp_path: Path) -> BookFactory:
    """Build a small book in ``tmp_path``: ``make_book({"a": (params, [cells...]), ...})``
    (:func:`write_book`)."""

    def factory(notebooks: dict[str, tuple[str, list[str]]], **kwargs) -> Project:
        return write_book(tmp_path, notebooks, **kwargs)

    return factory
