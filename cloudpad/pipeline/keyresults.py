"""An executed notebook's key results: the values it glued for its prose, and its figures.

``myst_nb.glue(name, value, display=False)`` (which :func:`cloudpad.article.publish`
and :func:`cloudpad.article.figure` call) stores each value as a display output
whose metadata is ``{"scrapbook": {"name": name, ...}}`` and whose data holds
the value's ``text/plain`` repr (and an image for a figure).  Numbers, strings
and booleans are read back with :func:`ast.literal_eval`; a figure is kept by
name only; any other value keeps its text repr.
"""

from __future__ import annotations

import ast
from typing import Any

import nbformat

_PREFIX = "application/papermill.record/"


def extract(nb: nbformat.NotebookNode) -> tuple[dict[str, Any], list[str]]:
    """``(values, figure names)`` glued in ``nb``, in the order they were glued.

    A name glued twice keeps its last value (as ``{glue:text}`` shows it).
    """
    values: dict[str, Any] = {}
    figures: list[str] = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            meta = (output.get("metadata") or {}).get("scrapbook")
            if not meta or "name" not in meta:
                continue
            name = str(meta["name"])
            data = {k.removeprefix(_PREFIX): v for k, v in (output.get("data") or {}).items()}
            if any(k.startswith("image/") for k in data):
                figures.append(name)
                values.pop(name, None)
            elif "text/plain" in data:
                values[name] = _value(data["text/plain"])
    return values, list(dict.fromkeys(figures))


def _value(text: str) -> Any:
    if text in ("inf", "-inf", "nan"):
        return float(text)
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return text
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    return text
