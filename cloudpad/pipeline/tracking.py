"""Record which ``cloudpad`` modules and data files a notebook really uses.

When the runner executes a notebook it sets ``CLOUDPAD_DEPS_LOG`` in the kernel's
environment.  Importing :mod:`cloudpad` then installs a Python audit hook
(:func:`sys.addaudithook`, PEP 578) that appends one line per file opened under
the ``cloudpad`` package folder (its modules, through their ``.pyc`` files, and
its style file) or under the data folder (``CLOUDPAD_DATA_DIR``, which the
pipeline sets).  The runner hashes those files into the notebook's cache
record, so a change to a data file re-executes exactly the notebooks that read
it, and a change to a module re-executes exactly the notebooks that imported it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

#: Environment variable naming the log file the kernel appends to.
LOG_ENV = "CLOUDPAD_DEPS_LOG"
#: Environment variable naming the data folder whose reads are recorded.
DATA_ENV = "CLOUDPAD_DATA_DIR"
#: Environment variable naming the project root (set by the pipeline for the kernel).
ROOT_ENV = "CLOUDPAD_PROJECT_ROOT"

_installed = False


def source_of(path: str) -> str:
    """The ``.py`` source behind a path: ``pkg/__pycache__/m.cpython-311.pyc`` -> ``pkg/m.py``."""
    p = Path(path)
    if p.suffix == ".pyc" and p.parent.name == "__pycache__":
        return str(p.parent.parent / (p.name.split(".", 1)[0] + ".py"))
    return path


def make_hook(
    package_dir: str, data_dir: str | None, record: Callable[[str], None]
) -> Callable[[str, tuple[Any, ...]], None]:
    """The audit hook: calls ``record(source path)`` for each file opened under the folders.

    Python calls an audit hook for every audited event (tens of thousands while
    a kernel imports its libraries, most of them not ``open``), so the hook
    returns after one comparison for those, and rejects an opened path outside
    the package and data folders with one ``startswith`` before doing any work;
    only paths inside them are resolved (links followed) and recorded.
    """
    folders = [package_dir] + ([data_dir] if data_dir else [])
    real = tuple(os.path.realpath(f) + os.sep for f in folders)
    prefixes = tuple({*real, *(os.path.abspath(f) + os.sep for f in folders)})

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event != "open":
            return
        path = args[0]
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        if not isinstance(path, str):
            return  # a file descriptor
        if not path.startswith(prefixes):
            if os.path.isabs(path):
                return
            path = os.path.abspath(path)
            if not path.startswith(prefixes):
                return
        full = os.path.realpath(path)
        if full.startswith(real):
            record(source_of(full))

    return hook


def install(log_path: str, package_dir: str) -> None:
    """Install the audit hook (once per process) that logs opened package and data files.

    The data folder is ``$CLOUDPAD_DATA_DIR``, which the pipeline always sets to
    the folder it resolved (:func:`cloudpad.data.data_folder`); without it only
    package files are recorded.  See :func:`make_hook` for what it costs.
    """
    global _installed
    if _installed:
        return
    _installed = True
    log: TextIO = open(log_path, "a", encoding="utf-8")
    seen: set[str] = set()

    def record(path: str) -> None:
        if path not in seen:
            seen.add(path)
            log.write(path + "\n")
            log.flush()

    for name in (
        "__init__.py",
        os.path.join("pipeline", "__init__.py"),
        os.path.join("pipeline", "tracking.py"),
    ):
        record(os.path.realpath(os.path.join(package_dir, name)))
    sys.addaudithook(make_hook(package_dir, os.environ.get(DATA_ENV) or None, record))


def read_log(log_path: Path) -> list[Path]:
    """The distinct files recorded in a dependency log, sorted."""
    if not log_path.exists():
        return []
    lines = log_path.read_text(encoding="utf-8").splitlines()
    return sorted({Path(line) for line in lines if line.strip()})
