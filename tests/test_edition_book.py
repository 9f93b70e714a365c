"""The real book against its committed baseline (results/baseline.json).

Uses the session's one build of the real book (``built_book`` in conftest.py),
so it costs nothing beyond the build the book tests need anyway.
"""

from __future__ import annotations

import pytest

from cloudpad.pipeline import baseline

pytestmark = pytest.mark.slow


def test_no_key_result_moved_without_a_reason(built_book):
    """A result that differs from the baseline must have a changed input behind it.

    Inputs: the article's code and parameters, the data files and ``cloudpad``
    modules it read (by hash), Python, the kernel and requirements.txt.  A move
    with none of them changed is a hidden input or nondeterminism.
    """
    path = baseline.baseline_path(built_book)
    assert path.is_file(), (
        f"{path} is missing: run `cloudpad run`, review, then `cloudpad accept` and commit it"
    )
    drift = baseline.project_drift(built_book)
    assert not drift, "unexplained drift:\n" + baseline.describe_drift(drift)


def test_changes_page_is_built(built_book):
    page = built_book.build_dir / "src" / "reports" / "changes.md"
    text = page.read_text(encoding="utf-8")
    assert text.startswith("# What changed in this edition")
    assert (built_book.build_dir / "html" / "reports" / "changes.html").is_file()
