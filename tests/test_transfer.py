"""Tests of cloudpad.models.transfer: price look-ups, traffic, the monthly network bill.

Published values are checked through the book's dataset (``transfer_prices``): a
test that prices a published quantity with the dataset and the model and gets the
published amount checks both.  Each expected value cites the document it is from.
"""

from __future__ import annotations

import dataclasses
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloudpad import data
from cloudpad.exceptions import InputError
from cloudpad.models import cost
from cloudpad.models import transfer as tr

PRICES = data.load("transfer_prices")
AREAS = data.load("transfer_areas")
SERVICES = data.load("platform_services")
CALLS = data.load("platform_dependencies")
PRICING = tr.Pricing(PRICES, AREAS)
EDGE = ["web-storefront", "mobile-bff", "public-api"]


def traffic(**change: float) -> tr.Traffic:
    return tr.platform_traffic(SERVICES, CALLS, EDGE, **(_sizes() | change))


def design(**change: object) -> tr.Design:
    base = dict(
        provider="aws",
        regions=("us-east-1", "us-west-2"),
        zones=3,
        cross_zone=True,
        cdn="static",
        cache_hit_ratio=0.9,
        zone_spill=0.05,
    )
    return tr.Design(**(base | change))


# --- the dataset priced against published amounts ------------------------------------------


def test_aws_internet_egress_tiers_reproduce_the_price_list_amounts():
    # Infracost golden (AWS price list), aws_data_transfer.us-east-2: first 10TB 10,240 GB =
    # $921.60, next 40TB 40,960 GB = $3,481.60, next 100TB 102,400 GB = $7,168.00, over 150TB
    # 3,400 GB = $170.00; us-east-1 uses the same tiers.
    book = PRICING.book("aws", "us-east-1")
    gb = 10_240 + 40_960 + 102_400 + 3_400
    assert cost.transfer_cost(gb, book.internet_tiers) == pytest.approx(
        921.60 + 3481.60 + 7168.00 + 170.00
    )
    # First tier alone: the S3 pricing page's worked example, $0.09 per GB to the internet.
    assert book.internet_tiers[0] == (10_240, 0.09)


def test_cloudfront_tiers_reproduce_the_price_list_amounts():
    # Infracost golden (AWS price list), CloudFront, US/Mexico/Canada: $870.40 + $3,276.80 +
    # $6,144.00 + $14,336.00 + $16,097.28 + $104,857.60 + $141,942.40 for 12,340,000 GB.
    book = PRICING.book("aws", "us-east-1")
    amounts = [870.40, 3276.80, 6144.00, 14336.00, 16097.28, 104857.60, 141942.40]
    assert cost.transfer_cost(12_340_000, book.cdn_tiers) == pytest.approx(sum(amounts))


def test_aws_nat_gateway_and_alb_published_amounts():
    # Infracost golden: NAT gateway 730 h = $32.85 and 100 GB = $4.50; AWS VPC pricing page
    # (Ohio example): "$0.045 per hour ... $0.045 per GB".  ALB 730 h = $16.43 ($0.0225/h).
    book = PRICING.book("aws", "us-east-1")
    assert cost.monthly_cost(book.nat_usd_per_hour) + 100 * book.nat_usd_per_gb == pytest.approx(
        32.85 + 4.50
    )
    assert book.nat_per_zone
    assert round(cost.monthly_cost(book.lb_usd_per_hour), 2) == 16.43


def test_inter_zone_is_billed_on_both_sides_on_aws_only_at_the_sender_on_gcp_free_on_azure():
    # AWS CUR User Guide: "you're charged for both inbound and outbound traffic in a data
    # transfer within an AWS Region", at $0.01/GB each (price list: 2,000 GB = $20.00), so
    # 10 GB across zones costs $0.20.  Google: "Traffic in each direction is designated as
    # egress at the source" ($0.01/GiB).  Azure: "Azure doesn't charge for data transfer
    # between availability zones" (Microsoft Learn, 2025).
    assert 10 * PRICING.book("aws", "us-east-1").inter_zone_usd_per_gb == pytest.approx(0.20)
    assert PRICING.book("gcp", "us-central1").inter_zone_usd_per_gb == pytest.approx(
        0.01 / 1.073741824
    )
    assert PRICING.book("azure", "eastus").inter_zone_usd_per_gb == 0.0


