"""The execution cache: a notebook is re-executed only when something it depends on changed.

A cache record (``_build/cache/<notebook>.json``) is written only after a
successful execution.  It holds

* a **static key**: SHA-256 over the notebook's code cells, its parameter
  overrides, the kernel name and the Python version;
* the **dynamic dependencies**: every ``cloudpad`` source file and data file the
  kernel actually opened (recorded by :mod:`.tracking`), each with its
  SHA-256, and every installed distribution behind a module the kernel
  imported, keyed ``package:<name>``, with its version (:mod:`.distributions`);
* when and how long it ran.

A record is fresh when the static key matches, every file still has its
recorded hash and every distribution its recorded version.  The lock files
are not part of the key: what counts is what the kernel imported, so a new pin
of a test tool re-executes nothing and a new numpy re-executes the notebooks
whose kernel imported numpy.  Markdown cells are not part of the key: prose edits are
copied into the executed notebook without running a kernel
(:func:`refresh_markdown`).  A failed execution deletes the record, so a failed
result is never taken as good.
"""

from __future__ import annotations

import hashlib
import json
import platform
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from cloudpad.pipeline import distributions, notebooks
from cloudpad.pipeline.executors.base import file_sha256, relative_key
from cloudpad.pipeline.project import Project

#: Bump when the record layout or key recipe changes; old records are then ignored.
#: 3: the lock file's hash left the key; the imported distributions' versions joined it.
CACHE_VERSION = 3


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


def load_record(
    project: Project, notebook: Path, parameters: dict[str, Any] | None = None
) -> Record | None:
    """The stored record, or ``None`` (none, unreadable or of another cache version)."""
    path = record_path(project, notebook, parameters)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Record(**data)
    except (OSError, ValueError, TypeError):
        return None


def save_record(project: Project, notebook: Path, record: Record) -> None:
    """Write ``record`` atomically (write to a temporary file, then rename)."""
    path = record_path(project, notebook, record.parameters)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(asdict(record), indent=1, sort_keys=True), encoding="utf-8")
    tmp.replace(path)


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

    Reasons, in the order checked: no record, no executed notebook, the code /
    parameters / environment changed, a recorded dependency changed or vanished
    (a file by its hash, a distribution by its installed version).
    """
    record = load_record(project, notebook, parameters)
    if record is None:
        return "not run before"
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
