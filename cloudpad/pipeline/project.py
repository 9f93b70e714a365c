"""The book's structure: where the project is, what ``_config.yml`` and ``_toc.yml`` say.

Jupyter Book 1.x reads ``_config.yml`` (settings) and ``_toc.yml`` (the table of
contents, format ``jb-book``).  This module reads the same files for the runner:
which notebooks belong to the book and the per-cell timeout.  Toc entries of
generated pages (:mod:`cloudpad.site.registry`) exist only in the staged copy of
the book under ``_build/src``.
"""

from __future__ import annotations

import contextlib
import copy
import fcntl
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from cloudpad.exceptions import ConfigError

#: Source suffixes Jupyter Book accepts for a toc entry written without one.
PAGE_SUFFIXES: tuple[str, ...] = (".ipynb", ".md")

#: Per-cell timeout in seconds when ``_config.yml`` gives none.
DEFAULT_TIMEOUT_S: int = 120
#: Wall-clock limit of one whole notebook when ``_config.yml`` gives none (seconds).
DEFAULT_NOTEBOOK_TIMEOUT_S: float = 900.0
#: What ``-p`` runs and sweeps may keep in ``_build`` when ``_config.yml`` gives no limit (MB).
DEFAULT_CACHE_LIMIT_MB: float = 1000.0


@dataclass(frozen=True)
class Project:
    """A book project on disk: its root folder and the files that define it.

    ``generated`` names the toc entries that are generated pages (written by
    the site at render time, so they have no source file in the book).
    """

    root: Path
    generated: frozenset[str] = frozenset()

    @property
    def config_path(self) -> Path:
        return self.root / "_config.yml"

    @property
    def toc_path(self) -> Path:
        return self.root / "_toc.yml"

    @property
    def build_dir(self) -> Path:
        return self.root / "_build"

    @property
    def executed_dir(self) -> Path:
        """Where Papermill writes executed notebooks, at the same relative paths."""
        return self.build_dir / "executed"

    @property
    def cache_dir(self) -> Path:
        return self.build_dir / "cache"

    @property
    def runs_dir(self) -> Path:
        """Runs with ``-p`` overrides and sweeps: ``runs/<digest>/`` each."""
        return self.build_dir / "runs"

    @property
    def manifest_path(self) -> Path:
        """The edition's run manifest (:mod:`cloudpad.pipeline.manifest`)."""
        return self.build_dir / "manifest.json"

    @property
    def data_dir(self) -> Path:
        """The data folder: ``$CLOUDPAD_DATA_DIR`` if set, else ``<root>/data`` (one place)."""
        from cloudpad.data import data_folder

        return data_folder(root=self.root)

    def config(self) -> dict[str, Any]:
        """The parsed ``_config.yml`` (a mapping); :class:`ConfigError` if it is not one."""
        return _read_yaml(self.config_path)

    def toc(self) -> dict[str, Any]:
        """The parsed ``_toc.yml``; :class:`ConfigError` if it is not a ``jb-book`` toc."""
        toc = _read_yaml(self.toc_path)
        if toc.get("format") != "jb-book" or "root" not in toc:
            raise ConfigError(
                f"{self.toc_path}: expected 'format: jb-book' and a 'root' entry, "
                f"got format={toc.get('format')!r}, keys={sorted(toc)}"
            )
        return toc

    def toc_entries(self) -> list[str]:
        """Every ``file:`` entry of the toc, root first, in reading order (no suffix)."""
        toc = self.toc()
        return [str(toc["root"]), *(_walk_entries(toc))]

    def resolve_entry(self, entry: str) -> Path | None:
        """The source file of a toc entry, or ``None`` when none exists on disk."""
        path = self.root / entry
        if path.suffix in PAGE_SUFFIXES and path.is_file():
            return path
        for suffix in PAGE_SUFFIXES:
            candidate = path.with_name(path.name + suffix)
            if candidate.is_file():
                return candidate
        return None

    def notebooks(self) -> list[Path]:
        """The notebooks of the book, in toc order, as absolute paths.

        Raises :class:`ConfigError` naming every toc entry that has no file and
        is not one of the :attr:`generated` pages.
        """
        missing = []
        found = []
        for entry in self.toc_entries():
            source = self.resolve_entry(entry)
            if source is None:
                if entry not in self.generated:
                    missing.append(entry)
                continue
            if source.suffix == ".ipynb":
                found.append(source)
        if missing:
            raise ConfigError(
                f"{self.toc_path}: no file for toc entr{'y' if len(missing) == 1 else 'ies'} "
                f"{', '.join(map(repr, missing))} (looked for .ipynb and .md)"
            )
        return found

    def timeout_s(self) -> int:
        """Per-cell timeout from ``execute.timeout`` in ``_config.yml`` (seconds)."""
        value = (self.config().get("execute") or {}).get("timeout", DEFAULT_TIMEOUT_S)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ConfigError(
                f"{self.config_path}: execute.timeout must be a whole number of seconds > 0, "
                f"got {value!r}"
            )
        return value

    def notebook_timeout_s(self) -> float:
        """Wall-clock limit of one whole notebook: ``execute.notebook_timeout`` (seconds).

        A cloudpad key (Jupyter Book ignores it); default :data:`DEFAULT_NOTEBOOK_TIMEOUT_S`.
        """
        return self._positive("notebook_timeout", DEFAULT_NOTEBOOK_TIMEOUT_S, "seconds")

    def cache_limit_mb(self) -> float:
        """Size limit of what parameterised runs keep: ``execute.cache_limit_mb`` (megabytes).

        A cloudpad key (Jupyter Book ignores it); default :data:`DEFAULT_CACHE_LIMIT_MB`.
        """
        return self._positive("cache_limit_mb", DEFAULT_CACHE_LIMIT_MB, "megabytes")

    def _positive(self, key: str, default: float, unit: str) -> float:
        """The number ``execute.<key>`` of ``_config.yml`` (``default`` when absent); > 0."""
        value = (self.config().get("execute") or {}).get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ConfigError(
                f"{self.config_path}: execute.{key} must be a number of {unit} > 0, got {value!r}"
            )
        return float(value)

    def relative(self, path: Path) -> Path:
        """``path`` relative to the project root (raises ValueError if outside it)."""
        return path.resolve().relative_to(self.root.resolve())