def test_google_cloud_nat_hourly_cap_matches_the_per_vm_price():
    # Two sources: Cyclenerd pricing.yml gives $0.0448 an hour for a gateway (32 or more VMs);
    # Infracost's golden prices 23,360 VM-hours (32 VMs x 730 h) at $32.70, $0.0014 a VM-hour.
    book = PRICING.book("gcp", "us-central1")
    assert book.nat_usd_per_hour == pytest.approx(32 * 32.70 / 23_360, rel=1e-3)


def test_every_item_of_the_dataset_has_a_readable_name():
    enum = data.describe("transfer_prices")["schema"]["fields"][1]["constraints"]["enum"]
    assert sorted(tr.ITEM_NAMES) == sorted(enum)


def test_inter_region_prices():
    # S3 pricing page: "The data transfer charge from US East (N. Virginia) to US East (Ohio)
    # is $0.01 per GB"; price list: us-east-1 to other regions 750 GB = $15.00 ($0.02),
    # sa-east-1 750 GB = $103.50 ($0.138); nothing charged into the destination.
    assert tr.inter_region_price(PRICES, AREAS, "aws", "us-east-1", "us-east-2").usd_per_gb == 0.01
    assert tr.inter_region_price(PRICES, AREAS, "aws", "us-east-1", "eu-west-1").usd_per_gb == 0.02
    assert tr.inter_region_price(PRICES, AREAS, "aws", "sa-east-1", "us-east-1").usd_per_gb == 0.138
    # Google's SKU "Inter Region ... from Americas to Montreal" $0.02 per GiB.
    gcp = tr.inter_region_price(PRICES, AREAS, "gcp", "us-central1", "us-east1")
    assert gcp.usd_per_gb == pytest.approx(0.02 / tr.GB_PER_GIB)
    assert gcp.verified and gcp.row == ("north_america", "north_america")
    # Same region: free; Azure within North America: a secondary price, flagged.
    assert tr.inter_region_price(PRICES, AREAS, "azure", "eastus", "eastus").usd_per_gb == 0.0
    azure = tr.inter_region_price(PRICES, AREAS, "azure", "eastus", "westus2")
    assert (azure.usd_per_gb, azure.verified) == (0.02, False)


def test_inter_region_price_not_found_names_the_pair():
    with pytest.raises(InputError, match=r"no azure inter-region price .* eastus \(north_america\) "
                       r"to westeurope \(europe\)"):  # fmt: skip
        tr.inter_region_price(PRICES, AREAS, "azure", "eastus", "westeurope")
    with pytest.raises(InputError, match="'mars-1' is not a aws region of transfer_areas"):
        tr.inter_region_price(PRICES, AREAS, "aws", "mars-1", "us-east-1")


# --- traffic --------------------------------------------------------------------------------


def test_platform_traffic_by_hand():
    # storefront 1,800 + mobile-bff 2,500 + public-api 1,200 = 5,500 rps at the peak, half on
    # average (peak_to_mean 2), for 730 h: 5,500 / 2 x 2,628,000 s = 7.227e9 requests.
    t = traffic()
    assert t.requests == pytest.approx(5_500 / 2 * 2_628_000)
    assert t.dynamic_gb == pytest.approx(t.requests * 8 * 1024 / 1e9)
    assert t.static_requests == pytest.approx(0.5 * t.requests)
    assert t.static_gb == pytest.approx(t.static_requests * 40 * 1024 / 1e9)
    assert t.request_gb == pytest.approx(1.5 * t.requests * 1024 / 1e9)
    # Calls from the call graph: web-storefront (1,800 rps at the peak) calls catalog-api once
    # and search-api 0.4 times per request, so it alone makes 1,800 x 1.4 calls a second to
    # those two; every caller's rate times its calls per request, summed, splits into calls to
    # services and calls to stateful components (catalog-db, session-cache, ...).
    rate = SERVICES.set_index("service")["peak_requests_per_second"]
    made = rate[CALLS["caller"]].to_numpy() * CALLS["calls_per_request"].to_numpy()
    stateful = set(data.load("platform_stateful")["component"])
    to_state = CALLS["callee"].isin(stateful).to_numpy()
    per_gb = 4 * 1024 / 1e9 / 2 * 2_628_000
    assert t.internal_gb == pytest.approx(made[~to_state].sum() * per_gb)
    assert t.state_gb == pytest.approx(made[to_state].sum() * per_gb)
    assert t.state_calls == pytest.approx(made[to_state].sum() / 2 * 2_628_000)
    assert t.calls + t.state_calls == pytest.approx(made.sum() / 2 * 2_628_000)
    store = CALLS[CALLS["caller"] == "web-storefront"].set_index("callee")["calls_per_request"]
    assert store["catalog-api"] + store["search-api"] == pytest.approx(1.4)
    # 1 MiB/s for 730 h: 1,048,576 x 2,628,000 bytes = 2,755.66 GB.
    assert t.write_gb == pytest.approx(2755.657728)


