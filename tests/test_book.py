"""The whole book: `cloudpad build` executes every article and renders every toc entry.

The real book is built once per test session in a temporary copy of the project
(``built_book`` in conftest.py, shared with tests/test_browser.py, which checks
the site in a browser). Here: an HTML page per toc entry, the generated report
pages, and articles that re-execute to the same outputs.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from cloudpad.pipeline import manifest, runner
from cloudpad.pipeline.project import Project

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built(built_book: Project) -> Project:
    return built_book


@pytest.fixture(scope="module")
def html(built_book: Project) -> Path:
    return built_book.build_dir / "html"


def test_html_page_for_every_toc_entry(built, html):
    for entry in built.toc_entries():
        page = html / f"{entry}.html"
        assert page.is_file(), f"no HTML page for toc entry {entry!r}"
        assert page.stat().st_size > 2000
    assert (html / "index.html").is_file()


def test_site_renders_executed_notebooks_only(built):
    config = built.config()
    assert config["execute"]["execute_notebooks"] == "off"
    for nb in built.notebooks():
        executed = nbformat.read(built.executed_dir / built.relative(nb), as_version=4)
        outputs = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs]
        assert outputs, f"{nb.name}: the rendered copy has no outputs"
        assert not [o for o in outputs if o.output_type == "error"]


def test_articles_write_nothing_to_stderr(built):
    """A warning is a bug to fix: its text names the kernel's temporary file, so a cell that
    warns also differs between runs (and readers never see stderr: the site removes it)."""
    found = []
    for nb in built.notebooks():
        executed = nbformat.read(built.executed_dir / built.relative(nb), as_version=4)
        for i, cell in enumerate(executed.cells):
            for out in cell.get("outputs", []):
                if out.get("name") == "stderr":
                    found.append(f"{nb.name}, cell {i + 1}: {out.text.strip()[:200]}")
    assert found == []


def test_execution_report_lists_every_article(built, html):
    page = (html / "reports" / "execution.html").read_text()
    last = manifest.outcomes(manifest.load(built.manifest_path))
    assert {o.notebook for o in last} == {str(built.relative(p)) for p in built.notebooks()}
    assert all(o.status in ("executed", "cached") for o in last)
    for nb in built.notebooks():
        stem = nb.stem
        assert f"{stem}.html" in page, f"execution report does not link {stem}"
    for package in ("papermill", "jupyter-book", "numpy", "Python"):
        assert package in page


def test_data_sources_page_lists_every_resource(built, html):
    page = (html / "reports" / "data-sources.html").read_text()
    descriptor = json.loads((built.root / "data" / "datapackage.json").read_text())
    for resource in descriptor["resources"]:
        assert resource["path"] in page, f"{resource['name']} missing from the data page"
    assert "Used by" in page


def test_articles_are_deterministic(built):
    """Executing every article again gives the same outputs, cell by cell.

    The second execution writes nothing (``runner.check_deterministic``), so the
    build under test, which CI also publishes, stays as it was built.
    """
    from cloudpad.pipeline.executors.local import ProcessPoolExecutor
    from cloudpad.pipeline.plan import prepare

    executor = ProcessPoolExecutor()
    try:
        problems = runner.check_deterministic(built, prepare(built, None, ()), executor)
    finally:
        executor.close()
    assert problems == []


def test_data_sources_page_names_the_articles_that_read_each_dataset(built):
    """'Used by' comes from the files each kernel opened: check it against the loads in the code."""
    import re

    page = (built.build_dir / "src" / "reports" / "data-sources.md").read_text()
    sections = {
        m.group(1): body
        for body in page.split("\n## ")
        if (m := re.search(r"\(resource `([a-z0-9_]+)`\)", body))
    }
    checked = 0
    for nb in built.notebooks():
        code = "\n".join(
            c.source for c in nbformat.read(nb, as_version=4).cells if c.cell_type == "code"
        )
        for name in set(re.findall(r"""load\(\s*["']([a-z0-9_]+)["']""", code)):
            link = f"../{built.relative(nb)}"
            assert link in sections[name], f"{name}: 'Used by' does not list {nb.name}"
            checked += 1
    assert checked >= 4


def test_every_page_states_the_content_licence_in_its_footer(built, html):
    for entry in built.toc_entries():
        page = (html / f"{entry}.html").read_text()
        footer = page[page.index('<div class="extra_footer">') :]
        assert 'href="https://creativecommons.org/licenses/by/4.0/">CC BY 4.0</a>' in footer, entry
