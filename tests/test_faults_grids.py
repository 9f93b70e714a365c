"""The fault suite, part 2: big grids and what parameterised runs leave in ``_build``.

A sweep too big to mean, a sweep cut off half-way, and ``-p`` runs and sweeps
that would fill the disk: each case on a throw-away book, checking what the
user sees and what stays on disk (the edition's own files untouched).
"""

from __future__ import annotations

import csv
import re
import signal
import subprocess
import sys
import time

import pytest
import yaml
from conftest import one_sentence, run_cli

from cloudpad.pipeline import cache, manifest
from cloudpad.pipeline.project import Project

PARAMS = "n = 2  # count, 0..1000: items\nm = 1  # count, 0..1000: more items"
GLUE = "from myst_nb import glue\nglue('total', n * m, display=False)"
#: An executed notebook of about 200 kB (its printed output), so a few runs fill a small limit.
BULKY = "print('x' * 200_000)\nfrom myst_nb import glue\nglue('total', n * m, display=False)"


def records(book: Project) -> list:
    """The cache records of parameterised runs."""
    return [p for p in book.cache_dir.rglob("*.json") if cache.PARAMETERISED.search(p.name)]


def values(name: str, count: int) -> list[str]:
    return ["-p", name, *map(str, range(1, count + 1))]


# --- a grid too big to mean ---------------------------------------------------------------------


def test_a_grid_over_the_limit_is_refused_before_any_kernel(make_book, capsys):
    book = make_book({"article": (PARAMS, [GLUE])})
    nb = "notebooks/article.ipynb"
    started = time.monotonic()
    code, text = run_cli(book, capsys, "sweep", nb, *values("n", 20), *values("m", 20))
    assert code == 2 and time.monotonic() - started < 10, text
    assert (
        f"error: {book.root / nb}: the grid has 400 runs (20 × 20 values), more than the 300"
        in text
    )
    assert "no run of it is recorded yet" in text and "give --max-runs 400" in text
    one_sentence(text)
    assert not book.runs_dir.exists() and not (book.build_dir / "sweeps").exists()
    assert run_cli(book, capsys, "run")[0] == 0  # now the notebook has a recorded duration
    last = manifest.read(book.manifest_path)["notebooks"][0]["duration_s"]
    code, text = run_cli(book, capsys, "sweep", nb, *values("n", 20), *values("m", 20))
    assert code == 2, text
    assert f"its last run took {last:.1f} s, so the grid needs about " in text
    assert "of kernel time" in text
    one_sentence(text)
    assert not book.runs_dir.exists()
    code, text = run_cli(
        book, capsys, "sweep", nb, *values("n", 2), *values("m", 2), "--max-runs", "3"
    )
    assert code == 2 and "the grid has 4 runs (2 × 2 values), more than the 3" in text
    code, text = run_cli(book, capsys, "sweep", nb, *values("n", 2), "--max-runs", "2")
    assert code == 0 and "2 runs of notebooks/article.ipynb: 2 executed" in text, text


# --- a sweep cut off half-way -------------------------------------------------------------------

