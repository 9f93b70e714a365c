"""The book's datasets: load a resource of ``data/`` by name, validated against its schema.

``data/datapackage.json`` is a Frictionless Data Package (v2,
https://datapackage.org/standard/data-package/) describing every file in ``data/``:
its path, title, description with caveats, sources, licenses, the date it was
retrieved, how long it stays current (``valid_for_days``, optional) and a table
schema (types, units, required, ranges, enums, primary key).

:func:`load` validates the file with the ``frictionless`` library
(https://framework.frictionlessdata.io/) and returns a :class:`pandas.DataFrame`
with the schema's dtypes.  Any problem raises :class:`DataError` naming the
file, the row as in the file (header = line 1), the column, the rule that failed
and the value that was found; partly valid data is never returned.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from cloudpad.exceptions import DataError

__all__ = [
    "DATA_ENV",
    "DESCRIPTOR",
    "DataError",
    "StaleResource",
    "data_dir",
    "describe",
    "load",
    "resource_names",
    "sources_markdown",
    "stale_resources",
]

#: Environment variable naming the data folder (default: ``<project>/data``).
DATA_ENV = "CLOUDPAD_DATA_DIR"
#: File name of the descriptor inside the data folder.
DESCRIPTOR = "datapackage.json"
#: At most this many problems are listed in one :class:`DataError` message.
MAX_ERRORS = 10

_PANDAS_DTYPES = {
    "string": "string",
    "integer": "int64",
    "number": "float64",
    "boolean": "boolean",
}


def data_dir(data_dir: str | os.PathLike[str] | None = None) -> Path:
    """The data folder: ``data_dir`` if given, else ``$CLOUDPAD_DATA_DIR``, else ``<project>/data``.

    The project root is the folder holding the ``cloudpad`` package.
    """
    if data_dir is not None:
        return Path(data_dir)
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent / "data"


def _read_descriptor(folder: Path) -> dict[str, Any]:
    path = folder / DESCRIPTOR
    try:
        with open(path, encoding="utf-8") as handle:
            descriptor = json.load(handle)
    except FileNotFoundError:
        raise DataError(f"{path}: missing file: no data package descriptor there") from None
    except json.JSONDecodeError as exc:
        raise DataError(
            f"{path}: bad descriptor: not valid JSON at line {exc.lineno}, column {exc.colno}: "
            f"{exc.msg}"
        ) from None
    if not isinstance(descriptor, dict) or not isinstance(descriptor.get("resources"), list):
        raise DataError(f"{path}: bad descriptor: it must be an object with a 'resources' list")
    for i, res in enumerate(descriptor["resources"]):
        if not isinstance(res, dict) or not isinstance(res.get("name"), str):
            raise DataError(f"{path}: bad descriptor: resources[{i}] has no 'name'")
    return descriptor


def resource_names(data_dir: str | os.PathLike[str] | None = None) -> list[str]:
    """Names of the resources declared in ``datapackage.json``, in descriptor order."""
    folder = globals()["data_dir"](data_dir)
    return [res["name"] for res in _read_descriptor(folder)["resources"]]


def _resource(name: str, folder: Path) -> dict[str, Any]:
    descriptor = _read_descriptor(folder)
    for res in descriptor["resources"]:
        if res["name"] == name:
            return res
    known = ", ".join(res["name"] for res in descriptor["resources"])
    raise DataError(
        f"{folder / DESCRIPTOR}: unknown resource name {name!r}; the known resources are: {known}"
    )


def describe(name: str, data_dir: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The descriptor entry (metadata and schema) of resource ``name``, as a plain dict."""
    folder = globals()["data_dir"](data_dir)
    return json.loads(json.dumps(_resource(name, folder)))


