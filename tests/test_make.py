"""The Makefile and the locks a fresh clone installs.

`make book` installs the runtime lock only; `make test` adds the dev and dask
locks; every lock pins every package with hashes, is compiled by the command in
its header (the one `make lock` runs) and agrees with the others; the Makefile
checks Python and venv before it makes a virtual environment; `make help` lists
every target. Dry runs (`make -n`) in a copy of the files the Makefile reads, so
nothing is installed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LOCKS = (
    "requirements.txt",
    "requirements-dev.txt",
    "requirements-dask.txt",
    "requirements-lab.txt",
)
PIN = re.compile(r"^([a-z0-9][a-z0-9._-]*)==([^ ;\\]+)", re.M)


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    """The files the Makefile reads, as a fresh clone has them (no .venv)."""
    for name in ("Makefile", "pyproject.toml", *LOCKS):
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def make(folder: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "--no-print-directory", *args], cwd=folder, capture_output=True, text=True
    )


def _installs(dry_run: str) -> list[str]:
    return [line for line in dry_run.splitlines() if "pip install" in line]


def test_make_book_installs_the_runtime_lock_only(clone):
    done = make(clone, "-n", "book")
    assert done.returncode == 0, done.stderr
    installs = _installs(done.stdout)
    assert len(installs) == 2, installs
    assert installs[0].endswith("--require-hashes -r requirements.txt")
    assert installs[1].endswith("--no-deps -e .")  # cloudpad itself, its dependencies locked
    assert "cloudpad build" in done.stdout


def test_make_test_adds_the_dev_and_dask_locks(clone):
    installs = _installs(make(clone, "-n", "test").stdout)
    assert installs[0].endswith("--require-hashes -r requirements.txt")
    assert installs[-1].endswith(
        "--require-hashes -r requirements-dev.txt -r requirements-dask.txt"
    )


def test_make_help_lists_every_target():
    done = make(ROOT, "help")
    listed = set(re.findall(r"^make (\S+)", done.stdout, re.M))
    targets = set(re.findall(r"^([a-z][\w-]*):", (ROOT / "Makefile").read_text(), re.M))
    assert targets and listed == targets, f"not in make help: {targets - listed}"


def _fake_python(folder: Path, patch: str) -> Path:
    """A python3 that runs the real one with ``patch`` applied at start-up (sitecustomize)."""
    site = folder / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(patch)
    fake = folder / "python3"
    fake.write_text(f'#!/bin/sh\nPYTHONPATH="{site}" exec "{sys.executable}" "$@"\n')
    fake.chmod(0o755)
    return fake


@pytest.mark.parametrize(
    ("target", "patch", "messages"),
    [
        (  # a Python older than 3.11
            "venv",
            "import sys\nsys.version_info = (3, 10, 14, 'final', 0)\n",
            ["make: Python 3.11 or newer is needed", "make PYTHON=/path/to/python3.11 venv"],
        ),
        (  # Debian's python3 without python3-venv (no ensurepip)
            "book",
            "import sys\nsys.modules['ensurepip'] = None\n",
            ["-m venv' is not available", "apt-get install python3-venv"],
        ),
    ],
    ids=["python-3.10", "no-venv"],
)
def test_an_unfit_python_is_refused_before_anything_is_made(clone, target, patch, messages):
    fake = _fake_python(clone, patch)
    done = make(clone, target, f"PYTHON={fake}")
    assert done.returncode != 0
    for message in messages:
        assert message in done.stdout
    assert not (clone / ".venv").exists()


def test_a_missing_python_is_named(clone):
    done = make(clone, "book", "PYTHON=python3.99-not-here")
    assert done.returncode != 0 and "'python3.99-not-here' was not found" in done.stdout


# --- the locks ---------------------------------------------------------------------------


def _pins(name: str) -> dict[str, str]:
    return dict(PIN.findall((ROOT / name).read_text()))


def test_every_lock_pins_every_package_with_hashes():
    for name in LOCKS:
        text = (ROOT / name).read_text()
        entries = re.split(r"\n(?=[a-z0-9])", text.split("\n", 2)[2])
        assert len(entries) > 50, name
        for entry in entries:
            assert PIN.match(entry), f"{name}: not pinned: {entry.splitlines()[0]}"
            assert "--hash=sha256:" in entry, f"{name}: no hash for {entry.splitlines()[0]}"


def test_each_lock_is_compiled_by_the_command_make_lock_runs():
    makefile = (ROOT / "Makefile").read_text()
    compile_args = re.search(r"^COMPILE := (.*)$", makefile, re.M).group(1)
    recipe = re.search(r"^lock:.*\n((?:\t.*\n)+)", makefile, re.M).group(1)
    recipe = re.sub(r"\\\n\s*", "", recipe).replace("$(BIN)/", "")
    recipe = recipe.replace("$(COMPILE)", compile_args)
    commands = {" ".join(line.replace("$(LOCK_ARGS)", "").split()) for line in recipe.splitlines()}
    for name in LOCKS:
        header = (ROOT / name).read_text().splitlines()[1].lstrip("#").strip()
        assert header in commands, f"{name} was compiled by `{header}`, not by make lock"
        assert f"-o {name}" in header


def test_the_runtime_lock_holds_no_tool_of_the_dev_or_dask_extras():
    runtime = _pins("requirements.txt")
    for tool in ("pytest", "ruff", "hypothesis", "playwright", "zizmor", "uv", "dask"):
        assert tool not in runtime
        assert tool in _pins("requirements-dev.txt") or tool in _pins("requirements-dask.txt")
    for needed in ("papermill", "jupyter-book", "ipykernel", "numpy", "matplotlib"):
        assert needed in runtime


def test_the_locks_agree_on_every_package_they_share():
    """Installed together (`make test`, `make lab`), no lock moves another's pin."""
    pins = {name: _pins(name) for name in LOCKS}
    for i, a in enumerate(LOCKS):
        for b in LOCKS[i + 1 :]:
            differ = {
                p: (pins[a][p], pins[b][p])
                for p in set(pins[a]) & set(pins[b])
                if pins[a][p] != pins[b][p]
            }
            assert not differ, f"{a} and {b} pin differently: {differ}"
    runtime = set(pins["requirements.txt"])
    assert all(runtime <= set(pins[name]) for name in LOCKS)  # each lock installs alone too
