"""Check the external links of the built book and report the broken ones (``make linkcheck``).

Runs Sphinx's ``linkcheck`` builder (through Jupyter Book, execution off) over
the book that ``cloudpad build`` staged in ``_build/src``, so it checks exactly
the pages the site was rendered from, generated pages included, in a folder of
its own (``_build/linkcheck``, never the site's).  Sphinx writes one JSON line
per link to ``output.json`` there; this module turns
the broken ones (and those that timed out) into a short Markdown report,
``_build/linkcheck/report.md``, printed and, in a GitHub Actions run, appended to
the run's summary (``$GITHUB_STEP_SUMMARY``).  Exit code 0 when every link
answered, 1 when one is broken, 2 when there is no staged book (run
``make book`` first) or Jupyter Book failed.  The weekly CI job runs it without
blocking the book: a dead link on another site is reported, not a failure of
the edition.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cloudpad.pipeline.project import Project, find_project
from cloudpad.site.render import jupyter_book_command, staging_dir

#: Link states Sphinx's linkcheck reports that mean the link does not work.
BROKEN = frozenset({"broken", "timeout"})


@dataclass(frozen=True)
class Link:
    """One link Sphinx checked: the page, the line, the URL, its state and what it said."""

    page: str
    line: int
    uri: str
    status: str
    info: str = ""


def output_dir(project: Project) -> Path:
    """Where the linkcheck builder writes (``_build/linkcheck``)."""
    return project.build_dir / "linkcheck"


def read_output(path: Path) -> list[Link]:
    """The links of Sphinx's ``output.json`` (one JSON object a line)."""
    links = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            entry = json.loads(line)
            links.append(
                Link(
                    page=str(entry.get("filename", "")),
                    line=int(entry.get("lineno") or 0),
                    uri=str(entry.get("uri", "")),
                    status=str(entry.get("status", "")),
                    info=str(entry.get("info", "")),
                )
            )
    return links


def report(links: Iterable[Link]) -> str:
    """Markdown: how many links were checked, and a table of the broken ones."""
    links = list(links)
    broken = sorted((x for x in links if x.status in BROKEN), key=lambda x: (x.page, x.line))
    external = [x for x in links if x.uri.startswith(("http://", "https://"))]
    lines = [
        "## External links of the book",
        "",
        f"{len(external)} external links checked, {len(broken)} broken.",
    ]
    if broken:
        lines += ["", "| page | line | link | what happened |", "| --- | ---: | --- | --- |"]
        for x in broken:
            info = x.info.replace("|", "\\|").replace("\n", " ")[:200]
            lines.append(f"| {x.page} | {x.line} | <{x.uri}> | {x.status}: {info} |")
    return "\n".join(lines) + "\n"


def check(project: Project) -> tuple[int, str]:
    """Run the linkcheck builder on the staged book; returns the exit code and the report."""
    staged = staging_dir(project)
    if not (staged / "_config.yml").is_file():
        return 2, f"no staged book in {staged}: run `make book` first, then `make linkcheck`\n"
    folder = output_dir(project)
    output = folder / "_build" / "html" / "output.json"  # where Jupyter Book puts it
    output.unlink(missing_ok=True)
    command = jupyter_book_command(staged, folder, "linkcheck")
    done = subprocess.run(command, capture_output=True, text=True, cwd=project.root)
    if not output.is_file():
        return 2, f"Jupyter Book's linkcheck failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    links = read_output(output)
    text = report(links)
    (folder / "report.md").write_text(text, encoding="utf-8")
    return (1 if any(x.status in BROKEN for x in links) else 0), text


def main() -> int:
    """``python -m cloudpad.site.linkcheck`` (``make linkcheck``)."""
    code, text = check(find_project())
    print(text, end="")
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as handle:
            handle.write(text)
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
