"""The files the pipeline keeps between runs, read and written one way.

Cache records (``_build/cache/…json``), run manifests (``_build/manifest.json``),
the baseline (``results/baseline.json``) and the run lock (``_build/.lock``)
each carry a format tag ``cloudpad-<kind>/<version>`` in their ``format``
field.  Reading one goes through :func:`read_json`, :func:`check_format` and
:func:`check_fields`, which raise :class:`~cloudpad.exceptions.StateFileError`
with one sentence naming the file and what is wrong with it: not UTF-8, not
JSON (with the line and column), cut short, no format tag or one of another
version (named, and said to be older or newer), a missing or unknown field (a
hand-edited typo names the field it looks like), a value of the wrong type
(with where it is in the file).  What the caller does with a damaged file is
its own choice: the cache executes the notebook again, ``diff`` and ``accept``
refuse.  Writing goes through :func:`cloudpad.files.write_atomic`: a temporary
file, then a rename, so a file is whole or absent.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import re
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cloudpad.exceptions import StateFileError

_TAG = re.compile(r"^cloudpad-(?P<kind>[a-z]+)/(?P<version>\d+)$")


def format_tag(kind: str, version: int) -> str:
    """``cloudpad-<kind>/<version>``, the value of a state file's ``format`` field."""
    return f"cloudpad-{kind}/{version}"


def read_json(path: Path, name: str = "") -> Any:
    """The JSON value in ``path``; :class:`StateFileError` when it is not readable JSON.

    ``FileNotFoundError`` passes through (a missing file is not a damaged one).
    ``name`` is how the file is called in messages (default: its path).
    """
    name = name or str(path)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise StateFileError(
            f"{name}: not UTF-8 text (byte {exc.start} is {raw[exc.start]:#04x})"
        ) from None
    if not text.strip():
        raise StateFileError(f"{name}: the file is empty")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        # A string without its closing quote runs to the end of the file, as do missing brackets.
        ends_early = exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string")
        cut = " (the file ends early: cut short?)" if ends_early else ""
        what = exc.msg.replace(" starting at", " starting there")
        raise StateFileError(
            f"{name}: not valid JSON at line {exc.lineno}, column {exc.colno}: {what}{cut}"
        ) from None


def check_format(name: str, data: Any, expected: str) -> None:
    """Refuse ``data`` unless it is an object whose ``format`` is ``expected``; names what it is."""
    if not isinstance(data, dict):
        raise StateFileError(f"{name}: expected a JSON object, got {_json_type(data)}")
    found = data.get("format")
    if found == expected:
        return
    if found is None:
        raise StateFileError(
            f"{name}: no format tag (expected 'format': {expected!r}); "
            "it was written by an older cloudpad or by hand"
        )
    want, got = _TAG.match(expected), _TAG.match(str(found))
    assert want is not None, expected
    if got is None or got["kind"] != want["kind"]:
        raise StateFileError(f"{name}: format {found!r} is not {expected!r}; this is another file")
    age = "older" if int(got["version"]) < int(want["version"]) else "newer"
    raise StateFileError(
        f"{name}: format {found!r} is {age} than the {expected!r} this cloudpad reads"
    )


def check_fields(
    name: str,
    where: str,
    data: Any,
    fields: Mapping[str, Any],
    required: frozenset[str] | set[str] = frozenset(),
) -> None:
    """Refuse ``data`` unless it is an object with exactly ``fields`` (name -> type).

    ``required`` fields must be present; a name not in ``fields`` is refused,
    with the field it looks like (a typo in a hand edit).  A type is a Python
    annotation (``str``, ``float``, ``dict[str, str]``, ``int | None``, a
    dataclass, ``Any``); ``where`` says where ``data`` is in the file.
    """
    if not isinstance(data, dict):
        raise StateFileError(f"{name}: {where} must be a JSON object, got {_json_type(data)}")
    for key in data:
        if key not in fields:
            close = difflib.get_close_matches(str(key), list(fields), 1, 0.75)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise StateFileError(f"{name}: {where} has an unknown field {key!r}{hint}")
    for key in sorted(set(required) - set(data)):
        raise StateFileError(f"{name}: {where} has no field {key!r}")
    for key, value in data.items():
        check_value(name, f"{where}, field {key!r}", value, fields[key])


def check_dataclass(name: str, where: str, data: Any, cls: type) -> None:
    """Refuse ``data`` unless it has the fields of dataclass ``cls`` with their types."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: hints[f.name] for f in dataclasses.fields(cls)}
    required = {
        f.name
        for f in dataclasses.fields(cls)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }
    check_fields(name, where, data, fields, required)


def check_value(name: str, where: str, value: Any, annotation: Any) -> None:
    """Refuse ``value`` unless it is JSON of the type ``annotation`` describes."""
    if not _matches(value, annotation):
        raise StateFileError(
            f"{name}: {where} must be {_describe(annotation)}, got {_json_type(value)} "
            f"{_short(value)}"
        )
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if dataclasses.is_dataclass(annotation):
        check_dataclass(name, where, value, annotation)
    elif origin in (typing.Union, types.UnionType):
        for option in args:
            if _matches(value, option) and option is not type(None):
                check_value(name, where, value, option)
                break
    elif origin is dict and len(args) == 2:
        for key, item in value.items():
            check_value(name, f"{where}, entry {key!r}", item, args[1])
    elif origin is list and args:
        for i, item in enumerate(value):
            check_value(name, f"{where}, item {i + 1}", item, args[0])


def _matches(value: Any, annotation: Any) -> bool:
    if annotation is Any:
        return True
    if annotation is type(None) or annotation is None:
        return value is None
    if dataclasses.is_dataclass(annotation):
        return isinstance(value, dict)
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, option) for option in typing.get_args(annotation))
    base = origin or annotation
    if base is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if base is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, base)


_NAMES = {
    str: "a string",
    float: "a number",
    int: "a whole number",
    bool: "true or false",
    dict: "an object",
    list: "a list",
    type(None): "null",
}


def _describe(annotation: Any) -> str:
    if dataclasses.is_dataclass(annotation):
        return "an object"
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(a) for a in typing.get_args(annotation))
    if origin in (dict, list):
        args = typing.get_args(annotation)
        item = args[-1] if args else Any
        container = "an object" if origin is dict else "a list"
        if item is Any:
            return container
        return f"{container} of {_describe(item).split(' ', 1)[1]}s"
    return _NAMES.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, (int, float)):
        return "a number"
    names = {str: "a string", list: "a list", dict: "an object"}
    return names.get(type(value), type(value).__name__)


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=repr)
    return text if len(text) <= 40 else text[:37] + "..."
