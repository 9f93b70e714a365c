"""Helpers every article uses for its parameters: validate them, show them as assumptions.

An article's ``parameters`` cell holds plain Python literals.  The cell after it
calls :func:`assumptions` with the values and a :class:`Rule` per parameter; a
value outside its rule raises :class:`~cloudpad.exceptions.ParameterError`
naming the parameter, the value and what is allowed, and a valid set is returned
as a table (name, value, unit, meaning) that the article displays.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from cloudpad.exceptions import ParameterError


@dataclass(frozen=True)
class Rule:
    """What a parameter may be: its unit, meaning, and either a numeric range or choices.

    ``low``/``high`` bound numbers (inclusive; ``None`` for unbounded),
    ``choices`` lists the allowed values of a categorical parameter, and
    ``integer`` requires a whole number.
    """

    unit: str
    meaning: str
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] | None = None
    integer: bool = False

    def allowed(self) -> str:
        """Human description of the allowed values, used in error messages."""
        if self.choices is not None:
            return "one of " + ", ".join(map(repr, self.choices))
        kind = "a whole number" if self.integer else "a number"
        low = "-inf" if self.low is None else f"{self.low:g}"
        high = "inf" if self.high is None else f"{self.high:g}"
        return f"{kind} in [{low}, {high}]"

    def check(self, name: str, value: Any) -> None:
        """Raise :class:`ParameterError` unless ``value`` satisfies this rule."""
        problem = f"parameter {name!r} = {value!r} is not allowed: it must be {self.allowed()}"
        if self.choices is not None:
            values = value if isinstance(value, (list, tuple)) else [value]
            if any(v not in self.choices for v in values):
                raise ParameterError(problem)
            return
        items = value if isinstance(value, (list, tuple)) else [value]
        for item in items:
            if isinstance(item, bool) or not isinstance(item, (int, float)):
                raise ParameterError(problem)
            if item != item:  # NaN
                raise ParameterError(problem)
            if self.integer and not float(item).is_integer():
                raise ParameterError(problem)
            if (self.low is not None and item < self.low) or (
                self.high is not None and item > self.high
            ):
                raise ParameterError(problem)


def assumptions(values: Mapping[str, Any], rules: Mapping[str, Rule]) -> pd.DataFrame:
    """Validate an article's parameters and return them as a table of assumptions.

    Every name in ``values`` needs a rule and every rule a value; each value is
    checked with :meth:`Rule.check`.  Returns a DataFrame indexed by parameter
    name with columns ``value``, ``unit`` and ``meaning``.
    """
    missing = sorted(set(rules) - set(values))
    unknown = sorted(set(values) - set(rules))
    if missing:
        raise ParameterError(f"no value given for parameter(s) {', '.join(missing)}")
    if unknown:
        raise ParameterError(
            f"no rule for parameter(s) {', '.join(unknown)}; known: {', '.join(sorted(rules))}"
        )
    rows = []
    for name, rule in rules.items():
        rule.check(name, values[name])
        shown = values[name]
        if isinstance(shown, (list, tuple)):
            shown = ", ".join(map(str, shown))
        rows.append({"parameter": name, "value": shown, "unit": rule.unit, "meaning": rule.meaning})
    return pd.DataFrame(rows).set_index("parameter")
