"""Reading notebooks once: parsed and, where asked, validated, memoised by file state.

A run reads the same notebooks several times (planning, cache keys, prose
refresh, staging, the edition's inputs).  :func:`read` parses a file once per
process for each state of the file (path, size, modification time) and
:func:`read_valid` adds nbformat's schema validation, which is the expensive
part, once per state.  Callers get a copy they may change.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import nbformat

_parsed: dict[tuple[str, int, int], nbformat.NotebookNode] = {}
_valid: set[tuple[str, int, int]] = set()


def _key(path: Path) -> tuple[str, int, int]:
    stat = path.stat()
    return (str(path.resolve()), stat.st_size, stat.st_mtime_ns)


def read(path: Path, *, mutable: bool = True) -> nbformat.NotebookNode:
    """The notebook at ``path`` as nbformat 4, parsed without schema validation.

    With ``mutable=False`` the shared parsed copy is returned (faster; the caller
    promises not to change it).  Raises ``OSError`` if unreadable and
    ``ValueError`` if it is not notebook JSON.
    """
    key = _key(path)
    if key not in _parsed:
        text = path.read_text(encoding="utf-8")
        if not isinstance(json.loads(text), dict):
            raise ValueError("not a notebook: the JSON is not an object")
        nb = nbformat.reader.reads(text)  # multi-line sources joined; no schema validation
        if nb.get("nbformat") != 4:
            nb = nbformat.convert(nb, 4)
        _parsed[key] = nb
    return copy.deepcopy(_parsed[key]) if mutable else _parsed[key]


def read_valid(path: Path) -> nbformat.NotebookNode:
    """:func:`read` (the shared copy: do not change it), then nbformat's schema validation.

    Raises ``nbformat.ValidationError`` for a notebook that breaks the schema.
    """
    nb = read(path, mutable=False)
    key = _key(path)
    if key not in _valid:
        nbformat.validate(nb)
        _valid.add(key)
    return nb


def title(path: Path) -> str:
    """The notebook's title: its first ``# heading``, else its file name (unreadable: the name)."""
    try:
        nb = read(path, mutable=False)
    except (OSError, ValueError):
        return path.stem
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return path.stem
