"""The data files and ``data/datapackage.json`` as the refresh reads and rewrites them.

A data file is read as text rows (``csv``), so rows the refresh keeps are
written back exactly as they were, and written with ``\\n`` line ends and the
schema's column order.  When a dataset's content changes, its descriptor entry
gets the date retrieved (for ``instance_prices`` the oldest row's, as its
description says), the file's SHA-256 as the Frictionless ``hash``
(``sha256:<hex>``; :func:`cloudpad.data.load` checks it, so an edited file whose
hash was not updated is refused), and the sources the new rows came from in
place of the ones they supersede; the package ``version`` becomes the day's
date (``YYYY.MM.DD``, with ``.N`` for a further change on the same day).
Everything is written whole or not at all (:func:`cloudpad.files.write_atomic`).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from cloudpad.exceptions import DataError

Row = dict[str, str]


def read_rows(file: Path) -> tuple[list[str], list[Row]]:
    """The header and rows of a CSV file, as text."""
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        return [], []
    reader = csv.DictReader(io.StringIO(text, newline=""))
    rows = [dict(row) for row in reader]
    return list(reader.fieldnames or []), rows


def csv_text(fields: Sequence[str], rows: Iterable[Mapping[str, str]]) -> str:
    """CSV text of ``rows`` in the order of ``fields`` (minimal quoting, ``\\n`` line ends)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(fields)
    for row in rows:
        writer.writerow([row[f] for f in fields])
    return out.getvalue()


def sha256(text: str) -> str:
    """The Frictionless ``hash`` of a file's text: ``sha256:<hex>``."""
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def descriptor_text(descriptor: Mapping[str, Any]) -> str:
    """``datapackage.json`` as the project writes it (2-space indent, UTF-8, final newline)."""
    return json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n"


def resource(descriptor: Mapping[str, Any], name: str) -> dict[str, Any]:
    for res in descriptor["resources"]:
        if res["name"] == name:
            return res
    raise DataError(f"datapackage.json has no resource {name!r}")


def update_resource(
    res: dict[str, Any],
    *,
    retrieved: dt.date,
    digest: str,
    sources: Sequence[Mapping[str, str]],
    supersedes: Sequence[str],
) -> None:
    """Record a new version of ``res``'s file: date, hash and its new ``sources``.

    A source whose ``path`` starts with one of ``supersedes`` (or equals a new
    source's path) is replaced; the others are kept in place; new sources take
    the place of the first one they replace (else go last).
    """
    new_paths = {s["path"] for s in sources}
    kept: list[dict[str, Any]] = []
    at = None
    for src in res.get("sources", []):
        path = str(src.get("path", ""))
        if path in new_paths or any(path.startswith(p) for p in supersedes if p):
            at = len(kept) if at is None else at
            continue
        kept.append(src)
    at = len(kept) if at is None else at
    res["sources"] = kept[:at] + [dict(s) for s in sources] + kept[at:]
    res["retrieved"] = retrieved.isoformat()
    res["hash"] = digest


def next_version(current: str | None, today: dt.date) -> str:
    """The package version after a change today: ``YYYY.MM.DD``, then ``YYYY.MM.DD.1``, ..."""
    base = f"{today:%Y.%m.%d}"
    if not current or not current.startswith(base):
        return base
    match = re.fullmatch(re.escape(base) + r"(?:\.(\d+))?", current)
    return f"{base}.{int(match.group(1) or 0) + 1}" if match else f"{base}.1"
