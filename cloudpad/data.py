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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cloudpad.exceptions import DataError

if TYPE_CHECKING:  # imported where a frame is made: finding the folder needs neither
    import pandas as pd

__all__ = [
    "DATA_ENV",
    "DESCRIPTOR",
    "DataError",
    "StaleResource",
    "data_folder",
    "describe",
    "load",
    "read_descriptor",
    "resource_names",
    "stale_resources",
]

#: Environment variable naming the data folder (default: ``<project>/data``).
DATA_ENV = "CLOUDPAD_DATA_DIR"
#: File name of the descriptor inside the data folder.
DESCRIPTOR = "datapackage.json"
#: At most this many problems are listed in one :class:`DataError` message.
MAX_ERRORS = 10
#: frictionless stops counting problems after this many.
_COUNT_LIMIT = 1000


def data_folder(
    data_dir: str | os.PathLike[str] | None = None, root: str | os.PathLike[str] | None = None
) -> Path:
    """The data folder, resolved here and nowhere else.

    ``data_dir`` if given, else ``$CLOUDPAD_DATA_DIR``, else ``<root>/data``
    where ``root`` is the book's root (default: the folder holding the
    ``cloudpad`` package).  The pipeline passes the folder it resolved to every
    kernel as ``CLOUDPAD_DATA_DIR``, so notebooks, dependency tracking and the
    generated pages all see the same folder.
    """
    if data_dir is not None:
        return Path(data_dir).resolve()
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env).resolve()
    base = Path(root) if root is not None else Path(__file__).resolve().parent.parent
    return (base / "data").resolve()


def read_descriptor(folder: Path) -> dict[str, Any]:
    """The parsed ``datapackage.json`` of ``folder``; :class:`DataError` if missing or invalid."""
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
    folder = data_folder(data_dir)
    return [res["name"] for res in read_descriptor(folder)["resources"]]


def _resource(name: str, folder: Path) -> dict[str, Any]:
    descriptor = read_descriptor(folder)
    for res in descriptor["resources"]:
        if res["name"] == name:
            return res
    known = ", ".join(res["name"] for res in descriptor["resources"])
    raise DataError(
        f"{folder / DESCRIPTOR}: unknown resource name {name!r}; the known resources are: {known}"
    )