def test_entry_services_are_the_ones_nobody_calls():
    # The call graph's entry points are the five web front ends and the two public APIs.
    entry = tr.entry_services(SERVICES, CALLS)
    ui = SERVICES.loc[SERVICES["kind"] == "ui", "service"]
    assert sorted(entry) == sorted([*ui, "mobile-bff", "public-api"])
    assert not set(entry) & set(CALLS["callee"])


def test_platform_traffic_refuses_bad_input():
    with pytest.raises(InputError, match="edge_services must name services"):
        tr.platform_traffic(SERVICES, CALLS, ["nope"], **_sizes())
    with pytest.raises(InputError, match=r"peak_to_mean must be within \[1.0, inf\], got 0.5"):
        tr.platform_traffic(SERVICES, CALLS, EDGE, **(_sizes() | {"peak_to_mean": 0.5}))
    with pytest.raises(InputError, match="dynamic_kib must be a finite number >= 0, got -1.0"):
        tr.platform_traffic(SERVICES, CALLS, EDGE, **(_sizes() | {"dynamic_kib": -1.0}))
    stranger = CALLS.assign(caller=CALLS["caller"].replace("web-storefront", "ghost"))
    with pytest.raises(InputError, match=r"callers that are not services: \['ghost'\]"):
        tr.platform_traffic(SERVICES, stranger, EDGE, **_sizes())
    with pytest.raises(InputError, match="dependencies must have columns"):
        tr.platform_traffic(SERVICES, CALLS.drop(columns="callee"), EDGE, **_sizes())


def _sizes() -> dict[str, float]:
    return dict(
        peak_to_mean=2.0,
        dynamic_kib=8.0,
        request_kib=1.0,
        static_objects_per_request=0.5,
        static_object_kib=40.0,
        internal_kib_per_call=4.0,
        write_mib_per_s=1.0,
        nat_gb_per_month=1000.0,
    )


# --- the bill ---------------------------------------------------------------------------------


def test_worked_example_one_region_two_zones_no_cdn():
    # A small case priced by hand with the published AWS prices: 1,000 GB to users (800
    # dynamic, 200 static), no CDN; 500 GB between services over 2 zones, spread evenly (half
    # cross at $0.02 a GB, both sides); 100 GB of writes copied to the other zone; 50 GB out
    # through NAT.
    t = tr.Traffic(
        requests=1e6,
        static_requests=1e6,
        dynamic_gb=800.0,
        static_gb=200.0,
        request_gb=2.0,
        internal_gb=500.0,
        write_gb=100.0,
        nat_gb=50.0,
    )
    d = design(regions=("us-east-1",), zones=2, cdn="none")
    bill = tr.monthly_bill(t, d, PRICING, compute_usd=1000.0)
    assert bill.lines["internet egress"] == pytest.approx(1050 * 0.09)
    assert bill.lines["load balancer"] == pytest.approx(0.0225 * 730 + 2 * 0.008 + 1000 * 0.008)
    assert bill.lines["NAT gateway"] == pytest.approx(2 * 0.045 * 730 + 50 * 0.045)
    assert bill.lines["cross-zone"] == pytest.approx((250 + 100) * 0.02)
    assert bill.lines["cross-region"] == 0.0 and bill.lines["CDN"] == 0.0
    assert bill.total_usd == pytest.approx(bill.transfer_usd + 1000.0)
    assert bill.unverified == ()


