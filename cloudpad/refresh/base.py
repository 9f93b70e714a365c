"""What every adapter shares: its context, its result, the instance types to price, GitHub files.

An adapter is a module with ``PART`` (the part of the dataset it refreshes: a
provider of ``instance_prices``, or ``"all"``), ``SUPERSEDES`` (the descriptor's
source links its fresh source replaces) and ``fetch(context) -> Fetched``.  It
raises :class:`~cloudpad.refresh.http.SourceError` (one sentence) when its
source cannot be read or says something unexpected.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cloudpad.refresh.http import Answer, Client, SourceError, Validators

#: The curated table of the instance types the book prices (vCPUs and memory where the
#: provider's price list has none).
INSTANCE_TYPES = "instance_types"


@dataclass(frozen=True)
class Source:
    """Where a part's rows came from, as a ``sources`` entry of the descriptor."""

    title: str
    path: str
    version: str  # the version or date of what was read (an offer version, a commit, a day)

    def entry(self) -> dict[str, str]:
        return {"title": self.title, "path": self.path, "version": self.version}


@dataclass
class Context:
    """What an adapter gets: the HTTP client, the data folder, the date and its last state.

    ``now`` is the instant prices are resolved at (a price in effect then);
    ``state`` is what the adapter stored after its last successful run (a
    version, a commit, ETag and Last-Modified), empty the first time.
    """

    client: Client
    data_dir: Path
    today: dt.date
    now: dt.datetime
    state: Mapping[str, Any] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Fetched:
    """An adapter's result: its rows (None: the source has not changed) and what to keep."""

    rows: list[dict[str, str]] | None
    source: Source
    state: dict[str, Any] = field(default_factory=dict)
    note: str = ""  # what was read, for the report: a version, a commit, a dataset date

    @property
    def unchanged(self) -> bool:
        return self.rows is None


@dataclass(frozen=True)
class InstanceType:
    """One row of ``instance_types``: vCPUs and GiB when curated (None: from the price list)."""

    provider: str
    instance_type: str
    vcpu: int | None
    memory_gib: float | None


def instance_types(data_dir: Path, provider: str) -> list[InstanceType]:
    """The instance types of ``provider`` the book prices, in the order of the table."""
    import pandas as pd

    from cloudpad import data

    table = data.load(INSTANCE_TYPES, data_dir)
    rows = table[table["provider"] == provider]
    return [
        InstanceType(
            provider,
            str(r.instance_type),
            None if pd.isna(r.vcpu) else int(r.vcpu),
            None if pd.isna(r.memory_gib) else float(r.memory_gib),
        )
        for r in rows.itertuples(index=False)
    ]


def size_of(kind: InstanceType, lister: str) -> tuple[int, float]:
    """vCPUs and GiB of ``kind`` from ``instance_types``; SourceError when not curated there."""
    if kind.vcpu is None or kind.memory_gib is None:
        raise SourceError(
            f"instance_types has no vCPUs or memory for {kind.instance_type} ({kind.provider}): "
            f"{lister} lists neither"
        )
    return kind.vcpu, kind.memory_gib


def regional_source(title: str, regions: tuple[str, ...], today: dt.date, url: str) -> Source:
    """The descriptor source of a price list read for ``regions`` on ``today``."""
    day = today.isoformat()
    return Source(f"{title}, {', '.join(regions)} (retrieved {day})", url, f"read {day}")


def number(value: float) -> str:
    """A number as the CSV files hold it: up to 10 significant digits, no trailing zeros."""
    return f"{value:.10g}"


@dataclass(frozen=True)
class Priced:
    """One Linux price of ``instance_prices``: where, what, how much (USD/h), from where."""

    provider: str
    region: str
    instance_type: str
    vcpu: int
    memory_gib: float
    price_per_hour_usd: float
    pricing_model: str
    source: str

    def row(self, today: dt.date) -> dict[str, str]:
        """The row as ``instance_prices.csv`` holds it, read ``today``."""
        return {
            "provider": self.provider,
            "region": self.region,
            "instance_type": self.instance_type,
            "vcpu": str(self.vcpu),
            "memory_gib": number(self.memory_gib),
            "price_per_hour_usd": number(self.price_per_hour_usd),
            "pricing_model": self.pricing_model,
            "os": "linux",
            "source": self.source,
            "retrieved": today.isoformat(),
        }


def iso_instant(value: str) -> dt.datetime:
    """``2026-06-01T00:00:00Z`` -> an aware datetime."""
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


# --- files of public GitHub repositories, read at the branch's current commit -----------

GITHUB_API = "https://api.github.com"
RAW = "https://raw.githubusercontent.com"
_SHA = re.compile(r"^[0-9a-f]{40}$")


def head_commit(client: Client, repo: str, branch: str) -> str:
    """The commit ``branch`` of ``repo`` points at (GitHub answers the bare SHA)."""
    url = f"{GITHUB_API}/repos/{repo}/commits/{branch}"
    answer = client.get(url, headers={"Accept": "application/vnd.github.sha"})
    sha = (answer.text or "").strip()
    if not _SHA.match(sha):
        raise SourceError(f"{url}: expected a 40-digit commit SHA, got {sha[:60]!r}")
    return sha


def github_file(ctx: Context, repo: str, branch: str, path: str) -> tuple[str, Answer | None]:
    """``path`` of ``repo`` at the current commit of ``branch``: (commit, answer).

    The answer is None when the commit is the one read last time
    (``ctx.state["commit"]``) or the file answers 304 to the last ETag: the
    source has not changed, and nothing is downloaded.
    """
    sha = head_commit(ctx.client, repo, branch)
    if sha == ctx.state.get("commit"):
        return sha, None
    last = Validators(ctx.state.get("etag"), ctx.state.get("last_modified"))
    answer = ctx.client.get(f"{RAW}/{repo}/{sha}/{path}", validators=last)
    return sha, None if answer.not_modified else answer


def github_state(sha: str, answer: Answer | None, ctx: Context) -> dict[str, Any]:
    """What to keep after reading a GitHub file: its commit and validators."""
    if answer is None:
        return {**ctx.state, "commit": sha}
    return {
        "commit": sha,
        "etag": answer.validators.etag,
        "last_modified": answer.validators.last_modified,
    }
