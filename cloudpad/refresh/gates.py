"""Checks a refreshed dataset must pass before it is written (else the old file stays).

Each check compares the new rows with the rows of the file as it is, by the
resource's primary key, and returns :class:`Problem` s naming the rows and the
reason:

* **columns**: the rows must have exactly the schema's columns (a changed schema
  is never written: the articles read the columns by name);
* **empty**: zero rows are never written;
* **duplicate key**: two rows with one primary key are never written;
* **rows down**: fewer than :data:`MIN_ROWS_KEPT` (90 %) of the old rows, for the
  whole dataset or for one part of it (a provider of ``instance_prices``);
* **value moved**: a value column (a price, a round trip, an ENI count) of a row
  kept from before moved by more than :data:`MAX_FACTOR` (3x) either way.

The last two can be overridden after review (``--accept-large-change``); the
first three cannot (the file would be unusable).  Whatever passes is then
validated against the schema by :func:`cloudpad.data.load` before it is written.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

#: A refresh keeping fewer than this share of a dataset's (or a part's) rows is refused.
MIN_ROWS_KEPT = 0.9
#: A value moving by more than this factor (up or down) is refused.
MAX_FACTOR = 3.0
#: Rows named in one problem, at most.
SHOWN = 5

Row = dict[str, str]


@dataclass(frozen=True)
class Problem:
    """One reason not to write: ``rule``, a clause naming the rows, whether review may pass it."""

    rule: str
    text: str
    overridable: bool


def key_of(row: Row, key: Sequence[str]) -> tuple[str, ...]:
    return tuple(row.get(column, "") for column in key)


def show_key(value: tuple[str, ...]) -> str:
    return "(" + ", ".join(value) + ")" if len(value) > 1 else value[0]


def _some(keys: Sequence[tuple[str, ...]]) -> str:
    shown = ", ".join(show_key(k) for k in list(keys)[:SHOWN])
    return shown + (f" and {len(keys) - SHOWN} more" if len(keys) > SHOWN else "")


def _float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def check(
    old: Sequence[Row],
    new: Sequence[Row],
    *,
    fields: Sequence[str],
    key: Sequence[str],
    values: Sequence[str],
    part_column: str | None = None,
) -> list[Problem]:
    """Every problem of ``new`` against ``old`` (the module's rules); [] if it may be written."""
    problems: list[Problem] = []
    for row in new:
        if list(row) != list(fields):
            problems.append(
                Problem(
                    "columns",
                    f"columns {', '.join(row)} instead of the schema's {', '.join(fields)}",
                    False,
                )
            )
            return problems
    if not new:
        return [Problem("empty", f"zero rows (the file has {len(old)})", False)]
    counts = Counter(key_of(row, key) for row in new)
    twice = [k for k, n in counts.items() if n > 1]
    if twice:
        problems.append(
            Problem("duplicate key", f"duplicate key ({', '.join(key)}) {_some(twice)}", False)
        )
    groups: dict[str, tuple[list[Row], list[Row]]] = {"": (list(old), list(new))}
    if part_column:
        for row in old:
            groups.setdefault(row[part_column], ([], []))[0].append(row)
        for row in new:
            groups.setdefault(row[part_column], ([], []))[1].append(row)
    for part, (before, after) in groups.items():
        if before and len(after) < MIN_ROWS_KEPT * len(before):
            lost = sorted({key_of(r, key) for r in before} - {key_of(r, key) for r in after})
            where = f"{part_column} {part}: " if part else ""
            problems.append(
                Problem(
                    "rows down",
                    f"{where}rows down from {len(before)} to {len(after)} "
                    f"({len(after) / len(before) - 1:+.0%}; more than "
                    f"{1 - MIN_ROWS_KEPT:.0%} fewer), e.g. {_some(lost) or 'none named'} gone",
                    True,
                )
            )
    before_by_key = {key_of(r, key): r for r in old}
    moved = []
    for row in new:
        was = before_by_key.get(key_of(row, key))
        for column in values if was else ():
            a, b = _float(was[column]), _float(row[column])
            if a and b and a > 0 and b > 0 and max(a / b, b / a) > MAX_FACTOR:
                moved.append(
                    f"{column} of {show_key(key_of(row, key))} from {was[column]} to "
                    f"{row[column]} (x{b / a:.3g})"
                )
    if moved:
        shown = "; ".join(moved[:SHOWN]) + (
            f"; and {len(moved) - SHOWN} more" if len(moved) > SHOWN else ""
        )
        problems.append(
            Problem("value moved", f"moved by more than {MAX_FACTOR:g}x: {shown}", True)
        )
    return problems


@dataclass(frozen=True)
class Changes:
    """Rows added, removed and changed (a value column, not just its provenance), by key."""

    added: int
    removed: int
    changed: int

    @property
    def any(self) -> bool:
        return bool(self.added or self.removed or self.changed)


def same_values(a: Row, b: Row, ignore: Sequence[str]) -> bool:
    """Two rows hold the same values (numbers compared as numbers), ``ignore`` d columns aside."""
    for column in a.keys() | b.keys():
        if column in ignore:
            continue
        x, y = a.get(column, ""), b.get(column, "")
        if x != y and (_float(x) is None or _float(x) != _float(y)):
            return False
    return True


def changes(
    old: Sequence[Row], new: Sequence[Row], key: Sequence[str], ignore: Sequence[str]
) -> Changes:
    """How ``new`` differs from ``old`` by primary key."""
    before = {key_of(r, key): r for r in old}
    after = {key_of(r, key): r for r in new}
    changed = sum(
        1 for k in before.keys() & after.keys() if not same_values(before[k], after[k], ignore)
    )
    return Changes(len(after.keys() - before.keys()), len(before.keys() - after.keys()), changed)
