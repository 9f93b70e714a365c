"""An article's parameters: read their declarations, check overrides before any kernel starts.

Every article has exactly one code cell tagged ``parameters``; each line
assigns a Python literal and declares it in its comment (unit, allowed values,
meaning: :mod:`cloudpad.declarations`).  :func:`notebook_parameters` reads that
cell into :class:`~cloudpad.declarations.Declarations`; :func:`parse_overrides`
turns ``-p NAME VALUE`` pairs from the command line into typed values and
refuses an unknown name, a value of the wrong type, a value its declaration
does not allow (out of range, a list of the wrong length, not one of the
choices, not found in its dataset) or a violated ``# check:`` constraint, with
a :class:`~cloudpad.exceptions.ParameterError` that names the notebook, the
parameter, the value and what is allowed — before any kernel starts.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import nbformat

from cloudpad import declarations
from cloudpad.declarations import Declaration, Declarations, Lookup
from cloudpad.exceptions import NotebookError, ParameterError
from cloudpad.pipeline import notebooks


def parameters_cell_index(nb: nbformat.NotebookNode, path: Path) -> int:
    """Index of the one cell tagged ``parameters``; :class:`NotebookError` if not exactly one."""
    tagged = [
        i
        for i, cell in enumerate(nb.cells)
        if "parameters" in cell.get("metadata", {}).get("tags", [])
    ]
    if len(tagged) != 1:
        raise NotebookError(
            f"{path}: needs exactly one cell tagged 'parameters', found {len(tagged)}"
        )
    if nb.cells[tagged[0]].cell_type != "code":
        raise NotebookError(f"{path}: the cell tagged 'parameters' must be a code cell")
    return tagged[0]


def notebook_parameters(path: Path) -> Declarations:
    """The declared parameters of the notebook at ``path``, in cell order.

    Raises :class:`NotebookError` for a file that is not a notebook, a notebook
    without exactly one ``parameters`` cell, or a line of that cell that is not
    a declaration (naming the notebook and the line).
    """
    try:
        nb = notebooks.read(path, mutable=False)
    except (OSError, ValueError) as exc:
        raise NotebookError(f"{path}: cannot be read as a notebook: {exc}") from None
    index = parameters_cell_index(nb, path)
    return declarations.parse(nb.cells[index].source, where=f"{path}, cell {index + 1}")


def _type_name(value: Any) -> str:
    return "None" if value is None else type(value).__name__


def coerce(notebook: Path, param: Declaration, text: str) -> Any:
    """Parse the command-line ``text`` for ``param`` as a Python literal of the default's type.

    A string default takes the text as it is (quotes optional).  An int value is
    accepted for a float default; a bool is never taken for a number.  A list
    must hold items of the default list's item type.  Whether the value is
    allowed is checked afterwards (:func:`check_values`).
    """
    default = param.default
    if isinstance(default, str):
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return text
        return value if isinstance(value, str) else text
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        raise ParameterError(
            f"{notebook}: parameter {param.name!r}: {text!r} is not a Python literal; "
            f"expected {param.describe()}, like the default {default!r}"
        ) from None
    if _same_kind(default, value):
        if isinstance(default, float):
            return float(value)
        if isinstance(default, list) and isinstance(value, (list, tuple)):
            sample = default[0] if default else None
            return [float(v) if isinstance(sample, float) else v for v in value]
        return value
    raise ParameterError(
        f"{notebook}: parameter {param.name!r} must be of type {_type_name(default)} "
        f"(default {default!r}), got {_type_name(value)} {value!r}"
    )


def _same_kind(default: Any, value: Any) -> bool:
    if default is None:
        return True
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, (int, float))
    if isinstance(default, (list, tuple)):
        if not isinstance(value, (list, tuple)):
            return False
        if not default:
            return True
        return all(_same_kind(default[0], item) for item in value)
    return isinstance(value, type(default))


def check_values(
    notebook: Path,
    params: Declarations,
    values: Mapping[str, Any],
    lookup: Lookup | None = None,
) -> None:
    """Refuse ``values`` that their declarations do not allow, or that break a ``# check:``."""
    params.check(values, lookup, where=str(notebook))


def parse_overrides(
    notebook: Path,
    pairs: Iterable[tuple[str, str]],
    lookup: Lookup | None = None,
    *,
    check: bool = True,
) -> dict[str, Any]:
    """Typed, checked overrides for ``notebook`` from ``(name, text)`` pairs.

    Refuses an unknown name, a wrong type and (unless ``check`` is false, for a
    sweep that checks each combination itself) a value that is not allowed.
    """
    params = notebook_parameters(notebook)
    values: dict[str, Any] = {}
    for name, text in pairs:
        if name not in params:
            known = ", ".join(params) or "(none)"
            raise ParameterError(
                f"{notebook}: unknown parameter {name!r}; this notebook's parameters are: {known}"
            )
        values[name] = coerce(notebook, params[name], text)
    if check:
        check_values(notebook, params, values, lookup)
    return values


def describe(params: Declarations) -> str:
    """``cloudpad params``: a text table of name, default, unit, allowed values and meaning."""
    rows = [("name", "default", "unit", "allowed", "meaning")]
    rows += [
        (p.name, repr(p.default), p.unit or "-", p.allowed.spec(), p.meaning)
        for p in params.values()
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = [
        "  ".join(f"{c:<{w}}" for c, w in zip(r[:4], widths, strict=True)) + "  " + r[4]
        for r in rows
    ]
    for c in params.constraints:
        lines.append(f"check: {c.expression}")
    for r in params.rows:
        lines.append(f"row: {r.dataset} has " + ", ".join(f"{c}={p}" for c, p in r.pairs))
    return "\n".join(line.rstrip() for line in lines)
