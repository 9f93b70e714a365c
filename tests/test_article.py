"""Parameter rules and the table of assumptions, input checks, and the book style."""

from __future__ import annotations

import math

import matplotlib as mpl
import numpy as np
import pytest

from cloudpad import style
from cloudpad.article import Rule, assumptions
from cloudpad.exceptions import ParameterError
from cloudpad.models import checks

RULES = {
    "slo": Rule(unit="fraction", meaning="availability target", low=0.9, high=1.0),
    "replicas": Rule(unit="count", meaning="replicas per zone", low=1, integer=True),
    "provider": Rule(unit="-", meaning="cloud", choices=("aws", "azure", "gcp")),
}


def test_assumptions_table():
    table = assumptions({"slo": 0.999, "replicas": 3, "provider": "gcp"}, RULES)
    assert list(table.index) == ["slo", "replicas", "provider"]
    assert table.loc["slo", "unit"] == "fraction"
    assert table.loc["replicas", "value"] == 3


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"slo": 1.2}, r"parameter 'slo' = 1.2 is not allowed: it must be a number in \[0.9, 1\]"),
        ({"replicas": 2.5}, r"'replicas' = 2.5 .* a whole number in \[1, inf\]"),
        ({"replicas": True}, r"'replicas' = True"),
        ({"provider": "ibm"}, r"'provider' = 'ibm' .* one of 'aws', 'azure', 'gcp'"),
        ({"slo": math.nan}, r"'slo' = nan"),
        ({"slo": "high"}, r"'slo' = 'high'"),
    ],
)
def test_bad_values_are_named(values, message):
    good = {"slo": 0.999, "replicas": 3, "provider": "gcp"}
    with pytest.raises(ParameterError, match=message):
        assumptions({**good, **values}, RULES)


def test_missing_and_unknown_parameters():
    with pytest.raises(ParameterError, match="no value given for parameter"):
        assumptions({"slo": 0.999}, RULES)
    with pytest.raises(ParameterError, match="no rule for parameter.*extra"):
        assumptions({"slo": 0.999, "replicas": 3, "provider": "gcp", "extra": 1}, RULES)


def test_list_values_checked_item_by_item():
    rule = {"zones": Rule(unit="count", meaning="zones", low=1, high=6, integer=True)}
    assert assumptions({"zones": [1, 2, 3]}, rule).loc["zones", "value"] == "1, 2, 3"
    with pytest.raises(ParameterError, match="'zones'"):
        assumptions({"zones": [1, 9]}, rule)


def test_checks_scalars_and_arrays():
    assert checks.probability("a", 0.5) == 0.5
    np.testing.assert_array_equal(checks.probability("a", [0.1, 1.0]), [0.1, 1.0])
    with pytest.raises(ValueError, match=r"a must be within \[0, 1\], got 1.5"):
        checks.probability("a", 1.5)
    with pytest.raises(ValueError, match=r"a must be within \[0, 1\], got an array containing"):
        checks.probability("a", [0.5, -0.1])
    with pytest.raises(ValueError, match="rate must be a number, got NaN"):
        checks.positive("rate", float("nan"))
    with pytest.raises(ValueError, match="rate must be a finite number > 0, got 0.0"):
        checks.positive("rate", 0)
    with pytest.raises(ValueError, match="n must be a whole number >= 1, got 0"):
        checks.whole("n", 0, minimum=1)
    with pytest.raises(ValueError, match="n must be a whole number >= 0, got 1.5"):
        checks.whole("n", 1.5)
    with pytest.raises(ValueError, match="period must be one of 'day', 'week'; got 'year'"):
        checks.choice("period", "year", ["day", "week"])
    with pytest.raises(ValueError, match="x must be a number, got 'abc'"):
        checks.as_float("x", "abc")


def test_style_is_colour_blind_safe_and_deterministic():
    style.use("png")
    cycle = [c["color"].upper() for c in mpl.rcParams["axes.prop_cycle"]]
    assert cycle[:3] == ["#0072B2", "#E69F00", "#009E73"]  # Okabe & Ito (2008)
    assert tuple(c.upper() for c in style.PALETTE) == tuple(cycle)
    assert mpl.rcParams["svg.hashsalt"] == "cloudpad"
    with pytest.raises(ValueError, match="figure_format must be 'svg' or 'png'"):
        style.use("gif")
