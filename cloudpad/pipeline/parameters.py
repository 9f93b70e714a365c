"""An article's parameters: read its ``parameters`` cell, check overrides before running.

Every article has exactly one code cell tagged ``parameters`` holding
assignments of Python literals (``traffic_rps = 1200  # requests per second``).
Papermill's own inspector (:func:`papermill.inspect_notebook`) reads the names,
defaults and help comments.  :func:`parse_overrides` turns ``-p NAME VALUE``
pairs from the command line into typed values and refuses an unknown name or a
value of the wrong type with a :class:`~cloudpad.exceptions.ParameterError`
that names the notebook and the parameter, before any kernel starts.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from cloudpad.exceptions import NotebookError, ParameterError
from cloudpad.pipeline import notebooks


@dataclass(frozen=True)
class Parameter:
    """One parameter of a notebook: its name, default value and help comment (with unit)."""

    name: str
    default: Any
    help: str


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


def notebook_parameters(path: Path, memo_dir: Path | None = None) -> dict[str, Parameter]:
    """The parameters of the notebook at ``path``, by name, with their literal defaults.

    Uses :func:`papermill.inspect_notebook`; each default must be a Python
    literal (number, string, bool, None, list/tuple/dict of literals).  With
    ``memo_dir`` the inspection is kept there under a digest of the parameters
    cell, so an unchanged cell is not inspected again (nor Papermill imported).
    """
    try:
        nb = notebooks.read(path, mutable=False)
    except (OSError, ValueError) as exc:
        raise NotebookError(f"{path}: cannot be read as a notebook: {exc}") from None
    cell = nb.cells[parameters_cell_index(nb, path)]
    memo = None
    if memo_dir is not None:
        digest = hashlib.sha256(cell.source.encode("utf-8")).hexdigest()[:16]
        memo = memo_dir / f"{digest}.json"
    found = _inspect(path, memo)
    params: dict[str, Parameter] = {}
    for name, info in found.items():
        try:
            default = ast.literal_eval(info["default"])
        except (ValueError, SyntaxError):
            raise NotebookError(
                f"{path}: parameter {name!r} has default {info['default']!r}, which is not a "
                "Python literal (number, string, bool, None, list, tuple or dict)"
            ) from None
        params[name] = Parameter(name=name, default=default, help=info.get("help") or "")
    return params


def _inspect(path: Path, memo: Path | None) -> dict[str, dict[str, str]]:
    """Papermill's inspection of the parameters cell (name -> default text and help)."""
    if memo is not None and memo.is_file():
        with contextlib.suppress(OSError, ValueError):
            return json.loads(memo.read_text(encoding="utf-8"))
    import papermill  # only when the cell is new to the memo: it takes a while to import

    found = {
        name: {"default": info["default"], "help": info.get("help") or ""}
        for name, info in papermill.inspect_notebook(str(path)).items()
    }
    if memo is not None:
        with contextlib.suppress(OSError):  # a memo is an optimisation, never a failure
            memo.parent.mkdir(parents=True, exist_ok=True)
            tmp = memo.with_suffix(".tmp")
            tmp.write_text(json.dumps(found), encoding="utf-8")
            tmp.replace(memo)
    return found


def _type_name(value: Any) -> str:
    return "None" if value is None else type(value).__name__


def coerce(notebook: Path, param: Parameter, text: str) -> Any:
    """Parse the command-line ``text`` for ``param`` as a Python literal of the default's type.

    A string default takes the text as it is (quotes optional).  An int value is
    accepted for a float default; a bool is never taken for a number.  A list
    must hold items of the default list's item type.
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
            f"expected a value of type {_type_name(default)} like the default {default!r}"
        ) from None
    if _same_kind(default, value):
        return float(value) if isinstance(default, float) else value
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
        kinds = {_type_name(item) for item in default}
        if len(kinds) != 1:
            return True
        (template,) = default[:1]
        return all(_same_kind(template, item) for item in value)
    return isinstance(value, type(default))


def parse_overrides(
    notebook: Path, pairs: Iterable[tuple[str, str]], memo_dir: Path | None = None
) -> dict[str, Any]:
    """Typed overrides for ``notebook`` from ``(name, text)`` pairs; refuses unknown names."""
    params = notebook_parameters(notebook, memo_dir)
    values: dict[str, Any] = {}
    for name, text in pairs:
        if name not in params:
            known = ", ".join(sorted(params)) or "(none)"
            raise ParameterError(
                f"{notebook}: unknown parameter {name!r}; this notebook's parameters are: {known}"
            )
        values[name] = coerce(notebook, params[name], text)
    return values


def describe(params: Mapping[str, Parameter]) -> str:
    """A plain-text table of parameters (name, default, help) for ``cloudpad params``."""
    width = max((len(n) for n in params), default=4)
    lines = [f"{'name':<{width}}  default  (help)"]
    for p in params.values():
        lines.append(f"{p.name:<{width}}  {p.default!r}  ({p.help})")
    return "\n".join(lines)
