"""Parameter declarations: the parameters cell is read into one declaration per parameter."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cloudpad import declarations
from cloudpad.declarations import Choices, Column, ListOf, Range, Text
from cloudpad.exceptions import NotebookError

CELL = """\
peak_rps = 1200.0  # requests/s, 1..1e6: traffic at the daily peak (assumption)
replicas = 3  # count, 1..99: replicas per zone
targets = [0.5, 0.7, 0.9]  # fraction, list of 1..6, each 0.05..0.99: utilisation targets compared
provider = "aws"  # -, aws|azure|gcp: cloud of the prices
instance_type = "c7i.large"  # -, in instance_prices.instance_type: one replica's VM
note = "x"  # -, text: a label
year = 2018  # year, 2016|2017|2018: DORA report
continents = []  # -, list of 0..6, each AF|AS|EU|NA|OC|SA: continents
# check: replicas <= peak_rps
"""


def test_a_cell_is_read_in_order_with_units_ranges_and_meanings():
    found = declarations.parse(CELL)
    assert list(found) == [
        "peak_rps",
        "replicas",
        "targets",
        "provider",
        "instance_type",
        "note",
        "year",
        "continents",
    ]
    peak = found["peak_rps"]
    assert (peak.default, peak.unit, peak.meaning) == (
        1200.0,
        "requests/s",
        "traffic at the daily peak (assumption)",
    )
    assert peak.allowed == Range(1.0, 1e6, integer=False)
    assert found["replicas"].allowed == Range(1, 99, integer=True)  # an int default: whole numbers
    assert found["targets"].allowed == ListOf(1, 6, Range(0.05, 0.99))
    assert found["provider"].allowed == Choices(("aws", "azure", "gcp"))
    assert found["provider"].unit == ""  # "-" means no unit
    assert found["instance_type"].allowed == Column("instance_prices", "instance_type")
    assert found["note"].allowed == Text()
    assert found["year"].allowed == Choices((2016, 2017, 2018))  # numbers stay numbers
    assert found["continents"].allowed.item == Choices(("AF", "AS", "EU", "NA", "OC", "SA"))
    assert [c.expression for c in found.constraints] == ["replicas <= peak_rps"]
    assert found["peak_rps"].label == "traffic at the daily peak (assumption) (requests/s)"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"peak_rps": 0.5},
            "'peak_rps' = 0.5 is not allowed: it must be a number from 1 to 1,000,000 (requests/s)",
        ),
        ({"peak_rps": math.nan}, "'peak_rps' = nan is not allowed"),
        ({"peak_rps": True}, "'peak_rps' = True is not allowed"),
        (
            {"replicas": 2.5},
            "'replicas' = 2.5 is not allowed: it must be a whole number from 1 to 99",
        ),
        ({"targets": [0.5] * 7}, "a list of 1 to 6 items, each a number from 0.05 to 0.99"),
        ({"targets": []}, "'targets' = [] is not allowed"),
        ({"targets": [0.5, 1.5]}, "'targets' = [0.5, 1.5] is not allowed"),
        ({"targets": 0.5}, "'targets' = 0.5 is not allowed: it must be a list"),
        (
            {"provider": "ibm"},
            "'provider' = 'ibm' is not allowed: it must be one of 'aws', 'azure', 'gcp'",
        ),
        ({"note": " "}, "'note' = ' ' is not allowed: it must be a non-empty string"),
        ({"year": 2019}, "'year' = 2019 is not allowed: it must be one of 2016, 2017, 2018 (year)"),
        ({"continents": ["EU", "XX"]}, "each one of 'AF', 'AS'"),
        (
            {"replicas": 50, "peak_rps": 10.0},
            "must satisfy replicas <= peak_rps; got peak_rps = 10.0, replicas = 50",
        ),
    ],
)
def test_values_the_declaration_does_not_allow_are_named(values, message):
    problems = declarations.parse(CELL).problems(values)
    assert problems and message in problems[0]


def test_good_values_and_the_defaults_pass():
    found = declarations.parse(CELL)
    assert found.problems(found.defaults()) == []
    assert found.problems({"targets": [0.05, 0.99], "continents": ["EU"], "year": 2016}) == []


def test_a_dataset_column_is_looked_up_only_when_a_lookup_is_given():
    found = declarations.parse(CELL)
    seen = []

    def lookup(dataset, columns):
        seen.append((dataset, columns))
        return {("c7i.large",), ("m7i.large",)}

    assert found.problems({"instance_type": "m7i.large"}, lookup) == []
    (problem,) = found.problems({"instance_type": "x1.huge"}, lookup)
    assert "a value of column 'instance_type' of dataset 'instance_prices'" in problem
    assert seen == [("instance_prices", ("instance_type",))] * 2


def test_a_number_can_be_looked_up_in_a_dataset_column():
    found = declarations.parse("year = 2018  # year, in dora.report_year: DORA report")
    rows = {(2016,), (2018,)}
    assert found.problems({"year": 2016}, lambda d, c: rows) == []
    assert "'year' = 2017 is not allowed" in found.problems({"year": 2017}, lambda d, c: rows)[0]


ROW_CELL = """\
provider = "aws"  # -, aws|gcp: cloud
region = "us-east-1"  # -, text: region
vm = "c7i.large"  # -, text: instance type
# row: instance_prices has provider, region, instance_type=vm
"""


def test_a_row_line_checks_the_values_together_against_one_row_of_a_dataset():
    found = declarations.parse(ROW_CELL)
    rows = {("aws", "us-east-1", "c7i.large"), ("gcp", "us-central1", "c2-standard-4")}
    asked = []

    def lookup(dataset, columns):
        asked.append((dataset, columns))
        return rows

    assert found.problems({}, lookup) == []
    (problem,) = found.problems({"provider": "gcp"}, lookup)  # each value alone is allowed
    assert problem == (
        "no row of dataset 'instance_prices' has these values of provider, region, "
        "instance_type: provider = 'gcp', region = 'us-east-1', vm = 'c7i.large'"
    )
    assert asked[0] == ("instance_prices", ("provider", "region", "instance_type"))
    assert found.problems({"provider": "gcp"}) == []  # without data, rows are not checked


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("# row: instance_prices provider", "must read '# row: DATASET has COLUMN"),
        ("# row: instance_prices has provider, zone", "names 'zone', which is not a parameter"),
    ],
)
def test_a_bad_row_line_is_refused(line, message):
    with pytest.raises(NotebookError, match=message):
        declarations.parse(ROW_CELL + line)


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("n = 2", "line 1: parameter 'n' has no declaration comment"),
        ("n = 2  # count", "has the comment 'count', which is not 'UNIT, ALLOWED: MEANING'"),
        ("n = 2  # count, 1..10", "which is not 'UNIT, ALLOWED: MEANING'"),
        ("n = 2  # count, 10..1: nodes", "the range 10..1 is empty"),
        ("n = 2  # count, 1..x: nodes", "allows '1..x', which cannot be read"),
        (
            "n = 2  # count, 3..10: nodes",
            "has the default 2, which its own declaration does not allow",
        ),
        ("z = [1, 2]  # -, 1..3: zones", "a list parameter needs 'list of N..M, each ITEM'"),
        ("z = [1, 2]  # -, list of 3, each 1..3: zones", "has the default [1, 2]"),
        (
            "n = 2  # count, 1..3: nodes\nn = 3  # count, 1..3: nodes",
            "line 2: parameter 'n' is assigned twice",
        ),
        ("n = 1 + x  # count, 1..3: nodes", "must be a Python literal"),
        ("import os", "line 1: only assignments of one name are allowed"),
        ("n = 2  # count, 1..3: nodes\n# check: n < m", "names 'm', which is not a parameter"),
        ("n = 2  # count, 1..3: nodes\n# check: n.real > 0", "uses Attribute"),
        ("n = 2  # count, 1..3: nodes\n# check: n <", "is not a Python expression"),
        ("n = (2", "line 1: not valid Python"),
    ],
)
def test_a_cell_that_is_not_a_declaration_is_refused_naming_the_line(cell, message):
    with pytest.raises(NotebookError, match="the cell, line") as caught:
        declarations.parse(cell, where="the cell")
    assert message in str(caught.value)


def test_blank_lines_and_whole_line_comments_are_allowed():
    found = declarations.parse("# Traffic\n\nn = 2  # count, 1..3: nodes  \n# the rest\n")
    assert list(found) == ["n"] and found["n"].line == 3


_numbers = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False).map(lambda x: round(x, 3))


@given(low=_numbers, width=st.floats(min_value=0, max_value=1e9), frac=st.floats(0, 1))
def test_a_written_declaration_reads_back_the_same(low, width, frac):
    """comment() writes what parse() reads: the cell and the declaration cannot drift apart."""
    high = round(low + width, 3)
    default = low + (high - low) * frac
    cell = f"x = {default!r}  # ms, {low!r}..{high!r}: a duration"
    first = declarations.parse(cell)["x"]
    again = declarations.parse(f"x = {default!r}  # {first.comment()}")["x"]
    assert again == first
    assert first.problem(default) is None
    assert first.problem(high + max(1.0, abs(high))) is not None


def test_a_trailing_tool_pragma_is_not_part_of_the_meaning():
    """`# fmt: skip` keeps ruff from wrapping a long list; it is not part of the declaration."""
    cell = "xs = [1, 2, 3]  # months, list of 1..9, each 1..36: cadences compared  # fmt: skip"
    assert declarations.parse(cell)["xs"].meaning == "cadences compared"
    cell = "n = 2  # count, 1..3: nodes  # noqa: E501"
    assert declarations.parse(cell)["n"].meaning == "nodes"
