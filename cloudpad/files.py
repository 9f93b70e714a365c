"""Writing files whole or not at all: a temporary file beside the target, then a rename.

Used wherever a half-written file would be read as a good one: executed
notebooks, logs and cache records (:mod:`cloudpad.pipeline.runner`), the data
files, descriptor and refresh status (:mod:`cloudpad.refresh`).
"""

from __future__ import annotations

from pathlib import Path

from cloudpad.exceptions import OutputError


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all (a temporary file, then a rename).

    A failure (disk full, read-only folder) leaves the previous file as it was
    and raises :class:`OutputError` naming the path.
    """
    tmp = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text, encoding="utf-8", newline="")
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc
