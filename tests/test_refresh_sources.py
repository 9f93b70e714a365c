"""The refresh's HTTP client and its five adapters, against recorded provider answers.

No test touches the network: ``respx`` answers at the HTTP layer, so the client's
retries, back-off and conditional requests run for real.  The recorded answers
and their origin are in ``tests/fixtures/refresh/README.md``; expected values
are read off those answers (cited next to each assertion), never off the code.
"""

from __future__ import annotations

import httpx
import pytest
import respx
from refresh_fixtures import (
    DOCS_COMMIT,
    EKS_COMMIT,
    EXCERPT_DESTINATIONS,
    NOW,
    TODAY,
    client,
    fixture,
    make_data,
    only_recorded_regions,
    route_aws,
    route_azure,
    route_eks,
    route_gcp,
    route_rtt,
    rtt_rows,
)

from cloudpad.refresh import aws_prices, azure_prices, azure_rtt, eks_eni, gcp_prices
from cloudpad.refresh.base import Context
from cloudpad.refresh.http import Client, SourceError, Validators, redact, retry_after_s

URL = "https://example.invalid/data.json"


@pytest.fixture
def ctx(tmp_path, monkeypatch):
    """A context over a throw-away data folder, with a client that records its waits."""
    only_recorded_regions(monkeypatch)
    folder = make_data(tmp_path / "data")
    http, sleeps = client()
    context = Context(http, folder, TODAY, NOW, {}, {gcp_prices.KEY_ENV: "SECRET-KEY-123"})
    context.sleeps = sleeps
    yield context
    http.close()


# --- the HTTP client ---------------------------------------------------------------------


@respx.mock
def test_429_then_success_waits_as_long_as_retry_after_asks():
    route = respx.get(URL).mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "7"}),
            httpx.Response(200, text="{}"),
        ]
    )
    http, sleeps = client()
    assert http.get(URL).json() == {}
    assert route.call_count == 2 and sleeps == [7.0]


@respx.mock
def test_500_throughout_fails_after_every_try_with_doubling_waits():
    route = respx.get(URL).mock(return_value=httpx.Response(500))
    http, sleeps = client()
    with pytest.raises(SourceError, match=r"data\.json: HTTP 500 after 4 tries"):
        http.get(URL)
    assert route.call_count == 4 and sleeps == [2.0, 4.0, 8.0]


@respx.mock
def test_a_timeout_is_tried_again_and_then_reported():
    respx.get(URL).mock(side_effect=httpx.ReadTimeout("timed out"))
    http, sleeps = client()
    with pytest.raises(SourceError, match=r"no answer after 4 tries \(ReadTimeout: timed out\)"):
        http.get(URL)
    assert len(sleeps) == 3
    respx.get(URL).mock(side_effect=[httpx.ConnectTimeout("slow"), httpx.Response(200, text="ok")])
    assert client()[0].get(URL).text == "ok"


@respx.mock
def test_a_retry_after_longer_than_allowed_fails_without_waiting():
    respx.get(URL).mock(return_value=httpx.Response(503, headers={"Retry-After": "3600"}))
    http, sleeps = client()
    with pytest.raises(SourceError, match="retry after 3600 s, longer than the 120 s"):
        http.get(URL)
    assert sleeps == []


@respx.mock
def test_a_client_error_is_not_retried_and_names_the_status_and_body():
    route = respx.get(URL).mock(return_value=httpx.Response(404, text="<h1>Not Found</h1>"))
    with pytest.raises(SourceError, match=r"HTTP 404: '<h1>Not Found</h1>'"):
        client()[0].get(URL)
    assert route.call_count == 1


@respx.mock
def test_conditional_request_sends_the_validators_and_304_means_unchanged():
    route = respx.get(URL, headers={"If-None-Match": '"abc"'}).mock(
        return_value=httpx.Response(304)
    )
    answer = client()[0].get(URL, validators=Validators('"abc"', "Mon, 30 Nov 2026 10:00:00 GMT"))
    assert answer.not_modified and route.called
    sent = route.calls[0].request.headers
    assert sent["If-Modified-Since"] == "Mon, 30 Nov 2026 10:00:00 GMT"


def test_retry_after_as_an_http_date_and_an_api_key_never_printed():
    now = 1_790_000_000.0  # Retry-After as a date 30 s after "now"
    import email.utils

    assert retry_after_s(email.utils.formatdate(now + 30, usegmt=True), now=now) == pytest.approx(
        30
    )
    assert retry_after_s("soon") is None
    assert (
        redact("https://x/skus?key=SECRET&pageSize=5000") == "https://x/skus?key=***&pageSize=5000"
    )