def test_calls_to_stateful_components_cross_zones_whatever_the_routing():
    # 300 GB of calls to databases and caches over 3 zones: two thirds reach a primary in
    # another zone with or without zone-aware routing, at $0.02 a GB (both sides on AWS);
    # 600 GB between services cross two thirds spread, 5 % kept local.
    t = tr.Traffic(0.0, 0.0, 0.0, 0.0, 0.0, 600.0, 0.0, 0.0, state_gb=300.0)
    d = design(regions=("us-east-1",), zones=3, cdn="none", zone_spill=0.05)
    spread = tr.monthly_bill(t, d, PRICING).lines["cross-zone"]
    local = tr.monthly_bill(t, dataclasses.replace(d, cross_zone=False), PRICING)
    assert spread == pytest.approx((400 + 200) * 0.02)
    parts = tr.cross_zone_gb(t, d)
    expected = {"service calls": 400, "stateful calls": 200, "replica writes": 0}
    assert parts == pytest.approx(expected)
    assert local.lines["cross-zone"] == pytest.approx((30 + 200) * 0.02)
    one_zone = tr.monthly_bill(t, dataclasses.replace(d, zones=1), PRICING)
    assert one_zone.lines["cross-zone"] == 0.0


def test_worked_example_cdn_and_two_regions():
    # Same traffic behind CloudFront for static objects at a 90 % hit ratio, two regions:
    # CloudFront 200 GB x $0.085 + 1e6 requests x $0.01/10k; origin fill free from AWS;
    # internet: 800 dynamic + 50 NAT GB; writes: each region sends half of 100 GB to the
    # other at $0.02.
    t = tr.Traffic(1e6, 1e6, 800.0, 200.0, 2.0, 500.0, 100.0, 50.0)
    d = design(regions=("us-east-1", "us-west-2"), zones=2, cdn="static", cache_hit_ratio=0.9)
    bill = tr.monthly_bill(t, d, PRICING)
    assert bill.lines["CDN"] == pytest.approx(200 * 0.085 + 100 * 0.01)
    assert bill.lines["internet egress"] == pytest.approx(850 * 0.09)
    # Origin bytes: 800 + 10 % of 200; request bytes reaching it: (1e6 + 1e5) / 2e6 of 2 GB.
    lb = 2 * 0.0225 * 730 + 1.1 * 0.008 + 820 * 0.008
    assert bill.lines["load balancer"] == pytest.approx(lb)
    assert bill.lines["cross-region"] == pytest.approx(2 * 50 * 0.02)
    # Two regions, each with a replica in the other zone, and four NAT gateways.
    assert bill.lines["cross-zone"] == pytest.approx((250 + 200) * 0.02)
    assert bill.lines["NAT gateway"] == pytest.approx(4 * 0.045 * 730 + 50 * 0.045)
    assert "cdn_origin_fill" in bill.unverified


def test_google_cloud_nat_is_regional_and_gib_prices_are_converted():
    t = tr.Traffic(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 100.0)
    d = design(provider="gcp", regions=("us-central1",), zones=3, cdn="none")
    bill = tr.monthly_bill(t, d, PRICING)
    # One Cloud NAT per region ($0.0448/h), $0.045 per GiB processed, $0.12 per GiB out.
    nat = 0.0448 * 730 + 100 * 0.045 / tr.GB_PER_GIB
    assert bill.lines["NAT gateway"] == pytest.approx(nat)
    assert bill.lines["internet egress"] == pytest.approx(100 * 0.12 / tr.GB_PER_GIB)


def test_crossing_share():
    assert tr.crossing_share(1, True) == 0.0
    assert tr.crossing_share(2, True) == 0.5
    assert tr.crossing_share(3, True) == pytest.approx(2 / 3)
    assert tr.crossing_share(3, False, 0.05) == 0.05
    with pytest.raises(InputError, match="zones must be a whole number >= 1, got 0"):
        tr.crossing_share(0, True)


