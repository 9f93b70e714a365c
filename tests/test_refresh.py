"""``cloudpad data refresh``: what is written, what is refused, what is kept, what is recorded.

Each test runs the refresh on a throw-away data folder (the book's descriptor,
small tables) with every provider answered by ``respx`` from the recorded
answers of ``tests/fixtures/refresh`` (see its README).  The old snapshot is
what a test varies: an old price, an extra row, a missing region; the answers
stay as recorded.  Failures must leave every data file and the descriptor byte
for byte as they were, exit 1 and print one sentence per dataset.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import httpx
import pytest
import respx
from refresh_fixtures import (
    NOW,
    OLD_PRICES,
    TODAY,
    answer_all,
    client,
    fixture,
    make_data,
    only_recorded_regions,
    snapshot,
)

from cloudpad import cli, data
from cloudpad.exceptions import DataError
from cloudpad.refresh import core, gates, gcp_prices, status
from cloudpad.refresh.descriptor import next_version, sha256

KEY = {gcp_prices.KEY_ENV: "k"}


@pytest.fixture
def folder(tmp_path, monkeypatch):
    only_recorded_regions(monkeypatch)
    return make_data(tmp_path / "data")


def run(folder: Path, *names: str, env=KEY, accept: bool = False) -> list[core.DatasetResult]:
    http, _sleeps = client()
    with http:
        return core.refresh(
            names, data_dir=folder, client=http, today=TODAY, now=NOW, env=env,
            accept_large_change=accept,
        )  # fmt: skip


def prices(folder: Path) -> list[dict[str, str]]:
    with open(folder / "instance_prices.csv", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def descriptor(folder: Path) -> dict:
    return json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))


def resource(folder: Path, name: str) -> dict:
    return next(r for r in descriptor(folder)["resources"] if r["name"] == name)


def with_price(rows, instance_type: str, model: str, price: float):
    return [[*r[:5], price, *r[6:]] if (r[2], r[6]) == (instance_type, model) else r for r in rows]


# --- nothing changed -----------------------------------------------------------------------


def test_sources_equal_to_the_snapshot_write_no_data_file(folder):
    before = snapshot(folder)
    results = run(folder)
    assert [(r.name, r.status) for r in results] == [
        ("eks_eni_limits", "unchanged"),
        ("instance_prices", "unchanged"),
        ("azure_rtt_p95_ms", "unchanged"),
    ]
    assert snapshot(folder) == before  # the recorded answers hold exactly the snapshot's values
    recorded = status.load(folder)["datasets"]["instance_prices"]["parts"]
    assert {p: v["confirmed"] for p, v in recorded.items()} == dict.fromkeys(
        ("aws", "azure", "gcp"), "2026-12-07"
    )


@pytest.fixture(autouse=True)
def _answers():
    with respx.mock(assert_all_called=False) as mock:
        answer_all(mock)
        yield mock


# --- a changed price, rows added -----------------------------------------------------------------


def test_a_changed_price_rewrites_the_file_and_its_descriptor(tmp_path, monkeypatch):
    only_recorded_regions(monkeypatch)
    folder = make_data(
        tmp_path / "data", prices=with_price(OLD_PRICES, "Standard_D2s_v3", "on-demand", 0.09)
    )
    old_sources = resource(folder, "instance_prices")["sources"]
    before, old_descriptor = snapshot(folder), descriptor(folder)
    results = run(folder)  # every refreshable dataset: only one has new content
    assert [r.written for r in results] == [False, True, False]
    result = results[1]
    assert result.status == "refreshed"
    after = snapshot(folder)
    assert {f for f in before if before[f] != after[f]} == {
        "instance_prices.csv",
        "datapackage.json",
    }
    new_descriptor = descriptor(folder)
    changed = [
        new["name"]
        for old, new in zip(old_descriptor["resources"], new_descriptor["resources"], strict=True)
        if old != new
    ]
    assert changed == ["instance_prices"]
    assert (result.changes.added, result.changes.removed, result.changes.changed) == (0, 0, 1)
    rows = prices(folder)
    azure = [r for r in rows if r["provider"] == "azure"]
    # The recorded answer: D2s v3 Linux on demand 0.096 (was 0.09 in the snapshot).
    assert [(r["pricing_model"], r["price_per_hour_usd"], r["retrieved"]) for r in azure] == [
        ("on-demand", "0.096", "2026-12-07"),
        ("spot", "0.018816", "2026-12-07"),
    ]
    assert [r["provider"] for r in rows] == ["aws", "azure", "azure", "gcp", "gcp"]  # order kept
    res = resource(folder, "instance_prices")
    text = (folder / "instance_prices.csv").read_text(encoding="utf-8")
    assert res["hash"] == sha256(text)
    assert res["retrieved"] == "2026-07-20"  # the oldest row's date: the AWS rows, kept
    paths = [s["path"] for s in res["sources"]]
    assert "https://prices.azure.com/api/retail/prices" in paths
    fresh = next(
        src for src in res["sources"] if src["path"] == "https://prices.azure.com/api/retail/prices"
    )
    assert fresh["version"] == "read 2026-12-07"  # every source states its version or date
    assert "https://github.com/Azure/karpenter-provider-azure" not in paths
    assert next(s for s in old_sources if "Cyclenerd" in s["title"]) in res["sources"]
    assert descriptor(folder)["version"] == "2026.12.07"
    assert len(data.load("instance_prices", folder)) == 5


def test_a_new_instance_type_adds_rows(tmp_path, monkeypatch):
    only_recorded_regions(monkeypatch)
    types = [*make_types(), ["gcp", "n4a-standard-2", 2, 8, "Google Cloud N4A machine series page"]]
    folder = make_data(tmp_path / "data", types=types)
    (result,) = run(folder, "instance_prices")
    assert (result.status, result.changes.added, result.rows_after) == ("refreshed", 2, 7)


def make_types():
    from refresh_fixtures import TYPES

    return [list(t) for t in TYPES]


def test_version_bumps_twice_on_one_day():
    import datetime as dt

    day = dt.date(2026, 12, 7)
    assert next_version("2026.11.26", day) == "2026.12.07"
    assert next_version("2026.12.07", day) == "2026.12.07.1"
    assert next_version("2026.12.07.1", day) == "2026.12.07.2"


# --- the gates ------------------------------------------------------------------------------


def test_a_price_x100_is_refused_then_accepted_after_review(tmp_path, monkeypatch):
    only_recorded_regions(monkeypatch)
    folder = make_data(
        tmp_path / "data", prices=with_price(OLD_PRICES, "Standard_D2s_v3", "on-demand", 0.00096)
    )
    before = snapshot(folder)
    (result,) = run(folder, "instance_prices")
    assert result.status == "refused" and not result.written
    row = "(azure, eastus, Standard_D2s_v3, on-demand)"
    assert f"price_per_hour_usd of {row} from 0.00096 to 0.096 (x100)" in result.reason
    assert "--accept-large-change" in result.reason
    assert snapshot(folder) == before
    assert "state" not in status.load(folder)["datasets"]["instance_prices"]["parts"]["azure"]
    (result,) = run(folder, "instance_prices", accept=True)
    assert result.status == "refreshed" and result.written


def test_rows_down_by_more_than_ten_percent_is_refused(tmp_path, monkeypatch):
    only_recorded_regions(monkeypatch)
    gone = [
        [
            "azure",
            "eastus",
            f"Standard_D{n}s_v3",
            2,
            8,
            0.1,
            "on-demand",
            "linux",
            "old",
            "2026-06-18",
        ]
        for n in (4, 8, 16)
    ]  # sizes no longer in instance_types: the refresh will not price them
    folder = make_data(tmp_path / "data", prices=[*OLD_PRICES, *gone])
    before = snapshot(folder)
    (result,) = run(folder, "instance_prices")
    assert result.status == "refused" and snapshot(folder) == before
    assert "provider azure: rows down from 5 to 2 (-60%; more than 10% fewer)" in result.reason
    assert "(azure, eastus, Standard_D16s_v3, on-demand)" in result.reason


def test_gates_duplicate_key_schema_change_and_zero_rows():
    fields, key = ["k", "v"], ["k"]
    old = [{"k": "a", "v": "1"}, {"k": "b", "v": "2"}]
    check = lambda new: gates.check(old, new, fields=fields, key=key, values=["v"])  # noqa: E731
    (dup,) = check([{"k": "a", "v": "1"}, {"k": "a", "v": "1"}])
    assert dup.rule == "duplicate key" and "duplicate key (k) a" in dup.text and not dup.overridable
    (schema,) = check([{"k": "a", "v": "1", "w": "0"}])
    assert (
        schema.rule == "columns" and "columns k, v, w instead of the schema's k, v" in schema.text
    )
    (empty,) = check([])
    assert empty.text == "zero rows (the file has 2)" and not empty.overridable
    assert check([{"k": "a", "v": "2.9"}, {"k": "b", "v": "0.7"}]) == []  # within 3x both ways
    (moved,) = check([{"k": "a", "v": "1"}, {"k": "b", "v": "0.6"}])
    assert "v of b from 2 to 0.6 (x0.3)" in moved.text


def test_a_schema_change_is_never_written_even_after_review(folder, monkeypatch):
    from cloudpad.refresh import eks_eni

    real = eks_eni.fetch

    def with_extra_column(ctx):
        got = real(ctx)
        got.rows = [{**r, "max_pods": "737"} for r in got.rows]
        return got

    monkeypatch.setattr(eks_eni, "fetch", with_extra_column)
    before = snapshot(folder)
    (result,) = run(folder, "eks_eni_limits", accept=True)
    assert result.status == "refused" and snapshot(folder) == before
    assert "columns instance_type, max_enis, ipv4_per_eni, max_pods instead of" in result.reason


def test_round_trips_naming_a_region_without_coordinates_are_refused(folder):
    regions = (folder / "cloud_regions.csv").read_text(encoding="utf-8").splitlines()
    kept = [line for line in regions if ",West US 3," not in line]
    (folder / "cloud_regions.csv").write_text("\n".join(kept) + "\n", encoding="utf-8")
    rtt = folder / "azure_rtt_p95_ms.csv"
    lines = rtt.read_text(encoding="utf-8").splitlines()
    rtt.write_text("\n".join(x for x in lines if "West US 3" not in x) + "\n", encoding="utf-8")
    (result,) = run(folder, "azure_rtt_p95_ms")
    assert result.status == "refused"
    assert "regions without coordinates in cloud_regions: West US 3" in result.reason


# --- failures keep the files ------------------------------------------------------------------


FAILURES = {
    "timeout": dict(side_effect=httpx.ReadTimeout("timed out")),
    "429-then-success": None,  # not a failure: the retry succeeds
    "500-throughout": dict(return_value=httpx.Response(500)),
    "cut-short": dict(
        return_value=httpx.Response(200, content=b'{"BillingCurrency":"USD","Items":[{"curr')
    ),
    "not-json": dict(return_value=httpx.Response(200, text="<html>Service Unavailable</html>")),
    "zero-rows": dict(return_value=httpx.Response(200, json={"Items": [], "NextPageLink": None})),
}


@pytest.mark.parametrize("case", sorted(FAILURES))
def test_a_failing_source_keeps_every_file_and_exits_1_with_one_sentence_per_dataset(
    case, folder, _answers, capsys, monkeypatch
):
    from cloudpad.refresh import http as http_module

    monkeypatch.setattr(http_module.time, "sleep", lambda s: None)
    monkeypatch.setenv(gcp_prices.KEY_ENV, "k")
    monkeypatch.setenv(data.DATA_ENV, str(folder))
    route = _answers["azure"]
    if case == "429-then-success":
        real = route.return_value
        route.side_effect = [httpx.Response(429, headers={"Retry-After": "1"}), real]
    else:
        route.side_effect = None
        route.mock(**FAILURES[case])
    before = snapshot(folder)
    code = cli.main(["--root", str(folder.parent), "data", "refresh"])
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 3, lines
    assert snapshot(folder) == before
    if case == "429-then-success":
        assert code == 0 and all(": unchanged:" in line for line in lines)
        return
    assert code == 1
    (line,) = [ln for ln in lines if ln.startswith("instance_prices:")]
    assert line.startswith("instance_prices: not refreshed, the file is kept as it was: azure: ")
    assert status.load(folder)["datasets"]["instance_prices"]["parts"]["azure"]["status"] == (
        "not refreshed"
    )


def test_gcp_without_a_key_keeps_its_rows_while_azure_is_refreshed(tmp_path, monkeypatch):
    only_recorded_regions(monkeypatch)
    folder = make_data(
        tmp_path / "data", prices=with_price(OLD_PRICES, "Standard_D2s_v3", "spot", 0.02)
    )
    (result,) = run(folder, "instance_prices", env={})
    assert result.status == "partly refreshed" and result.written
    assert result.reason.startswith("gcp: no API key: set CLOUDPAD_GCP_API_KEY")
    gcp = [r for r in prices(folder) if r["provider"] == "gcp"]
    assert [r["retrieved"] for r in gcp] == ["2026-07-30", "2026-07-30"]  # kept as they were
    fresh = status.freshness(folder, today=TODAY)["instance_prices"]
    assert fresh.not_refreshed and fresh.reason == result.reason


def test_an_unknown_dataset_is_refused_naming_the_refreshable_ones(folder):
    with pytest.raises(
        DataError,
        match="'prices' cannot be refreshed: the refreshable datasets are eks_eni_limits, "
        "instance_prices, azure_rtt_p95_ms",
    ):
        run(folder, "prices")


# --- change detection across runs -----------------------------------------------------------------


def test_the_offer_version_and_etag_of_one_run_skip_the_download_in_the_next(folder, _answers):
    from cloudpad.refresh import aws_prices

    def offer(request: httpx.Request) -> httpx.Response:
        if request.headers.get("If-None-Match") == '"offer-1"':
            return httpx.Response(304)
        return httpx.Response(200, content=route_body(), headers={"ETag": '"offer-1"'})

    route = _answers["aws"]
    route.side_effect = offer
    run(folder, "instance_prices")
    saved = status.load(folder)["datasets"]["instance_prices"]["parts"]["aws"]["state"]
    assert saved == {"version": "20240528203522", "etag": '"offer-1"'}
    (result,) = run(folder, "instance_prices")
    assert route.calls.last.response.status_code == 304 and result.status == "unchanged"
    assert route.calls.last.request.url == aws_prices.offer_url()


def route_body() -> bytes:
    return fixture("aws_prices/pricing-us-east-1.json")


def test_freshness_counts_from_the_last_confirmation(folder):
    import datetime as dt

    late = dt.date(2027, 8, 1)  # instance_prices retrieved 2026-06-18, valid 365 days
    assert status.freshness(folder, today=late)["instance_prices"].stale
    run(folder, "instance_prices")  # every part confirmed on 2026-12-07
    fresh = status.freshness(folder, today=late)["instance_prices"]
    assert not fresh.stale and fresh.confirmed == TODAY and fresh.age_days == 237


def test_a_file_edited_after_the_refresh_is_still_loaded_and_reported(tmp_path, monkeypatch):
    only_recorded_regions(monkeypatch)
    folder = make_data(
        tmp_path / "data", prices=with_price(OLD_PRICES, "Standard_D2s_v3", "on-demand", 0.09)
    )
    run(folder, "instance_prices")
    assert not status.freshness(folder)["instance_prices"].edited
    with open(folder / "instance_prices.csv", "a", encoding="utf-8") as handle:
        handle.write("gcp,us-central1,e2-standard-2,2,8,0.067,on-demand,linux,by hand,2026-12-08\n")
    assert len(data.load("instance_prices", folder)) == 6  # the hash is provenance, not a lock
    assert status.freshness(folder)["instance_prices"].edited


def test_datasets_and_their_status_names_agree():
    assert list(core.DATASETS) == list(status.REFRESHABLE)


# --- what readers and reviewers see ------------------------------------------------------


def test_the_data_sources_page_and_the_note_show_a_failed_refresh(tmp_path, monkeypatch, make_book):
    from cloudpad.pipeline.outcomes import Outcome
    from cloudpad.site import render
    from cloudpad.site.pages.data_sources import sources_markdown

    only_recorded_regions(monkeypatch)
    book = make_book({"a": ("n = 1  # count", ["print(n)"])})
    folder = make_data(book.data_dir)
    run(folder, "instance_prices", env={})  # no GCP key: not refreshed, snapshot kept
    page = sources_markdown(data_dir=folder, today=TODAY)
    section = page.split("(resource `instance_prices`)")[1].split("\n## ")[0]
    assert (
        "**Refreshed:** by `cloudpad data refresh instance_prices` from AWS Price List bulk API"
    ) in section
    assert (
        "last run on 2026-12-07: not refreshed (gcp: no API key: set CLOUDPAD_GCP_API_KEY"
        in section
    )
    assert "<https://prices.azure.com/api/retail/prices>" in section
    curated = page.split("(resource `provider_slas`)")[1].split("\n## ")[0]
    assert "**Refreshed:** curated by hand" in curated
    outcome = Outcome(
        notebook="notebooks/a.ipynb", status="executed", duration_s=1.0,
        executed_at="2026-12-07T05:00:00+00:00", reason="", output="_build/executed/a.ipynb",
        dependencies={"data/instance_prices.csv": "h"},
    )  # fmt: skip
    note = render.article_note(book, outcome, render.Datasets.of(book, today=TODAY))
    assert note.endswith(
        "data current; the last refresh of `instance_prices` failed, the earlier data is kept"
    )


def test_the_report_escapes_what_providers_wrote():
    from cloudpad.refresh import report

    done = {
        "date": "2026-12-07",
        "datasets": [
            {"name": "instance_prices", "status": "not refreshed", "written": False,
             "reason": "azure: HTTP 500: '<script>x</script> | `rm` **bold**'", "parts": []},
        ],
    }  # fmt: skip
    text = report.markdown(done, [])
    assert "0 datasets changed, 0 key results moved" in text
    assert "\\<script\\>x\\</script\\> \\| \\`rm\\` \\*\\*bold\\*\\*" in text
    assert "No key result moved beyond its tolerance." in text


def test_an_answer_of_another_shape_is_a_failed_source_not_a_crash(folder, _answers):
    # Constructed: a page whose Items are strings, not objects.
    _answers["azure"].return_value = httpx.Response(200, json={"Items": ["D2s v3"]})
    before = snapshot(folder)
    (result,) = run(folder, "instance_prices")
    assert result.status == "not refreshed" and snapshot(folder) == before
    assert "azure: the answer has an unexpected shape (AttributeError" in result.reason