# --- Azure Retail Prices -------------------------------------------------------------------


@respx.mock
def test_azure_linux_on_demand_and_spot_not_windows_nor_low_priority(ctx):
    route_azure(respx)
    got = azure_prices.fetch(ctx)
    prices = {(r["instance_type"], r["pricing_model"]): r["price_per_hour_usd"] for r in got.rows}
    # standard_d2s_v3_eastus.json: "D2s v3" Linux 0.096, "D2s v3 Spot" Linux 0.018816; the
    # cheaper Linux "D2s v3 Low Priority" (0.019 > spot, < on-demand) and Windows rows are out.
    assert prices == {
        ("Standard_D2s_v3", "on-demand"): "0.096",
        ("Standard_D2s_v3", "spot"): "0.018816",
    }
    row = got.rows[0]
    assert (row["vcpu"], row["memory_gib"], row["retrieved"]) == ("2", "8", "2026-12-07")


@respx.mock
def test_azure_follows_next_page_link_and_drops_reservation_items(ctx):
    page1 = fixture("azure_prices/pricetype_reservation_page1.last_item.json")
    route_azure(respx, body=page1)
    link = "https://prices.azure.com:443/api/retail/prices?$filter=priceType%20eq%20%27Reservation%27&$skip=1000"
    second = respx.get(link).mock(
        return_value=httpx.Response(
            200, content=fixture("azure_prices/standard_d2s_v3_eastus.json")
        )
    )
    got = azure_prices.fetch(ctx)
    assert second.called and len(got.rows) == 2  # the Reservation item (3214.0 "per hour") dropped


@respx.mock
def test_azure_page_loop_is_refused(ctx):
    page1 = fixture("azure_prices/pricetype_reservation_page1.last_item.json")
    route_azure(respx, body=page1)
    link = "https://prices.azure.com:443/api/retail/prices?$filter=priceType%20eq%20%27Reservation%27&$skip=1000"
    respx.get(link).mock(return_value=httpx.Response(200, content=page1))  # links to itself
    with pytest.raises(SourceError, match="page loop: NextPageLink repeats a page already read"):
        azure_prices.fetch(ctx)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (fixture("azure_prices/standard_d2s_v3_eastus.json")[:400], "not valid JSON .cut short"),
        (b"<html><body>Service Unavailable</body></html>", "not valid JSON .cut short or not JSON"),
        (
            b'{"BillingCurrency":"USD","Items":[],"NextPageLink":null,"Count":0}',
            "no Linux on-demand price for Standard_D2s_v3 in eastus",
        ),
        (
            fixture("azure_prices/standard_d2s_v3_eastus.json").replace(
                b'"unitOfMeasure"', b'"unit"'
            ),
            "an item of Standard_D2s_v3 lacks unitOfMeasure",
        ),
    ],
    ids=["cut-short", "not-json", "zero-items", "missing-field"],
)
@respx.mock
def test_azure_bad_answers_fail_the_source_in_one_sentence(ctx, body, expected):
    # Bodies built from the real answer: its first 400 bytes; an HTML error page; an empty
    # page; the real page with the unitOfMeasure field renamed.
    route_azure(respx, body=body)
    with pytest.raises(SourceError, match=expected) as info:
        azure_prices.fetch(ctx)
    assert "\n" not in str(info.value)


# --- AWS Price List ----------------------------------------------------------------------------


@respx.mock
def test_aws_linux_on_demand_from_the_streamed_offer_file(ctx, monkeypatch):
    route_aws(respx, ETag='"v1"')
    got = aws_prices.fetch(ctx)
    # pricing-us-east-1.json: p4d.24xlarge Linux on-demand "32.7726000000" USD/Hrs, vcpu "96",
    # memory "1152 GiB"; its Capacity Block SKU (0.0000000000, RunInstances:CB) is left out.
    (row,) = got.rows
    assert (row["price_per_hour_usd"], row["vcpu"], row["memory_gib"]) == ("32.7726", "96", "1152")
    assert "offer 20240528203522" in row["source"]
    assert got.state == {"version": "20240528203522", "etag": '"v1"', "last_modified": None}