def describe(name: str, data_dir: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The descriptor entry (metadata and schema) of resource ``name``, as a plain dict."""
    folder = data_folder(data_dir)
    return json.loads(json.dumps(_resource(name, folder)))


def _frictionless_errors(
    descriptor: dict[str, Any], resource: dict[str, Any], folder: Path
) -> list[str]:
    """Validate ``resource`` with frictionless; return one readable message per problem."""
    import frictionless
    from frictionless import FrictionlessException

    file = folder / resource["path"]
    # ``hash`` and ``bytes`` record the file as the refresh retrieved it (cloudpad.refresh);
    # a copy edited by hand is still data, so they are not checked here.
    unchecked = {
        **descriptor,
        "resources": [
            {k: v for k, v in res.items() if k not in ("hash", "bytes")}
            for res in descriptor["resources"]
        ],
    }
    try:
        package = frictionless.Package.from_descriptor(unchecked, basepath=str(folder))
        res = package.get_resource(resource["name"])
    except FrictionlessException as exc:
        notes = "; ".join(e.note or e.message for e in exc.reasons) or exc.error.message
        raise DataError(f"{folder / DESCRIPTOR}: bad descriptor: {notes}") from None
    report = res.validate(limit_errors=_COUNT_LIMIT)
    errors = [err for task in report.tasks for err in task.errors] or list(report.errors)
    header = [err for err in errors if err.type in _LABEL_ERRORS]
    if header:
        # A wrong header shifts every column, so the cell errors after it are noise.
        return [_header_message(header[0].labels, resource, file)]
    return [_describe_error(err, file, resource) for err in errors]


_LABEL_ERRORS = {
    "missing-label",
    "extra-label",
    "incorrect-label",
    "duplicate-label",
    "blank-label",
}


def _header_message(labels: Sequence[str], resource: dict[str, Any], file: Path) -> str:
    expected = [field["name"] for field in resource["schema"]["fields"]]
    missing = [name for name in expected if name not in labels]
    extra = [label for label in labels if label not in expected]
    parts = []
    if missing:
        parts.append(f"missing column(s) {', '.join(map(repr, missing))}")
    if extra:
        parts.append(f"unexpected column(s) {', '.join(map(repr, extra))}")
    if not parts:
        parts.append("columns in the wrong order or repeated")
    column = missing[0] if missing else (extra[0] if extra else expected[0])
    return (
        f"{file}, row 1, column {column!r}: {'; '.join(parts)}; rule: the header must be "
        f"{', '.join(expected)}; found: {', '.join(labels) or '(empty header)'}"
    )


def _describe_error(err: Any, file: Path, resource: dict[str, Any]) -> str:
    code = err.type
    row = getattr(err, "row_number", None)
    column = getattr(err, "field_name", None)
    where = f"{file}"
    if row is not None:
        where += f", row {row}"
    if column:
        where += f", column {column!r}"
    if code == "type-error":
        kind = _field(resource, column).get("type", "?")
        return f"{where}: wrong type: rule: must be of type {kind}; found {err.cell!r}"
    if code == "constraint-error":
        return f"{where}: out of range or not allowed: rule: {err.note}; found {err.cell!r}"
    if code == "missing-cell":
        return f"{where}: missing value: the row has fewer cells than the header"
    if code == "extra-cell":
        return f"{where}: extra value {err.cell!r}: the row has more cells than the header"
    if code == "primary-key":
        key = resource["schema"].get("primaryKey", [])
        key = [key] if isinstance(key, str) else key
        values = dict(zip(_names(resource), err.cells, strict=False))
        found = ", ".join(f"{k}={values.get(k)!r}" for k in key)
        cols = ", ".join(map(repr, key))
        return f"{where}, column(s) {cols}: duplicate key: {err.note}; found {found}"
    if code == "unique-error":
        return f"{where}: duplicate value: rule: unique; {err.note}; found {err.cell!r}"
    if code == "blank-row":
        return f"{where}: blank row: rule: every row holds a record"
    if code in ("source-error", "scheme-error", "format-error", "encoding-error", "io-error"):
        note = err.note or err.message
        label = "empty file" if "empty" in note else "cannot read the file"
        return f"{where}, row 1: {label}: {note}"
    return f"{where}: {code}: {err.message}"


def _names(resource: Mapping[str, Any]) -> list[str]:
    return [field["name"] for field in resource["schema"]["fields"]]


def _field(resource: Mapping[str, Any], name: str | None) -> dict[str, Any]:
    for field in resource["schema"]["fields"]:
        if field["name"] == name:
            return field
    return {}


def load(name: str, data_dir: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Load resource ``name`` from the data folder, validated against its table schema.

    Method: the descriptor is checked by ``frictionless`` (Data Package v2 profile),
    then the file is validated by ``frictionless`` (header against the schema's
    fields, types, required, minimum/maximum, enum, pattern, unique, primary key,
    blank rows).  Rules frictionless cannot express are checked afterwards by hand:
    a file with a header but no rows, numbers that are not finite (``inf``,
    ``1e400``), and the cross-column field properties
    ``x-emptyIf`` / ``x-requiredUnless`` (``{"field": ..., "equals": ...}``).  Only
    then is the file read with pandas using the schema's types (``string``,
    ``int64`` or nullable ``Int64`` for optional integers, ``float64``,
    ``boolean``, ``datetime64`` for dates).  Text is never turned into a missing
    value except the empty string (so Namibia's country code ``NA`` stays text).

    Raises :class:`DataError` naming the file, the row as in the file (header =
    row 1), the column, the rule and the value found, listing up to
    :data:`MAX_ERRORS` problems; no partly valid data is ever returned.
    """
    folder = data_folder(data_dir)
    descriptor = read_descriptor(folder)
    resource = _resource(name, folder)
    _check_resource_entry(resource, folder)
    file = folder / resource["path"]
    if not file.is_file():
        raise DataError(f"{file}: missing file: resource {name!r} declares it, it does not exist")
    if file.stat().st_size == 0:
        raise DataError(f"{file}, row 1: empty file: no header and no data rows")
    _raise_if(_frictionless_errors(descriptor, resource, folder), file, name)
    frame = _read_frame(resource, file)
    if frame.empty:
        raise DataError(f"{file}, row 2: empty file: the header is there but no data rows")
    problems = _non_finite_errors(frame, resource, file)
    _raise_if(problems + _cross_field_errors(frame, resource, file), file, name)
    return frame


def rows_of(
    dataset: str, columns: tuple[str, ...], data_dir: str | os.PathLike[str] | None = None
) -> set[tuple[Any, ...]]:
    """The distinct rows of ``columns`` in ``dataset``, as tuples of plain Python values.

    What a parameter declared ``in DATASET.COLUMN`` or a ``# row:`` line is
    checked against (:mod:`cloudpad.declarations`).  The dataset is read with
    :func:`load` (validated); raises :class:`DataError` naming the dataset and
    its columns when one of ``columns`` is not among them.
    """
    frame = load(dataset, data_dir)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(
            f"dataset {dataset!r} has no column {', '.join(map(repr, missing))}; its columns "
            "are: " + ", ".join(frame.columns)
        )
    plain = frame[list(columns)].dropna().astype(object)
    return {
        tuple(v.item() if hasattr(v, "item") else v for v in row)
        for row in plain.itertuples(index=False)
    }


def lookup(
    data_dir: str | os.PathLike[str] | None = None,
) -> Callable[[str, tuple[str, ...]], set[tuple[Any, ...]]]:
    """:func:`rows_of` over one data folder, each dataset read once (a declarations lookup)."""
    memo: dict[tuple[str, tuple[str, ...]], set[tuple[Any, ...]]] = {}

    def rows(dataset: str, columns: tuple[str, ...]) -> set[tuple[Any, ...]]:
        if (dataset, columns) not in memo:
            memo[dataset, columns] = rows_of(dataset, columns, data_dir)
        return memo[dataset, columns]

    return rows


def _check_resource_entry(resource: Mapping[str, Any], folder: Path) -> None:
    where = f"{folder / DESCRIPTOR}: bad descriptor for {resource['name']!r}"
    rel = resource.get("path")
    if not isinstance(rel, str) or Path(rel).is_absolute() or ".." in Path(rel).parts:
        raise DataError(f"{where}: 'path' must be a relative path in the data folder, got {rel!r}")
    schema = resource.get("schema")
    if not isinstance(schema, dict) or not isinstance(schema.get("fields"), list):
        raise DataError(f"{where}: it needs a table 'schema' with a 'fields' list")
    for i, field in enumerate(schema["fields"]):
        if not isinstance(field, dict) or not isinstance(field.get("name"), str):
            raise DataError(f"{where}: schema field {i} has no 'name'")
    names = {field["name"] for field in schema["fields"]}
    for field in schema["fields"]:
        for key in ("x-emptyIf", "x-requiredUnless"):
            rule = field.get(key)
            if rule is None:
                continue
            if not isinstance(rule, dict) or rule.get("field") not in names or "equals" not in rule:
                raise DataError(
                    f"{where}: field {field['name']!r} {key} must be "
                    f'{{"field": <a column of this resource>, "equals": <value>}}, got {rule!r}'
                )


def _raise_if(problems: list[str], file: Path, name: str) -> None:
    if not problems:
        return
    shown = problems[:MAX_ERRORS]
    more = len(problems) - len(shown)
    count = f"at least {len(problems)}" if len(problems) >= _COUNT_LIMIT else str(len(problems))
    tail = f"\n  ... and {more} more problem(s) not shown" if more > 0 else ""
    raise DataError(
        f"{file}: {count} problem(s) in resource {name!r}:\n  " + "\n  ".join(shown) + tail
    )


def _non_finite_errors(frame: pd.DataFrame, resource: dict[str, Any], file: Path) -> list[str]:
    """Hand-written rule: numbers are finite (frictionless reads ``inf`` and ``1e400`` as valid)."""
    import numpy as np
    import pandas as pd

    problems: list[str] = []
    raw: pd.DataFrame | None = None
    for field in resource["schema"]["fields"]:
        if field.get("type") != "number":
            continue
        column = frame[field["name"]]
        bad = (column.notna() & ~np.isfinite(column.fillna(0.0))).to_numpy()
        if bad.any() and raw is None:
            with open(file, encoding=resource.get("encoding", "utf-8"), newline="") as handle:
                raw = pd.read_csv(handle, dtype=str, keep_default_na=False)
        for i in bad.nonzero()[0]:
            found = raw[field["name"]].iloc[i] if raw is not None else column.iloc[i]
            problems.append(
                f"{file}, row {i + 2}, column {field['name']!r}: not a finite number: rule: "
                f"numbers must be finite; found {found!r}"
            )
    return problems


def _cross_field_errors(frame: pd.DataFrame, resource: dict[str, Any], file: Path) -> list[str]:
    """Hand-written rules frictionless cannot express: ``x-emptyIf`` and ``x-requiredUnless``."""
    import pandas as pd

    problems: list[str] = []
    for field in resource["schema"]["fields"]:
        column = field["name"]
        for key, must_be_empty in (("x-emptyIf", True), ("x-requiredUnless", False)):
            rule = field.get(key)
            if not rule:
                continue
            other, value = rule["field"], rule["equals"]
            matches = (frame[other] == value).fillna(False).to_numpy(dtype=bool)
            empty = frame[column].isna().to_numpy()
            bad = matches & ~empty if must_be_empty else ~matches & empty
            verb = "must be empty when" if must_be_empty else "is required unless"
            for i in bad.nonzero()[0]:
                found = frame[column].iloc[i]
                problems.append(
                    f"{file}, row {i + 2}, column {column!r}: rule: {column} {verb} "
                    f"{other} = {value!r}; found {column} = "
                    f"{'(empty)' if pd.isna(found) else repr(found)} with "
                    f"{other} = {frame[other].iloc[i]!r}"
                )
    return problems


_TRUE = {"true", "True", "TRUE", "1"}


def _read_frame(resource: dict[str, Any], file: Path) -> pd.DataFrame:
    import pandas as pd

    fields = resource["schema"]["fields"]
    dtypes: dict[str, str] = {}
    dates: list[str] = []
    booleans: list[str] = []
    for field in fields:
        kind = field.get("type", "string")
        required = field.get("constraints", {}).get("required", False)
        if kind == "integer":
            dtypes[field["name"]] = "int64" if required else "Int64"
        elif kind == "number":
            dtypes[field["name"]] = "float64"
        elif kind == "boolean":
            dtypes[field["name"]] = "string"
            booleans.append(field["name"])
        elif kind in ("date", "datetime"):
            dtypes[field["name"]] = "string"
            dates.append(field["name"])
        else:
            dtypes[field["name"]] = "string"
    try:
        with open(file, encoding=resource.get("encoding", "utf-8"), newline="") as handle:
            frame = pd.read_csv(handle, dtype=dtypes, keep_default_na=False, na_values=[""])
    except (ValueError, UnicodeDecodeError) as exc:  # frictionless accepted what pandas cannot
        raise DataError(f"{file}: cannot read the file with its schema's types: {exc}") from None
    for column in dates:
        frame[column] = pd.to_datetime(frame[column], format="ISO8601")
    for column in booleans:
        frame[column] = (
            frame[column]
            .map(lambda v: pd.NA if pd.isna(v) else v in _TRUE, na_action=None)
            .astype("boolean")
        )
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
    folder = data_folder(data_dir)
    today = today or dt.date.today()
    stale: list[StaleResource] = []
    for res in read_descriptor(folder)["resources"]:
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
