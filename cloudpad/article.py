"""The article API: one idiom for what every article does.

An article's cells call these functions instead of repeating plumbing:

* :func:`parameters` checks the ``parameters`` cell against the declarations
  in its comments (:mod:`cloudpad.declarations`) and returns the table of
  assumptions the article shows;
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

from cloudpad import declarations, style
from cloudpad.exceptions import CloudpadError, ParameterError

__all__ = [
    "Price",
    "figure",
    "parameters",
    "plain",
    "price",
    "publish",
    "table",
]


#: Units whose numbers are labels, shown without thousands separators in the assumptions.
LABEL_UNITS = frozenset({"year", ""})  # "" is a parameter declared without a unit ("-")


def parameters(values: Mapping[str, Any], source: str | None = None) -> pd.DataFrame:
    """Check an article's parameters against their declarations; return the assumptions table.

    The declarations are the comments of the cell tagged ``parameters``
    (:mod:`cloudpad.declarations`); ``source`` is that cell's text.  Without it
    the cell is found in the kernel's input history (``In`` in ``values``, which
    is ``globals()`` of the notebook): the latest cell that is a whole
    declaration, so the check works the same under ``cloudpad run``, Papermill
    and JupyterLab.  Every declared value and every ``# check:`` line is
    checked (dataset values through :func:`cloudpad.data.rows_of`);
    a value that is not allowed raises :class:`ParameterError` naming the
    parameter, the value and what is allowed.  Also applies the book's figure
    style, so this is the one call an article makes before its model.

    Returns a DataFrame indexed by parameter with columns ``value``, ``unit``
    and ``meaning`` (show it with :func:`table`).
    """
    from cloudpad import data

    style.use()
    found = declarations.parse(source) if source is not None else _declared_in_history(values)
    missing = [name for name in found if name not in values]
    if missing:
        raise ParameterError(f"no value given for parameter(s) {', '.join(missing)}")
    given = {name: values[name] for name in found}
    found.check(given, lookup=data.lookup())
    rows = []
    for d in found.values():
        shown = given[d.name]
        if isinstance(shown, (list, tuple)):
            shown = ", ".join(str(_show(item)) for item in shown) or "(none)"
        elif d.unit in LABEL_UNITS and not isinstance(shown, bool):
            shown = str(shown)  # a year or a seed is a label: 2018, not 2,018
        rows.append(
            {"parameter": d.name, "value": shown, "unit": d.unit or "–", "meaning": d.meaning}
        )
    return pd.DataFrame(rows, dtype=object).set_index("parameter")  # values keep their types


def _declared_in_history(values: Mapping[str, Any]) -> declarations.Declarations:
    """The declarations of the latest executed cell that is a parameters cell (IPython's ``In``)."""
    history = values.get("In") or values.get("_ih") or []
    for source in reversed(list(history)):
        if "#" not in source:
            continue
        try:
            found = declarations.parse(source)
        except CloudpadError:
            continue
        if len(found):
            return found
    raise ParameterError(
        "no declared parameters found: run the cell tagged 'parameters' first (each line "
        f"`{declarations.FORM}`), or pass its text as article.parameters(globals(), source)"
    )


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
