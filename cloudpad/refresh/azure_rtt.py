"""``azure_rtt_p95_ms`` from the Markdown source of Microsoft Learn's latency page.

Source: ``articles/networking/azure-network-latency.md`` of
``MicrosoftDocs/azure-docs`` (CC BY 4.0), read at the current commit of ``main``
(nothing is downloaded when the commit, or the file's ETag, is the one read
last time).  The page is the source of
https://learn.microsoft.com/azure/networking/azure-network-latency .

**Which percentile.**  The page has stated monthly averages, then P50 and, in
one July 2026 edition, P95; two copies of the same edition disagree.  Every
sentence of the page naming a percentile ("based on the 95th percentile (P95)",
"The monthly Percentile P95 round trip times") is read; they must agree, and
the page is refused unless they say P95, the dataset's meaning.  A page naming
no percentile in these words is refused too (unknown wording).

**Values.**  Every pipe table whose first header cell is ``Source`` (one per
tab): the first column is the source region, the others destinations, values
whole milliseconds; the diagonal is empty.  A pair found in two tables must
have one value.  The fenced ``csv`` block after the tabs, when present, repeats
the full matrix and must agree with the tables.  Measurements are asymmetric:
A->B and B->A are separate rows, never symmetrised.
"""

from __future__ import annotations

import csv
import io
import re

from cloudpad.refresh.base import Context, Fetched, Source, github_file, github_state
from cloudpad.refresh.http import SourceError

PART = "all"
REPO = "MicrosoftDocs/azure-docs"
BRANCH = "main"
PATH = "articles/networking/azure-network-latency.md"
PAGE = "https://learn.microsoft.com/azure/networking/azure-network-latency"
SUPERSEDES = (PAGE,)
PERCENTILE = 95

_STATEMENTS = (
    re.compile(r"based on the (\d+)(?:st|nd|rd|th) percentile \(P(\d+)\)", re.I),
    re.compile(r"monthly Percentile P(\d+) round trip times", re.I),
)
_TAKEN = re.compile(r"dataset was taken on \*([^*]+)\*")
_MS_DATE = re.compile(r"^ms\.date:\s*(\S+)", re.M)


def percentiles(text: str) -> set[int]:
    """Every percentile the page states (see the module's rule)."""
    found: set[int] = set()
    for pattern in _STATEMENTS:
        for match in pattern.finditer(text):
            values = {int(g) for g in match.groups()}
            found |= values
            if len(values) > 1:  # "the 50th percentile (P95)": contradicts itself
                found.add(-1)
    return found


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _put(pairs: dict[tuple[str, str], int], src: str, dst: str, cell: str, where: str) -> None:
    if cell == "":
        return  # the diagonal, or no measurement for this pair
    if not cell.isdigit():
        raise SourceError(f"{where}: {src} -> {dst} is {cell!r}, not whole milliseconds")
    value = int(cell)
    old = pairs.get((src, dst))
    if old is not None and old != value:
        raise SourceError(f"{where}: {src} -> {dst} is given as {old} and as {value} ms")
    pairs[(src, dst)] = value


def table_pairs(text: str, where: str) -> dict[tuple[str, str], int]:
    """``(source, destination) -> ms`` from every ``| Source | ...`` pipe table."""
    pairs: dict[tuple[str, str], int] = {}
    lines = text.splitlines()
    for i, line in enumerate(lines):
        head = _cells(line) if line.lstrip().startswith("|") else []
        if not head or head[0] != "Source" or i + 1 >= len(lines):
            continue
        destinations = head[1:]
        for row in lines[i + 2 :]:
            if not row.lstrip().startswith("|"):
                break
            cells = _cells(row)
            if len(cells) != len(head):
                raise SourceError(
                    f"{where}: a row of the table of {', '.join(destinations)} has "
                    f"{len(cells)} cells, its header {len(head)}: {row.strip()[:80]!r}"
                )
            for dst, cell in zip(destinations, cells[1:], strict=True):
                _put(pairs, cells[0], dst, cell, where)
    return pairs


def csv_pairs(text: str, where: str) -> dict[tuple[str, str], int]:
    """``(source, destination) -> ms`` from the fenced ``csv`` block (empty if none)."""
    match = re.search(r"^```csv\n(.*?)^```", text, re.M | re.S)
    if not match:
        return {}
    rows = list(csv.reader(io.StringIO(match.group(1))))
    head = rows[0]
    pairs: dict[tuple[str, str], int] = {}
    for row in rows[1:]:
        if len(row) != len(head):
            raise SourceError(
                f"{where}: a row of the csv block has {len(row)} cells, not {len(head)}"
            )
        for dst, cell in zip(head[1:], row[1:], strict=True):
            _put(pairs, row[0].strip(), dst.strip(), cell.strip(), where)
    return pairs


def parse(text: str, where: str) -> tuple[list[dict[str, str]], str]:
    """The dataset's rows from the page's text, and the page's dataset date."""
    stated = percentiles(text)
    if stated != {PERCENTILE}:
        said = ", ".join(f"P{p}" for p in sorted(stated) if p >= 0) or "no percentile"
        raise SourceError(
            f"{where}: the page states {said}"
            + (" (contradicting itself)" if -1 in stated or len(stated) > 1 else "")
            + f"; azure_rtt_p95_ms holds P{PERCENTILE} round trips, so it is not refreshed from it"
        )
    pairs = table_pairs(text, where)
    if not pairs:
        raise SourceError(f"{where}: no latency table ('| Source | ...') on the page")
    block = csv_pairs(text, where)
    differ = [k for k in block.keys() & pairs.keys() if block[k] != pairs[k]]
    if differ:
        src, dst = sorted(differ)[0]
        raise SourceError(
            f"{where}: the tables and the csv block disagree on {len(differ)} pair(s), e.g. "
            f"{src} -> {dst}: {pairs[(src, dst)]} vs {block[(src, dst)]} ms"
        )
    pairs = {**block, **pairs}
    taken = _TAKEN.search(text)
    rows = [
        {"source_region": src, "destination_region": dst, "rtt_p95_ms": str(ms)}
        for (src, dst), ms in sorted(pairs.items())
    ]
    return rows, taken.group(1).strip() if taken else "an undated dataset"


def fetch(ctx: Context) -> Fetched:
    """The P95 round trips of the page at ``main``; unchanged when the commit or ETag is."""
    sha, answer = github_file(ctx, REPO, BRANCH, PATH)
    where = f"{REPO}@{sha[:12]}:{PATH}"
    if answer is None:
        title = f"Microsoft Learn: Azure network round-trip latency statistics ({where})"
        source = Source(title, PAGE, f"{REPO} commit {sha[:7]}")
        return Fetched(None, source, github_state(sha, None, ctx), note=f"{where} unchanged")
    rows, taken = parse(answer.text or "", where)
    found = _MS_DATE.search(answer.text or "")
    ms_date = found.group(1) if found else "not stated"
    source = Source(
        f"Microsoft Learn: Azure network round-trip latency statistics ({REPO}@{sha}:{PATH}, "
        f"ms.date {ms_date}, dataset taken on {taken}, P{PERCENTILE}; retrieved "
        f"{ctx.today.isoformat()})",
        PAGE,
        f"ms.date {ms_date} (dataset taken on {taken}; {REPO} commit {sha[:7]})",
    )
    return Fetched(rows, source, github_state(sha, answer, ctx), note=f"dataset taken on {taken}")
