"""The run manifest: one machine-readable record of an edition (``_build/manifest.json``).

Written atomically at the end of every run (a run with ``-p`` overrides writes
its own, beside its executed notebooks under ``_build/runs/<digest>/``).  Format
``cloudpad-manifest/1``, a JSON object::

    {
      "format": "cloudpad-manifest/1",
      "written_at": "2026-11-26T15:00:00+00:00",   # UTC, when the run ended
      "elapsed_s": 12.3,                           # the run's wall-clock time
      "python": "3.11.7",
      "packages": {"papermill": "2.7.0", ...},     # versions of the key packages
      "data_package": {"name": "...", "version": "..."},   # from data/datapackage.json
      "notebooks": [                               # toc order; see Outcome
        {"notebook": "notebooks/part/article.ipynb",
         "status": "executed" | "cached" | "failed",
         "duration_s": 4.2, "executed_at": "...", "reason": "code changed",
         "output": "_build/executed/notebooks/part/article.ipynb", "log": "...",
         "parameters": {},                          # the overrides ({} for the defaults)
         "dependencies": {"data/x.csv": "<sha256>", "cloudpad/models/y.py": "<sha256>",
                          "package:numpy": "2.3.4", ...},  # files by hash, libraries
                                                           # the kernel imported by version
         "key_results": {"replicas_needed": 7, ...},   # every value the notebook published
         "figures": ["fig-sizing", ...],            # figures by name only
         "failure": null | {"cell": 4, "execution_count": 3, "exception": "...",
                            "message": "...", "traceback": [...]}}
      ]
    }

A partial edition run (``cloudpad run one.ipynb``) updates that notebook's entry
and keeps the others.  A manifest that cannot be read as one (damaged, another
format) is refused by :func:`read` naming the file and what is wrong; the next
run replaces it with a good one holding that run's notebooks.
"""

from __future__ import annotations

import datetime as dt
import json
import platform
from dataclasses import asdict
from importlib import metadata
from pathlib import Path
from typing import Any

from cloudpad.exceptions import StateFileError
from cloudpad.files import write_atomic
from cloudpad.pipeline import statefiles
from cloudpad.pipeline.outcomes import Outcome, RunResult

FORMAT = statefiles.format_tag("manifest", 1)
#: The manifest's top-level fields and their types (``format`` checked first).
FIELDS: dict[str, Any] = {
    "format": str,
    "written_at": str,
    "elapsed_s": float,
    "python": str,
    "packages": dict[str, str],
    "data_package": dict[str, Any],
    "notebooks": list[Outcome],
}
#: What an entry's ``status`` may be.
STATUSES: tuple[str, ...] = ("executed", "cached", "failed")

#: Packages whose versions the manifest (and the execution report) lists.
KEY_PACKAGES: tuple[str, ...] = (
    "cloudpad",
    "papermill",
    "nbclient",
    "ipykernel",
    "jupyter-book",
    "myst-nb",
    "sphinx",
    "numpy",
    "pandas",
    "scipy",
    "matplotlib",
    "frictionless",
)


def package_versions() -> dict[str, str]:
    """Versions of Python and :data:`KEY_PACKAGES` (``"not installed"`` where absent)."""
    versions = {"Python": platform.python_version()}
    for name in KEY_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def data_package(data_dir: Path) -> dict[str, Any]:
    """Name and version of the data package (``{}`` if there is no readable descriptor)."""
    try:
        descriptor = json.loads((data_dir / "datapackage.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: descriptor[k] for k in ("name", "version") if k in descriptor}


def read(path: Path, name: str = "") -> dict[str, Any]:
    """The manifest at ``path``; :class:`StateFileError` naming what is wrong with a damaged one.

    ``FileNotFoundError`` when there is none; ``name`` is the file's name in messages.
    """
    name = name or str(path)
    data = statefiles.read_json(path, name)
    statefiles.check_format(name, data, FORMAT)
    statefiles.check_fields(name, "the manifest", data, FIELDS, {"format", "notebooks"})
    for i, entry in enumerate(data["notebooks"], 1):
        if entry["status"] not in STATUSES:
            raise StateFileError(
                f"{name}: notebook entry {i} ({entry['notebook']}) has status "
                f"{entry['status']!r}; a status is one of {', '.join(STATUSES)}"
            )
    return data


def load(path: Path) -> dict[str, Any] | None:
    """The manifest at ``path``, or ``None`` if there is none (or it is not a good manifest)."""
    try:
        return read(path)
    except (OSError, StateFileError):
        return None


def outcomes(manifest: dict[str, Any]) -> list[Outcome]:
    """The outcomes recorded in a manifest."""
    return [Outcome.from_dict(entry) for entry in manifest.get("notebooks", [])]


def write(
    path: Path, result: RunResult, data_dir: Path, order: list[str] | None = None, name: str = ""
) -> str | None:
    """Write the manifest of ``result`` to ``path`` atomically, merging older entries.

    Entries of notebooks not in ``result`` are kept from the manifest already at
    ``path``; ``order`` (notebook paths, e.g. the toc) sorts the entries.  A
    damaged manifest there is replaced: the returned note says what was wrong
    with it (``None`` when nothing was).
    """
    note = None
    try:
        previous = read(path, name)
    except FileNotFoundError:
        previous = {}
    except (OSError, StateFileError) as exc:
        previous = {}
        note = f"{exc}; replaced by a manifest of this run's notebooks only"
    entries = {e["notebook"]: e for e in previous.get("notebooks", [])}
    entries.update({o.notebook: asdict(o) for o in result.outcomes})
    rank = {notebook: i for i, notebook in enumerate(order or [])}
    ordered = sorted(
        entries.values(), key=lambda e: (rank.get(e["notebook"], len(rank)), e["notebook"])
    )
    manifest = {
        "format": FORMAT,
        "written_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "elapsed_s": round(result.elapsed_s, 3),
        "python": platform.python_version(),
        "packages": package_versions(),
        "data_package": data_package(data_dir),
        "notebooks": ordered,
    }
    write_atomic(path, json.dumps(manifest, indent=1, sort_keys=False) + "\n")
    return note
