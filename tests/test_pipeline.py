"""Fast unit tests of the pipeline's parts, with no Jupyter kernel.

The executor interface is exercised with an in-process fake executor; the
cache, key results, manifest, tracking, parameters and generated pages on
small books written in a temporary folder.  (test_runner.py and test_faults.py
run real kernels.)
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterable, Iterator
from pathlib import Path

import nbformat
import pytest

import cloudpad
from cloudpad.exceptions import ParameterError
from cloudpad.pipeline import cache, distributions, keyresults, manifest, runner, tracking
from cloudpad.pipeline.executors.base import KERNEL, Job, JobResult, file_sha256
from cloudpad.pipeline.outcomes import Failure, Outcome
from cloudpad.pipeline.parameters import coerce, notebook_parameters, parse_overrides
from cloudpad.pipeline.plan import prepare
from cloudpad.site import registry

ROOT = Path(__file__).resolve().parents[1]
PARAMS = (
    "n = 2  # count, 1..100: items\nrate = 1.5  # per second, 0..100: rate\n"
    "zones = [1, 2]  # -, list of 1..3, each 1..3: zone ids\nname = 'east'  # -, text: region"
)


def glued(name: str, value: object) -> dict:
    """A display output as myst_nb.glue(name, value, display=False) writes it."""
    prefix = "application/papermill.record/"
    data = {prefix + "text/plain": repr(value)}
    if name.startswith("fig"):
        data[prefix + "image/svg+xml"] = "<svg/>"
    meta = {"scrapbook": {"name": name, "mime_prefix": prefix}}
    return nbformat.v4.new_output("display_data", data=data, metadata=meta)


class FakeExecutor:
    """Executes nothing: each job 'succeeds' with the outputs its notebook asks for.

    A code cell ``publish name=value`` becomes a glued output; a code cell
    ``fail`` makes the job fail at that cell; ``reads path`` records a file read;
    ``imports name ...`` records distributions imported, at their installed versions.
    Results come back in reverse order, as a real executor may return them.
    """

    def __init__(self) -> None:
        self.jobs: list[Job] = []

    def run(self, jobs: Iterable[Job]) -> Iterator[JobResult]:
        jobs = list(jobs)
        self.jobs += jobs
        for job in reversed(jobs):
            nb = nbformat.reads(job.source, as_version=4)
            result = JobResult(job.id, job.notebook, True, 0.5, "")
            for i, cell in enumerate(nb.cells):
                words = cell.source.split()
                if cell.cell_type != "code" or not words:
                    continue
                if words[0] == "publish":
                    name, value = words[1].split("=")
                    cell.outputs = [glued(name, json.loads(value))]
                elif words[0] == "fail":
                    result.ok = False
                    result.failure = Failure(i + 1, 1, "ValueError", "no", ["ValueError: no"])
                elif words[0] == "reads":
                    path = Path(job.root) / words[1]
                    result.reads[words[1]] = file_sha256(path)
                elif words[0] == "imports":
                    result.packages.update({n: distributions.version(n) for n in words[1:]})
            result.executed = nbformat.writes(nb)
            if result.ok:
                result.key_results, result.figures = keyresults.extract(nb)
            yield result

    def close(self) -> None:
        pass


@pytest.fixture
def fake() -> FakeExecutor:
    return FakeExecutor()


@pytest.fixture
def book(make_book):
    return make_book(
        {
            "a": (PARAMS, ["publish replicas=7", "publish share=0.25", "reads data/a.csv"]),
            "b": (PARAMS, ['publish region="east"', "publish fig-x=0", "reads data/b.csv"]),
        },
        data={"a.csv": "x\n1\n", "b.csv": "x\n2\n"},
    )


# --- the executor interface -------------------------------------------------------------------


def test_jobs_are_plain_data_and_results_come_back_as_data(book, fake):
    result = runner.run(book, executor=fake)
    job = fake.jobs[0]
    assert json.loads(json.dumps(job.__dict__)) == job.__dict__  # serialisable
    assert nbformat.reads(job.source, as_version=4).cells[0].source.startswith("# A test")
    assert job.env["CLOUDPAD_DATA_DIR"] == str(book.data_dir)
    by_name = {Path(o.notebook).stem: o for o in result.outcomes}
    assert [Path(o.notebook).stem for o in result.outcomes] == ["a", "b"]  # plan order
    assert by_name["a"].key_results == {"replicas": 7, "share": 0.25}
    assert by_name["b"].key_results == {"region": "east"} and by_name["b"].figures == ["fig-x"]
    assert by_name["a"].dependencies == {"data/a.csv": file_sha256(book.data_dir / "a.csv")}
    written = nbformat.read(book.root / by_name["a"].output, as_version=4)
    assert written.cells[2].outputs[0]["metadata"]["scrapbook"]["name"] == "replicas"


def test_a_cache_hit_carries_the_key_results(book, fake):
    runner.run(book, executor=fake)
    again = runner.run(book, executor=fake)
    assert [o.status for o in again.outcomes] == ["cached", "cached"]
    assert again.outcomes[0].key_results == {"replicas": 7, "share": 0.25}
    assert len(fake.jobs) == 2  # nothing executed the second time


def test_a_failed_result_is_reported_and_never_cached(make_book, fake):
    book = make_book({"bad": (PARAMS, ["publish x=1", "fail"])})
    result = runner.run(book, executor=fake)
    assert result.outcomes[0].status == "failed" and result.outcomes[0].failure.cell == 4
    assert cache.load_record(book, book.root / "notebooks" / "bad.ipynb") is None
    assert runner.run(book, executor=fake).outcomes[0].status == "failed"  # runs again


def test_the_same_notebook_with_two_parameter_sets_in_one_plan(book, fake):
    path = book.root / "notebooks" / "a.ipynb"
    plan = prepare(book, [path], [("n", "3")]) + prepare(book, [path], [("n", "4")])
    result = runner.run(book, plan=plan, executor=fake)
    assert [o.parameters for o in result.outcomes] == [{"n": 3}, {"n": 4}]
    assert result.outcomes[0].output != result.outcomes[1].output
    assert all("_build/runs/" in o.output for o in result.outcomes)


def test_notebook_that_never_imported_cloudpad_depends_on_the_data_folder(
    make_book, fake, tmp_path_factory, monkeypatch
):
    book = make_book({"plain": (PARAMS, ["print(1)"])}, data={"a.csv": "x\n1\n"})
    own = tmp_path_factory.mktemp("elsewhere") / "my-data"
    shutil.copytree(book.data_dir, own)
    (own / "extra.csv").write_text("y\n2\n")
    monkeypatch.setenv("CLOUDPAD_DATA_DIR", str(own))
    assert book.data_dir == own.resolve()
    deps = runner.run(book, executor=fake).outcomes[0].dependencies
    files = {key for key in deps if not key.startswith(distributions.KEY_PREFIX)}
    assert files == {str(own.resolve() / "a.csv"), str(own.resolve() / "extra.csv")}
    # nor were its imports: it depends on every installed distribution (but cloudpad's files)
    packages = {distributions.package_name(k): v for k, v in deps.items() if k not in files}
    assert packages == distributions.all_installed()
    assert {"numpy", "pytest", "ruff"} <= set(packages) and "cloudpad" not in packages


# --- the cache: each reason a result is stale -------------------------------------------------


@pytest.fixture
def cached(book, fake):
    runner.run(book, executor=fake)
    return book


def stale(book, name="a", parameters=None):
    path = book.root / "notebooks" / f"{name}.ipynb"
    inputs = cache.static_inputs(book, path, parameters or {}, KERNEL)
    output = runner.output_root(book, parameters or {}) / "notebooks" / f"{name}.ipynb"
    return cache.stale_reason(book, path, inputs, output, parameters)


def test_fresh_after_a_run(cached):
    assert stale(cached) is None


def test_stale_not_run_before(book):
    assert stale(book) == "not run before"
    assert stale(book, parameters={"n": 5}) == "not run before"


def test_stale_executed_notebook_missing(cached):
    (cached.executed_dir / "notebooks" / "a.ipynb").unlink()
    assert stale(cached) == "executed notebook missing"


def test_stale_code_changed_but_not_for_prose(cached):
    path = cached.root / "notebooks" / "a.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[0].source += "\nMore prose."
    nbformat.write(nb, path)
    assert stale(cached) is None
    nb.cells[2].source += "\n# a comment is code"
    nbformat.write(nb, path)
    assert stale(cached) == "code changed"


def test_stale_environment_changed(cached, monkeypatch):
    monkeypatch.setattr(cache.platform, "python_version", lambda: "3.99.0")
    assert stale(cached) == "python changed"


INSTALLED = {"numpy": "2.3.4", "pyyaml": "6.0.3", "ruff": "0.17.6", "pytest": "9.2.0"}


@pytest.fixture
def imports(make_book, fake, monkeypatch):
    """A book whose kernels imported libraries: a numpy and PyYAML, b PyYAML only."""
    monkeypatch.setattr(distributions, "installed", lambda paths=None: dict(INSTALLED))
    book = make_book(
        {
            "a": (PARAMS, ["publish x=1", "reads data/a.csv", "imports numpy PyYAML"]),
            "b": (PARAMS, ["publish y=2", "reads data/a.csv", "imports pyyaml"]),
        },
        data={"a.csv": "x\n1\n"},
    )
    runner.run(book, executor=fake)
    return book


def test_imported_distributions_are_dependencies_by_version(imports):
    record = cache.load_record(imports, imports.root / "notebooks" / "a.ipynb")
    packages = {k: v for k, v in record.dependencies.items() if k.startswith("package:")}
    assert packages == {"package:numpy": "2.3.4", "package:pyyaml": "6.0.3"}
    assert "requirements" not in record.inputs


def test_a_new_pin_of_a_library_no_kernel_imported_reexecutes_nothing(imports, fake, monkeypatch):
    """A dev-only pin (ruff, pytest) changed in the locks and installed: every result is fresh."""
    for lock in ("requirements.txt", "requirements-dev.txt"):
        (imports.root / lock).write_text("ruff==0.18.0 --hash=sha256:00\n")
    now = {**INSTALLED, "ruff": "0.18.0", "pytest": "9.3.0"}
    monkeypatch.setattr(distributions, "installed", lambda paths=None: now)
    assert stale(imports, "a") is None and stale(imports, "b") is None
    result = runner.run(imports, executor=fake)
    assert [o.status for o in result.outcomes] == ["cached", "cached"]


def test_a_new_version_of_an_imported_library_reexecutes_its_importers_only(
    imports, fake, monkeypatch
):
    bumped = {**INSTALLED, "numpy": "2.4.0"}
    monkeypatch.setattr(distributions, "installed", lambda paths=None: bumped)
    assert stale(imports, "a") == "package numpy changed (2.3.4 → 2.4.0)"
    assert stale(imports, "b") is None
    result = runner.run(imports, executor=fake)
    assert [o.status for o in result.outcomes] == ["executed", "cached"]
    assert result.outcomes[0].dependencies["package:numpy"] == "2.4.0"
    uninstalled = {k: v for k, v in INSTALLED.items() if k != "pyyaml"}
    monkeypatch.setattr(distributions, "installed", lambda paths=None: uninstalled)
    assert stale(imports, "b") == "package pyyaml removed"


def test_stale_dependency_changed_or_removed(cached):
    (cached.data_dir / "a.csv").write_text("x\n2\n")
    assert stale(cached) == "data/a.csv changed"
    assert stale(cached, "b") is None  # b never read it
    (cached.data_dir / "a.csv").unlink()
    assert stale(cached) == "data/a.csv removed"


def test_refresh_markdown_copies_prose_and_keeps_outputs(cached):
    path = cached.root / "notebooks" / "a.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[0].source = "# A new title"
    nbformat.write(nb, path)
    executed = cached.executed_dir / "notebooks" / "a.ipynb"
    assert cache.refresh_markdown(path, executed)
    done = nbformat.read(executed, as_version=4)
    assert done.cells[0].source == "# A new title" and done.cells[2].outputs
    assert not cache.refresh_markdown(path, executed)  # nothing left to copy


# --- key results and the manifest -------------------------------------------------------------


def test_key_results_read_back_every_glued_type():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("")
    values = {"count": 3, "share": 0.125, "name": "us-east-1", "flag": True, "big": float("inf")}
    cell.outputs = [glued(k, v) for k, v in values.items()] + [glued("fig-a", None)]
    cell.outputs.append(nbformat.v4.new_output("stream", name="stdout", text="not glued"))
    nb.cells = [cell]
    assert keyresults.extract(nb) == (values, ["fig-a"])


def test_manifest_merges_a_partial_run(book, fake):
    runner.run(book, executor=fake)
    first = manifest.load(book.manifest_path)
    runner.run(book, [book.root / "notebooks" / "b.ipynb"], executor=fake, force=True)
    second = manifest.load(book.manifest_path)
    assert [e["notebook"] for e in second["notebooks"]] == [
        "notebooks/a.ipynb",
        "notebooks/b.ipynb",
    ]
    assert second["notebooks"][0] == first["notebooks"][0]  # a kept as it was
    assert second["notebooks"][1]["reason"] == "forced"
    assert manifest.outcomes(second)[0].key_results == {"replicas": 7, "share": 0.25}
    assert not list(book.build_dir.glob("*.tmp"))


def test_manifest_load_refuses_other_json(tmp_path):
    (tmp_path / "m.json").write_text('{"format": "something else"}')
    assert manifest.load(tmp_path / "m.json") is None
    assert manifest.load(tmp_path / "missing.json") is None


# --- parameters -------------------------------------------------------------------------------


def test_overrides_are_typed_like_their_defaults(book):
    path = book.root / "notebooks" / "a.ipynb"
    params = notebook_parameters(path)
    assert (params["rate"].unit, params["rate"].meaning) == ("per second", "rate")
    assert coerce(path, params["rate"], "3") == 3.0 and isinstance(
        coerce(path, params["rate"], "3"), float
    )
    assert coerce(path, params["zones"], "[3, 4, 5]") == [3, 4, 5]
    assert coerce(path, params["name"], "west") == "west"
    assert coerce(path, params["name"], "'quoted west'") == "quoted west"
    with pytest.raises(ParameterError, match=r"'zones' must be of type list"):
        coerce(path, params["zones"], "[1.5]")
    with pytest.raises(ParameterError, match=r"'n' must be of type int .* got bool True"):
        parse_overrides(path, [("n", "True")])


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        (
            [("n", "0")],
            r"'n' = 0 is not allowed: it must be a whole number from 1 to 100 \(count\)",
        ),
        ([("rate", "101")], r"'rate' = 101.0 .* a number from 0 to 100 \(per second\)"),
        ([("zones", "[1, 2, 3, 1]")], r"'zones' = \[1, 2, 3, 1\] .* a list of 1 to 3 items"),
        ([("zones", "[]")], r"'zones' = \[\] .* a list of 1 to 3 items"),
        ([("zones", "[1, 4]")], r"each a whole number from 1 to 3"),
    ],
)
def test_overrides_its_declaration_does_not_allow_are_refused(book, pairs, message):
    """Range, list length and items are checked from the declaration, naming the notebook."""
    path = book.root / "notebooks" / "a.ipynb"
    with pytest.raises(ParameterError, match=message) as caught:
        parse_overrides(path, pairs)
    assert str(path) in str(caught.value)


# --- dependency tracking ----------------------------------------------------------------------


def test_tracking_records_package_and_data_files_only(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.csv").write_text("x\n")
    (tmp_path / "elsewhere.txt").write_text("y\n")
    log = tmp_path / "deps.log"
    script = textwrap.dedent(
        f"""
        import yaml
        import cloudpad
        import cloudpad.models.checks
        open({str(data / "a.csv")!r}).read()
        open({str(tmp_path / "elsewhere.txt")!r}).read()
        import os; os.chdir({str(tmp_path)!r}); open("data/a.csv").read()
        import importlib; importlib.import_module("tomllib")
        """
    )
    env = {"CLOUDPAD_DEPS_LOG": str(log), "CLOUDPAD_DATA_DIR": str(data), "PATH": "/usr/bin"}
    subprocess.run([sys.executable, "-c", script], env=env, check=True)
    recorded = set(tracking.read_log(log))
    package = ROOT / "cloudpad"
    assert package / "models" / "checks.py" in recorded
    assert (data / "a.csv").resolve() in recorded
    assert not any("elsewhere" in str(p) for p in recorded)
    assert not any("numpy" in str(p) for p in recorded)  # site-packages are not recorded
    assert package / "models" / "latency.py" not in recorded  # never imported
    # The top-level modules imported: before cloudpad (yaml), by an import statement
    # (numpy, through the checks module), through importlib (tomllib, seen at exit).
    modules = tracking.read_modules(log)
    assert {"yaml", "cloudpad", "numpy", "tomllib", "os"} <= modules
    assert not {"pandas", "pytest", "ruff"} & modules
    packages = distributions.of_modules(modules)
    assert packages["pyyaml"] == distributions.version("PyYAML")
    assert packages["numpy"] == distributions.version("numpy")
    assert "cloudpad" not in packages and "os" not in packages  # tracked by file; stdlib


# --- generated pages --------------------------------------------------------------------------


def outcome(notebook: str, deps: dict[str, str]) -> Outcome:
    return Outcome(
        notebook,
        "executed",
        1.25,
        "2026-11-26T10:00:00+00:00",
        "code changed",
        f"_build/executed/{notebook}",
        dependencies=deps,
    )


def test_every_registered_page_is_written_from_outcomes(project):
    used = outcome(
        "notebooks/availability-latency/extra-nine.ipynb", {"data/provider_slas.csv": "x"}
    )
    pages = {p.entry: p.markdown(project, [used]) for p in registry.PAGES}
    assert set(pages) == registry.entries()
    assert (
        "extra-nine" in pages["reports/execution"] and "code changed" in pages["reports/execution"]
    )
    section = pages["reports/data-sources"].split("(resource `provider_slas`)")[1].split("\n## ")[0]
    assert "**Used by:** [What does an extra nine cost?]" in section


def test_data_sources_page_describes_the_data_folder_in_use(project, tmp_path, monkeypatch):
    own = tmp_path / "my-data"
    shutil.copytree(project.data_dir, own)
    descriptor = json.loads((own / "datapackage.json").read_text())
    descriptor["resources"][0]["title"] = "My own regions"
    (own / "datapackage.json").write_text(json.dumps(descriptor))
    monkeypatch.setenv("CLOUDPAD_DATA_DIR", str(own))
    used = outcome(
        "notebooks/availability-latency/region-placement.ipynb",
        {str(own / descriptor["resources"][0]["path"]): "x"},
    )
    page = registry.PAGES[[p.entry for p in registry.PAGES].index("reports/data-sources")]
    text = page.markdown(project, [used])
    assert "## My own regions" in text
    section = text.split("## My own regions")[1].split("\n## ")[0]
    assert "**Used by:** [" in section


def test_a_relative_notebook_path_means_the_book_s_when_run_from_elsewhere(
    book, tmp_path_factory, monkeypatch
):
    from cloudpad.pipeline.plan import select

    elsewhere = tmp_path_factory.mktemp("other-checkout")
    shutil.copytree(book.root / "notebooks", elsewhere / "notebooks")  # same relative path
    monkeypatch.chdir(elsewhere)
    chosen = select(book, [Path("notebooks/a.ipynb")])
    assert chosen == [(book.root / "notebooks" / "a.ipynb").resolve()]
    monkeypatch.chdir(book.root / "notebooks")
    assert select(book, [Path("a.ipynb")]) == chosen  # relative to where you are, inside the book


def test_clean_removes_build_and_names_what_it_could_not(book, fake, capsys, monkeypatch):
    from cloudpad.cli import main

    runner.run(book, executor=fake)
    real_unlink = os.unlink

    def refuse(path, *args, **kwargs):
        if str(path).endswith("manifest.json"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_unlink(path, *args, **kwargs)

    monkeypatch.setattr(os, "unlink", refuse)
    assert main(["--root", str(book.root), "clean"]) == 1
    err = capsys.readouterr().err
    assert "could not remove" in err and "manifest.json: Permission denied" in err
    monkeypatch.setattr(os, "unlink", real_unlink)
    assert main(["--root", str(book.root), "clean"]) == 0
    assert not book.build_dir.exists()


def test_a_kernel_that_does_not_start_is_tried_once_more(book, monkeypatch):
    import papermill

    from cloudpad.pipeline.executors.base import execute

    calls = []

    def flaky(source, output, **kwargs):
        calls.append(output)
        if len(calls) == 1:
            raise RuntimeError("Kernel died before replying to kernel_info")
        Path(output).write_text(nbformat.writes(source))

    monkeypatch.setattr(papermill, "execute_notebook", flaky)
    job = runner.make_job(book, prepare(book)[0], "j")
    result = execute(job)
    assert result.ok and len(calls) == 2
    assert "the kernel did not start (try 1)" in result.log

    def broken(source, output, **kwargs):
        calls.append(output)
        raise RuntimeError("Kernel died before replying to kernel_info")

    monkeypatch.setattr(papermill, "execute_notebook", broken)
    calls.clear()
    result = execute(job)
    assert not result.ok and len(calls) == 2  # reported after the second try, not hidden
    assert result.failure.message == "Kernel died before replying to kernel_info"


# --- the command line: version, the optional Dask extra ------------------------------------


def test_version_is_printed(capsys):
    from cloudpad.cli import main

    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out == f"cloudpad {cloudpad.__version__}\n"
    assert importlib.metadata.version("cloudpad") == cloudpad.__version__  # one source


@pytest.mark.parametrize("module", ["dask", "distributed"])
def test_dask_executor_without_the_dask_extra_says_how_to_install_it(
    book, capsys, monkeypatch, module
):
    from cloudpad.cli import main

    monkeypatch.setitem(sys.modules, module, None)  # as if not installed
    monkeypatch.delitem(sys.modules, "cloudpad.pipeline.executors.dask", raising=False)
    code = main(["--root", str(book.root), "run", "--executor", "dask"])
    err = capsys.readouterr().err
    assert code == 2
    assert "--executor dask needs the optional dask extra, which is not installed" in err
    assert "pip install --require-hashes -r requirements-dask.txt" in err
    assert "Traceback" not in err
