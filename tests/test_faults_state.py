"""The fault suite, part 2: the state the book keeps between runs.

Cache records, the run manifest, the baseline and the run lock, each damaged
the ways files get damaged (cut short, not JSON, valid JSON of the wrong shape,
from an older or a newer format, hand-edited with a typo).  As in
``test_faults.py``, every case runs on a throw-away book and checks what the
user sees (the message, the exit code) and what is left on disk (the previous
good files intact, a good file written where the run owns it).  One book is
executed and accepted once per module; each test works on a copy of it.
"""

from __future__ import annotations

import fcntl
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import one_sentence, run_cli, write_book

from cloudpad.cli import main
from cloudpad.pipeline import baseline, cache, manifest
from cloudpad.pipeline.project import LOCK_FORMAT, Project

PARAMS = "n = 2  # count, 0..1000: items"
GLUE = "from myst_nb import glue\nglue('double', n * 2, display=False)\nprint(n)"
TRIPLE = "from myst_nb import glue\nglue('triple', n * 3, display=False)"


@pytest.fixture(scope="module")
def accepted(tmp_path_factory) -> Project:
    """A book of two articles, executed and accepted once for the module."""
    book = write_book(
        tmp_path_factory.mktemp("accepted") / "book",
        {"a": (PARAMS, [GLUE]), "b": (PARAMS, [TRIPLE])},
    )
    assert main(["--root", str(book.root), "run"]) == 0
    assert main(["--root", str(book.root), "accept"]) == 0
    return book


@pytest.fixture
def book(accepted, tmp_path) -> Project:
    """A copy of the accepted book (its cache, manifest and baseline) to damage."""
    shutil.copytree(accepted.root, tmp_path / "book", symlinks=True)
    return Project(tmp_path / "book")


def statuses(book: Project) -> dict[str, str]:
    return {e["notebook"]: e["status"] for e in manifest.read(book.manifest_path)["notebooks"]}


def edit_json(path: Path, change: Callable[[dict], None]) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data, indent=1))


def rename_key(data: dict, old: str, new: str) -> None:
    data[new] = data.pop(old)


# --- damage that every JSON state file can suffer -----------------------------------------------