def test_design_refuses_bad_input():
    with pytest.raises(InputError, match="cdn must be one of 'none', 'static', 'all'; got 'yes'"):
        design(cdn="yes")
    with pytest.raises(InputError, match="regions must be distinct"):
        design(regions=("us-east-1", "us-east-1"))
    with pytest.raises(InputError, match=r"cache_hit_ratio must be within \[0, 1\], got 1.5"):
        design(cache_hit_ratio=1.5)
    with pytest.raises(InputError, match="provider must be one of"):
        design(provider="ibm")


def test_sweep_and_compute_bill():
    pods_cpu, pods_mem = [0.5] * 12, [1.0] * 12
    nodes, usd = tr.compute_bill(pods_cpu, pods_mem, 4, 16, 0.2, zones=3, regions=2)
    # 6 vCPU of requests fit on 2 nodes of 4 vCPU; rounded up to 3 (one per zone); 2 regions.
    assert nodes == 3
    assert usd == pytest.approx(3 * 2 * 0.2 * 730)
    table = tr.compute_bills(pods_cpu, pods_mem, 4, 16, 0.2, zones=3, regions=2)
    assert sorted(table) == [(z, r) for z in (1, 2, 3) for r in (1, 2)]
    assert table[(3, 2)] == usd and table[(2, 1)] == pytest.approx(2 * 0.2 * 730)
    compute = {(z, 2): float(z) for z in (1, 2, 3)}
    frame = tr.sweep(traffic(), design(), PRICING, compute, zones=[1, 2, 3])
    assert list(frame["zones"]) == [1, 2, 3]
    assert frame["cross-zone"].is_monotonic_increasing
    assert (frame["total_usd"] == frame["transfer_usd"] + frame["compute_usd"]).all()
    with pytest.raises(InputError, match=r"compute has no bill for \(zones, regions\) = \(4, 2\)"):
        tr.sweep(traffic(), design(), PRICING, compute, zones=[4])
    with pytest.raises(InputError, match="sweep varies exactly one field"):
        tr.sweep(traffic(), design(), PRICING, compute, zones=[1], cdn=["all"])


def test_path_prices_of_aws():
    # First tiers: cross-zone 2 x $0.01; us-east-1 to us-west-2 $0.02; internet $0.09; NAT adds
    # $0.045; ALB response bytes $0.008; CloudFront $0.085.
    got = tr.path_prices(PRICING, "aws", "us-east-1", "us-west-2")
    want = [0.02, 0.02, 0.09, 0.135, 0.098, 0.085]
    assert got["usd_per_gb"].to_numpy() == pytest.approx(want)
    assert got["verified"].all()
    # Azure's internet and inter-region prices are secondary; its free inter-zone is not.
    azure = tr.path_prices(PRICING, "azure", "eastus", "westus2")["verified"]
    assert azure.to_dict() == {
        "cross-zone": True,
        "cross-region": False,
        "internet": False,
        "internet via NAT": False,
        "via load balancer": False,
        "via CDN": False,
    }


def test_break_even_needs_a_cdn():
    with pytest.raises(InputError, match="needs a design with a CDN"):
        tr.break_even_hit_ratio(traffic(), design(cdn="none"), PRICING)


def test_unpriced_region_takes_the_only_priced_one_and_says_so():
    book = PRICING.book("aws", "eu-west-1")
    assert "internet_egress: prices of us-east-1 (none for eu-west-1)" in book.substituted
    assert book.internet_tiers[0] == (10_240, 0.09)


def test_missing_columns_and_unknown_item_rows():
    with pytest.raises(InputError, match="prices must have the columns of transfer_prices"):
        tr.Pricing(PRICES.drop(columns=["billed_side"]), AREAS)
    empty = tr.price_book(PRICES[PRICES["item"] != "lb_hour"], "aws", "us-east-1", "north_america")
    assert empty.lb_usd_per_hour == 0.0
    assert "lb_hour: no price found, counted as 0" in empty.substituted


