"""Every article's parameters are checked from their declarations before any kernel starts.

For each article of the book: a value out of its declared range and a list of the wrong length
(or a list where one number is declared) are refused by ``cloudpad run -p`` with exit 2, naming the
notebook, the parameter, the value and what is allowed, and no executor (so no kernel) is started.
A sweep over a parameter that used to be bundled in a list is a numeric axis with its unit.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cloudpad.cli import main
from cloudpad.declarations import ListOf, Range
from cloudpad.pipeline import sweep
from cloudpad.pipeline.executors.base import JobResult
from cloudpad.pipeline.parameters import notebook_parameters
from cloudpad.site import sweep_figures

ROOT = Path(__file__).resolve().parents[1]
ARTICLES = sorted(
    p for p in (ROOT / "notebooks").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts
)
IDS = [p.stem for p in ARTICLES]


def _refused_before_any_kernel(monkeypatch, capsys, notebook: Path, name: str, value: str) -> str:
    def no_executor(*_args, **_kwargs):
        raise AssertionError("an executor (and its kernels) was started for refused input")

    monkeypatch.setattr("cloudpad.cli._make_executor", no_executor)
    code = main(["--root", str(ROOT), "run", str(notebook.relative_to(ROOT)), "-p", name, value])
    err = capsys.readouterr().err
    assert code == 2, err
    assert notebook.name in err and f"parameter {name!r}" in err
    assert "Traceback" not in err
    return err


@pytest.mark.parametrize("notebook", ARTICLES, ids=IDS)
def test_a_value_out_of_its_declared_range_is_refused(monkeypatch, capsys, notebook):
    numeric = [d for d in notebook_parameters(notebook).values() if isinstance(d.allowed, Range)]
    assert numeric, "an article has numeric inputs"
    d = max(numeric, key=lambda d: d.allowed.high < float("inf"))  # one with an upper bound
    bad = d.allowed.high + 1 if d.allowed.high < float("inf") else d.allowed.low - 1
    bad_text = repr(int(bad) if d.allowed.integer else float(bad))
    err = _refused_before_any_kernel(monkeypatch, capsys, notebook, d.name, bad_text)
    assert "is not allowed: it must be" in err


@pytest.mark.parametrize("notebook", ARTICLES, ids=IDS)
def test_a_list_of_the_wrong_length_is_refused(monkeypatch, capsys, notebook):
    params = notebook_parameters(notebook)
    lists = [d for d in params.values() if isinstance(d.allowed, ListOf)]
    if lists:  # one item too many
        d = lists[0]
        items = (list(d.default) or [d.default]) * (d.allowed.high_len + 1)
        value = repr(items[: d.allowed.high_len + 1])
        message = f"a list of {d.allowed.low_len}"
    else:  # no list parameter: a list where one number is declared
        d = next(d for d in params.values() if isinstance(d.allowed, Range))
        value, message = repr([d.default, d.default]), "must be of type"
    err = _refused_before_any_kernel(monkeypatch, capsys, notebook, d.name, value)
    assert message in err


class _Publishes:
    """A fake executor: each run publishes a number that depends on the swept value."""

    def __init__(self, name: str) -> None:
        self.name = name

    def run(self, jobs):
        for job in jobs:
            value = job.parameters[self.name]
            yield JobResult(job.id, job.notebook, True, 0.1, job.source, key_results={"r": value})

    def close(self) -> None:
        pass


@pytest.mark.parametrize(
    ("notebook", "name", "values", "unit"),
    [
        ("platform-cost/go-or-java.ipynb", "zgc_pause_ms", ["0.5", "1", "5"], "(ms)"),
        (
            "platform-cost/small-team.ipynb",
            "manual_diagnose_minutes",
            ["10", "30", "90"],
            "(minutes)",
        ),
        ("availability-latency/extra-nine.ipynb", "zone_mttr_hours", ["1", "4", "12"], "(hours)"),
    ],
)
def test_a_sweep_over_a_split_parameter_is_a_numeric_axis_with_its_unit(
    tmp_path, make_book, notebook, name, values, unit
):
    """These three were items of bundled lists (pause_ms, manual_restore_minutes, zone_failure)."""
    source = ROOT / "notebooks" / notebook
    book = make_book({})
    copy = book.root / "notebooks" / Path(notebook).name
    copy.parent.mkdir(parents=True, exist_ok=True)
    copy.write_bytes(source.read_bytes())
    grid = sweep.parse_grid(copy, [[name, *values]])
    assert all(isinstance(v, float) for v in grid.values[0])
    done = sweep.run_sweep(book, grid, executor=_Publishes(name))
    svg, _png = sweep_figures.draw(done, ["r"])
    text = svg.read_text()
    label = sweep_figures.axis_label(copy, name)
    assert label.startswith(f"{name}: ") and label.endswith(unit)
    assert f">{label}</text>" in text.replace("&apos;", "'")
    # A numeric axis has ticks between the swept values; a categorical one only the values.
    middle = re.findall(r'text-anchor: middle"[^>]*>([^<]*)</text>', text)
    ticks = [t for t in middle if re.fullmatch(r"[0-9.,]+", t)]
    assert len(ticks) > len(values), ticks