def test_aws_stops_reading_when_the_version_is_the_one_read_last_time():
    body = fixture("aws_prices/pricing-us-east-1.json")
    chunks = [body[i : i + 256] for i in range(0, len(body), 256)]
    read = []

    def stream():
        for chunk in chunks:
            read.append(chunk)
            yield chunk

    offer = aws_prices.parse(stream(), {"p4d.24xlarge"}, "20240528203522", "offer")
    assert offer.version == "20240528203522" and len(read) < len(chunks) / 5
    whole = aws_prices.parse(iter(chunks), {"p4d.24xlarge"}, None, "offer")
    assert list(whole.products) == ["H7NGEAC6UEHNTKSJ"]  # the Linux on-demand SKU only


@respx.mock
def test_aws_unchanged_version_or_304_means_no_rows(ctx):
    ctx.state = {"version": "20240528203522", "etag": '"v1"'}
    route = respx.get(aws_prices.offer_url()).mock(return_value=httpx.Response(304))
    got = aws_prices.fetch(ctx)
    assert got.unchanged and route.calls[0].request.headers["If-None-Match"] == '"v1"'
    respx.get(aws_prices.offer_url()).mock(
        return_value=httpx.Response(200, content=fixture("aws_prices/pricing-us-east-1.json"))
    )
    assert aws_prices.fetch(ctx).unchanged


@respx.mock
def test_aws_a_type_without_an_hourly_price_fails_the_source(ctx, monkeypatch, tmp_path):
    # pricing-us-east-2.json: m5.large is Linux/Shared/Used, but its OnDemand terms hold only
    # a 3-year "Upfront Fee" (unit Quantity): no hourly price.
    monkeypatch.setattr(aws_prices, "REGION", "us-east-2")
    make_data(ctx.data_dir, types=[["aws", "m5.large", "", "", "AWS Price List"]])
    respx.get(aws_prices.offer_url("us-east-2")).mock(
        return_value=httpx.Response(200, content=fixture("aws_prices/pricing-us-east-2.json"))
    )
    with pytest.raises(
        SourceError, match="no Linux on-demand hourly price for m5.large in us-east-2"
    ):
        aws_prices.fetch(ctx)


@respx.mock
def test_aws_offer_file_cut_short_fails_the_source(ctx):
    route_aws(respx, body=fixture("aws_prices/pricing-us-east-1.json")[:3000])
    with pytest.raises(SourceError, match="the offer file is cut short or not JSON"):
        aws_prices.fetch(ctx)


# --- GCP Cloud Billing Catalog -----------------------------------------------------------------


@respx.mock
def test_gcp_price_is_vcpus_times_core_plus_gib_times_ram(ctx):
    route = route_gcp(respx)
    got = gcp_prices.fetch(ctx)
    prices = {r["pricing_model"]: float(r["price_per_hour_usd"]) for r in got.rows}
    # n4_skus.first12.json: "N4D Instance Core running in Iowa" 29,110,000 nanos/h, "... Ram"
    # 3,310,000 nanos/GiB-h; Spot: 15,530,000 and 1,767,000.  n4d-standard-2: 2 vCPU, 8 GiB.
    assert prices["on-demand"] == pytest.approx(2 * 0.02911 + 8 * 0.00331)
    assert prices["spot"] == pytest.approx(2 * 0.01553 + 8 * 0.001767)
    assert "key=SECRET-KEY-123" in str(route.calls[0].request.url)


@respx.mock
def test_gcp_custom_and_sole_tenancy_skus_are_not_a_machine_price(ctx):
    make_data(ctx.data_dir, types=[["gcp", "n4a-standard-2", 2, 8, "test"]])
    route_gcp(respx)
    got = gcp_prices.fetch(ctx)
    on_demand = next(r for r in got.rows if r["pricing_model"] == "on-demand")
    # N4A Instance Core 26,460,000 and Ram 3,010,000 nanos, not the Custom (27,783,000 /
    # 3,161,000) nor the Sole Tenancy Premium SKUs of the same file.
    assert float(on_demand["price_per_hour_usd"]) == pytest.approx(2 * 0.02646 + 8 * 0.00301)


def test_gcp_without_a_key_is_not_read(ctx):
    ctx.env = {}
    with pytest.raises(gcp_prices.NoKey, match="no API key: set CLOUDPAD_GCP_API_KEY"):
        gcp_prices.fetch(ctx)


