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

from cloudpad import declarations
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


def parameters_cell(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    (cell,) = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    return cell


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_parameters_cell(path):
    """One declaration per input, one quantity per parameter, checked by the next cell."""
    nb = read(path)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters'"
    found = declarations.parse(tagged[0].source, where=str(path))  # refuses a bad line
    for node in ast.parse(tagged[0].source).body:  # one line per input (`# fmt: skip` for lists)
        assert node.end_lineno == node.lineno, f"line {node.lineno}: one line per parameter"
    assert len(found) >= 3, "an article has inputs"
    for d in found.values():
        assert d.meaning and len(d.meaning) >= 8, f"{d.name}: say what it means"
        if d.is_list:
            # A list only for several values of one quantity compared side by side: every item
            # is the same kind of value, checked against one declaration of its own.
            kinds = {type(item) for item in d.default}
            assert len(kinds) <= 1, f"{d.name} bundles several kinds of value: {d.default!r}"
    index = nb.cells.index(tagged[0])
    following = nb.cells[index + 1].source
    assert "article.parameters(globals())" in following, "the cell after the parameters checks them"
    assert "Rule(" not in "\n".join(c.source for c in nb.cells if c.cell_type == "code"), (
        "parameters are declared once, in the parameters cell's comments"
    )


#: Numbers that are not assumptions about the reader's system: unit conversions and identities.
NOT_ASSUMPTIONS = {0, 1, 2, 100, 1000, 1024, 60, 24, 3600, 8760, 1e6, 1e9}
#: Literals a notebook may assign outside its parameters cell, each with the reason.
ALLOWED_LITERALS: dict[str, dict[str, str]] = {
    "go-or-java": {
        "user": "0.99: the percentile its key names (p99)",
        "alloc": "x-axis of fig-tail (display)",
        "line": "line styles of fig-tail (display)",
    },
    "kubernetes-migration": {
        "r4": "the prose's worked example: a 4-vCPU, 16-GiB node",
        "k8s.reserved(...)": "the prose's worked example node: 4 vCPU and 16 GiB",
    },
    "small-team": {"mark": "marker style shared by four figures (display)"},
    "extra-nine": {
        "sweep_runs": "10: a seed offset, keeps the sweep's random streams apart from the designs'",
        "sim.multi_region(...)": "10: the same seed offset as sweep_runs",
    },
    "how-many-replicas": {
        "sizes": "display: the sizing figure's replicas axis ends at 1.6 times the SLO fleet",
        "rates": "display: the targets figure's traffic axis, 1/50 to 4 times the peak",
        "p99_wait": "0.99: the 99th percentile that the published sim_p99_wait_ms names",
    },
    "region-placement": {
        "panels": "display: the size and panel heights of the regions figure",
    },
    "tail-at-scale": {
        "servers": "display: the fan-outs the table shows, up to the paper figure's 2,000",
        "checked": "0.5: the median, checked next to user_quantile",
        "latency.max_of_n_check(...)": "0.5: the median, checked next to user_quantile",
        "latency.max_of_n_quantile(...)": "0.5: the median the prose compares the tail with",
        "qs": "display: the percentiles the tied-request table shows",
        "retry_delays_ms": "display: the retry figure's delays, p50 to p98 of one server",
        "p_fail": "display: the amplification panel's axis, 51 points from 0 to 1",
    },
}


def _model_aliases(nb: nbformat.NotebookNode) -> set[str]:
    """Names the notebook binds to ``cloudpad.models`` modules (``import ... as k``)."""
    names = set()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "cloudpad.models"
            ):
                names |= {a.asname or a.name for a in node.names}
            elif isinstance(node, ast.Import):
                names |= {
                    a.asname
                    for a in node.names
                    if a.name.startswith("cloudpad.models") and a.asname
                }
    return names


def _numbers(node: ast.AST) -> list[float]:
    return [
        n.value
        for n in ast.walk(node)
        if isinstance(n, ast.Constant)
        and isinstance(n.value, (int, float))
        and not isinstance(n.value, bool)
        and n.value not in NOT_ASSUMPTIONS
    ]


def _assumed_literals(source: str, models: set[str] = frozenset()) -> list[str]:
    """Numbers outside plotting blocks that a cell assigns to a name or passes to a model.

    ``name = ...number...`` and ``model.function(..., number, ...)`` (``models``
    names the notebook's aliases of ``cloudpad.models`` modules) are flagged.
    """
    tree = ast.parse(source)
    plotting = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.With) and "figure" in ast.unparse(node.items[0].context_expr):
            plotting |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    found = []
    for node in ast.walk(tree):
        if id(node) in plotting:
            continue
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)) and node.value is not None:
            numbers = _numbers(node.value)
            if numbers:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                found.append(f"{', '.join(ast.unparse(t) for t in targets)} = ... {numbers}")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in models
        ):
            arguments = [*node.args, *(k.value for k in node.keywords)]
            numbers = [x for a in arguments if not isinstance(a, ast.Call) for x in _numbers(a)]
            if numbers:
                found.append(f"{ast.unparse(node.func)}(...) = ... {numbers}")
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_no_assumption_is_left_as_a_literal_in_a_later_cell(path):
    """Every number a later cell assigns as an assumption is a parameter instead."""
    nb = read(path)
    allowed = ALLOWED_LITERALS.get(path.stem, {})
    models = _model_aliases(nb)
    flagged = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or cell is parameters_cell(nb):
            continue
        for item in _assumed_literals(cell.source, models):
            if item.split(" = ")[0] not in allowed:
                flagged.append(f"cell {i + 1}: {item}")
    assert not flagged, "make these parameters (or allow-list a constant with its reason):\n" + (
        "\n".join(flagged)
    )


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
    """Every code cell but the parameters cell, shown or hidden, is at most 15 lines."""
    nb = read(path)
    long = {
        i + 1: len(cell.source.splitlines())
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        and cell is not parameters_cell(nb)
        and len(cell.source.splitlines()) > 15
    }
    assert long == {}, f"cells over 15 lines (cell: lines): {long}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_code_lines_stay_within_100_characters(path):
    """Ruff's line limit is lifted for notebooks only for the parameters cell's declarations."""
    nb = read(path)
    long = [
        f"cell {i + 1}: {line[:60]}…"
        for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and cell is not parameters_cell(nb)
        for line in cell.source.splitlines()
        if len(line) > 100
    ]
    assert long == []


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
