"""What ``_build`` keeps of parameterised runs (``-p`` runs and sweeps), and its size limit.

A run with the overrides of digest ``D`` (:func:`cache.parameters_digest`)
keeps ``_build/runs/D/`` (executed notebooks, logs, its manifest) and its
cache records ``_build/cache/<notebook>.D.json``: together, one *run set*.
Sweeps make one per combination, so ``_build`` would grow with every grid
tried.  ``execute.cache_limit_mb`` in ``_config.yml`` bounds the run sets'
total size (jupyter-cache's ``cache_limit`` idea, in megabytes): after each
run, :func:`evict` removes whole run sets, least recently used first, until the
rest fit.  A run set is *used* when a run executes it or serves it from the
cache, which rewrites its manifest, so the manifest's modification time is its
last use.  The sets the run itself used are never removed.
:func:`clean_runs` (``cloudpad clean --runs``) removes every run set and the
sweep tables (``_build/sweeps/``); the edition's own files (``executed/``, its
records, ``manifest.json``, the site) are never touched by either.
:func:`clean` (``cloudpad clean``) removes all of ``_build``.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from cloudpad.pipeline import cache
from cloudpad.pipeline.project import Project

MB = 1_000_000


@dataclass
class RunSet:
    """The files one set of overrides keeps: its run folder and its cache records."""

    digest: str
    paths: list[Path] = field(default_factory=list)
    size: int = 0  # bytes
    used: float = 0.0  # last use, seconds since the epoch


def _size(path: Path) -> int:
    if path.is_file() or path.is_symlink():
        return path.lstat().st_size
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() or p.is_symlink())


def run_sets(project: Project) -> list[RunSet]:
    """Every run set in ``_build``, least recently used first."""
    sets: dict[str, RunSet] = {}
    if project.runs_dir.is_dir():
        for folder in project.runs_dir.iterdir():
            run = sets.setdefault(folder.name, RunSet(folder.name))
            run.paths.append(folder)
            run.size += _size(folder)
            marker = folder / "manifest.json"
            run.used = max(run.used, (marker if marker.exists() else folder).stat().st_mtime)
    if project.cache_dir.is_dir():
        for record in project.cache_dir.rglob("*.json"):
            found = cache.PARAMETERISED.search(record.name)
            if found is None or not record.is_file():
                continue
            run = sets.setdefault(found["digest"], RunSet(found["digest"]))
            run.paths.append(record)
            run.size += record.stat().st_size
            if not (project.runs_dir / run.digest).exists():  # no manifest: the record's time
                run.used = max(run.used, record.stat().st_mtime)
    return sorted(sets.values(), key=lambda r: (r.used, r.digest))


def remove(paths: Iterable[Path]) -> list[str]:
    """Remove files and folders; returns what could not be removed, with the reason."""
    problems: list[str] = []

    def failed(_function: object, path: str, info: object) -> None:
        exc = info[1] if isinstance(info, tuple) else info  # onerror gives exc_info
        problems.append(f"{path}: {exc.strerror if isinstance(exc, OSError) else exc}")

    for path in paths:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, onerror=failed)  # onexc exists from Python 3.12 only
        else:
            try:
                path.unlink(missing_ok=True)
            except OSError as exc:
                problems.append(f"{path}: {exc.strerror or exc}")
    return problems


@dataclass
class Eviction:
    """What :func:`evict` removed to keep the run sets under the limit."""

    removed: list[RunSet]
    limit_mb: float
    kept_mb: float  # what the run sets take now
    problems: list[str]

    def note(self) -> str:
        """One sentence for the user."""
        limit = f"execute.cache_limit_mb = {self.limit_mb:g}"
        parts = []
        if self.removed:
            freed = sum(r.size for r in self.removed) / MB
            last = max(r.used for r in self.removed)
            when = dt.datetime.fromtimestamp(last, dt.UTC).isoformat(timespec="seconds")
            parts.append(
                f"cache limit: removed {len(self.removed)} parameterised run"
                f"{'' if len(self.removed) == 1 else 's'} ({freed:.1f} MB, last used {when} or "
                f"before) to keep _build/runs and their cache records under {limit}"
            )
        if self.kept_mb > self.limit_mb:
            parts.append(
                f"cache limit: the runs of this command alone take {self.kept_mb:.1f} MB, more "
                f"than {limit}; they stay until a later run needs the room"
            )
        if self.problems:
            parts.append(f"could not remove {'; '.join(self.problems)}")
        return "; ".join(parts)


def evict(project: Project, keep: Iterable[str] = ()) -> Eviction | None:
    """Remove the least recently used run sets until the rest fit ``execute.cache_limit_mb``.

    ``keep`` names digests that stay whatever their size (the run's own).
    Returns ``None`` when the run sets fit.
    """
    limit_mb = project.cache_limit_mb()
    sets = run_sets(project)
    total = sum(r.size for r in sets)
    protected = set(keep)
    removed: list[RunSet] = []
    for run in sets:
        if total <= limit_mb * MB:
            break
        if run.digest in protected:
            continue
        removed.append(run)
        total -= run.size
    if total <= limit_mb * MB and not removed:
        return None
    problems = remove(p for r in removed for p in r.paths)
    return Eviction(removed, limit_mb, total / MB, problems)


def clean(project: Project) -> list[str]:
    """Remove ``_build``; returns the paths that could not be removed (empty when all went)."""
    return remove([project.build_dir]) if project.build_dir.exists() else []


def clean_runs(project: Project) -> tuple[int, list[str]]:
    """Remove every run set and ``_build/sweeps/``; returns how many sets went and the problems."""
    sets = run_sets(project)
    paths = [p for r in sets for p in r.paths]
    if (project.build_dir / "sweeps").exists():
        paths.append(project.build_dir / "sweeps")
    problems = remove(paths)
    if project.runs_dir.is_dir() and not any(project.runs_dir.iterdir()):
        os.rmdir(project.runs_dir)
    return len(sets), problems
