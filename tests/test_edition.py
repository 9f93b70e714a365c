"""The edition baseline, `cloudpad diff` / `accept` and the "What changed" page.

Everything here works on hand-written manifests and executed notebooks in a
throw-away book (conftest.make_book): no kernel starts, so the module is fast.
The real book's committed baseline is checked in tests/test_book.py, where the
book is built.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import write_notebook

from cloudpad.cli import main
from cloudpad.pipeline import baseline, manifest
from cloudpad.pipeline.outcomes import Failure, Outcome, RunResult
from cloudpad.site.pages import changes

PARAMS = "n = 2  # count, 1..100: items\nregion = 'east'  # -, text: region name"
CODE = ["import cloudpad", "print(n)"]
ENV = {"python": "3.11.7", "kernel": "python3", "code": "c", "x": "y"}
DESCRIPTOR = {
    "name": "test-data",
    "version": "1.0.0",
    "resources": [{"name": "prices", "path": "prices.csv"}],
}
DEPS = {
    "data/prices.csv": "h-prices",
    "data/datapackage.json": "h-descriptor",
    "cloudpad/models/cost.py": "h-cost",
    "cloudpad/__init__.py": "h-init",
    "package:numpy": "2.3.4",
    "package:pandas": "2.3.3",
}
RESULTS_A = {"replicas": 7, "cost_usd": 1234.5, "region_name": "east", "meets_slo": True}
RESULTS_B = {"p99_ms": 180.0}


@pytest.fixture
def book(make_book):
    project = make_book(
        {"a": (PARAMS, CODE), "b": (PARAMS, CODE)},
        data={"prices.csv": "x\n1\n", "datapackage.json": json.dumps(DESCRIPTOR)},
    )
    for name in ("a", "b"):
        executed(project, name)
    return project


def executed(project, name: str, params: str = PARAMS, code: list[str] = CODE) -> Path:
    """Write the executed copy of notebooks/<name>.ipynb (what the diff reads code from)."""
    return write_notebook(
        project.root / "_build" / "executed" / "notebooks" / f"{name}.ipynb", params, code
    )


def outcome(name: str, results: dict, *, deps=None, env=None, status="executed", params=None):
    nb = f"notebooks/{name}.ipynb"
    failure = Failure(3, 2, "ValueError", "bad") if status == "failed" else None
    return Outcome(
        notebook=nb,
        status=status,
        duration_s=1.0,
        executed_at="2026-11-26T12:00:00+00:00",
        reason="not run before",
        output=f"_build/executed/{nb}",
        failure=failure,
        parameters=params or {},
        dependencies=dict(DEPS if deps is None else deps),
        key_results=dict(results),
        inputs=dict(ENV if env is None else env),
    )


def record(project, *outcomes: Outcome) -> None:
    """Write the edition manifest of a run with these outcomes."""
    order = ["notebooks/a.ipynb", "notebooks/b.ipynb"]
    manifest.write(project.manifest_path, RunResult(list(outcomes), 2.0), project.data_dir, order)


def accepted(project, a=RESULTS_A, b=RESULTS_B) -> dict:
    record(project, outcome("a", a), outcome("b", b))
    baseline.accept(project)
    return json.loads(baseline.baseline_path(project).read_text())


def run_cli(project, command: str, capsys) -> tuple[int, str]:
    """Exit code and everything printed (the diff report goes to stdout, the rest to stderr)."""
    capsys.readouterr()
    code = main(["--root", str(project.root), command])
    out = capsys.readouterr()
    return code, out.out + out.err


# --- values ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "tolerance", "expected"),
    [
        (100, 100.09, 0.001, False),  # 0.09 % < 0.1 %
        (100, 100.11, 0.001, True),
        (100, 99.89, 0.001, True),
        (-50.0, -50.04, 0.001, False),
        (0, 0.0, 0.001, False),
        (0, 1e-12, 0.001, True),  # from zero any change counts
        (7, 7.0, 0.001, False),  # int and float of the same number
        (float("inf"), float("inf"), 0.001, False),
        (float("inf"), 1e300, 0.001, True),
        ("east", "east", 0.001, False),
        ("east", "west", 0.5, True),
        (True, 1, 0.001, True),  # a flag is not the number 1
        (True, False, 0.001, True),
        (3, "3", 0.001, True),
    ],
)
def test_moved_uses_relative_tolerance_and_exact_text(old, new, tolerance, expected):
    assert baseline.moved(old, new, tolerance) is expected


# --- accept --------------------------------------------------------------------------


def test_accept_writes_results_tolerances_and_inputs(book):
    data = accepted(book)
    assert data["format"] == baseline.FORMAT
    assert data["data_package"] == {"name": "test-data", "version": "1.0.0"}
    assert data["default_tolerance"] == 0.001
    assert data["accepted_at"][:4].isdigit()
    a = data["notebooks"]["notebooks/a.ipynb"]
    assert a["results"]["replicas"] == {"value": 7, "tolerance": 0.001}
    assert a["results"]["region_name"]["value"] == "east"
    assert a["parameters"] == {"n": 2, "region": "east"}  # defaults from the executed copy
    assert a["dependencies"] == dict(sorted(DEPS.items()))
    assert a["environment"] == {"python": "3.11.7", "kernel": "python3"}
    assert len(a["code"]) == 64


def test_accept_refuses_without_a_run(book, capsys):
    code, err = run_cli(book, "accept", capsys)
    assert code == 2
    assert "run `cloudpad run` first" in err
    assert not baseline.baseline_path(book).exists()


def test_accept_refuses_a_failed_or_partial_run(book, capsys):
    record(book, outcome("a", RESULTS_A), outcome("b", {}, status="failed"))
    code, err = run_cli(book, "accept", capsys)
    assert code == 2
    assert "notebooks/b.ipynb failed" in err
    book.manifest_path.unlink()
    record(book, outcome("a", RESULTS_A))
    code, err = run_cli(book, "accept", capsys)
    assert code == 2
    assert "notebooks/b.ipynb not run yet" in err
    assert not baseline.baseline_path(book).exists()


def test_accept_says_what_it_wrote_and_keeps_tolerances(book, capsys):
    record(book, outcome("a", RESULTS_A), outcome("b", RESULTS_B))
    code, err = run_cli(book, "accept", capsys)
    assert code == 0
    assert "results/baseline.json" in err and "5 key results of 2 articles" in err
    path = baseline.baseline_path(book)
    data = json.loads(path.read_text())
    data["notebooks"]["notebooks/b.ipynb"]["results"]["p99_ms"]["tolerance"] = 0.05
    path.write_text(json.dumps(data))
    record(book, outcome("a", RESULTS_A), outcome("b", {"p99_ms": 185.0}))  # +2.8 % < 5 %
    assert run_cli(book, "diff", capsys)[0] == 0
    code, err = run_cli(book, "accept", capsys)
    assert code == 0 and "0 results changed since the previous baseline" in err
    again = json.loads(path.read_text())["notebooks"]["notebooks/b.ipynb"]["results"]
    assert again["p99_ms"] == {"value": 185.0, "tolerance": 0.05}


def test_dependencies_are_named_alike_wherever_the_package_and_data_are(
    book, tmp_path_factory, monkeypatch
):
    """A book built in another folder, with cloudpad installed elsewhere and its data moved."""
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    package, data = elsewhere / "site-packages" / "cloudpad", elsewhere / "my-data"
    monkeypatch.setenv("CLOUDPAD_DATA_DIR", str(data))
    recorded = {
        str(package / "__init__.py"): "a",
        str(package / "pipeline" / "tracking.py"): "b",
        str(package / "models" / "cost.py"): "c",
        str(data / "prices.csv"): "d",
    }
    assert baseline.normalise_dependencies(book, recorded) == {
        "cloudpad/__init__.py": "a",
        "cloudpad/models/cost.py": "c",
        "cloudpad/pipeline/tracking.py": "b",
        "data/prices.csv": "d",
    }


# --- diff ----------------------------------------------------------------------------


def test_diff_without_run_or_baseline_is_bad_input(book, capsys):
    code, err = run_cli(book, "diff", capsys)
    assert code == 2 and "run `cloudpad run` first" in err
    record(book, outcome("a", RESULTS_A), outcome("b", RESULTS_B))
    code, err = run_cli(book, "diff", capsys)
    assert code == 2 and "no baseline" in err and "cloudpad accept" in err


def test_diff_of_the_accepted_run_is_clean(book, capsys):
    accepted(book)
    code, err = run_cli(book, "diff", capsys)
    assert code == 0
    assert "No change" in err


def test_diff_names_moved_results_old_and_new_and_the_changed_dataset(book, capsys):
    accepted(book)
    deps = {**DEPS, "data/prices.csv": "h-prices-2"}
    moved = {**RESULTS_A, "replicas": 8, "cost_usd": 1235.0}  # 1235 is +0.04 %: held
    record(book, outcome("a", moved, deps=deps), outcome("b", RESULTS_B))
    result = baseline.diff(book)
    (article,) = result.changed
    assert article.notebook == "notebooks/a.ipynb"
    assert [(c.name, c.old, c.new) for c in article.results] == [("replicas", 7, 8)]
    assert [i.describe() for i in article.inputs] == ["dataset prices (data/prices.csv) changed"]
    assert article.unchanged == 3
    code, err = run_cli(book, "diff", capsys)
    assert code == 1
    assert "replicas" in err and "+14.29 %" in err
    assert "dataset prices (data/prices.csv) changed" in err
    assert "1 result moved in 1 article" in err


def test_diff_reports_added_and_removed_results_and_articles(book):
    accepted(book)
    a = {k: v for k, v in RESULTS_A.items() if k != "meets_slo"} | {"headroom": 0.3}
    record(book, outcome("a", a))
    book.manifest_path.unlink()
    record(book, outcome("a", a))  # b not in this run
    result = baseline.diff(book)
    kinds = {(c.name, c.kind) for c in result.articles[0].results}
    assert kinds == {("meets_slo", "removed"), ("headroom", "added")}
    assert result.articles[1].state == "missing"
    assert result.drifted


def test_diff_tells_which_inputs_changed(book):
    accepted(book)
    # a: a new default in the parameters cell, a changed module, a file newly read
    executed(
        book, "a", params="n = 3  # count, 1..100: items\nregion = 'east'  # -, text: region name"
    )
    deps = {**DEPS, "cloudpad/models/cost.py": "h-cost-2", "data/extra.csv": "h-extra"}
    # b: its code changed, Python and numpy changed, scipy newly imported, pandas no longer,
    # the descriptor dropped
    executed(book, "b", code=[*CODE, "print('more')"])
    env = {**ENV, "python": "3.12.1"}
    deps_b = {k: v for k, v in DEPS.items() if k not in ("data/datapackage.json", "package:pandas")}
    deps_b |= {"package:numpy": "2.4.0", "package:scipy": "1.16.3"}
    record(
        book,
        outcome("a", {**RESULTS_A, "replicas": 9}, deps=deps),
        outcome("b", {"p99_ms": 1.0}, deps=deps_b, env=env),
    )
    a, b = baseline.diff(book).changed
    assert [i.describe() for i in a.inputs] == [
        "parameter n: 2 → 3",
        "module cloudpad.models.cost changed",
        "file data/extra.csv newly read",
    ]  # a changed default is a parameter, not "code changed"
    assert [i.describe() for i in b.inputs] == [
        "the article's code changed",
        "python: 3.11.7 → 3.12.1",
        "data package descriptor (data/datapackage.json) no longer read",
        "numpy 2.3.4 → 2.4.0",
        "pandas no longer imported",
        "scipy 1.16.3 newly imported",
    ]


def test_parameter_overrides_are_not_the_edition(book):
    """Runs with -p have their own manifests; the edition diff ignores override outcomes."""
    accepted(book)
    other = outcome("a", {**RESULTS_A, "replicas": 99}, params={"n": 5})
    edition = outcome("a", RESULTS_A)
    current = baseline.current_run(book, [edition, other])
    assert current["notebooks/a.ipynb"][0] is edition


# --- unexplained drift ----------------------------------------------------------------


def test_unexplained_drift_names_the_result_and_both_values(book):
    accepted(book)
    record(book, outcome("a", {**RESULTS_A, "cost_usd": 1300.0}), outcome("b", RESULTS_B))
    drift = baseline.project_drift(book)
    assert [(nb, c.name, c.old, c.new) for nb, c in drift] == [
        ("notebooks/a.ipynb", "cost_usd", 1234.5, 1300.0)
    ]
    text = baseline.describe_drift(drift)
    assert "cost_usd" in text and "1234.5" in text and "1300.0" in text


@pytest.mark.parametrize(
    "change",
    ["data", "module", "parameter", "code", "library"],
)
def test_a_move_with_a_changed_input_is_explained(book, change):
    accepted(book)
    deps, env = dict(DEPS), dict(ENV)
    if change == "data":
        deps["data/prices.csv"] = "new"
    elif change == "module":
        deps["cloudpad/models/cost.py"] = "new"
    elif change == "parameter":
        executed(
            book,
            "a",
            params="n = 2  # count, 1..100: items\nregion = 'west'  # -, text: region name",
        )
    elif change == "code":
        executed(book, "a", code=["import cloudpad", "print(n + 1)"])
    else:
        deps["package:numpy"] = "2.4.0"
    record(book, outcome("a", {**RESULTS_A, "cost_usd": 1300.0}, deps=deps, env=env))
    record(book, outcome("b", RESULTS_B))
    assert baseline.project_drift(book) == []
    assert baseline.diff(book).drifted  # still reported by `cloudpad diff`


def test_unexplained_drift_on_synthetic_data_without_a_project():
    """The check itself on plain data: the same inputs, a moved number."""
    inputs = baseline.Inputs({"n": 2}, "code", {"python": "3.11"}, {"data/x.csv": "h"})
    accepted_entry = {
        "parameters": {"n": 2},
        "code": "code",
        "environment": {"python": "3.11"},
        "dependencies": {"data/x.csv": "h"},
        "results": {"latency_ms": {"value": 10.0, "tolerance": 0.001}},
    }
    data = {"format": baseline.FORMAT, "notebooks": {"nb.ipynb": accepted_entry}}
    now = outcome("x", {"latency_ms": 10.5})
    assert baseline.unexplained_drift(data, {"nb.ipynb": (now, inputs)}) == [
        ("nb.ipynb", baseline.ResultChange("latency_ms", "changed", 10.0, 10.5, 0.001))
    ]
    held = outcome("x", {"latency_ms": 10.005})
    assert baseline.unexplained_drift(data, {"nb.ipynb": (held, inputs)}) == []


# --- the page --------------------------------------------------------------------------


def test_page_without_a_baseline_says_so(book):
    text = changes.markdown(book, [outcome("a", RESULTS_A)])
    assert text.startswith("# What changed in this edition")
    assert "No baseline has been accepted" in text


def test_page_of_an_unchanged_edition_says_so(book):
    accepted(book)
    text = changes.markdown(book, [outcome("a", RESULTS_A), outcome("b", RESULTS_B)])
    assert "**No change.** All 5 key results of the 2 articles" in text
    assert "|" not in text


def test_page_lists_changed_results_with_links_and_inputs(book):
    accepted(book)
    deps = {**DEPS, "cloudpad/models/cost.py": "h-cost-2"}
    now = [outcome("a", {**RESULTS_A, "cost_usd": 2469.0}, deps=deps), outcome("b", RESULTS_B)]
    text = changes.markdown(book, now)
    assert "### [A test article](../notebooks/a.ipynb)" in text
    assert "| `cost_usd` | 1,234.5 | 2,469 | +100.00 % |" in text
    # code and software: one collapsed line, after the results
    assert (
        '<details class="code-changes"><summary>Code and software: 1 change</summary>'
        "<p>module cloudpad.models.cost changed.</p></details>"
    ) in text
    assert text.index("| `cost_usd` |") < text.index("<details")
    assert "notebooks/b.ipynb" not in text  # unchanged articles are not listed


def test_page_leads_with_moved_results_and_changed_data(book):
    """Results first, then the data behind them in the open; modules and libraries folded."""
    accepted(book)
    deps = {
        **DEPS,
        "data/prices.csv": "h-prices-2",
        "cloudpad/models/cost.py": "h-cost-2",
        "package:numpy": "2.4.0",
    }
    now = [
        outcome("a", {**RESULTS_A, "cost_usd": 2469.0}, deps=deps),
        outcome("b", RESULTS_B, deps={**DEPS, "package:pandas": "3.0.0"}),
    ]
    text = changes.markdown(book, now)
    moved, data = text.index("## Results that moved"), text.index("## Data that changed")
    quiet = text.index("## Inputs that changed without moving a result")
    assert moved < data < quiet
    assert "- dataset prices (data/prices.csv) changed" in text[moved:data]  # in the open
    assert (
        "<summary>Code and software: 2 changes</summary>"
        "<p>module cloudpad.models.cost changed; numpy 2.3.4 → 2.4.0.</p>"
    ) in text[moved:data]
    assert "- dataset prices (data/prices.csv) changed: read by [A test article]" in text
    # b: only a library moved and no result did: one line, its detail folded
    b_line = text[quiet:]
    assert "- [A test article](../notebooks/b.ipynb)\n" in b_line
    assert "<summary>Code and software: 1 change</summary><p>pandas 2.3.3 → 3.0.0.</p>" in b_line
    assert "module cloudpad" not in b_line.split("<details")[0]