def _frictionless_errors(
    descriptor: dict[str, Any], resource: dict[str, Any], folder: Path
) -> list[str]:
    import frictionless
    from frictionless import FrictionlessException

    file = folder / resource["path"]
    try:
        package = frictionless.Package.from_descriptor(descriptor, basepath=str(folder))
        res = package.get_resource(resource["name"])
    except FrictionlessException as exc:
        notes = "; ".join(e.note or e.message for e in exc.reasons) or exc.error.message
        raise DataError(f"{folder / DESCRIPTOR}: bad descriptor: {notes}") from None
    report = res.validate(limit_errors=MAX_ERRORS + 1)
    messages: list[str] = []
    for task in report.tasks:
        for err in task.errors:
            messages.append(_describe_error(err, file))
    if not report.tasks and report.errors:
        messages.extend(f"{file}: {err.message}" for err in report.errors)
    return messages


def _describe_error(err: Any, file: Path) -> str:
    code = err.type
    row = getattr(err, "row_number", None)
    column = getattr(err, "field_name", None)
    where = f"{file}"
    if row is not None:
        where += f", row {row}"
    if column:
        where += f", column {column!r}"
    if code == "missing-label":
        return f"{where}: missing column {column!r} (header found: {', '.join(err.labels)})"
    if code == "extra-label":
        return f"{where}: extra column {err.label!r} that the schema does not declare"
    if code in ("incorrect-label", "duplicate-label", "blank-label"):
        return f"{where}: header {err.label!r} found where the schema expects column {column!r}"
    if code == "type-error":
        return f"{where}: wrong type: expected {err.note}, found {err.cell!r}"
    if code == "constraint-error":
        return f"{where}: rule failed: {err.note}; found {err.cell!r}"
    if code == "missing-cell":
        return f"{where}: required value is missing (row too short)"
    if code == "extra-cell":
        return f"{where}: extra value {err.cell!r} beyond the declared columns"
    if code in ("primary-key", "unique-error"):
        return f"{where}: duplicate key: {err.note}; found {err.cells!r}"
    if code == "blank-row":
        return f"{where}: blank row"
    if code in ("source-error", "scheme-error", "format-error", "encoding-error"):
        note = err.note or err.message
        if "empty" in note:
            return f"{where}: empty file: {note}"
        return f"{where}: cannot read the file: {note}"
    return f"{where}: {code}: {err.message}"