SLOW = "import time\ntime.sleep(1)\nfrom myst_nb import glue\nglue('total', n * m, display=False)"


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_an_interrupted_sweep_reruns_only_the_missing_points(make_book, capsys, signum):
    book = make_book({"article": (PARAMS, [SLOW])})
    args = ["sweep", "notebooks/article.ipynb", *values("n", 4), "--jobs", "1"]
    command = [sys.executable, "-m", "cloudpad", "--root", str(book.root), *args]
    process = subprocess.Popen(command, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while len(records(book)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    process.send_signal(signum)
    assert process.wait(timeout=60) == (130 if signum == signal.SIGINT else -signal.SIGKILL)
    done = len(records(book))
    assert 2 <= done < 4
    assert not list(book.build_dir.rglob("*.tmp"))
    code, text = run_cli(book, capsys, *args)
    assert code == 0, text
    assert f"4 runs of notebooks/article.ipynb: {4 - done} executed, {done} from cache" in text
    table = next((book.build_dir / "sweeps").glob("article-*/results.csv"))
    with open(table, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["n"], r["total"], r["status"]) for r in rows] == [
        (str(n), str(n), status)
        for n, status in zip(
            range(1, 5), ["cached"] * done + ["executed"] * (4 - done), strict=True
        )
    ]


# --- what parameterised runs keep ---------------------------------------------------------------


def _limit(book: Project, megabytes: float) -> None:
    config = yaml.safe_load(book.config_path.read_text())
    config["execute"]["cache_limit_mb"] = megabytes
    book.config_path.write_text(yaml.safe_dump(config))


def _run_folder(book: Project, n: int):
    return book.runs_dir / cache.parameters_digest({"n": n})


def test_parameterised_runs_stay_under_the_cache_limit_least_recently_used_first(make_book, capsys):
    book = make_book({"article": (PARAMS, [BULKY])})
    _limit(book, 0.5)  # room for two runs of a little over 0.2 MB each, not three
    assert run_cli(book, capsys, "run")[0] == 0
    edition = {p: p.read_bytes() for p in book.executed_dir.rglob("*.ipynb")}
    for n in (1, 2, 1):  # n = 1 again, from the cache: used more recently than n = 2
        code, text = run_cli(book, capsys, "run", "-p", "n", str(n))
        assert code == 0 and "cache limit" not in text, text
    code, text = run_cli(book, capsys, "run", "-p", "n", "3")
    assert code == 0, text
    note = next(line for line in text.splitlines() if "cache limit" in line)
    assert note.startswith("note: cache limit: removed 1 parameterised run (0.2 MB, last used ")
    assert "under execute.cache_limit_mb = 0.5" in note
    assert not _run_folder(book, 2).exists() and _run_folder(book, 1).exists()
    assert _run_folder(book, 3).exists()
    assert cache.load_record(book, book.root / "notebooks/article.ipynb", {"n": 2}) is None
    assert len(records(book)) == 2
    code, text = run_cli(book, capsys, "run", "-p", "n", "1")
    assert code == 0 and "1 from cache" in text  # what was kept is still served
    code, text = run_cli(book, capsys, "run", "-p", "n", "2")
    assert code == 0 and "1 executed" in text  # what was removed runs again
    code, text = run_cli(book, capsys, "sweep", "notebooks/article.ipynb", *values("m", 3))
    assert code == 0, text  # three runs of its own, more than the limit: kept, and said
    alone = r"the runs of this command alone take 0\.[6-9] MB, more than execute\.cache_limit_mb"
    assert re.search(alone, text), text
    assert len(records(book)) == 3 and not _run_folder(book, 1).exists()
    assert {p: p.read_bytes() for p in book.executed_dir.rglob("*.ipynb")} == edition
    assert cache.load_record(book, book.root / "notebooks/article.ipynb") is not None


def test_clean_runs_drops_parameterised_runs_only(make_book, capsys):
    book = make_book({"article": (PARAMS, [GLUE])})
    assert run_cli(book, capsys, "run")[0] == 0
    assert run_cli(book, capsys, "run", "-p", "n", "5")[0] == 0
    assert run_cli(book, capsys, "sweep", "notebooks/article.ipynb", *values("m", 2))[0] == 0
    edition = [
        *book.executed_dir.rglob("*"),
        cache.record_path(book, book.root / "notebooks/article.ipynb"),
        book.manifest_path,
    ]
    before = {p: p.read_bytes() for p in edition if p.is_file()}
    code, text = run_cli(book, capsys, "clean", "--runs")
    assert code == 0 and "removed 3 parameterised runs" in text, text
    assert not book.runs_dir.exists() and not (book.build_dir / "sweeps").exists()
    assert records(book) == []
    assert {p: p.read_bytes() for p in edition if p.is_file()} == before
    code, text = run_cli(book, capsys, "run")
    assert code == 0 and "1 from cache" in text
