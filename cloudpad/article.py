"""The article API: one idiom for what every article does.

An article's cells call these functions instead of repeating plumbing:

* :func:`parameters` checks the ``parameters`` cell against a :class:`Rule`
  per parameter and returns the table of assumptions the article shows;
* :func:`publish` glues values for the prose (``{glue:text}`name```), turning
  NumPy and pandas scalars into plain Python numbers; every published value is
  one of the article's *key results*, recorded by the pipeline in the run
  manifest and compared between editions;
* :func:`figure` makes a figure in the book's style, glues it under a name for
  ``{glue:figure}`` and closes it;
* :func:`price` looks up an instance's list price in ``instance_prices``;
* :func:`table` formats a DataFrame for readers (thousands separators,
  sensible decimals, no ``.0`` on counts).

A bad parameter raises :class:`~cloudpad.exceptions.ParameterError` naming the
parameter, its value and what is allowed.
"""

from __future__ import annotations

import contextlib
import math
import numbers
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cloudpad import style
from cloudpad.exceptions import ParameterError

__all__ = [
    "Price",
    "Rule",
    "figure",
    "parameters",
    "plain",
    "price",
    "publish",
    "table",
]


@dataclass(frozen=True)
class Rule:
    """What a parameter may be: its unit, meaning, and a numeric range, choices or text.

    ``low``/``high`` bound numbers (inclusive; ``None`` for unbounded),
    ``choices`` lists the allowed values of a categorical parameter,
    ``integer`` requires a whole number and ``text`` accepts any non-empty
    string (checked later against data, e.g. by :func:`price`).  A list value is
    checked item by item (an empty list passes: it means "none").
    """

    unit: str
    meaning: str
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] | None = None
    integer: bool = False
    text: bool = False

    def allowed(self) -> str:
        """Human description of the allowed values, used in error messages."""
        if self.text:
            return "a non-empty string"
        if self.choices is not None:
            return "one of " + ", ".join(map(repr, self.choices))
        kind = "a whole number" if self.integer else "a number"
        low = "-inf" if self.low is None else f"{self.low:g}"
        high = "inf" if self.high is None else f"{self.high:g}"
        return f"{kind} in [{low}, {high}]"

    def _ok(self, item: Any) -> bool:
        if self.text:
            return isinstance(item, str) and bool(item.strip())
        if self.choices is not None:
            return item in self.choices
        if isinstance(item, bool) or not isinstance(item, numbers.Real) or item != item:
            return False
        if self.integer and not float(item).is_integer():
            return False
        return not (
            (self.low is not None and item < self.low)
            or (self.high is not None and item > self.high)
        )

    def check(self, name: str, value: Any) -> None:
        """Raise :class:`ParameterError` unless ``value`` (or each item of a list) is allowed."""
        items = value if isinstance(value, (list, tuple)) else [value]
        if not all(self._ok(item) for item in items):  # an empty list is allowed
            raise ParameterError(
                f"parameter {name!r} = {value!r} is not allowed: it must be {self.allowed()}"
            )


def parameters(values: Mapping[str, Any], rules: Mapping[str, Rule]) -> pd.DataFrame:
    """Check an article's parameters and return them as its table of assumptions.

    ``values`` is usually ``globals()`` of the notebook: only the names in
    ``rules`` are read, and each must exist.  Every value is checked with
    :meth:`Rule.check`.  Also applies the book's figure style, so this is the
    one call an article makes before its model.  Returns a DataFrame indexed by
    parameter with columns ``value``, ``unit`` and ``meaning``.
    """
    style.use()
    missing = sorted(set(rules) - set(values))
    if missing:
        raise ParameterError(f"no value given for parameter(s) {', '.join(missing)}")
    rows = []
    for name, rule in rules.items():
        rule.check(name, values[name])
        shown = values[name]
        if isinstance(shown, (list, tuple)):
            shown = ", ".join(str(_show(item)) for item in shown) or "(none)"
        rows.append({"parameter": name, "value": shown, "unit": rule.unit, "meaning": rule.meaning})
    return pd.DataFrame(rows, dtype=object).set_index("parameter")  # values keep their types


def plain(value: Any) -> Any:
    """``value`` as a plain Python object: NumPy/pandas scalars become ``int``/``float``/``bool``.

    Integral floats stay floats (a count should be computed as an int).  Strings
    and Python numbers pass unchanged; anything else raises ``TypeError``.
    """
    if isinstance(value, (np.generic,)):
        value = value.item()
    if isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    raise TypeError(
        f"can only publish numbers and strings, got {type(value).__name__} {value!r}; "
        "publish figures with figure()"
    )


