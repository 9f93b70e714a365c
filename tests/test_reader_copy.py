"""What staging does to an article for readers: stderr dropped, a dated note under the title.

The note says when the article was last executed and whether the datasets it
read (the data files among its outcome's dependencies) are within the freshness
their descriptor declares. It is checked here on small books; the browser tests
check how the real book shows it.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import nbformat
import pytest
import yaml

from cloudpad.pipeline.outcomes import Outcome
from cloudpad.site import render

ROOT = Path(__file__).resolve().parents[1]


def _outcome(notebook: str, dependencies: dict[str, str]) -> Outcome:
    return Outcome(
        notebook=notebook,
        status="executed",
        duration_s=1.0,
        executed_at="2026-03-05T09:30:00+00:00",
        reason="code changed",
        output=f"_build/executed/{notebook}",
        dependencies=dependencies,
    )


@pytest.fixture
def book(make_book, tmp_path):
    """A one-article book with a copy of the real data package, one dataset made stale."""
    project = make_book({"article": ("n = 2  # count, 1..10: items", ["print('hello')"])})
    shutil.rmtree(project.data_dir)
    shutil.copytree(ROOT / "data", project.data_dir)
    descriptor = json.loads((project.data_dir / "datapackage.json").read_text())
    first = descriptor["resources"][0]
    first["retrieved"] = "2020-01-01"
    first["valid_for_days"] = 30
    (project.data_dir / "datapackage.json").write_text(json.dumps(descriptor, indent=2))
    return project, first["name"], f"data/{first['path']}"


def test_note_names_the_day_of_the_run(book):
    project, _, _ = book
    note = render.article_note(project, _outcome("notebooks/article.ipynb", {}), _datasets(book))
    assert note.startswith("Last executed on 5 March 2026")
    assert "reads no dataset" in note


def _datasets(book):
    project, _, _ = book
    return render.Datasets.of(project, today=dt.date(2026, 3, 6))


def test_note_flags_stale_data_the_article_read(book):
    project, stale_name, stale_file = book
    datasets = _datasets(book)
    assert stale_name in datasets.stale
    read_stale = _outcome("notebooks/article.ipynb", {stale_file: "abc", "cloudpad/x.py": "d"})
    note = render.article_note(project, read_stale, datasets)
    assert "past its declared freshness" in note and f"`{stale_name}`" in note
    current = next(f for f, name in datasets.files.items() if name not in datasets.stale)
    read_current = _outcome("notebooks/article.ipynb", {current: "abc"})
    assert render.article_note(project, read_current, datasets).endswith("data current")


def test_note_links_the_report_pages_only_when_the_toc_has_them(book):
    project, _, stale_file = book
    outcome = _outcome("notebooks/article.ipynb", {stale_file: "abc"})
    assert "{doc}" not in render.article_note(project, outcome, _datasets(book))
    toc = yaml.safe_load(project.toc_path.read_text())
    toc["chapters"] += [{"file": "reports/execution"}, {"file": "reports/data-sources"}]
    project.toc_path.write_text(yaml.safe_dump(toc))
    note = render.article_note(project, outcome, _datasets(book))
    assert "{doc}`execution report </reports/execution>`" in note
    assert "{doc}`data sources </reports/data-sources>`" in note


def test_reader_copy_drops_stderr_and_puts_the_note_under_the_title(tmp_path):
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("x = 1")
    code.outputs = [
        nbformat.v4.new_output("stream", name="stderr", text="UserWarning: careful\n"),
        nbformat.v4.new_output("stream", name="stdout", text="for readers\n"),
    ]
    nb.cells = [nbformat.v4.new_markdown_cell("# A title\n\nThe question."), code]
    path = tmp_path / "a.ipynb"
    nbformat.write(nb, path)
    staged = nbformat.reads(render.reader_copy(path, "Last executed on 1 May 2026"), as_version=4)
    first = staged.cells[0].source
    assert first.startswith("# A title\n\n:::{admonition} About this page\n:class: article-note\n")
    assert "\nLast executed on 1 May 2026\n:::\n" in first
    assert first.endswith("The question.")
    outputs = staged.cells[1].outputs
    assert [o.name for o in outputs] == ["stdout"]