@respx.mock
def test_gcp_errors_never_show_the_key_and_page_loops_stop(ctx):
    respx.get(url__startswith=gcp_prices.API).mock(
        return_value=httpx.Response(403, text="API key not valid")
    )
    with pytest.raises(SourceError) as info:
        gcp_prices.fetch(ctx)
    assert "SECRET-KEY-123" not in str(info.value) and "key=***" in str(info.value)
    respx.get(url__startswith=gcp_prices.API).mock(
        return_value=httpx.Response(200, json={"skus": [], "nextPageToken": "again"})
    )
    with pytest.raises(SourceError, match="page loop: nextPageToken 'again' repeats"):
        gcp_prices.fetch(ctx)


# --- Azure round trips ---------------------------------------------------------------------------


@respx.mock
def test_azure_rtt_from_the_p95_page_equals_the_books_copy(ctx):
    route_rtt(respx)
    got = azure_rtt.fetch(ctx)
    # The excerpt's three tabs hold 477 pairs; the book read the same page (same commit).
    expected = sorted(rtt_rows(EXCERPT_DESTINATIONS))
    assert (
        sorted([r["source_region"], r["destination_region"], r["rtt_p95_ms"]] for r in got.rows)
        == expected
    )
    assert len(expected) == 477
    assert "dataset taken on July 30, 2026" in got.source.title and DOCS_COMMIT in got.source.title


@respx.mock
def test_azure_rtt_refuses_a_page_that_states_p50(ctx):
    route_rtt(respx, body=fixture("azure_rtt/azure-network-latency.p50.excerpt.md"))
    with pytest.raises(SourceError, match="the page states P50; azure_rtt_p95_ms holds P95"):
        azure_rtt.fetch(ctx)


def test_azure_rtt_unknown_wording_and_tables_against_the_csv_block():
    page = fixture("azure_rtt/azure-network-latency.p95.excerpt.md").decode()
    # Constructed from the real page: its two percentile sentences removed.
    silent = page.replace("95th percentile (P95)", "measurements").replace("Percentile P95 ", "")
    with pytest.raises(SourceError, match="the page states no percentile"):
        azure_rtt.parse(silent, "page")
    # Constructed: a csv block as the full page has one, disagreeing on East US -> East US 2.
    block = "\n```csv\nSource,East US,East US 2\nEast US,,12\nEast US 2,11,\n```\n"
    with pytest.raises(
        SourceError, match=r"disagree on 1 pair\(s\), e.g. East US -> East US 2: 11 vs 12"
    ):
        azure_rtt.parse(page + block, "page")
    rows, _ = azure_rtt.parse(page + block.replace(",12", ",11"), "page")
    assert len(rows) == 477


@respx.mock
def test_azure_rtt_same_commit_downloads_nothing(ctx):
    head, raw = route_rtt(respx)
    ctx.state = {"commit": DOCS_COMMIT}
    assert azure_rtt.fetch(ctx).unchanged and head.called and not raw.called


# --- EKS ENI limits ------------------------------------------------------------------------


@respx.mock
def test_eks_limits_of_the_types_priced(ctx):
    make_data(
        ctx.data_dir, types=[["aws", "m6i.large", "", "", "x"], ["aws", "t3.medium", "", "", "x"]]
    )
    route_eks(respx)
    got = eks_eni.fetch(ctx)
    # instance-info.jsonl @81fec2e: m6i.large 3 ENIs x 10 IPv4, t3.medium 3 x 6 (the values the
    # book's eks_eni_limits.csv copied from the same file).
    assert [(r["instance_type"], r["max_enis"], r["ipv4_per_eni"]) for r in got.rows] == [
        ("m6i.large", "3", "10"),
        ("t3.medium", "3", "6"),
    ]
    assert EKS_COMMIT in got.source.path


@respx.mock
def test_eks_a_cut_short_file_or_an_unknown_type_fails(ctx):
    text = fixture("eks_eni/instance-info.jsonl")
    route_eks(respx, body=text[: text.index(b"\n", 2000) + 1])  # the first lines only
    with pytest.raises(
        SourceError, match="instance types .at least 500 expected.: the file looks cut short"
    ):
        eks_eni.fetch(ctx)
    make_data(ctx.data_dir, types=[["aws", "zz9.mega", "", "", "x"]])
    route_eks(respx)
    with pytest.raises(SourceError, match="no limits for zz9.mega"):
        eks_eni.fetch(ctx)


def test_a_real_refresh_uses_its_own_client_defaults():
    http = Client()
    assert http.attempts == 4 and http._http.timeout.connect == 10.0
    http.close()