#: The ``format`` of the run lock's content (who holds it; the lock itself is the ``flock``).
LOCK_FORMAT = "cloudpad-lock/1"


@contextlib.contextmanager
def exclusive(project: Project, on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the book's lock (``_build/.lock``) so two runs never write ``_build`` at once.

    A second ``cloudpad run``/``build`` on the same book waits for the first;
    ``on_wait`` is told once, with who holds the lock (``process 1234``), when
    it has to wait.  The lock is an ``flock`` on the file, which the system
    releases when its holder dies, so a lock file left by a killed run, or one
    with garbage in it, never blocks: only a live holder does.  The file's
    content (``{"format": "cloudpad-lock/1", "pid": …}``) only names the holder.
    """
    project.build_dir.mkdir(parents=True, exist_ok=True)
    with open(project.build_dir / ".lock", "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            if on_wait:
                on_wait(lock_holder(handle.read(4096)))
            fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        handle.truncate()
        content = {"format": LOCK_FORMAT, "pid": os.getpid()}
        handle.write(json.dumps(content).encode("utf-8"))
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def lock_holder(content: bytes) -> str:
    """Who holds the lock, from its file's content: ``process 1234``, or why it is not known."""
    try:
        data = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return "process unknown: _build/.lock does not name it"
    found = data.get("format") if isinstance(data, dict) else None
    if found != LOCK_FORMAT:
        return f"process unknown: _build/.lock is of format {found!r}, not {LOCK_FORMAT!r}"
    return f"process {data.get('pid', 'unknown')}"


def find_project(start: Path | None = None, generated: frozenset[str] = frozenset()) -> Project:
    """The project whose folder holds ``_toc.yml``: ``start`` or its nearest parent."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "_toc.yml").is_file() and (folder / "_config.yml").is_file():
            return Project(folder, generated)
    raise ConfigError(
        f"no book project found at or above {here}: expected a folder with _config.yml and "
        "_toc.yml (pass --root DIR)"
    )


_yaml_memo: dict[tuple[str, int, int], dict[str, Any]] = {}


def _read_yaml(path: Path) -> dict[str, Any]:
    """The YAML mapping in ``path`` (parsed once per state of the file); ConfigError otherwise."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise ConfigError(f"{path} does not exist") from None
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _yaml_memo:
        _yaml_memo[key] = _parse_yaml(path)
    return copy.deepcopy(_yaml_memo[key])


def _parse_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path} does not exist") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must be a YAML mapping, got {type(data).__name__}")
    return data


def _walk_entries(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if "file" in node:
            yield str(node["file"])
        for key in ("parts", "chapters", "sections"):
            for child in node.get(key) or []:
                yield from _walk_entries(child)
    elif isinstance(node, list):
        for child in node:
            yield from _walk_entries(child)
