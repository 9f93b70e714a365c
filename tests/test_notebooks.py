"""Every article notebook is stored clean, is in the book, and has the article standard's shape.

The shape checks follow docs/article-standard.md: the question first, one
``parameters`` cell with a unit for each input, at least three captioned figures
with alt text, glued numbers, "Try it yourself" and references, 1,000-2,500
words of prose, short visible code cells.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest

from cloudpad.site.registry import entries as generated_entries

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(
    p for p in (ROOT / "notebooks").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts
)
IDS = [str(p.relative_to(ROOT)) for p in NOTEBOOKS]


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def prose(nb: nbformat.NotebookNode) -> str:
    """Markdown text without code fences, directive blocks and roles' targets."""
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    text = re.sub(r"```.*?```", " ", text, flags=re.S)
    text = re.sub(r":::.*?:::", " ", text, flags=re.S)
    text = re.sub(r"\{[a-z:]+\}`[^`]*`", " N ", text)
    text = re.sub(r"\$\$.*?\$\$", " ", text, flags=re.S)
    return text


def test_there_are_articles():
    assert len(NOTEBOOKS) >= 4


def test_toc_and_notebooks_agree(project):
    entries = project.toc_entries()
    missing = [
        e for e in entries if project.resolve_entry(e) is None and e not in generated_entries()
    ]
    assert missing == [], f"_toc.yml entries without a file: {missing}"
    in_toc = {project.resolve_entry(e) for e in entries}
    orphans = [str(p.relative_to(ROOT)) for p in NOTEBOOKS if p not in in_toc]
    assert orphans == [], f"notebooks missing from _toc.yml: {orphans}"
    assert len(entries) == len(set(entries)), "a _toc.yml entry appears twice"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_stored_clean(path):
    nb = read(path)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"cell {i + 1} stored with outputs (run `make hooks`)"
            assert cell.execution_count is None, f"cell {i + 1} stored with an execution count"
        assert "papermill" not in cell.metadata, f"cell {i + 1} has Papermill metadata"
    assert "papermill" not in nb.metadata


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_parameters_cell(path):
    nb = read(path)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters'"
    source = tagged[0].source
    tree = ast.parse(source)
    lines = source.splitlines()
    assert tree.body, "the parameters cell is empty"
    for node in tree.body:
        assert isinstance(node, ast.Assign), f"line {node.lineno}: only assignments allowed"
        ast.literal_eval(node.value)  # a literal, so `-p` can override it
        line = lines[node.end_lineno - 1]
        assert "#" in line, f"line {node.lineno}: {line!r} needs a comment giving its unit"
    index = nb.cells.index(tagged[0])
    following = nb.cells[index + 1].source
    assert "article.parameters(" in following, "the cell after the parameters checks them"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_article_shape(path):
    nb = read(path)
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# "), "starts with a title"
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    figures = re.findall(r"```\{(?:glue:figure|figure)\}(.*?)```", markdown, flags=re.S)
    assert len(figures) >= 3, f"{len(figures)} figures; the standard asks for at least 3"
    for fig in figures:
        assert re.search(r"^:alt: \S", fig, flags=re.M), f"figure without alt text: {fig[:60]}"
        body = [ln for ln in fig.splitlines()[1:] if ln.strip() and not ln.startswith(":")]
        assert body, f"figure without a caption: {fig[:60]}"
    assert "{glue:text}" in markdown or "{glue}" in markdown, "numbers in prose must be glued"
    assert re.search(r"\{footcite(:[pt])?\}", markdown), "no citation ({footcite})"
    assert not re.search(r"\{cite(:[pt])?\}", markdown), (
        "use {footcite}: {cite} clashes across pages"
    )
    assert re.search(r"^## Try it yourself", markdown, flags=re.M)
    assert "cloudpad run notebooks/" in markdown
    assert re.search(r"^## References", markdown, flags=re.M)
    assert "{footbibliography}" in markdown
    words = len(re.findall(r"[A-Za-z][A-Za-z'-]*", prose(nb)))
    assert 1000 <= words <= 2500, f"{words} words of prose; the standard asks for 1,000-2,500"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_code_cells_stay_short(path):
    """Every code cell, shown or hidden, is at most 15 lines (the article standard)."""
    long = {
        i + 1: len(cell.source.splitlines())
        for i, cell in enumerate(read(path).cells)
        if cell.cell_type == "code" and len(cell.source.splitlines()) > 15
    }
    assert long == {}, f"cells over 15 lines (cell: lines): {long}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_plumbing_goes_through_the_article_api(path):
    """Values, figures and parameter checks go through cloudpad.article, not copied plumbing."""
    code = "\n".join(c.source for c in read(path).cells if c.cell_type == "code")
    assert "article.parameters(" in code
    assert not re.search(r"from myst_nb import glue|\bglue\(|plt\.close\(", code), (
        "glue values with article.publish and figures with article.figure"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_data_only_through_cloudpad(path):
    code = "\n".join(c.source for c in read(path).cells if c.cell_type == "code")
    assert not re.search(r"read_csv|open\(|urlopen|requests\.", code), (
        "articles read data only with cloudpad.data.load"
    )


def test_citations_resolve():
    keys = set()
    for bib in (ROOT / "references").glob("*.bib"):
        keys |= set(re.findall(r"^@\w+\{([^,]+),", bib.read_text(), flags=re.M))
    used = set()
    for path in NOTEBOOKS:
        markdown = "\n".join(c.source for c in read(path).cells if c.cell_type == "markdown")
        for group in re.findall(r"\{footcite(?::[pt])?\}`([^`]+)`", markdown):
            used |= {k.strip() for k in group.split(",")}
    assert used, "no citations found"
    assert used <= keys, f"cited but not in references/*.bib: {sorted(used - keys)}"


def test_bibtex_keys_unique_across_files():
    seen: dict[str, str] = {}
    for bib in sorted((ROOT / "references").glob("*.bib")):
        for key in re.findall(r"^@\w+\{([^,]+),", bib.read_text(), flags=re.M):
            assert key not in seen, f"{key} is in both {seen[key]} and {bib.name}"
            seen[key] = bib.name


def test_figure_and_section_labels_are_unique_across_the_book():
    """Sphinx labels are global: two articles naming a figure alike fail the strict build."""
    seen: dict[str, str] = {}
    clashes = []
    for path in NOTEBOOKS:
        markdown = "\n".join(c.source for c in read(path).cells if c.cell_type == "markdown")
        labels = set(re.findall(r"^:name:\s*(\S+)", markdown, flags=re.M))
        labels |= set(re.findall(r"^\(([^)\s]+)\)=\s*$", markdown, flags=re.M))
        for label in labels:
            if label in seen:
                clashes.append(f"{label}: {seen[label]} and {path.name}")
            seen[label] = path.name
    assert clashes == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_glossary_terms_are_linked(path):
    """Each article links the glossary at the first use of its terms (the build checks targets)."""
    markdown = "\n".join(c.source for c in read(path).cells if c.cell_type == "markdown")
    terms = re.findall(r"\{term\}`([^`]+)`", markdown)
    assert len(terms) >= 4, f"only {len(terms)} glossary links"
    targets = [t.split("<")[-1].rstrip(">").strip().lower() for t in terms]
    assert len(targets) == len(set(targets)), "a term is linked more than once"
