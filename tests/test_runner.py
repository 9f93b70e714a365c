"""The runner and its cache, on small throw-away books (see conftest.make_book).

Each test executes real kernels through Papermill; notebooks are tiny so the
module runs in well under a minute on two cores.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import nbformat
import pytest

from cloudpad.cli import main
from cloudpad.exceptions import NotebookError, ParameterError
from cloudpad.pipeline import cache, distributions, manifest, runner
from cloudpad.pipeline.executors.base import file_sha256
from cloudpad.pipeline.outcomes import RunResult, failure_report

READ_A = "import cloudpad\nprint(open('../data/a.csv').read())"
READ_B = "import cloudpad\nprint(open('../data/b.csv').read())"
USES_CHECKS = "import cloudpad.models.checks\ncloudpad.models.checks.positive('x', 1.0)"
PARAMS = (
    "n = 2  # count, 1..100: items\nrate = 1.5  # per second, 0..100: rate\n"
    "name = 'east'  # -, text: region\nflag = True  # -, True|False: on or off"
)


def statuses(result: RunResult) -> dict[str, str]:
    return {Path(o.notebook).stem: o.status for o in result.outcomes}


@pytest.fixture
def book(make_book):
    """Three notebooks: a reads data/a.csv, b reads data/b.csv, c imports cloudpad.models.checks."""
    return make_book(
        {
            "a": (PARAMS, [READ_A]),
            "b": (PARAMS, [READ_B]),
            "c": (PARAMS, [USES_CHECKS, "print(n * rate)"]),
        },
        data={"a.csv": "x\n1\n", "b.csv": "x\n2\n"},
    )


def test_first_run_executes_all_then_nothing(book):
    first = runner.run(book, jobs=2)
    assert statuses(first) == {"a": "executed", "b": "executed", "c": "executed"}
    for o in first.outcomes:
        assert (book.root / o.output).is_file()
    again = runner.run(book, jobs=2)
    assert statuses(again) == {"a": "cached", "b": "cached", "c": "cached"}
    assert again.executed == []


def test_edited_code_cell_reexecutes_exactly_that_notebook(book):
    runner.run(book, jobs=2)
    path = book.root / "notebooks" / "b.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[-1].source += "\nprint('edited')"
    nbformat.write(nb, path)
    result = runner.run(book, jobs=2)
    assert statuses(result) == {"a": "cached", "b": "executed", "c": "cached"}
    assert result.outcomes[1].reason == "code changed"


def test_prose_edit_is_copied_without_executing(book):
    runner.run(book, jobs=2)
    path = book.root / "notebooks" / "a.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[0].source += "\n\nA new paragraph."
    nbformat.write(nb, path)
    result = runner.run(book, jobs=2)
    assert statuses(result)["a"] == "cached"
    executed = nbformat.read(book.executed_dir / "notebooks" / "a.ipynb", as_version=4)
    assert "A new paragraph." in executed.cells[0].source
    assert any(c.get("outputs") for c in executed.cells if c.cell_type == "code")


def test_changed_data_file_reexecutes_exactly_its_readers(book):
    runner.run(book, jobs=2)
    (book.data_dir / "a.csv").write_text("x\n42\n")
    result = runner.run(book, jobs=2)
    assert statuses(result) == {"a": "executed", "b": "cached", "c": "cached"}
    assert result.outcomes[0].reason == "data/a.csv changed"


def test_changed_cloudpad_module_reexecutes_its_importers(book, tmp_path_factory, monkeypatch):
    """Kernels import a copy of cloudpad from PYTHONPATH, which the test may edit."""
    import shutil

    import cloudpad

    package = tmp_path_factory.mktemp("pkgcopy") / "cloudpad"
    shutil.copytree(Path(cloudpad.__file__).parent, package)
    monkeypatch.setenv("PYTHONPATH", str(package.parent))
    runner.run(book, jobs=2)
    record = cache.load_record(book, book.root / "notebooks" / "c.ipynb")
    assert str(package / "models" / "checks.py") in record.dependencies
    with open(package / "models" / "checks.py", "a") as handle:
        handle.write("\n# an edit\n")
    result = runner.run(book, jobs=2)
    assert statuses(result) == {"a": "cached", "b": "cached", "c": "executed"}
    with open(package / "__init__.py", "a") as handle:
        handle.write("\n# an edit every importer sees\n")
    result = runner.run(book, jobs=2)
    assert statuses(result) == {"a": "executed", "b": "executed", "c": "executed"}


#: Distributions only the tests, lint and browser checks use (the dev extra), and the
#: optional Dask extra: no article's kernel imports them.
NOT_IMPORTED_BY_KERNELS = ("pytest", "ruff", "hypothesis", "playwright", "zizmor", "dask", "uv")


def test_a_new_library_version_reexecutes_exactly_the_notebooks_that_imported_it(
    make_book, monkeypatch
):
    """The cache keys on the libraries a kernel imported, not on the lock files.

    The installed versions are what the runner reads (``distributions.installed``);
    here the runner is told of a new ruff (a dev-only pin) and then of a new numpy,
    as `make test` or `make book` would have installed them after a lock change.
    """
    book = make_book(
        {
            "arrays": (PARAMS, ["import cloudpad\nimport numpy as np\nprint(np.arange(n))"]),
            "plain": (PARAMS, ["import cloudpad\nimport json\nprint(json.dumps(n))"]),
        }
    )
    first = runner.run(book, jobs=2)
    deps = {Path(o.notebook).stem: o.dependencies for o in first.outcomes}
    real = distributions.installed()
    assert deps["arrays"]["package:numpy"] == real["numpy"]
    assert "package:numpy" not in deps["plain"]
    for deps_of_one in deps.values():
        assert deps_of_one["package:ipykernel"] == real["ipykernel"]  # the kernel itself
        assert not {f"package:{name}" for name in NOT_IMPORTED_BY_KERNELS} & set(deps_of_one)
        assert "package:cloudpad" not in deps_of_one  # its modules are tracked by file

    for lock in ("requirements.txt", "requirements-dev.txt"):  # the locks are not the key
        (book.root / lock).write_text("ruff==99.0 --hash=sha256:00\n")
    newer_ruff = {**real, "ruff": "99.0"}
    monkeypatch.setattr(distributions, "installed", lambda paths=None: newer_ruff)
    assert statuses(runner.run(book, jobs=2)) == {"arrays": "cached", "plain": "cached"}

    newer_numpy = {**real, "numpy": "99.0"}
    monkeypatch.setattr(distributions, "installed", lambda paths=None: newer_numpy)
    result = runner.run(book, jobs=2)
    assert statuses(result) == {"arrays": "executed", "plain": "cached"}
    assert result.outcomes[0].reason == f"package numpy changed ({real['numpy']} → 99.0)"


def test_force_reexecutes_everything(book):
    runner.run(book, jobs=2)
    result = runner.run(book, jobs=2, force=True)
    assert {o.status for o in result.outcomes} == {"executed"}
    assert {o.reason for o in result.outcomes} == {"forced"}


def test_failing_notebook_reports_cell_and_others_still_run(make_book):
    book = make_book(
        {
            "good": (PARAMS, ["print(n)"]),
            "bad": (PARAMS, ["x = 1", "raise RuntimeError('the disk is full')", "print(2)"]),
            "also_good": (PARAMS, ["print(rate)"]),
        }
    )
    result = runner.run(book, jobs=2)
    assert statuses(result) == {"good": "executed", "bad": "failed", "also_good": "executed"}
    (failed,) = result.failed
    assert failed.failure.cell == 4  # title, parameters, x = 1, then the raise
    assert failed.failure.exception == "RuntimeError"
    assert "the disk is full" in failed.failure.message
    report = failure_report(result)
    assert "notebooks/bad.ipynb" in report and "cell 4" in report
    assert "RuntimeError" in report
    assert (book.executed_dir / "notebooks" / "bad.ipynb").is_file()  # kept for inspection
    assert cache.load_record(book, book.root / "notebooks" / "bad.ipynb") is None
    # A failure is never cached as good: the next run executes it again.
    again = runner.run(book, jobs=2)
    assert statuses(again)["bad"] == "failed"
    assert again.outcomes[1].reason == "not run before"


def test_cli_exits_non_zero_and_names_notebook_and_cell(make_book, capsys):
    book = make_book({"bad": (PARAMS, ["1 / 0"]), "good": (PARAMS, ["print(n)"])})
    code = main(["--root", str(book.root), "run", "--jobs", "2"])
    err = capsys.readouterr().err
    assert code == 1
    assert "FAILED notebooks/bad.ipynb, cell 3" in err
    assert "ZeroDivisionError" in err
    assert "1 executed" in err and "1 failed" in err


def test_hung_cell_ends_at_its_timeout(make_book):
    book = make_book(
        {
            "hangs": (PARAMS, ["import time\ntime.sleep(600)"]),
            "quick": (PARAMS, ["print(n)"]),
        },
        metadata={"hangs": {"mystnb": {"execution_timeout": 3}}},
    )
    result = runner.run(book, jobs=2)
    hung = result.outcomes[0]
    assert hung.status == "failed"
    assert hung.failure.exception == "CellTimeoutError"
    assert hung.failure.cell == 3
    assert hung.duration_s < 60  # ended by the 3 s timeout, not by the 600 s sleep
    assert result.outcomes[1].status == "executed"


def test_dead_kernel_is_a_failure(make_book):
    book = make_book({"dies": (PARAMS, ["import os\nos._exit(1)"])})
    result = runner.run(book, jobs=1)
    (outcome,) = result.outcomes
    assert outcome.status == "failed"
    assert outcome.failure.exception == "DeadKernelError"


def test_parameter_override_is_injected_keyed_and_kept_apart(book):
    path = book.root / "notebooks" / "c.ipynb"
    edition = runner.run(book, [path], jobs=1).outcomes[0]
    result = runner.run(book, [path], [("rate", "4")], jobs=1)
    outcome = result.outcomes[0]
    assert outcome.status == "executed" and outcome.parameters == {"rate": 4.0}
    assert outcome.output.startswith("_build/runs/") and outcome.output != edition.output
    executed = nbformat.read(book.root / outcome.output, as_version=4)
    outputs = "".join(o.get("text", "") for c in executed.cells for o in c.get("outputs", []))
    assert "8.0" in outputs  # n * rate = 2 * 4.0
    kept = nbformat.read(book.root / edition.output, as_version=4)
    kept_outputs = "".join(o.get("text", "") for c in kept.cells for o in c.get("outputs", []))
    assert "3.0" in kept_outputs and "8.0" not in kept_outputs  # the edition's copy: 2 * 1.5
    same = runner.run(book, [path], [("rate", "4")], jobs=1)
    assert same.outcomes[0].status == "cached"
    default = runner.run(book, [path], jobs=1)
    assert default.outcomes[0].status == "cached"  # the override run did not evict it
    run_manifest = manifest.load(book.root / Path(outcome.output).parents[2] / "manifest.json")
    assert run_manifest["notebooks"][0]["parameters"] == {"rate": 4.0}


@pytest.mark.parametrize(
    ("pair", "message"),
    [
        (
            ("nodes", "3"),
            "unknown parameter 'nodes'; this notebook's parameters are: n, rate, name, flag",
        ),
        (("n", "'three'"), "parameter 'n' must be of type int"),
        (("n", "2.5"), "parameter 'n' must be of type int"),
        (("rate", "fast"), "parameter 'rate': 'fast' is not a Python literal"),
        (("flag", "1"), "parameter 'flag' must be of type bool"),
    ],
)
def test_bad_parameter_refused_before_any_kernel(book, pair, message):
    with pytest.raises(ParameterError, match=message) as info:
        runner.run(book, [book.root / "notebooks" / "a.ipynb"], [pair])
    assert "notebooks/a.ipynb" in str(info.value)
    assert not book.executed_dir.exists()  # nothing ran


def test_cli_bad_parameter_exit_code_two(book, capsys):
    code = main(["--root", str(book.root), "run", "notebooks/a.ipynb", "-p", "nodes", "3"])
    assert code == 2
    assert "unknown parameter 'nodes'" in capsys.readouterr().err


def test_string_parameter_needs_no_quotes(book):
    from cloudpad.pipeline.parameters import parse_overrides

    path = book.root / "notebooks" / "a.ipynb"
    assert parse_overrides(path, [("name", "west")]) == {"name": "west"}
    assert parse_overrides(path, [("rate", "3")]) == {"rate": 3.0}


def test_notebook_without_parameters_cell_is_refused(book):
    path = book.root / "notebooks" / "a.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[1].metadata["tags"] = []
    nbformat.write(nb, path)
    with pytest.raises(NotebookError, match="exactly one cell tagged 'parameters', found 0"):
        runner.run(book)


def test_missing_toc_entry_is_named(book):
    (book.root / "notebooks" / "b.ipynb").unlink()
    from cloudpad.exceptions import ConfigError

    with pytest.raises(ConfigError, match="no file for toc entry 'notebooks/b'"):
        runner.run(book)


def test_manifest_records_the_edition(make_book):
    code = "from cloudpad import article\narticle.publish(total=n * rate, region=name)"
    book = make_book({"a": (PARAMS, [READ_A]), "k": (PARAMS, [code])}, data={"a.csv": "x\n1\n"})
    runner.run(book, jobs=2)
    data = manifest.load(book.manifest_path)
    assert data["format"] == "cloudpad-manifest/1"
    entries = {Path(e["notebook"]).stem: e for e in data["notebooks"]}
    assert list(entries) == ["a", "k"]  # toc order
    assert entries["k"]["key_results"] == {"total": 3.0, "region": "east"}  # 2 * 1.5, 'east'
    assert entries["a"]["dependencies"]["data/a.csv"] == file_sha256(book.data_dir / "a.csv")
    assert "cloudpad/article.py" in " ".join(entries["k"]["dependencies"])
    assert data["packages"]["papermill"].startswith("2.")
    runner.run(book, [book.root / "notebooks" / "a.ipynb"], jobs=1)  # a partial run
    again = manifest.load(book.manifest_path)
    cached = {Path(e["notebook"]).stem: e for e in again["notebooks"]}
    assert cached["k"]["key_results"] == entries["k"]["key_results"]  # kept from the last run
    assert cached["a"]["status"] == "cached"


def test_notebook_without_cloudpad_depends_on_all_data(make_book):
    book = make_book(
        {"plain": (PARAMS, ["print(open('../data/a.csv').read())"])},
        data={"a.csv": "x\n1\n", "b.csv": "x\n2\n"},
    )
    runner.run(book)
    (book.data_dir / "b.csv").write_text("x\n3\n")
    result = runner.run(book)
    assert result.outcomes[0].status == "executed"


def test_outputs_are_deterministic(make_book):
    code = textwrap.dedent(
        """
        import numpy as np
        import matplotlib.pyplot as plt
        from cloudpad import style
        style.use()
        rng = np.random.default_rng(7)
        fig, ax = plt.subplots()
        ax.plot(rng.normal(size=50))
        plt.show()
        """
    )
    book = make_book({"fig": (PARAMS, [code])})

    def outputs() -> list:
        nb = nbformat.read(book.executed_dir / "notebooks" / "fig.ipynb", as_version=4)
        return [c.get("outputs") for c in nb.cells if c.cell_type == "code"]

    runner.run(book)
    first = outputs()
    runner.run(book, force=True)
    assert outputs() == first
    assert any("image/svg+xml" in o.get("data", {}) for cell_outputs in first for o in cell_outputs)


def test_second_run_waits_for_the_first(book):
    """Two runs on one book never write _build at once: the second waits for the lock."""
    import subprocess
    import sys

    from cloudpad.pipeline.project import exclusive

    command = [
        sys.executable,
        "-m",
        "cloudpad",
        "--root",
        str(book.root),
        "run",
        "notebooks/a.ipynb",
    ]
    with exclusive(book):
        second = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
        line = second.stderr.readline()  # printed only once it found the lock taken
        assert "waiting: another cloudpad run" in line
        assert second.poll() is None, "the second run did not wait for the lock"
        assert not (book.executed_dir / "notebooks" / "a.ipynb").exists()
    assert second.wait(timeout=120) == 0
    assert (book.executed_dir / "notebooks" / "a.ipynb").is_file()
