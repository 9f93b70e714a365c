"""Azure rows of ``instance_prices`` from the Azure Retail Prices API (no key).

Source: ``GET https://prices.azure.com/api/retail/prices`` with the OData filter
``serviceName eq 'Virtual Machines' and armRegionName eq '<region>' and priceType
eq 'Consumption'``, one sweep per region of :data:`REGIONS`, following
``NextPageLink`` until it is null (no page size is assumed; a link seen twice is
a page loop and fails the source).  Reference:
https://learn.microsoft.com/rest/api/cost-management/retail-prices/azure-retail-prices

Kept, for each size of ``instance_types`` (provider ``azure``): items of type
``Consumption`` in USD per ``1 Hour`` with a positive ``retailPrice``, Linux
(``productName`` not ending in `` Windows``), not Cloud Services and not the
retired ``Low Priority`` meters (priced near spot: taking the cheapest Linux row
would pick them, a ~5x underestimate).  ``Spot`` in ``skuName`` or ``meterName``
makes a spot price, anything else on demand.  Prices are resolved at one instant
(``effectiveStartDate`` not after it, ``effectiveEndDate`` absent or after it),
so a sweep never mixes an expiring price with its successor; of two meters left
for one size and model the later start wins, and two at the same start with
different prices fail the source.  Every size must have an on-demand price in
every region (a size that vanished from the answer fails the source rather than
silently dropping rows); spot prices are kept where Azure lists them.

vCPUs and memory come from ``instance_types`` (the API has neither).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from cloudpad.refresh.base import (
    Context,
    Fetched,
    Priced,
    instance_types,
    iso_instant,
    regional_source,
    size_of,
)
from cloudpad.refresh.http import SourceError, redact

PART = "azure"
API = "https://prices.azure.com/api/retail/prices"
#: Regions swept (``armRegionName``), as in the book's snapshot.
REGIONS = ("eastus", "westeurope")
#: At most this many pages per region (a region's VM meters fill about ten).
MAX_PAGES = 200
#: Descriptor sources this one replaces once Azure rows are refreshed.
SUPERSEDES = ("https://github.com/Azure/karpenter-provider-azure", API)
#: The ``source`` column of the rows read here.
ROW_SOURCE = f"Azure Retail Prices API ({API}, priceType Consumption)"


def region_url(region: str) -> str:
    """The first page's URL of ``region``'s sweep."""
    odata = (
        f"serviceName eq 'Virtual Machines' and armRegionName eq '{region}' "
        "and priceType eq 'Consumption'"
    )
    return f"{API}?$filter={quote(odata)}"


def pages(ctx: Context, url: str) -> list[dict[str, Any]]:
    """Every item of the sweep starting at ``url``, following ``NextPageLink``."""
    items: list[dict[str, Any]] = []
    seen: set[str] = set()
    while url:
        if url in seen:
            raise SourceError(
                f"{redact(url)}: page loop: NextPageLink repeats a page already read "
                f"(after {len(seen)} pages)"
            )
        if len(seen) >= MAX_PAGES:
            raise SourceError(f"{redact(url)}: more than {MAX_PAGES} pages; stopped")
        seen.add(url)
        body = ctx.client.get(url).json()
        if not isinstance(body, dict) or not isinstance(body.get("Items"), list):
            raise SourceError(f"{redact(url)}: the answer has no 'Items' list")
        items.extend(body["Items"])
        url = body.get("NextPageLink") or ""
    return items


def _model(item: dict[str, Any]) -> str | None:
    """'spot', 'on-demand', or None for a meter the dataset does not hold."""
    product = str(item.get("productName", ""))
    names = (str(item.get("skuName", "")), str(item.get("meterName", "")))
    if product.endswith(" Windows") or "Cloud Services" in product or "CloudServices" in product:
        return None
    if any(n.endswith(" Low Priority") for n in names):
        return None
    return "spot" if any(n.endswith(" Spot") for n in names) else "on-demand"


def _in_effect(item: dict[str, Any], ctx: Context) -> bool:
    start = item.get("effectiveStartDate")
    end = item.get("effectiveEndDate")
    return (start is None or iso_instant(start) <= ctx.now) and (
        not end or iso_instant(end) > ctx.now
    )


REQUIRED = ("armSkuName", "retailPrice", "currencyCode", "unitOfMeasure", "type", "productName")


def select(items: list[dict[str, Any]], sizes: set[str], ctx: Context, url: str) -> dict:
    """``(size, model) -> price`` from a region's items (see the module's rules)."""
    chosen: dict[tuple[str, str], tuple[str, float]] = {}
    for item in items:
        if item.get("armSkuName") not in sizes:
            continue
        missing = [f for f in REQUIRED if f not in item]
        if missing:
            raise SourceError(
                f"{redact(url)}: an item of {item.get('armSkuName')} lacks {', '.join(missing)}"
            )
        if (
            item["type"] != "Consumption"
            or item["currencyCode"] != "USD"
            or item["unitOfMeasure"] != "1 Hour"
            or not isinstance(item["retailPrice"], int | float)
            or item["retailPrice"] <= 0
            or not _in_effect(item, ctx)
        ):
            continue
        model = _model(item)
        if model is None:
            continue
        key = (item["armSkuName"], model)
        start = str(item.get("effectiveStartDate", ""))
        price = float(item["retailPrice"])
        if key in chosen:
            old_start, old_price = chosen[key]
            if old_start == start and old_price != price:
                raise SourceError(
                    f"{redact(url)}: two Linux {model} prices for {key[0]} in effect from "
                    f"{start}: {old_price} and {price}"
                )
            if old_start >= start:
                continue
        chosen[key] = (start, price)
    return {key: price for key, (_start, price) in chosen.items()}


def fetch(ctx: Context) -> Fetched:
    """The Azure rows: every size of ``instance_types`` in every region of :data:`REGIONS`."""
    sizes = instance_types(ctx.data_dir, PART)
    names = {s.instance_type for s in sizes}
    rows: list[dict[str, str]] = []
    for region in REGIONS:
        url = region_url(region)
        prices = select(pages(ctx, url), names, ctx, url)
        absent = [s.instance_type for s in sizes if (s.instance_type, "on-demand") not in prices]
        if absent:
            raise SourceError(
                f"{redact(url)}: no Linux on-demand price for {', '.join(absent)} in {region}"
            )
        for size in sizes:
            vcpu, gib = size_of(size, "the Retail Prices API")
            for model in ("on-demand", "spot"):
                if (size.instance_type, model) not in prices:
                    continue
                price = prices[(size.instance_type, model)]
                rows.append(
                    Priced(PART, region, size.instance_type, vcpu, gib, price, model, ROW_SOURCE)
                    .row(ctx.today)
                )  # fmt: skip
    title = "Azure Retail Prices API, Virtual Machines, Consumption"
    source = regional_source(title, REGIONS, ctx.today, API)
    return Fetched(rows, source, {}, note=f"{len(rows)} prices in {len(REGIONS)} regions")
