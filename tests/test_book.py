"""The whole book: `cloudpad build` executes every article and renders every toc entry.

This module builds the real book once (through the cache, so after `make book`
it costs little), then checks the site as a reader gets it: an HTML page per toc
entry, the generated report pages, articles that re-execute to the same outputs,
and, in headless Chromium, pages whose figures load and carry alt text.
"""

from __future__ import annotations

import functools
import http.server
import json
import shutil
import threading
from pathlib import Path

import nbformat
import pytest

from cloudpad.cli import main
from cloudpad.pipeline import manifest, runner
from cloudpad.pipeline.outcomes import failure_report
from cloudpad.pipeline.project import Project

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

# Everything here shares one build of the real book in _build/: `make test` runs
# pytest-xdist with --dist loadfile, so this module stays on one worker.
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built() -> Project:
    project = Project(ROOT)
    code = main(["--root", str(ROOT), "build"])
    assert code == 0, "cloudpad build failed (see the output above)"
    return project


def test_html_page_for_every_toc_entry(built):
    for entry in built.toc_entries():
        page = HTML / f"{entry}.html"
        assert page.is_file(), f"no HTML page for toc entry {entry!r}"
        assert page.stat().st_size > 2000
    assert (HTML / "index.html").is_file()


def test_site_renders_executed_notebooks_only(built):
    config = built.config()
    assert config["execute"]["execute_notebooks"] == "off"
    for nb in built.notebooks():
        executed = nbformat.read(built.executed_dir / built.relative(nb), as_version=4)
        outputs = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs]
        assert outputs, f"{nb.name}: the rendered copy has no outputs"
        assert not [o for o in outputs if o.output_type == "error"]


def test_execution_report_lists_every_article(built):
    page = (HTML / "reports" / "execution.html").read_text()
    last = manifest.outcomes(manifest.load(built.manifest_path))
    assert {o.notebook for o in last} == {str(built.relative(p)) for p in built.notebooks()}
    assert all(o.status in ("executed", "cached") for o in last)
    for nb in built.notebooks():
        stem = nb.stem
        assert f"{stem}.html" in page, f"execution report does not link {stem}"
    for package in ("papermill", "jupyter-book", "numpy", "Python"):
        assert package in page


def test_data_sources_page_lists_every_resource(built):
    page = (HTML / "reports" / "data-sources.html").read_text()
    descriptor = json.loads((ROOT / "data" / "datapackage.json").read_text())
    for resource in descriptor["resources"]:
        assert resource["path"] in page, f"{resource['name']} missing from the data page"
    assert "Used by" in page


def test_articles_are_deterministic(built):
    """Executing every article again gives byte-identical outputs."""

    def outputs() -> dict[str, list]:
        found = {}
        for nb in built.notebooks():
            executed = nbformat.read(built.executed_dir / built.relative(nb), as_version=4)
            found[nb.name] = [c.outputs for c in executed.cells if c.cell_type == "code"]
        return found

    before = outputs()
    result = runner.run(built, force=True)
    assert result.ok, failure_report(result)
    assert outputs() == before


@pytest.fixture(scope="module")
def server(built):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(HTML))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield chromium
        chromium.close()


def test_articles_in_a_browser(built, server, browser):
    shots = ROOT / "_build" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    for nb in built.notebooks():
        rel = built.relative(nb).with_suffix(".html")
        page.goto(f"{server}/{rel}")
        page.wait_for_load_state("load")
        title = page.locator("main h1").first.inner_text()
        assert len(title) > 5, f"{rel}: no title"
        figures = page.locator("main figure")
        assert figures.count() >= 3, f"{rel}: {figures.count()} figures"
        for i in range(figures.count()):
            figure = figures.nth(i)
            image = figure.locator("img").first
            alt = image.get_attribute("alt") or ""
            assert len(alt) > 10, f"{rel}: figure {i + 1} has no alt text"
            loaded = image.evaluate("img => img.complete && img.naturalWidth > 0")
            assert loaded, f"{rel}: figure {i + 1} did not load"
            assert figure.locator("figcaption").inner_text().strip(), f"{rel}: no caption"
        text = page.locator("main").inner_text()
        assert "Traceback" not in text, f"{rel}: an error output is shown"
        assert page.locator("main .citation, main [role='doc-bibliography']").count() > 0 or (
            "References" in text
        )
        page.screenshot(path=str(shots / f"{nb.stem}.png"), full_page=False)
    page.close()


def test_home_page_links_work(built, server, browser):
    page = browser.new_page()
    page.goto(f"{server}/index.html")  # redirects to the root page, intro.html
    page.wait_for_url("**/intro.html")
    links = page.locator("nav.bd-docs-nav a.reference.internal")
    hrefs = {links.nth(i).get_attribute("href") for i in range(links.count())}
    assert len(hrefs) >= len(built.toc_entries()) - 1
    for href in sorted(h for h in hrefs if h and not h.startswith("#")):
        response = page.request.get(f"{server}/{href.split('#')[0]}")
        assert response.ok, f"broken navigation link {href}"
    page.close()


def test_data_sources_page_names_the_articles_that_read_each_dataset(built):
    """'Used by' comes from the files each kernel opened: check it against the loads in the code."""
    import re

    page = (ROOT / "_build" / "src" / "reports" / "data-sources.md").read_text()
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
