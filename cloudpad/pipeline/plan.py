"""Planning a run: which notebooks, with which parameters and time limits — all checked first.

:func:`prepare` refuses bad input before any kernel starts: a file that is not a
notebook, a notebook without exactly one ``parameters`` cell or with another
kernel, a parameters cell that is not a declaration, an unknown ``-p`` name,
a value of the wrong type or one its declaration does not allow (range,
choices, list length, a ``# check:`` constraint), a malformed timeout key.
Each refusal is a :class:`~cloudpad.exceptions.CloudpadError` naming the
notebook and what is wrong.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from cloudpad import data
from cloudpad.exceptions import ConfigError, NotebookError
from cloudpad.pipeline import notebooks
from cloudpad.pipeline.executors.base import KERNEL
from cloudpad.pipeline.parameters import notebook_parameters, parse_overrides
from cloudpad.pipeline.project import Project


@dataclass(frozen=True)
class Planned:
    """A notebook checked and ready to run: its path, typed overrides and cell timeout."""

    notebook: Path
    parameters: dict[str, Any]
    timeout_s: int
    wall_timeout_s: float | None = None


def read_notebook(notebook: Path) -> nbformat.NotebookNode:
    """The notebook at ``notebook``, validated; :class:`NotebookError` if it is not one."""
    if notebook.suffix != ".ipynb":
        raise NotebookError(f"{notebook}: not a notebook (expected a .ipynb file)")
    if not notebook.is_file():
        raise NotebookError(f"{notebook}: no such notebook")
    try:
        nb = notebooks.read_valid(notebook)
    except (ValueError, nbformat.ValidationError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise NotebookError(
            f"{notebook}: not a valid notebook (JSON of nbformat 4): {first}"
        ) from None
    return nb


#: Per-notebook timeout keys people use, as (metadata section, key).  myst-nb documents
#: ``mystnb: execution_timeout``; Jupyter Book's documentation gives ``execution: timeout``.
TIMEOUT_KEYS: tuple[tuple[str, str], ...] = (
    ("mystnb", "execution_timeout"),
    ("execution", "timeout"),
)
#: Keys allowed under the notebook metadata section ``execution``.
EXECUTION_KEYS: frozenset[str] = frozenset({"timeout", "allow_errors"})


def _seconds(notebook: Path, where: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise NotebookError(
            f"{notebook}: metadata {where} must be a whole number of seconds > 0, got {value!r}"
        )
    return value


def notebook_timeout(notebook: Path, default: int, nb: nbformat.NotebookNode | None = None) -> int:
    """Per-cell timeout of ``notebook`` from its metadata, else ``default`` (seconds).

    Honours ``mystnb.execution_timeout`` and ``execution.timeout``; refuses a
    malformed value, the two keys set to different values, an unknown key under
    ``execution`` and a misspelt timeout key under ``mystnb`` (a silent fallback
    to the book's default would hide the typo).
    """
    nb = nb if nb is not None else read_notebook(notebook)
    meta = nb.metadata
    found: dict[str, int] = {}
    for section, key in TIMEOUT_KEYS:
        block = meta.get(section)
        if block is None:
            continue
        if not isinstance(block, dict):
            raise NotebookError(f"{notebook}: metadata {section} must be a mapping, got {block!r}")
        if key in block:
            found[f"{section}.{key}"] = _seconds(notebook, f"{section}.{key}", block[key])
    unknown = sorted(set(meta.get("execution", {})) - EXECUTION_KEYS)
    typos = sorted(
        k
        for k in meta.get("mystnb", {})
        if k != "execution_timeout"
        and ("timeout" in k.lower() or difflib.get_close_matches(k, ["execution_timeout"], 1, 0.8))
    )
    if unknown or typos:
        bad = [f"execution.{k}" for k in unknown] + [f"mystnb.{k}" for k in typos]
        raise NotebookError(
            f"{notebook}: unknown metadata key {', '.join(bad)}; the per-notebook timeout is "
            "mystnb.execution_timeout or execution.timeout (seconds per cell)"
        )
    if len(set(found.values())) > 1:
        raise NotebookError(
            f"{notebook}: metadata sets two different timeouts ("
            + ", ".join(f"{k} = {v}" for k, v in found.items())
            + "); keep one"
        )
    return next(iter(found.values()), default)


def check_kernel() -> None:
    """Refuse to start when no ``python3`` Jupyter kernel is installed (before any notebook)."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(KERNEL)
    except NoSuchKernel:
        raise ConfigError(
            f"no Jupyter kernel named {KERNEL!r} is installed: install it with "
            "`python -m ipykernel install --sys-prefix` (make book does this through "
            "the runtime lock, requirements.txt)"
        ) from None


def check_notebook(notebook: Path) -> nbformat.NotebookNode:
    """Refuse a file that is not a valid notebook with declared parameters and kernel python3."""
    nb = read_notebook(notebook)
    kernel = nb.metadata.get("kernelspec", {}).get("name")
    if kernel != KERNEL:
        raise NotebookError(f"{notebook}: kernelspec name must be {KERNEL!r}, got {kernel!r}")
    notebook_parameters(notebook)
    return nb


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root.resolve())
    except ValueError:
        return False
    return path.exists()


def select(project: Project, notebooks: Sequence[Path] | None) -> list[Path]:
    """The chosen notebooks as absolute paths (default: every notebook of ``_toc.yml``)."""
    if not notebooks:
        return project.notebooks()
    chosen = []
    for path in notebooks:
        full = (path if path.is_absolute() else Path.cwd() / path).resolve()
        in_book = (project.root / path).resolve()
        if not path.is_absolute() and in_book.exists() and not _inside(full, project.root):
            full = in_book  # relative to the book, e.g. with --root from another folder
        try:
            project.relative(full)
        except ValueError:
            raise NotebookError(f"{path}: not inside the book project {project.root}") from None
        chosen.append(full)
    return chosen


def prepare(
    project: Project,
    notebooks: Sequence[Path] | None = None,
    overrides: Iterable[tuple[str, str]] = (),
) -> list[Planned]:
    """Check the notebooks and ``-p`` overrides; nothing is executed."""
    pairs = list(overrides)
    default_timeout = project.timeout_s()
    wall = project.notebook_timeout_s()
    project.cache_limit_mb()  # used after the run (retention); a bad value is refused now
    plan = []
    lookup = data.lookup(project.data_dir)
    for nb_path in select(project, notebooks):
        nb = check_notebook(nb_path)
        params = parse_overrides(nb_path, pairs, lookup) if pairs else {}
        timeout = notebook_timeout(nb_path, default_timeout, nb)
        plan.append(Planned(nb_path, params, timeout, wall))
    return plan
