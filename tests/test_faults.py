"""The fault suite: broken input, broken notebooks, interruptions and broken disks.

Every case runs against a small throw-away book (``conftest.make_book``), never
the real one, and checks two things: what the user sees (one clear message
naming the thing, the value and what is allowed; the exit code) and the state
left behind (nothing half-written, nothing cached as good that is not).  The
README's "Reliability" section lists these cases with their expected outcome.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import psutil
import pytest
import yaml
from conftest import no_traceback, run_cli

from cloudpad.cli import main
from cloudpad.pipeline import cache, manifest
from cloudpad.pipeline.project import Project

GOOD = "x = n * 2\nprint(x)"
PARAMS = (
    "n = 2  # count, 1..10: n\n"
    "slo = 0.99  # fraction, 0.9..1: SLO\n"
    "region = 'east'  # -, text: region"
)
CHECKED = "from cloudpad import article\narticle.parameters(globals())"


def cli(book: Project, *args: str) -> int:
    return main(["--root", str(book.root), *args])


# --- parameters -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pair", "expected"),
    [
        (
            ("nodes", "3"),
            "unknown parameter 'nodes'; this notebook's parameters are: n, slo, region",
        ),
        (("n", "2.5"), "parameter 'n' must be of type int (default 2), got float 2.5"),
        (
            ("slo", "high"),
            "parameter 'slo': 'high' is not a Python literal; expected a number from 0.9 to 1 "
            "(fraction)",
        ),
    ],
    ids=["unknown-name", "wrong-type", "not-a-literal"],
)
def test_parameter_refused_before_any_kernel(make_book, capsys, pair, expected):
    book = make_book({"a": (PARAMS, [CHECKED])})
    code, text = run_cli(book, capsys, "run", "notebooks/a.ipynb", "-p", *pair)
    assert code == 2
    assert expected in text and "notebooks/a.ipynb" in text
    no_traceback(text)
    assert not book.executed_dir.exists()  # no kernel started


@pytest.mark.parametrize(
    ("pair", "expected"),
    [
        (("slo", "1.5"), "parameter 'slo' = 1.5 is not allowed: it must be a number from 0.9 to 1"),
        (("n", "11"), "parameter 'n' = 11 is not allowed: it must be a whole number from 1 to 10"),
        (
            ("zones", "[1, 2, 3, 4]"),
            "'zones' = [1, 2, 3, 4] is not allowed: it must be a list of 1",
        ),
        (("zones", "[5]"), "it must be a list of 1 to 3 items, each a whole number from 1 to 3"),
        (("n", "1"), "the parameters must satisfy len(zones) <= n; got n = 1, zones = [1, 2]"),
    ],
    ids=["out-of-range", "out-of-range-int", "list-too-long", "list-item", "constraint"],
)
def test_value_its_declaration_does_not_allow_refused_before_any_kernel(
    make_book, capsys, monkeypatch, pair, expected
):
    params = (
        PARAMS
        + "\nzones = [1, 2]  # -, list of 1..3, each 1..3: zones used\n# check: len(zones) <= n"
    )
    book = make_book({"a": (params, [CHECKED])})
    monkeypatch.setattr("cloudpad.cli._make_executor", _no_executor)
    code, text = run_cli(book, capsys, "run", "notebooks/a.ipynb", "-p", *pair)
    assert code == 2, text
    assert expected in text and "notebooks/a.ipynb" in text
    no_traceback(text)
    assert not book.executed_dir.exists()


def _no_executor(*_args, **_kwargs):
    raise AssertionError("an executor (and its kernels) was started for refused input")


def test_the_notebook_checks_its_declaration_again_when_run_without_cloudpad(make_book):
    """Papermill directly (or JupyterLab) runs the same check inside the kernel."""
    import papermill

    book = make_book({"a": (PARAMS, [CHECKED])})
    source = book.root / "notebooks" / "a.ipynb"
    with pytest.raises(papermill.PapermillExecutionError) as caught:
        papermill.execute_notebook(
            str(source), str(book.root / "out.ipynb"), parameters={"slo": 1.5}, progress_bar=False
        )
    assert "parameter 'slo' = 1.5 is not allowed: it must be a number from 0.9 to 1" in str(
        caught.value
    )


# --- timeouts ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "metadata",
    [{"mystnb": {"execution_timeout": 2}}, {"execution": {"timeout": 2}}],
    ids=["mystnb.execution_timeout", "execution.timeout"],
)
def test_notebook_timeout_keys_are_honoured(make_book, capsys, metadata):
    book = make_book(
        {"slow": (PARAMS, ["import time\ntime.sleep(30)"])}, timeout=60, metadata={"slow": metadata}
    )
    started = time.perf_counter()
    code, text = run_cli(book, capsys, "run")
    assert code == 1 and time.perf_counter() - started < 25  # 2 s, not the book's 60 s
    assert "FAILED notebooks/slow.ipynb, cell 3" in text and "exceeded its timeout" in text


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        ({"execution": {"timeot": 5}}, "unknown metadata key execution.timeot"),
        ({"mystnb": {"execution_timout": 5}}, "unknown metadata key mystnb.execution_timout"),
        (
            {"mystnb": {"execution_timeout": "ten"}},
            "must be a whole number of seconds > 0, got 'ten'",
        ),
        (
            {"mystnb": {"execution_timeout": 5}, "execution": {"timeout": 9}},
            "two different timeouts",
        ),
    ],
    ids=["unknown-execution-key", "misspelt-mystnb-key", "malformed-value", "conflicting"],
)
def test_bad_timeout_metadata_is_refused(make_book, capsys, metadata, expected):
    book = make_book({"a": (PARAMS, [GOOD])}, metadata={"a": metadata})
    code, text = run_cli(book, capsys, "run")
    assert code == 2 and expected in text and "notebooks/a.ipynb" in text
    no_traceback(text)


def test_whole_notebook_wall_clock_limit(make_book, capsys):
    cells = ["import time\ntime.sleep(1.5)"] * 4  # each cell well inside its own timeout
    book = make_book({"long": (PARAMS, cells)}, timeout=60)
    config = yaml.safe_load(book.config_path.read_text())
    config["execute"]["notebook_timeout"] = 3
    book.config_path.write_text(yaml.safe_dump(config))
    code, text = run_cli(book, capsys, "run")
    assert code == 1
    assert "FAILED notebooks/long.ipynb, cell" in text and "wall-clock limit" in text
    assert cache.load_record(book, book.root / "notebooks" / "long.ipynb") is None


def test_progress_line_names_the_notebooks_still_running(make_book):
    import threading

    from cloudpad.pipeline.executors.local import ProcessPoolExecutor
    from cloudpad.pipeline.plan import prepare
    from cloudpad.pipeline.runner import make_job

    book = make_book({"waits": (PARAMS, ["import time\ntime.sleep(4)"])})
    executor = ProcessPoolExecutor(1)
    job = make_job(book, prepare(book)[0], "j")
    results = []
    thread = threading.Thread(target=lambda: results.extend(executor.run([job])))
    thread.start()
    deadline = time.monotonic() + 30
    while "notebooks/waits.ipynb" not in executor.running() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert executor.running() == ["notebooks/waits.ipynb"]
    thread.join(60)
    executor.close()
    assert results[0].ok and executor.running() == []


# --- data -------------------------------------------------------------------------------------


def _package(fields: list[dict], key: str | None = None) -> dict:
    schema = {"fields": fields}
    if key:
        schema["primaryKey"] = [key]
    return {
        "name": "faults",
        "resources": [
            {
                "name": "things",
                "path": "things.csv",
                "format": "csv",
                "sources": [{"title": "test"}],
                "licenses": [{"name": "CC0-1.0"}],
                "retrieved": "2026-11-01",
                "schema": schema,
            }
        ],
    }


FIELDS = [
    {"name": "id", "type": "string", "constraints": {"required": True}},
    {"name": "kind", "type": "string", "constraints": {"enum": ["api", "batch"]}},
    {"name": "cpu", "type": "number", "constraints": {"minimum": 0}},
]
DATA_FAULTS = {
    "missing-file": (None, "things.csv: missing file"),
    "wrong-type": ("id,kind,cpu\na,api,1\nb,api,lots\n", "row 3, column 'cpu'"),
    "out-of-range": ("id,kind,cpu\na,api,1\nb,batch,-2\n", "row 3, column 'cpu'"),
    "outside-enum": ("id,kind,cpu\na,api,1\nb,queue,2\n", "row 3, column 'kind'"),
    "missing-required": ("id,kind,cpu\na,api,1\n,api,2\n", "row 3, column 'id'"),
    "duplicate-key": ("id,kind,cpu\na,api,1\na,batch,2\n", "row 3"),
    "missing-column": ("id,kind\na,api\n", "cpu"),
    "empty-file": ("", "empty file"),
}


@pytest.mark.parametrize("fault", sorted(DATA_FAULTS), ids=sorted(DATA_FAULTS))
def test_data_error_reaches_the_user_with_file_row_and_column(make_book, capsys, fault):
    text_in, expected = DATA_FAULTS[fault]
    book = make_book({"reads": (PARAMS, ["from cloudpad import data\ndata.load('things')"])})
    (book.data_dir / "datapackage.json").write_text(json.dumps(_package(FIELDS, "id")))
    if text_in is not None:
        (book.data_dir / "things.csv").write_text(text_in)
    code, text = run_cli(book, capsys, "run")
    assert code == 2
    assert "REFUSED notebooks/reads.ipynb, cell 3" in text and "DataError" in text
    assert "things.csv" in text and expected in text
    no_traceback(text)


# --- broken notebooks -------------------------------------------------------------------------

BROKEN = {
    "raises": ("raise ValueError('the model found no answer')", "ValueError: the model found"),
    "syntax": ("x = = 1", "SyntaxError"),
    "dies": ("import os\nos._exit(3)", "the kernel died"),
    "hangs": ("import time\ntime.sleep(60)", "exceeded its timeout"),
    "network": (
        "import urllib.request\nurllib.request.urlopen('http://example.com', timeout=5)",
        "articles run offline: this notebook tried to reach 'example.com'",
    ),
}


def test_broken_notebooks_fail_alone_and_the_others_are_cached(make_book, capsys):
    notebooks = {name: (PARAMS, [GOOD, code]) for name, (code, _) in BROKEN.items()}
    notebooks["fine"] = (PARAMS, [GOOD])
    book = make_book(notebooks, timeout=5)
    code, text = run_cli(book, capsys, "run", "--jobs", "2")
    assert code == 1
    for name, (_, expected) in BROKEN.items():
        assert f"FAILED notebooks/{name}.ipynb, cell 4" in text, name
        assert expected in text, name
        assert cache.load_record(book, book.root / "notebooks" / f"{name}.ipynb") is None
    assert cache.load_record(book, book.root / "notebooks" / "fine.ipynb") is not None
    entries = {e["notebook"]: e["status"] for e in manifest.load(book.manifest_path)["notebooks"]}
    assert entries["notebooks/fine.ipynb"] == "executed"
    assert sum(status == "failed" for status in entries.values()) == len(BROKEN)


# --- interruptions ----------------------------------------------------------------------------

SLOW = "import os, time\nopen('../pids.txt', 'a').write(f'{os.getpid()}\\n')\ntime.sleep(3)"


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupted_run_leaves_nothing_half_done(make_book, signum):
    book = make_book({name: (PARAMS, [SLOW]) for name in ("first", "second", "third")})
    command = [sys.executable, "-m", "cloudpad", "--root", str(book.root), "run", "--jobs", "1"]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    first = book.root / "notebooks" / "first.ipynb"
    deadline = time.monotonic() + 60
    while cache.load_record(book, first) is None and time.monotonic() < deadline:
        time.sleep(0.1)
    while len((book.root / "pids.txt").read_text().split()) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)  # the second notebook's kernel is running
    process.send_signal(signum)
    assert process.wait(timeout=60) == 130
    assert "interrupted" in process.stderr.read()
    time.sleep(0.5)
    for pid in map(int, (book.root / "pids.txt").read_text().split()):
        assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == "zombie", pid
    assert not list(book.build_dir.rglob("*.tmp"))
    for executed in book.executed_dir.rglob("*.ipynb"):
        nbformat.validate(nbformat.read(executed, as_version=4))  # complete, valid JSON
    code = cli(book, "run", "--jobs", "1")
    assert code == 0
    statuses = {e["notebook"]: e["status"] for e in manifest.load(book.manifest_path)["notebooks"]}
    assert statuses == {
        "notebooks/first.ipynb": "cached",
        "notebooks/second.ipynb": "executed",
        "notebooks/third.ipynb": "executed",
    }


# --- two runs at once -------------------------------------------------------------------------


def test_lock_of_a_killed_run_does_not_block_the_next(make_book, capsys):
    book = make_book({"a": (PARAMS, [GOOD])})
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\nfrom cloudpad.pipeline.project import Project, exclusive\n"
            "with exclusive(Project(__import__('pathlib').Path(sys.argv[1]))):\n"
            "    print('locked', flush=True); time.sleep(300)",
            str(book.root),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "locked"
    holder.kill()
    holder.wait()
    code, text = run_cli(book, capsys, "run")
    assert code == 0 and "waiting" not in text


# --- non-determinism --------------------------------------------------------------------------


def test_check_deterministic_names_the_cell(make_book, capsys):
    changing = "import time\nprint(time.time_ns())"
    book = make_book({"steady": (PARAMS, [GOOD]), "moving": (PARAMS, [GOOD, changing])})
    code, text = run_cli(book, capsys, "run", "--check-deterministic")
    assert code == 1
    assert "NOT DETERMINISTIC notebooks/moving.ipynb: cell 4 output differs" in text
    assert "steady" not in text.split("NOT DETERMINISTIC", 1)[1]


# --- the site ---------------------------------------------------------------------------------


def test_site_not_built_from_a_failed_notebook(make_book, capsys):
    book = make_book({"fine": (PARAMS, [GOOD]), "broken": (PARAMS, ["1 / 0"])})
    code, text = run_cli(book, capsys, "build")
    assert code == 1
    assert "site not rendered" in text and "notebooks/broken.ipynb" in text
    assert not (book.build_dir / "html").exists()


# --- toolchain and configuration --------------------------------------------------------------


def test_no_python3_kernel(make_book, capsys, monkeypatch):
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    def missing(self, name):
        raise NoSuchKernel(name)

    monkeypatch.setattr(KernelSpecManager, "get_kernel_spec", missing)
    book = make_book({"a": (PARAMS, [GOOD])})
    code, text = run_cli(book, capsys, "run")
    assert code == 2 and "no Jupyter kernel named 'python3' is installed" in text
    no_traceback(text)


def _toc_names_missing_file(book: Project) -> None:
    toc = yaml.safe_load(book.toc_path.read_text())
    toc["chapters"].append({"file": "notebooks/gone"})
    book.toc_path.write_text(yaml.safe_dump(toc))


BROKEN_CONFIG = {
    "toc-names-missing-file": (_toc_names_missing_file, "no file for toc entry 'notebooks/gone'"),
    "malformed-toc": (
        lambda b: b.toc_path.write_text("format: jb-book\nroot: [unclosed\n"),
        "_toc.yml is not valid YAML",
    ),
    "malformed-config": (
        lambda b: b.config_path.write_text("execute: {timeout: 60\n"),
        "_config.yml is not valid YAML",
    ),
    "bad-config-value": (
        lambda b: b.config_path.write_text("execute:\n  timeout: -5\n"),
        "execute.timeout must be a whole number of seconds > 0, got -5",
    ),
    "notebook-not-json": (
        lambda b: (b.root / "notebooks" / "a.ipynb").write_text("{not json"),
        "notebooks/a.ipynb: not a valid notebook",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN_CONFIG), ids=sorted(BROKEN_CONFIG))
def test_broken_configuration_is_one_message(make_book, capsys, case):
    break_it, expected = BROKEN_CONFIG[case]
    book = make_book({"a": (PARAMS, [GOOD])})
    break_it(book)
    code, text = run_cli(book, capsys, "run")
    assert code == 2 and expected in text
    no_traceback(text)


# --- a full disk, a read-only _build ----------------------------------------------------------


@pytest.mark.parametrize("err", [errno.ENOSPC, errno.EROFS], ids=["disk-full", "read-only"])
def test_unwritable_build_keeps_the_previous_edition(make_book, capsys, monkeypatch, err):
    book = make_book({"a": (PARAMS, [GOOD])})
    assert cli(book, "run") == 0
    executed = book.executed_dir / "notebooks" / "a.ipynb"
    before = executed.read_bytes()
    record = cache.record_path(book, book.root / "notebooks" / "a.ipynb")
    record_before = record.read_bytes()
    path = book.root / "notebooks" / "a.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[-1].source += "\nprint('changed')"
    nbformat.write(nb, path)
    real_write = Path.write_text

    def failing(self, *args, **kwargs):
        if book.build_dir in self.parents:
            raise OSError(err, os.strerror(err), str(self))
        return real_write(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", failing)
    code, text = run_cli(book, capsys, "run")
    assert code == 1
    assert f"cannot write {executed}: {os.strerror(err)}" in text
    no_traceback(text)
    assert executed.read_bytes() == before and record.read_bytes() == record_before
    assert not list(book.build_dir.rglob("*.tmp"))
