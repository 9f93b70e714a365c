"""The README's reliability table is the list of fault cases, kept true.

Each row of the table in README's "Reliability" section names its tests in
the last column (``module::function[parameter ids]``).  The fault modules
(``tests/test_faults*.py``) are collected by pytest itself, so the test ids
here are the ones CI runs; every collected case must be in the table once,
every listed case must exist, and the count in the section's text must be the
table's.  (That each case passes is what CI's run of those modules checks.)
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: One named test in the table's last column: `module.py::function` or `…::function[id, id]`.
ENTRY = re.compile(r"`(test_\w+\.py)::(\w+)(?:\[([^\]`]+)\])?`")


def reliability_section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("\n## Reliability\n")
    return text[start : text.index("\n## ", start + 1)]


def listed_cases(section: str) -> list[str]:
    """Test ids named in the table, as pytest prints them (``tests/module::function[id]``)."""
    cases = []
    for line in section.splitlines():
        if not line.startswith("| ") or line.startswith(("| case", "| ---")):
            continue
        last = line.rstrip(" |").rsplit(" | ", 1)[1]
        for module, function, ids in ENTRY.findall(last):
            names = [f"[{i.strip()}]" for i in ids.split(",")] if ids else [""]
            cases += [f"tests/{module}::{function}{name}" for name in names]
    return cases


def collected_cases() -> list[str]:
    modules = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "tests").glob("test_faults*.py"))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            *modules,
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return [line for line in done.stdout.splitlines() if "::" in line]


def test_every_fault_case_is_in_the_reliability_table_once():
    section = reliability_section()
    listed = listed_cases(section)
    collected = collected_cases()
    assert len(collected) > 34  # the modules were found and collected
    twice = [case for case, n in Counter(listed).items() if n > 1]
    assert not twice, f"listed more than once in README's reliability table: {twice}"
    missing = sorted(set(collected) - set(listed))
    assert not missing, f"fault cases not in README's reliability table: {missing}"
    unknown = sorted(set(listed) - set(collected))
    assert not unknown, f"README's reliability table names tests that do not exist: {unknown}"
    count = re.search(r"(\d+) cases, all\s+passing", section)
    assert count and int(count[1]) == len(collected), (
        f"README says {count[1] if count else 'no'} cases; the fault modules have {len(collected)}"
    )