TEXT_DAMAGE: dict[str, tuple[Callable[[Path], None], str]] = {
    "truncated": (
        lambda p: p.write_text(p.read_text()[: len(p.read_text()) // 2]),
        "the file ends early: cut short?",
    ),
    "not-json": (
        lambda p: p.write_text("this is not JSON\n"),
        "not valid JSON at line 1, column 1",
    ),
    "empty": (lambda p: p.write_text(""), "the file is empty"),
    "not-utf8": (lambda p: p.write_bytes(b'{"format": "\xff\xfe"}'), "not UTF-8 text (byte 12"),
}


def other_versions(kind: str, version: int) -> dict[str, tuple[Callable[[Path], None], str]]:
    """Damage: the file written in the format before this one, and in the one after."""
    damage = {}
    for case, other, age in (
        ("older-format", version - 1, "older"),
        ("newer-format", version + 1, "newer"),
    ):
        tag, current = f"cloudpad-{kind}/{other}", f"cloudpad-{kind}/{version}"
        damage[case] = (
            lambda p, tag=tag: edit_json(p, lambda d: d.update(format=tag)),
            f"format '{tag}' is {age} than the '{current}' this cloudpad reads",
        )
    return damage


# --- cache records ------------------------------------------------------------------------------

RECORD_DAMAGE = {
    **TEXT_DAMAGE,
    "wrong-shape": (
        lambda p: edit_json(p, lambda d: d.update(dependencies=["data/x.csv"])),
        "field 'dependencies' must be an object of strings, got a list",
    ),
    **other_versions("cache", 4),
    "older-format": (  # records before version 3 had no format tag
        lambda p: edit_json(p, lambda d: d.pop("format")),
        "no format tag (expected 'format': 'cloudpad-cache/4')",
    ),
    "hand-edit-typo": (
        lambda p: edit_json(p, lambda d: rename_key(d, "duration_s", "duraton_s")),
        "unknown field 'duraton_s' (did you mean 'duration_s'?)",
    ),
}


@pytest.mark.parametrize("case", list(RECORD_DAMAGE), ids=list(RECORD_DAMAGE))
def test_damaged_cache_record_is_a_miss_said_once(book, capsys, case):
    damage, expected = RECORD_DAMAGE[case]
    record = cache.record_path(book, book.root / "notebooks" / "a.ipynb")
    damage(record)
    code, text = run_cli(book, capsys, "run")
    assert code == 0, text
    assert text.count(cache.DAMAGED) == 1, text  # said once
    note = next(line for line in text.splitlines() if cache.DAMAGED in line)
    assert note.startswith("note: notebooks/a.ipynb: damaged cache record: _build/cache/notebooks")
    assert expected in note and note.endswith("executed again")
    assert "Traceback" not in text
    assert statuses(book) == {"notebooks/a.ipynb": "executed", "notebooks/b.ipynb": "cached"}
    good = cache.read_record(record)  # a good record replaced the damaged one
    assert good.key_results == {"double": 4}
    code, text = run_cli(book, capsys, "run")
    assert code == 0 and cache.DAMAGED not in text
    assert set(statuses(book).values()) == {"cached"}


# --- the run manifest ---------------------------------------------------------------------------

MANIFEST_DAMAGE = {
    **TEXT_DAMAGE,
    "wrong-shape": (
        lambda p: edit_json(p, lambda d: d.update(notebooks={"a": 1})),
        "the manifest, field 'notebooks' must be a list of objects, got an object",
    ),
    **other_versions("manifest", 1),
    "hand-edit-typo": (
        lambda p: edit_json(p, lambda d: rename_key(d["notebooks"][0], "status", "statsu")),
        "item 1 has an unknown field 'statsu' (did you mean 'status'?)",
    ),
    "unknown-status": (
        lambda p: edit_json(p, lambda d: d["notebooks"][1].update(status="done")),
        "notebook entry 2 (notebooks/b.ipynb) has status 'done'; a status is one of executed",
    ),
}


@pytest.mark.parametrize("case", list(MANIFEST_DAMAGE), ids=list(MANIFEST_DAMAGE))
def test_damaged_manifest_is_refused_then_replaced_by_the_next_run(book, capsys, case):
    damage, expected = MANIFEST_DAMAGE[case]
    accepted_before = baseline.baseline_path(book).read_bytes()
    damage(book.manifest_path)
    for command in ("diff", "accept"):
        code, text = run_cli(book, capsys, command)
        assert code == 2, (command, text)
        assert text.startswith("error: _build/manifest.json: ") and expected in text, text
        assert text.strip().endswith("`cloudpad run` writes a new one")
        one_sentence(text)
    assert baseline.baseline_path(book).read_bytes() == accepted_before
    code, text = run_cli(book, capsys, "run")
    assert code == 0, text
    assert "note: _build/manifest.json: " in text and "replaced by a manifest of this run" in text
    assert statuses(book) == {"notebooks/a.ipynb": "cached", "notebooks/b.ipynb": "cached"}
    code, text = run_cli(book, capsys, "diff")
    assert code == 0 and "No change" in text
    assert not list(book.build_dir.glob("*.tmp"))


# --- the baseline -------------------------------------------------------------------------------


def _drop_a_comma(path: Path) -> None:
    text = path.read_text()
    cut = text.index('"tolerance"') - 1  # the line break after the value's comma
    comma = text.rindex(",", 0, cut)
    path.write_text(text[:comma] + text[comma + 1 :])


def _first_result(data: dict) -> dict:
    return data["notebooks"]["notebooks/a.ipynb"]["results"]["double"]


BASELINE_DAMAGE = {
    "hand-edit-missing-comma": (_drop_a_comma, "JSON"),  # line and column checked below
    "truncated": TEXT_DAMAGE["truncated"],
    "tolerance-not-a-number": (
        lambda p: edit_json(p, lambda d: _first_result(d).update(tolerance="0.1%")),
        "result 'double' of notebooks/a.ipynb, field 'tolerance' must be a number, got a string",
    ),
    "negative-tolerance": (
        lambda p: edit_json(p, lambda d: _first_result(d).update(tolerance=-0.1)),
        "result 'double' of notebooks/a.ipynb: tolerance must be a number >= 0, got -0.1",
    ),
    "hand-edit-typo": (
        lambda p: edit_json(p, lambda d: rename_key(_first_result(d), "tolerance", "tolerence")),
        "result 'double' of notebooks/a.ipynb has an unknown field 'tolerence' "
        "(did you mean 'tolerance'?)",
    ),
    "wrong-shape": (
        lambda p: edit_json(p, lambda d: d.update(notebooks=[])),
        "field 'notebooks' must be an object, got a list",
    ),
    **other_versions("baseline", 1),
}


@pytest.mark.parametrize("case", list(BASELINE_DAMAGE), ids=list(BASELINE_DAMAGE))
def test_damaged_baseline_is_refused_and_never_overwritten(book, capsys, case):
    damage, expected = BASELINE_DAMAGE[case]
    path = baseline.baseline_path(book)
    good = path.read_bytes()
    damage(path)
    damaged = path.read_bytes()
    if case == "hand-edit-missing-comma":
        with pytest.raises(json.JSONDecodeError) as error:  # where the file is wrong
            json.loads(damaged)
        expected = f"not valid JSON at line {error.value.lineno}, column {error.value.colno}"
    for command in ("diff", "accept"):
        code, text = run_cli(book, capsys, command)
        assert code == 2, (command, text)
        assert text.startswith("error: results/baseline.json: ") and expected in text, text
        assert "`cloudpad accept` does not replace a baseline it cannot read" in text
        one_sentence(text)
        assert path.read_bytes() == damaged
    code, text = run_cli(book, capsys, "run")
    assert code == 0 and path.read_bytes() == damaged
    assert not list(path.parent.glob("*.tmp"))
    path.write_bytes(good)  # repaired: a successful accept is what writes the file
    code, text = run_cli(book, capsys, "accept")
    assert code == 0 and baseline.load(book)["format"] == baseline.FORMAT


# --- the run lock -------------------------------------------------------------------------------

LOCK_CONTENT = {
    "garbage": b"\x00\xff\xfe garbage \x01" * 40,
    "empty": b"",
    "unknown-format": json.dumps({"format": "cloudpad-lock/9", "pid": 1}).encode(),
    "names-a-live-process": json.dumps({"format": LOCK_FORMAT, "pid": 1}).encode(),
}


@pytest.mark.parametrize("case", list(LOCK_CONTENT), ids=list(LOCK_CONTENT))
def test_a_lock_file_nobody_holds_never_blocks(book, capsys, case):
    lock = book.build_dir / ".lock"
    lock.write_bytes(LOCK_CONTENT[case])
    code, text = run_cli(book, capsys, "run")
    assert code == 0 and "waiting" not in text, text
    assert json.loads(lock.read_text())["format"] == LOCK_FORMAT  # rewritten by the run


def test_a_held_lock_of_unknown_format_is_named_while_waiting(book):
    lock = book.build_dir / ".lock"
    command = [sys.executable, "-m", "cloudpad", "--root", str(book.root), "run"]
    with open(lock, "wb") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.write(json.dumps({"format": "cloudpad-lock/9"}).encode())
        handle.flush()
        second = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
        line = second.stderr.readline()
        assert line.startswith("waiting: another cloudpad run (process unknown: _build/.lock")
        assert "is of format 'cloudpad-lock/9', not 'cloudpad-lock/1'" in line
        assert second.poll() is None  # a live holder is the one thing that makes a run wait
    assert second.wait(timeout=120) == 0
