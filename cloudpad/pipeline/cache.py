"""The execution cache: a notebook is re-executed only when something it depends on changed.

A cache record (``_build/cache/<notebook>.json``) is written only after a
successful execution.  It holds

* a **static key**: SHA-256 over the notebook's code cells, its parameter
  overrides, the kernel name and the Python version;
* the **dynamic dependencies**: every ``cloudpad`` source file and data file the
  kernel actually opened (recorded by :mod:`.tracking`), each with its
  SHA-256, and every installed distribution behind a module the kernel
  imported, keyed ``package:<name>``, with its version (:mod:`.distributions`);
* when and how long it ran;
* its format, ``"format": "cloudpad-cache/4"``.

A record is fresh when the static key matches, every file still has its
recorded hash and every distribution its recorded version.  The lock files
are not part of the key: what counts is what the kernel imported, so a new pin
of a test tool re-executes nothing and a new numpy re-executes the notebooks
whose kernel imported numpy.  Markdown cells are not part of the key: prose edits are
copied into the executed notebook without running a kernel
(:func:`refresh_markdown`).  A failed execution deletes the record, so a failed
result is never taken as good.  A record that cannot be read as one (not
JSON, cut short, the wrong shape, a hand edit, another format) is a miss:
:func:`stale_reason` says what is wrong with it, the notebook is executed
again and a good record replaces it.
"""

from __future__ import annotations

import hashlib
import json
import platform
import re
from dataclasses import asdict, dataclass, field
from glob import escape as glob_escape
from pathlib import Path
from typing import Any

import nbformat

from cloudpad.exceptions import StateFileError
from cloudpad.files import write_atomic
from cloudpad.pipeline import distributions, notebooks, statefiles
from cloudpad.pipeline.executors.base import file_sha256, relative_key
from cloudpad.pipeline.project import Project

#: Bump when the record layout or key recipe changes; old records are then ignored.
#: 3: the lock file's hash left the key; the imported distributions' versions joined it.
#: 4: records carry their format tag.
CACHE_VERSION = 4
#: The ``format`` of a cache record.
FORMAT = statefiles.format_tag("cache", CACHE_VERSION)
#: How a damaged record starts its reason for executing again (see :func:`stale_reason`).
DAMAGED = "damaged cache record"
#: The end of a ``-p`` run's record name, after the notebook's stem: ``.<digest>.json``.
PARAMETERISED = re.compile(r"\.(?P<digest>[0-9a-f]{12})\.json$")