def publish(values: Mapping[str, Any] | None = None, /, **more: Any) -> None:
    """Glue each value for the prose under its name (``{glue:text}`name:.1f```).

    Accepts a mapping, keyword arguments, or both.  Values go through
    :func:`plain`; NaN is refused (a number the prose cannot show is a bug).
    """
    from myst_nb import glue

    items = {**(values or {}), **more}
    for name, value in items.items():
        shown = plain(value)
        if isinstance(shown, float) and math.isnan(shown):
            raise ValueError(f"published value {name!r} is NaN")
        glue(name, shown, display=False)


@contextlib.contextmanager
def figure(name: str, nrows: int = 1, ncols: int = 1, **subplots: Any) -> Iterator[tuple[Any, Any]]:
    """Make a figure, yield ``(fig, axes)``, then glue it as ``name`` and close it.

    Keyword arguments go to :func:`matplotlib.pyplot.subplots` (``figsize``,
    ``sharex``, ...).  Show it in the prose with ``{glue:figure} name``.  If the
    body raises, the figure is closed and nothing is glued.
    """
    import matplotlib.pyplot as plt
    from myst_nb import glue

    fig, axes = plt.subplots(nrows, ncols, **subplots)
    try:
        yield fig, axes
        glue(name, fig, display=False)
    finally:
        plt.close(fig)


@dataclass(frozen=True)
class Price:
    """One instance type's list price: ``vcpu``, ``memory_gib`` and ``per_hour_usd``."""

    provider: str
    region: str
    instance_type: str
    vcpu: int
    memory_gib: float
    per_hour_usd: float


def price(
    provider: str, region: str, instance_type: str, pricing_model: str = "on-demand"
) -> Price:
    """The list price of ``instance_type`` in ``provider``/``region`` from ``instance_prices``.

    Raises :class:`ParameterError` naming what was asked for and what exists
    (the providers, that provider's regions, or that region's instance types).
    """
    from cloudpad import data

    prices = data.load("instance_prices").query("pricing_model == @pricing_model")
    asked = f"{pricing_model} price for {instance_type} in {provider}/{region}"
    for column, value, scope in (
        ("provider", provider, prices),
        ("region", region, prices[prices.provider == provider]),
        ("instance_type", instance_type, prices.query("provider == @provider & region == @region")),
    ):
        if value not in set(scope[column]):
            known = ", ".join(sorted(set(scope[column]))) or "(none)"
            raise ParameterError(f"no {asked}: {column} {value!r} is not one of {known}")
    row = prices.query(
        "provider == @provider & region == @region & instance_type == @instance_type"
    )
    first = row.iloc[0]
    return Price(
        provider,
        region,
        instance_type,
        int(first["vcpu"]),
        float(first["memory_gib"]),
        float(first["price_per_hour_usd"]),
    )


def _show(value: Any) -> Any:
    """One cell of a mixed column: counts with separators, other numbers to six digits."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return value
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{float(value):,.6g}"


def _format_for(column: pd.Series) -> Any:
    if column.dtype == object:
        return _show  # e.g. the value column of the assumptions: numbers, text and lists
    if not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        return None
    finite = column[np.isfinite(column.astype(float))]
    if finite.empty or (finite == finite.round()).all():
        return "{:,.0f}"
    largest = float(finite.abs().max())
    return "{:,.0f}" if largest >= 100 else "{:,.2f}" if largest >= 1 else "{:,.3g}"


class Table:
    """A formatted table: HTML for the book, aligned text for a terminal; the same bytes every run.

    (A bare pandas ``Styler`` would show its memory address as its plain-text
    form, which changes from run to run.)
    """

    def __init__(self, styler: Any) -> None:
        self.styler = styler

    def _repr_html_(self) -> str:
        return self.styler.to_html()

    def __repr__(self) -> str:
        return self.styler.to_string(delimiter="  ")

    def to_html(self) -> str:
        """The table as HTML (what the book shows)."""
        return self.styler.to_html()


def table(frame: pd.DataFrame, formats: Mapping[str, Any] | None = None) -> Table:
    """``frame`` formatted for reading: a :class:`Table` with per-column formats.

    By default whole-number columns show as ``1,234``, columns of large numbers
    with no decimals, of numbers from 1 to 100 with two and of small numbers
    with three significant figures; in a column of mixed values (the
    assumptions' ``value``) counts show as ``1,234`` and other numbers with six
    significant figures.  ``formats`` overrides a column's format
    (``{"share": "{:.1%}"}``).  The Styler has a fixed id, so the HTML is the
    same on every run.
    """
    chosen = {c: _format_for(frame[c]) for c in frame.columns}
    chosen.update(formats or {})
    styler = frame.style.format({c: f for c, f in chosen.items() if f}, na_rep="—")
    return Table(styler.set_uuid("cloudpad"))
