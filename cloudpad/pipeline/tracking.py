"""Record which ``cloudpad`` modules, data files and libraries a notebook really uses.

When the runner executes a notebook it sets ``CLOUDPAD_DEPS_LOG`` in the kernel's
environment.  Importing :mod:`cloudpad` then installs a Python audit hook
(:func:`sys.addaudithook`, PEP 578) that appends one line per file opened under
the ``cloudpad`` package folder (its modules, through their ``.pyc`` files, and
its style file) or under the data folder (``CLOUDPAD_DATA_DIR``, which the
pipeline sets), and one line ``module <name>`` per top-level module the kernel
imported: those already imported when the hook is installed, each later
``import`` (the audit event ``import``), and what ``sys.modules`` holds when the
kernel exits (which also catches modules loaded through ``importlib``).  The
runner hashes the files into the notebook's cache record and maps the modules
to the installed distributions and their versions (:mod:`.distributions`), so
a change to a data file re-executes exactly the notebooks that read it, a
change to a module exactly the notebooks that imported it, and a new version
of a library exactly the notebooks whose kernel imported it.
"""

from __future__ import annotations

import atexit
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
#: How a log line names an imported top-level module (other lines are file paths).
MODULE_PREFIX = "module "

_installed = False


def source_of(path: str) -> str:
    """The ``.py`` source behind a path: ``pkg/__pycache__/m.cpython-311.pyc`` -> ``pkg/m.py``."""
    p = Path(path)
    if p.suffix == ".pyc" and p.parent.name == "__pycache__":
        return str(p.parent.parent / (p.name.split(".", 1)[0] + ".py"))
    return path


def make_hook(
    package_dir: str,
    data_dir: str | None,
    record: Callable[[str], None],
    imported: Callable[[str], None] | None = None,
) -> Callable[[str, tuple[Any, ...]], None]:
    """The audit hook: calls ``record(source path)`` for each file opened under the folders.

    Python calls an audit hook for every audited event (tens of thousands while
    a kernel imports its libraries, most of them not ``open``), so the hook
    returns after two comparisons for those, and rejects an opened path outside
    the package and data folders with one ``startswith`` before doing any work;
    only paths inside them are resolved (links followed) and recorded.  With
    ``imported``, it is called with the name of each module an ``import``
    statement loads (the ``import`` event: a module not yet in ``sys.modules``).
    """
    folders = [package_dir] + ([data_dir] if data_dir else [])
    real = tuple(os.path.realpath(f) + os.sep for f in folders)
    prefixes = tuple({*real, *(os.path.abspath(f) + os.sep for f in folders)})

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event != "open":
            if event == "import" and imported is not None:
                imported(args[0])
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
    """Install the audit hook (once per process) that logs opened files and imported modules.

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
    modules: set[str] = set()

    def record(path: str) -> None:
        if path not in seen:
            seen.add(path)
            log.write(path + "\n")
            log.flush()

    def imported(name: str) -> None:
        top = name.partition(".")[0]
        if top not in modules:
            modules.add(top)
            log.write(MODULE_PREFIX + top + "\n")
            log.flush()

    def at_exit() -> None:
        for name in list(sys.modules):
            imported(name)

    for name in (
        "__init__.py",
        os.path.join("pipeline", "__init__.py"),
        os.path.join("pipeline", "tracking.py"),
    ):
        record(os.path.realpath(os.path.join(package_dir, name)))
    at_exit()  # what the kernel imported before cloudpad
    atexit.register(at_exit)
    sys.addaudithook(make_hook(package_dir, os.environ.get(DATA_ENV) or None, record, imported))


def _lines(log_path: Path) -> list[str]:
    if not log_path.exists():
        return []
    return [line for line in log_path.read_text(encoding="utf-8").splitlines() if line.strip()]


def read_log(log_path: Path) -> list[Path]:
    """The distinct files recorded in a dependency log, sorted."""
    lines = _lines(log_path)
    return sorted({Path(line) for line in lines if not line.startswith(MODULE_PREFIX)})


def read_modules(log_path: Path) -> set[str]:
    """The top-level modules the kernel imported, as recorded in a dependency log."""
    return {
        line.removeprefix(MODULE_PREFIX)
        for line in _lines(log_path)
        if line.startswith(MODULE_PREFIX)
    }
