"""Helpers of the refresh tests: a throw-away data folder and the recorded provider answers.

The data folder is the book's own descriptor and ``cloud_regions`` with small
tables written by each test (the instance types of the recorded answers, an old
snapshot), so the adapters run against real answers and the checks against real
schemas.  The recorded answers and their origin: ``tests/fixtures/refresh/README.md``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
from collections.abc import Sequence
from pathlib import Path

import httpx
import respx

from cloudpad.refresh import aws_prices, azure_prices, azure_rtt, eks_eni, gcp_prices
from cloudpad.refresh.base import GITHUB_API, RAW
from cloudpad.refresh.http import Client

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "refresh"
DATA = ROOT / "data"

#: The day the tests refresh on, and the instant prices are resolved at.
TODAY = dt.date(2026, 12, 7)
NOW = dt.datetime(2026, 12, 7, 4, 23, tzinfo=dt.UTC)

#: Commits the GitHub answers name (the book's snapshots name these; see the README).
EKS_COMMIT = "81fec2e895854f599974fe4d3d72f61c0a9aaffa"
DOCS_COMMIT = "5b3e2055eddead4c24aac48156dad9f006268126"

TYPES_HEADER = ["provider", "instance_type", "vcpu", "memory_gib", "source"]
PRICES_HEADER = [
    "provider", "region", "instance_type", "vcpu", "memory_gib", "price_per_hour_usd",
    "pricing_model", "os", "source", "retrieved",
]  # fmt: skip


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def csv_text(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([[str(v) for v in row] for row in rows])
    return out.getvalue()


#: Instance types of the recorded answers.  vCPUs and GiB of Azure and GCP types are what
#: the providers' size pages give: Standard_D2s_v3 2 vCPU / 8 GiB (Microsoft Learn, Dsv3
#: series); n4d-standard-2 2 vCPU / 8 GB (Google Cloud, N4D machine series: standard = 4 GB
#: per vCPU).  AWS types take theirs from the price list.
TYPES = [
    ["aws", "p4d.24xlarge", "", "", "AWS Price List"],
    ["azure", "Standard_D2s_v3", 2, 8, "Microsoft Learn Dsv3 size page"],
    ["gcp", "n4d-standard-2", 2, 8, "Google Cloud N4D machine series page"],
]

#: The old snapshot: the prices the recorded answers hold, read on earlier days.
OLD_PRICES = [
    [*where, vcpu, gib, price, model, "linux", "old", day]
    for where, vcpu, gib, price, model, day in (
        (("aws", "us-east-1", "p4d.24xlarge"), 96, 1152, 32.7726, "on-demand", "2026-07-20"),
        (("azure", "eastus", "Standard_D2s_v3"), 2, 8, 0.096, "on-demand", "2026-06-18"),
        (("azure", "eastus", "Standard_D2s_v3"), 2, 8, 0.018816, "spot", "2026-06-18"),
        (("gcp", "us-central1", "n4d-standard-2"), 2, 8, 0.0847, "on-demand", "2026-07-30"),
        (("gcp", "us-central1", "n4d-standard-2"), 2, 8, 0.045196, "spot", "2026-07-30"),
    )
]


def rtt_rows(destinations: set[str]) -> list[list[str]]:
    """The committed round trips into ``destinations`` (the book's copy of the same page)."""
    with open(DATA / "azure_rtt_p95_ms.csv", encoding="utf-8", newline="") as handle:
        return [r for r in list(csv.reader(handle))[1:] if r[1] in destinations]


#: The destinations of the three tabs of the recorded P95 excerpt.
EXCERPT_DESTINATIONS = {
    "West Central US", "West US", "West US 2", "West US 3", "Central US", "North Central US",
    "South Central US", "East US", "East US 2",
}  # fmt: skip


def make_data(
    folder: Path,
    *,
    prices: Sequence[Sequence[object]] = OLD_PRICES,
    types: Sequence[Sequence[object]] = TYPES,
    eni: Sequence[Sequence[object]] = (("p4d.24xlarge", 15, 50),),
    rtt: Sequence[Sequence[object]] | None = None,
) -> Path:
    """A data folder: the book's descriptor and cloud_regions, these small tables."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(DATA / "datapackage.json", folder / "datapackage.json")
    shutil.copy(DATA / "cloud_regions.csv", folder / "cloud_regions.csv")
    (folder / "instance_types.csv").write_text(csv_text(TYPES_HEADER, types))
    (folder / "instance_prices.csv").write_text(csv_text(PRICES_HEADER, prices))
    (folder / "eks_eni_limits.csv").write_text(
        csv_text(["instance_type", "max_enis", "ipv4_per_eni"], eni)
    )
    rows = rtt_rows(EXCERPT_DESTINATIONS) if rtt is None else rtt
    (folder / "azure_rtt_p95_ms.csv").write_text(
        csv_text(["source_region", "destination_region", "rtt_p95_ms"], rows)
    )
    return folder


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every data file and the descriptor, byte for byte (not the refresh status)."""
    return {
        p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.name != "refresh-status.json"
    }


class Sleeps(list):
    """Records the waits of a :class:`Client` instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client() -> tuple[Client, Sleeps]:
    sleeps = Sleeps()
    return Client(sleep=sleeps), sleeps


# --- the routes of each source, answered with the recorded files -------------------------


def route_azure(mock: respx.MockRouter, body: bytes | None = None) -> respx.Route:
    """The eastus sweep answered with the recorded D2s v3 items."""
    return mock.get(azure_prices.region_url("eastus"), name="azure").mock(
        return_value=httpx.Response(
            200, content=body or fixture("azure_prices/standard_d2s_v3_eastus.json")
        )
    )


def route_aws(mock: respx.MockRouter, body: bytes | None = None, **headers: str) -> respx.Route:
    return mock.get(aws_prices.offer_url("us-east-1"), name="aws").mock(
        return_value=httpx.Response(
            200, content=body or fixture("aws_prices/pricing-us-east-1.json"), headers=headers
        )
    )


def route_gcp(mock: respx.MockRouter, body: bytes | None = None) -> respx.Route:
    return mock.get(url__startswith=gcp_prices.API, name="gcp").mock(
        return_value=httpx.Response(200, content=body or fixture("gcp_prices/n4_skus.first12.json"))
    )


def route_github(
    mock: respx.MockRouter, repo: str, path: str, commit: str, body: bytes, **headers: str
) -> tuple[respx.Route, respx.Route]:
    """GitHub's answer naming ``commit`` (constructed: the bare SHA) and the file at it."""
    head = mock.get(f"{GITHUB_API}/repos/{repo}/commits/main", name=f"{repo} head").mock(
        return_value=httpx.Response(200, text=commit)
    )
    raw = mock.get(f"{RAW}/{repo}/{commit}/{path}", name=f"{repo} file").mock(
        return_value=httpx.Response(200, content=body, headers=headers)
    )
    return head, raw


def route_eks(mock: respx.MockRouter, body: bytes | None = None, **headers: str):
    return route_github(
        mock, eks_eni.REPO, eks_eni.PATH, EKS_COMMIT,
        body or fixture("eks_eni/instance-info.jsonl"), **headers,
    )  # fmt: skip


def route_rtt(mock: respx.MockRouter, body: bytes | None = None, **headers: str):
    return route_github(
        mock, azure_rtt.REPO, azure_rtt.PATH, DOCS_COMMIT,
        body or fixture("azure_rtt/azure-network-latency.p95.excerpt.md"), **headers,
    )  # fmt: skip


def only_recorded_regions(monkeypatch) -> None:
    """The recorded answers cover eastus (Azure) and us-central1 (GCP) only."""
    monkeypatch.setattr(azure_prices, "REGIONS", ("eastus",))
    monkeypatch.setattr(gcp_prices, "REGIONS", ("us-central1",))


def answer_all(mock: respx.MockRouter) -> None:
    """Every source answered with its recorded file."""
    for route in (route_azure, route_aws, route_gcp, route_eks, route_rtt):
        route(mock)
