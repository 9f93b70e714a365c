"""GCP rows of ``instance_prices`` from the Cloud Billing Catalog API (needs an API key).

Source: ``GET https://cloudbilling.googleapis.com/v1/services/6F81-5844-456A/skus``
(Compute Engine) with ``key=$CLOUDPAD_GCP_API_KEY`` and ``pageSize=5000``, repeated
with ``pageToken`` until ``nextPageToken`` is empty (a token seen twice is a page
loop).  Reference: https://cloud.google.com/billing/v1/how-tos/catalog-api .
Without the environment variable the source is not read and the GCP rows stay
as they are, reported as not refreshed.  The key is never printed: it is
replaced by ``***`` in every message.

The catalogue prices a machine by its parts, so **price = vCPUs x core price +
GiB x RAM price** of the machine's family (``n2-standard-4`` -> family ``N2``),
for the same region and usage type (``OnDemand`` for on demand, ``Preemptible``
for spot).  The core and RAM SKUs are those whose ``description`` is exactly
``[Spot Preemptible ]<FAMILY> Instance Core|Ram running in <place>`` (which leaves
out Custom, Sole Tenancy and commitment SKUs), whose ``category.resourceFamily``
is ``Compute`` and whose ``serviceRegions`` list the region; the unit price is
the first tier (``units`` + ``nanos`` x 1e-9 USD) per hour (``h``) or GiB-hour
(``GiBy.h``).  Two SKUs matching one part at different prices (the catalogue has
duplicate descriptions) fail the source rather than pick one.  vCPUs and memory
come from ``instance_types`` (the catalogue has neither).
"""

from __future__ import annotations

import re
from typing import Any

from cloudpad.refresh.base import (
    Context,
    Fetched,
    Priced,
    instance_types,
    regional_source,
    size_of,
)
from cloudpad.refresh.http import SourceError, redact

PART = "gcp"
KEY_ENV = "CLOUDPAD_GCP_API_KEY"
SERVICE = "6F81-5844-456A"  # Compute Engine
API = f"https://cloudbilling.googleapis.com/v1/services/{SERVICE}/skus"
REGIONS = ("us-central1", "europe-west4")
MAX_PAGES = 100
SUPERSEDES = ("https://github.com/Cyclenerd/google-cloud-pricing-cost-calculator", API)
USAGE = {"on-demand": "OnDemand", "spot": "Preemptible"}
UNIT = {"Core": "h", "Ram": "GiBy.h"}
#: The ``source`` column of the rows read here.
ROW_SOURCE = f"Cloud Billing Catalog API, services/{SERVICE} (core x vCPUs + RAM x GiB)"


class NoKey(SourceError):
    """No API key in the environment: the GCP rows are kept and reported as not refreshed."""


def skus(ctx: Context, key: str) -> list[dict[str, Any]]:
    """Every Compute Engine SKU, page after page."""
    found: list[dict[str, Any]] = []
    token, seen = "", set()
    while True:
        url = f"{API}?key={key}&pageSize=5000" + (f"&pageToken={token}" if token else "")
        if len(seen) >= MAX_PAGES:
            raise SourceError(f"{redact(url)}: more than {MAX_PAGES} pages; stopped")
        body = ctx.client.get(url).json()
        if not isinstance(body, dict) or not isinstance(body.get("skus"), list):
            raise SourceError(f"{redact(url)}: the answer has no 'skus' list")
        found.extend(body["skus"])
        seen.add(token)
        token = body.get("nextPageToken") or ""
        if not token:
            return found
        if token in seen:
            raise SourceError(f"{redact(url)}: page loop: nextPageToken {token!r} repeats")


def unit_price(sku: dict[str, Any], unit: str, where: str) -> float:
    """The first-tier USD price of ``sku`` per ``unit``."""
    try:
        expression = sku["pricingInfo"][0]["pricingExpression"]
        rate = min(expression["tieredRates"], key=lambda r: r.get("startUsageAmount", 0))
        price = rate["unitPrice"]
        usage_unit = expression["usageUnit"]
        currency = price["currencyCode"]
        value = int(price.get("units") or 0) + int(price.get("nanos") or 0) * 1e-9
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise SourceError(
            f"{where}: SKU {sku.get('skuId')!r} ({sku.get('description')!r}) has no readable "
            f"price ({type(exc).__name__}: {exc})"
        ) from None
    if usage_unit != unit or currency != "USD":
        raise SourceError(
            f"{where}: SKU {sku.get('skuId')!r} ({sku.get('description')!r}) is priced per "
            f"{usage_unit!r} in {currency}; expected per {unit!r} in USD"
        )
    return value


def part_prices(items: list[dict[str, Any]], where: str) -> dict[tuple[str, str, str, str], float]:
    """``(FAMILY, Core|Ram, region, usage type) -> USD per unit`` of the catalogue's SKUs."""
    pattern = re.compile(r"^(Spot Preemptible )?([A-Z0-9]+) Instance (Core|Ram) running in ")
    found: dict[tuple[str, str, str, str], tuple[float, str]] = {}
    for sku in items:
        match = pattern.match(str(sku.get("description", "")))
        category = sku.get("category") or {}
        if not match or category.get("resourceFamily") != "Compute":
            continue
        family, part, usage = match.group(2), match.group(3), category.get("usageType")
        price = unit_price(sku, UNIT[part], where)
        for region in sku.get("serviceRegions") or []:
            key = (family, part, region, str(usage))
            if key in found and found[key][0] != price:
                raise SourceError(
                    f"{where}: two SKUs price {family} {part} ({usage}) in {region} differently: "
                    f"{found[key][1]} at {found[key][0]} and {sku.get('skuId')} at {price} USD"
                )
            found[key] = (price, str(sku.get("skuId")))
    return {key: price for key, (price, _sku) in found.items()}


def fetch(ctx: Context) -> Fetched:
    """The GCP rows: every machine type of ``instance_types`` in :data:`REGIONS`."""
    key = ctx.env.get(KEY_ENV, "").strip()
    if not key:
        raise NoKey(
            f"no API key: set {KEY_ENV} to a Google Cloud API key with the Cloud Billing API "
            "enabled to read the Cloud Billing Catalog"
        )
    where = redact(f"{API}?key={key}")
    parts = part_prices(skus(ctx, key), where)
    rows: list[dict[str, str]] = []
    for region in REGIONS:
        for machine in instance_types(ctx.data_dir, PART):
            vcpu, gib = size_of(machine, "the Cloud Billing Catalog")
            family = machine.instance_type.split("-")[0].upper()
            for model, usage in USAGE.items():
                core = parts.get((family, "Core", region, usage))
                ram = parts.get((family, "Ram", region, usage))
                if core is None or ram is None:
                    raise SourceError(
                        f"{where}: no {family} Instance {'Core' if core is None else 'Ram'} "
                        f"SKU ({usage}) serving {region}, needed for {machine.instance_type}"
                    )
                price = vcpu * core + gib * ram
                kind = machine.instance_type
                rows.append(
                    Priced(PART, region, kind, vcpu, gib, price, model, ROW_SOURCE).row(ctx.today)
                )
    title = "Google Cloud Billing Catalog API, Compute Engine SKUs"
    source = regional_source(title, REGIONS, ctx.today, API)
    return Fetched(rows, source, {}, note=f"{len(rows)} prices from {len(parts)} core/RAM SKUs")