# --- properties ------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    provider=st.sampled_from(["aws", "azure", "gcp"]),
    zones=st.integers(1, 4),
    cdn=st.sampled_from(list(tr.CDN_MODES)),
    hits=st.tuples(st.floats(0, 1), st.floats(0, 1)),
)
def test_bill_properties(provider, zones, cdn, hits):
    regions = {"aws": ("us-east-1",), "azure": ("eastus",), "gcp": ("us-central1",)}[provider]
    base = design(provider=provider, regions=regions, zones=zones, cdn=cdn)
    low, high = sorted(hits)
    t = traffic()
    a = tr.monthly_bill(t, dataclasses.replace(base, cache_hit_ratio=low), PRICING)
    b = tr.monthly_bill(t, dataclasses.replace(base, cache_hit_ratio=high), PRICING)
    # A higher hit ratio never costs more; every line is non-negative; lines add up.
    assert b.transfer_usd <= a.transfer_usd + 1e-6
    assert all(v >= 0 for v in a.lines.values())
    assert a.transfer_usd == pytest.approx(sum(a.lines.values()))
    # Spreading calls over every zone never costs less than keeping them local.
    local = tr.monthly_bill(t, dataclasses.replace(base, cross_zone=False), PRICING)
    spread = tr.monthly_bill(t, dataclasses.replace(base, cross_zone=True), PRICING)
    assert spread.lines["cross-zone"] >= local.lines["cross-zone"] - 1e-9


@settings(max_examples=30, deadline=None, derandomize=True)
@given(scale=st.floats(0.01, 100))
def test_variable_lines_scale_with_traffic(scale):
    # With the fixed hourly charges taken out, bytes priced per GB below the first tier boundary
    # scale linearly: halve every volume and the cross-zone and cross-region lines halve.
    t = traffic()
    s = tr.Traffic(*(v * scale for v in dataclasses.astuple(t)))
    a, b = tr.monthly_bill(t, design(), PRICING), tr.monthly_bill(s, design(), PRICING)
    for line in ("cross-zone", "cross-region"):
        assert b.lines[line] == pytest.approx(scale * a.lines[line])


def test_zero_traffic_leaves_the_fixed_charges():
    zero = tr.Traffic(*([0.0] * 8))
    bill = tr.monthly_bill(zero, design(cdn="none"), PRICING)
    fixed = 2 * 0.0225 * 730 + 2 * 3 * 0.045 * 730
    assert bill.transfer_usd == pytest.approx(fixed)
    assert math.isfinite(bill.transfer_share)


def test_with_object_size_keeps_the_bytes():
    # 1,000 GB in objects of 100 KiB: 1e12 / 102,400 = 9,765,625 requests.
    t = tr.Traffic(1e6, 1.0, 0.0, 1000.0, 0.0, 0.0, 0.0, 0.0)
    bigger = tr.with_object_size(t, 100.0, 1.0)
    assert bigger.static_gb == 1000.0
    assert bigger.static_requests == pytest.approx(9_765_625)
    assert bigger.request_gb == pytest.approx((1e6 + 9_765_625) * 1024 / 1e9)
    with pytest.raises(InputError, match="static_object_kib must be a finite number > 0, got 0"):
        tr.with_object_size(t, 0.0, 1.0)


def test_break_even_object_size_is_where_the_bills_cross():
    t, d = traffic(), design(cdn="static")
    kib = tr.break_even_object_kib(t, d, PRICING, request_kib=1.0, largest_kib=1e5)
    assert kib is not None and 1.0 < kib < 1e5

    def gap(size: float) -> float:
        moved = tr.with_object_size(t, size, 1.0)
        cdn = tr.monthly_bill(moved, d, PRICING).transfer_usd
        return (
            cdn - tr.monthly_bill(moved, dataclasses.replace(d, cdn="none"), PRICING).transfer_usd
        )

    assert gap(kib) <= 1e-6 < gap(kib * 0.99)
    # In front of every request the CDN also bills each small dynamic response: never cheaper.
    assert tr.break_even_object_kib(t, design(cdn="all"), PRICING, 1.0, 1e5) is None


def test_cdn_request_fee_per_gb():
    # CloudFront HTTPS requests $0.01 per 10,000 (price list): 10,000 objects of 40 KiB are
    # 0.4096 GB, so $0.01 / 0.4096 = $0.0244 per GB.
    got = tr.cdn_request_usd_per_gb(PRICING, "aws", "us-east-1", 40.0)
    assert got == pytest.approx(0.01 / 0.4096)