def parameters_digest(parameters: dict[str, Any]) -> str:
    """A short digest naming a set of parameter overrides ("" for none: the edition's defaults)."""
    if not parameters:
        return ""
    text = json.dumps(parameters, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def code_digest(nb: nbformat.NotebookNode) -> str:
    """SHA-256 of the code cells' sources, in order (outputs and prose excluded)."""
    digest = hashlib.sha256()
    for cell in nb.cells:
        if cell.cell_type == "code":
            digest.update(cell.source.encode("utf-8"))
            digest.update(b"\x00")
    return digest.hexdigest()


def environment(kernel: str) -> dict[str, str]:
    """The execution environment that every result depends on (libraries: per notebook)."""
    return {
        "python": platform.python_version(),
        "kernel": kernel,
        "cache_version": str(CACHE_VERSION),
    }


def static_inputs(
    project: Project, notebook: Path, parameters: dict[str, Any], kernel: str
) -> dict[str, Any]:
    """Everything a result depends on that is known before execution."""
    nb = notebooks.read(notebook, mutable=False)
    return {
        "code": code_digest(nb),
        "parameters": json.dumps(parameters, sort_keys=True, default=repr),
        **environment(kernel),
    }


@dataclass
class Record:
    """What the cache knows of one successful execution."""

    notebook: str
    inputs: dict[str, Any]
    dependencies: dict[str, str]
    duration_s: float
    executed_at: str
    parameters: dict[str, Any] = field(default_factory=dict)
    key_results: dict[str, Any] = field(default_factory=dict)
    figures: list[str] = field(default_factory=list)


def record_path(project: Project, notebook: Path, parameters: dict[str, Any] | None = None) -> Path:
    """Where the record of ``notebook`` run with ``parameters`` (overrides) is kept.

    The edition's run (no overrides) is ``<notebook>.json``; a run with
    overrides is ``<notebook>.<digest>.json``, so sweeps and ``-p`` runs have
    their own records and never evict the edition's.
    """
    rel = project.relative(notebook)
    digest = parameters_digest(parameters or {})
    suffix = f".{digest}.json" if digest else ".json"
    return project.cache_dir / rel.with_suffix(suffix)


def read_record(path: Path, name: str = "") -> Record:
    """The record in ``path``; :class:`StateFileError` naming what is wrong with a damaged one.

    ``FileNotFoundError`` when there is none.
    """
    name = name or str(path)
    data = statefiles.read_json(path, name)
    statefiles.check_format(name, data, FORMAT)
    fields = {k: v for k, v in data.items() if k != "format"}
    statefiles.check_dataclass(name, "the record", fields, Record)
    return Record(**fields)


def load_record(
    project: Project, notebook: Path, parameters: dict[str, Any] | None = None
) -> Record | None:
    """The stored record, or ``None`` (none, damaged or of another format)."""
    try:
        return read_record(record_path(project, notebook, parameters))
    except (OSError, StateFileError):
        return None


def save_record(project: Project, notebook: Path, record: Record) -> None:
    """Write ``record`` atomically (write to a temporary file, then rename)."""
    path = record_path(project, notebook, record.parameters)
    data = {"format": FORMAT, **asdict(record)}
    write_atomic(path, json.dumps(data, indent=1, sort_keys=True))


def last_duration(project: Project, notebook: Path) -> float | None:
    """Seconds the latest recorded execution of ``notebook`` took (any parameters), or ``None``.

    Looks at every record of the notebook (the edition's and each ``-p`` run's)
    and takes the one executed last; damaged records are skipped.
    """
    path = record_path(project, notebook)
    latest: Record | None = None
    for candidate in path.parent.glob(f"{glob_escape(path.stem)}*.json"):
        if candidate.name != path.name and not PARAMETERISED.fullmatch(
            candidate.name.removeprefix(path.stem)
        ):
            continue  # another notebook whose name starts like this one's
        try:
            record = read_record(candidate)
        except (OSError, StateFileError):
            continue
        if latest is None or record.executed_at > latest.executed_at:
            latest = record
    return latest.duration_s if latest else None


def drop_record(project: Project, notebook: Path, parameters: dict[str, Any] | None = None) -> None:
    """Forget a record (after a failure, or before a forced run)."""
    record_path(project, notebook, parameters).unlink(missing_ok=True)


def dependency_hashes(project: Project, files: list[Path]) -> dict[str, str]:
    """Hashes of the dependency files, keyed by path relative to the project when inside it."""
    return {relative_key(p, project.root): file_sha256(p) for p in files if p.is_file()}


def stale_reason(
    project: Project,
    notebook: Path,
    inputs: dict[str, Any],
    output: Path,
    parameters: dict[str, Any] | None = None,
) -> str | None:
    """Why ``notebook`` must be executed again, or ``None`` when its cached result is good.

    Reasons, in the order checked: no record, a damaged record (the reason
    starts with :data:`DAMAGED` and says what is wrong), no executed notebook,
    the code / parameters / environment changed, a recorded dependency changed
    or vanished (a file by its hash, a distribution by its installed version).
    """
    path = record_path(project, notebook, parameters)
    label = relative_key(path, project.root)
    try:
        record = read_record(path, label)
    except FileNotFoundError:
        return "not run before"
    except StateFileError as exc:
        return f"{DAMAGED}: {exc}"
    except OSError as exc:
        return f"{DAMAGED}: {label}: {exc.strerror or exc}"
    if not output.is_file():
        return "executed notebook missing"
    for name, value in inputs.items():
        if record.inputs.get(name) != value:
            return {"code": "code changed", "parameters": "parameters changed"}.get(
                name, f"{name} changed"
            )
    versions: dict[str, str] | None = None
    for dep, digest in record.dependencies.items():
        package = distributions.package_name(dep)
        if package is not None:
            versions = distributions.installed() if versions is None else versions
            now = distributions.version(package, versions)
            if now is None:
                return f"package {package} removed"
            if now != digest:
                return f"package {package} changed ({digest} → {now})"
            continue
        path = Path(dep) if Path(dep).is_absolute() else project.root / dep
        if not path.is_file():
            return f"{dep} removed"
        if file_sha256(path) != digest:
            return f"{dep} changed"
    return None


def refresh_markdown(source: Path, executed: Path) -> bool:
    """Copy the source's prose into the executed notebook, keeping its outputs.

    Code cells are matched in order (the cache guarantees the code is the same);
    Papermill's injected-parameters cell stays after the parameters cell.
    Returns ``True`` when the executed notebook was rewritten.
    """
    src = notebooks.read(source, mutable=False)
    done = notebooks.read(executed)
    injected = [
        c for c in done.cells if "injected-parameters" in c.get("metadata", {}).get("tags", [])
    ]
    ran = [
        c
        for c in done.cells
        if c.cell_type == "code"
        and "injected-parameters" not in c.get("metadata", {}).get("tags", [])
    ]
    cells = []
    code_cells = iter(ran)
    for cell in src.cells:
        if cell.cell_type == "code":
            cells.append(next(code_cells))
            if "parameters" in cell.get("metadata", {}).get("tags", []):
                cells.extend(injected)
        else:
            cells.append(cell)
    if [c.source for c in cells] == [c.source for c in done.cells]:
        return False
    done.cells = cells
    nbformat.write(done, executed)
    return True
