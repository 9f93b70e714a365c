"""The article API (parameters, publish, figure, price, table), input checks, the book style."""

from __future__ import annotations

import math

import matplotlib as mpl
import numpy as np
import pandas as pd
import pytest

from cloudpad import article, style
from cloudpad.article import parameters as assumptions
from cloudpad.exceptions import ParameterError
from cloudpad.models import checks

CELL = """\
slo = 0.999  # fraction, 0.9..1: availability target
replicas = 3  # count, 1..inf: replicas per zone
provider = "gcp"  # -, aws|azure|gcp: cloud
zones = [1, 2, 3]  # -, list of 0..6, each 1..6: zone ids
"""
GOOD = {"slo": 0.999, "replicas": 3, "provider": "gcp", "zones": [1, 2, 3]}


def test_assumptions_table():
    table = assumptions(GOOD, CELL)
    assert list(table.index) == ["slo", "replicas", "provider", "zones"]
    assert table.loc["slo", "unit"] == "fraction"
    assert table.loc["slo", "meaning"] == "availability target"
    assert table.loc["replicas", "value"] == 3
    assert table.loc["zones", "value"] == "1, 2, 3"
    assert table.loc["provider", "unit"] == "–"  # no unit


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"slo": 1.2}, r"parameter 'slo' = 1.2 is not allowed: it must be a number from 0.9 to 1"),
        ({"replicas": 2.5}, r"'replicas' = 2.5 .* a whole number from 1 to inf"),
        ({"replicas": True}, r"'replicas' = True"),
        ({"provider": "ibm"}, r"'provider' = 'ibm' .* one of 'aws', 'azure', 'gcp'"),
        ({"slo": math.nan}, r"'slo' = nan"),
        ({"slo": "high"}, r"'slo' = 'high'"),
        ({"zones": [1, 9]}, r"'zones' = \[1, 9\] .* each a whole number from 1 to 6"),
    ],
)
def test_bad_values_are_named(values, message):
    with pytest.raises(ParameterError, match=message):
        assumptions({**GOOD, **values}, CELL)


def test_missing_parameters_are_named_and_other_names_ignored():
    with pytest.raises(ParameterError, match="no value given for parameter.*replicas, provider"):
        assumptions({"slo": 0.999}, CELL)
    table = assumptions({**GOOD, "np": np}, CELL)
    assert "np" not in table.index  # globals() of a notebook holds much more than parameters


def test_the_declaration_is_found_in_the_kernels_input_history():
    """Under Papermill or JupyterLab the cell is the latest declaring cell in IPython's ``In``."""
    injected = "# Parameters\nslo = 0.95\n"  # what Papermill adds after the parameters cell
    history = ["", "import numpy as np", CELL, injected, "from cloudpad import article"]
    table = assumptions({**GOOD, "slo": 0.95, "In": history})
    assert table.loc["slo", "value"] == 0.95
    with pytest.raises(ParameterError, match="'slo' = 0.5 is not allowed"):
        assumptions({**GOOD, "slo": 0.5, "In": history})
    with pytest.raises(ParameterError, match="no declared parameters found: run the cell"):
        assumptions({**GOOD, "In": ["x = 1", injected]})


def test_an_empty_list_is_shown_as_none():
    table = assumptions({**GOOD, "zones": []}, CELL)
    assert table.loc["zones", "value"] == "(none)"


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


@pytest.fixture
def glued(monkeypatch):
    """What the article API glues, by name (myst_nb.glue replaced by a recorder)."""
    import myst_nb

    seen = {}
    monkeypatch.setattr(
        myst_nb, "glue", lambda name, value, display=True: seen.update({name: value})
    )
    return seen


def test_publish_turns_numpy_scalars_into_plain_numbers(glued):
    article.publish({"replicas": np.int64(7)}, share=np.float32(0.25), name="c7i.large")
    assert glued == {"replicas": 7, "share": 0.25, "name": "c7i.large"}
    assert type(glued["replicas"]) is int and type(glued["share"]) is float
    with pytest.raises(ValueError, match="published value 'bad' is NaN"):
        article.publish(bad=np.nan)
    with pytest.raises(TypeError, match="can only publish numbers and strings, got list"):
        article.publish(values=[1, 2])


def test_figure_is_glued_then_closed(glued):
    import matplotlib.pyplot as plt

    with article.figure("fig-demo", ncols=2, figsize=(6, 3)) as (fig, axes):
        axes[0].plot([0, 1], [1, 0])
    assert glued["fig-demo"] is fig and len(axes) == 2
    assert not plt.fignum_exists(fig.number)
    with pytest.raises(RuntimeError), article.figure("fig-broken") as (fig, _):
        raise RuntimeError("plotting failed")
    assert "fig-broken" not in glued and not plt.fignum_exists(fig.number)


def test_price_of_a_listed_instance_and_what_exists_when_missing():
    # data/instance_prices.csv: c7i.large in us-east-1 lists 2 vCPU and 4 GiB (AWS list price).
    listed = article.price("aws", "us-east-1", "c7i.large")
    assert (listed.vcpu, listed.memory_gib) == (2, 4.0) and listed.per_hour_usd > 0
    with pytest.raises(ParameterError, match="provider 'ibm' is not one of aws, azure, gcp"):
        article.price("ibm", "us-east-1", "c7i.large")
    with pytest.raises(ParameterError, match="region 'mars-1' is not one of .*us-east-1"):
        article.price("aws", "mars-1", "c7i.large")
    with pytest.raises(ParameterError, match="instance_type 'x9.huge' is not one of .*c7i.large"):
        article.price("aws", "us-east-1", "x9.huge")


def test_assumptions_show_counts_without_decimals():
    shown = article.table(assumptions({**GOOD, "replicas": 3000}, CELL))
    html = shown._repr_html_()
    assert ">3,000<" in html and ">0.999<" in html and ">gcp<" in html and "3000.0" not in html
    numbers_only = "\n".join(CELL.splitlines()[:2])
    html = article.table(assumptions({"slo": 0.95, "replicas": 12}, numbers_only))._repr_html_()
    assert ">12<" in html and ">0.95<" in html  # not upcast to 12.0 or rounded to 1


def test_table_formats_for_readers():
    frame = pd.DataFrame(
        {"nodes": [946535.0, 12.0], "USD per month": [1234.5, 88.25], "share": [0.0123, 0.5]}
    )
    shown = article.table(frame, {"share": "{:.1%}"})
    html = shown._repr_html_()
    assert "0x" not in repr(shown) and "946,535" in repr(shown)  # plain text: no memory address
    assert "946,535<" in html and "946535.0" not in html  # a count: separators, no .0
    assert "1,234<" in html or "1,235<" in html  # large numbers: no decimals
    assert "1.2%" in html and "50.0%" in html
    assert html == article.table(frame, {"share": "{:.1%}"}).to_html()  # deterministic ids


def test_years_and_seeds_are_shown_as_labels_not_counts():
    cell = "year = 2018  # year, 2000..2100: report\nseed = 20261  # -, 0..100000: random seed\n"
    cell += "users = 20000  # users, 0..1e9: users"
    html = article.table(assumptions({"year": 2018, "seed": 20261, "users": 20000}, cell)).to_html()
    assert ">2018<" in html and ">20261<" in html and ">20,000<" in html
