"""Rendering: Jupyter Book renders executed notebooks only, with warnings as errors."""

from __future__ import annotations

import functools
import http.server
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import nbformat
import pytest

from cloudpad.cli import main
from cloudpad.site import linkcheck
from cloudpad.site import render as site

ROOT = Path(__file__).resolve().parents[1]
PARAMS = "n = 2  # count, 1..10: items"
GLUE = "from myst_nb import glue\nglue('answer', 6 * 7, display=False)"


def add_markdown(path: Path, text: str) -> None:
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell(text))
    nbformat.write(nb, path)


@pytest.fixture
def small_book(make_book):
    book = make_book({"article": (PARAMS, [GLUE])})
    shutil.rmtree(book.data_dir)
    shutil.copytree(ROOT / "data", book.data_dir)  # the data-sources page needs a descriptor
    return book


def test_good_book_renders_with_generated_pages(small_book):
    add_markdown(
        small_book.root / "notebooks" / "article.ipynb", "The answer is {glue:text}`answer`."
    )
    assert main(["--root", str(small_book.root), "build"]) == 0
    html = site.html_dir(small_book)
    page = (html / "notebooks" / "article.html").read_text()
    assert "42" in page
    assert (small_book.build_dir / "src" / "reports" / "execution.md").is_file()
    assert (small_book.build_dir / "src" / "reports" / "data-sources.md").is_file()
    # Jupyter Book rendered the executed copy: its outputs, not a new execution.
    staged = nbformat.read(small_book.build_dir / "src" / "notebooks" / "article.ipynb", 4)
    assert any(c.get("outputs") for c in staged.cells if c.cell_type == "code")
    # The parameters cell is collapsed for readers in the staged copy, not in the source.
    (params,) = [c for c in staged.cells if "parameters" in c.metadata.get("tags", [])]
    assert params.metadata["tags"] == ["parameters", "hide-input"]
    source = nbformat.read(small_book.root / "notebooks" / "article.ipynb", 4)
    assert "hide-input" not in source.cells[1].metadata["tags"]
    # myst-nb draws a hide-input cell as a <details> (no script needed) holding its code
    toggles = re.findall(r'<details class="[^"]*\bhide above-input">(.*?)</details>', page, re.S)
    assert len(toggles) == 1
    assert re.sub(r"<[^>]+>", "", toggles[0]).count("n = 2  # count") == 1


def test_linkcheck_reports_the_broken_external_links(small_book, tmp_path):
    """`make linkcheck` on a built book: links to a server on this machine, one of them dead."""
    served = tmp_path / "served"
    served.mkdir()
    (served / "here.html").write_text("<p>here</p>")
    handler = functools.partial(_Quiet, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        add_markdown(
            small_book.root / "notebooks" / "article.ipynb",
            f"A [working link]({base}/here.html) and a [dead one]({base}/gone.html).",
        )
        assert main(["--root", str(small_book.root), "build"]) == 0
        code, text = linkcheck.check(small_book)
    finally:
        server.shutdown()
    assert code == 1
    assert "external links checked, 1 broken." in text
    assert f"<{base}/gone.html>" in text and f"{base}/here.html" not in text
    assert "404" in text
    saved = (small_book.build_dir / "linkcheck" / "report.md").read_text()
    assert saved == text


def test_linkcheck_without_a_built_book_says_what_to_do(small_book):
    code, text = linkcheck.check(small_book)
    assert code == 2 and "run `make book` first" in text


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        ("Unknown {glue:text}`no_such_key`.", "no_such_key"),
        ("See {numref}`fig-missing`.", "fig-missing"),
        ("```{glue:figure} no_such_figure\n:alt: x\n\nCaption.\n```", "no_such_figure"),
    ],
)
def test_warnings_fail_the_build(small_book, capsys, markdown, expected):
    add_markdown(small_book.root / "notebooks" / "article.ipynb", markdown)
    assert main(["--root", str(small_book.root), "build"]) == 1
    err = capsys.readouterr().err
    assert "Jupyter Book failed" in err
    assert expected in err


def test_site_never_built_from_a_failed_notebook(small_book, capsys):
    path = small_book.root / "notebooks" / "article.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("raise ValueError('bad input')"))
    nbformat.write(nb, path)
    assert main(["--root", str(small_book.root), "build"]) == 1
    assert "site not rendered" in capsys.readouterr().err
    assert not (site.html_dir(small_book) / "notebooks" / "article.html").exists()


def test_python_dash_m_is_the_cli(small_book):
    done = subprocess.run(
        [sys.executable, "-m", "cloudpad", "params", "notebooks/article.ipynb"],
        cwd=small_book.root,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[1].split() == ["n", "2", "count", "1..10", "items"]
    bad = subprocess.run(
        [sys.executable, "-m", "cloudpad", "run", "notebooks/article.ipynb", "-p", "m", "1"],
        cwd=small_book.root,
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2
    assert "unknown parameter 'm'" in bad.stderr


def test_unchanged_book_is_not_rendered_again_but_an_edit_is(small_book, capsys):
    article = small_book.root / "notebooks" / "article.ipynb"
    add_markdown(article, "The answer is {glue:text}`answer`.")
    assert main(["--root", str(small_book.root), "build"]) == 0
    page = site.html_dir(small_book) / "notebooks" / "article.html"
    first = page.stat().st_mtime_ns
    capsys.readouterr()
    assert main(["--root", str(small_book.root), "build"]) == 0
    assert "site up to date" in capsys.readouterr().err
    assert page.stat().st_mtime_ns == first
    add_markdown(article, "A new closing paragraph.")  # prose only: no kernel, a new page
    assert main(["--root", str(small_book.root), "build"]) == 0
    err = capsys.readouterr().err
    assert "0 executed, 1 from cache" in err and "site rendered" in err
    assert "A new closing paragraph." in page.read_text()


def test_params_works_outside_a_book_folder(small_book, tmp_path_factory):
    """`cloudpad params` reads only the notebook: no _toc.yml is needed where it runs."""
    notebook = small_book.root / "notebooks" / "article.ipynb"
    elsewhere = tmp_path_factory.mktemp("not-a-book")
    assert not any((d / "_toc.yml").exists() for d in (elsewhere, *elsewhere.parents))
    done = subprocess.run(
        [sys.executable, "-m", "cloudpad", "params", str(notebook)],
        cwd=elsewhere,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "count" in done.stdout and "1..10" in done.stdout