def load(name: str, data_dir: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Load resource ``name`` from the data folder, validated against its table schema.

    Method: the resource's entry in ``datapackage.json`` is validated and the file
    checked by ``frictionless`` (types, required, minimum/maximum, enum, pattern,
    unique, primary key, header against the schema's fields); only then is the
    file read with pandas using the schema's types (``string``, ``int64`` or
    nullable ``Int64`` for optional integers, ``float64``, ``datetime64`` for
    dates).  Raises :class:`DataError` (file, row as in the file, column, rule,
    value) on any problem, listing up to :data:`MAX_ERRORS` of them.
    """
    folder = globals()["data_dir"](data_dir)
    resource = _resource(name, folder)
    rel = resource.get("path")
    if not isinstance(rel, str) or Path(rel).is_absolute() or ".." in Path(rel).parts:
        raise DataError(
            f"{folder / DESCRIPTOR}: bad descriptor for {name!r}: 'path' must be a relative path "
            f"inside the data folder, got {rel!r}"
        )
    file = folder / rel
    if not file.is_file():
        raise DataError(f"{file}: missing file: resource {name!r} declares it, it does not exist")
    if file.stat().st_size == 0:
        raise DataError(f"{file}, row 1: empty file: no header and no data rows")

    problems = _frictionless_errors(_read_descriptor(folder), resource, folder)
    if problems:
        shown = problems[:MAX_ERRORS]
        more = len(problems) - len(shown)
        tail = f"\n  ... and {more} more problem(s)" if more > 0 else ""
        raise DataError(
            f"{file}: {len(shown)}{'+' if more else ''} problem(s) in resource {name!r}:\n  "
            + "\n  ".join(shown)
            + tail
        )
    return _read_frame(resource, file)


def _read_frame(resource: dict[str, Any], file: Path) -> pd.DataFrame:
    fields = resource["schema"]["fields"]
    dtypes: dict[str, str] = {}
    dates: list[str] = []
    for field in fields:
        kind = field.get("type", "string")
        required = field.get("constraints", {}).get("required", False)
        if kind == "integer" and not required:
            dtypes[field["name"]] = "Int64"
        elif kind in ("date", "datetime"):
            dtypes[field["name"]] = "string"
            dates.append(field["name"])
        else:
            dtypes[field["name"]] = _PANDAS_DTYPES.get(kind, "string")
    with open(file, encoding=resource.get("encoding", "utf-8"), newline="") as handle:
        frame = pd.read_csv(handle, dtype=dtypes, keep_default_na=False, na_values=[""])
    for column in dates:
        frame[column] = pd.to_datetime(frame[column], format="ISO8601")
    if frame.empty:
        raise DataError(f"{file}, row 2: empty file: a header but no data rows")
    return frame


@dataclass(frozen=True)
class StaleResource:
    """A resource past its declared life: retrieved on ``retrieved``, ``age_days`` ago."""

    name: str
    retrieved: dt.date
    valid_for_days: int
    age_days: int


def stale_resources(
    today: dt.date | None = None, data_dir: str | os.PathLike[str] | None = None
) -> list[StaleResource]:
    """Resources whose ``retrieved`` date is more than ``valid_for_days`` before ``today``.

    Resources without ``valid_for_days`` never go stale.  ``today`` defaults to
    the local date.
    """
    folder = globals()["data_dir"](data_dir)
    today = today or dt.date.today()
    stale: list[StaleResource] = []
    for res in _read_descriptor(folder)["resources"]:
        life = res.get("valid_for_days")
        if life is None:
            continue
        retrieved = _retrieved(res, folder)
        age = (today - retrieved).days
        if age > life:
            stale.append(StaleResource(res["name"], retrieved, int(life), age))
    return stale


def _retrieved(res: Mapping[str, Any], folder: Path) -> dt.date:
    value = res.get("retrieved")
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise DataError(
            f"{folder / DESCRIPTOR}: bad descriptor for {res['name']!r}: 'retrieved' must be a "
            f"date YYYY-MM-DD, got {value!r}"
        ) from None


def sources_markdown(
    usage: Mapping[str, Sequence[str]] | None = None,
    data_dir: str | os.PathLike[str] | None = None,
) -> str:
    """MyST markdown of the book's "Data sources" page, generated from the descriptor."""
    folder = globals()["data_dir"](data_dir)
    usage = usage or {}
    descriptor = _read_descriptor(folder)
    lines = ["# Data sources", ""]
    lines.append(
        "Every number an article starts from is read from the `data/` folder. This page is "
        "generated from `data/datapackage.json`; each file below is validated against its schema "
        "every time an article loads it."
    )
    lines.append("")
    for res in descriptor["resources"]:
        lines.append(f"## {res.get('title', res['name'])}")
        lines.append("")
        lines.append(f"File `data/{res.get('path')}`, resource name `{res['name']}`.")
        lines.append("")
        lines.append(str(res.get("description", "")))
        lines.append("")
        srcs = res.get("sources", [])
        lines.append("**Sources:** " + "; ".join(_link(s) for s in srcs))
        lines.append("")
        lics = res.get("licenses", [])
        lines.append("**License:** " + "; ".join(_link(lic) for lic in lics))
        lines.append("")
        lines.append(f"**Retrieved:** {res.get('retrieved', 'unknown')}")
        lines.append("")
        used = list(usage.get(res["name"], []))
        lines.append("**Used by:** " + (", ".join(used) if used else "not used by any article yet"))
        lines.append("")
    return "\n".join(lines)


def _link(entry: Mapping[str, Any]) -> str:
    title = entry.get("title") or entry.get("name") or ""
    url = entry.get("path")
    return f"[{title}]({url})" if url else str(title)
