"""AWS rows of ``instance_prices`` from the AWS Price List bulk API (no key).

Source: the EC2 offer file of one region, at its stable address
``https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/AmazonEC2/current/<region>/index.json``
(doc: "Getting price list files manually", AWS Billing user guide).  The file is
large (a region's EC2 offer was ~450 MB in 2026), so it is **streamed** and
parsed as it arrives (``ijson``), never held whole: only the products of the
instance types the book prices and their on-demand terms are kept.

Change detection, cheapest first: the request carries the last answer's ETag
and Last-Modified (a 304 means unchanged); otherwise the file's ``version``,
which comes before the products, is compared with the version read last time,
and the download stops there when it is the same.

Kept, for each type of ``instance_types`` (provider ``aws``): the product of
family ``Compute Instance`` (or ``... (bare metal)``) with ``operatingSystem``
Linux, ``tenancy`` Shared, ``preInstalledSw`` NA, ``capacitystatus`` Used,
``licenseModel`` "No License required", a ``BoxUsage`` usage type, ``operation``
RunInstances and ``marketoption`` OnDemand where stated (this drops Windows,
BYOL, reserved-capacity and Capacity Block SKUs, the latter priced 0); its
on-demand term (``terms.OnDemand``) must have one hourly price (unit ``Hrs``)
above 0 in USD.  vCPUs and memory are the product's ``vcpu`` and ``memory``
("8 GiB") attributes.  Spot prices are not in the bulk files, so AWS rows are
on-demand only.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import ijson

from cloudpad.refresh.base import Context, Fetched, Priced, Source, instance_types
from cloudpad.refresh.http import SourceError, Validators, read_stream, redact

PART = "aws"
REGION = "us-east-1"
OFFER = (
    "https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/AmazonEC2/current/{region}/index.json"
)
SUPERSEDES = (
    "https://github.com/aws/karpenter-provider-aws",
    "https://github.com/alexei-led/spotinfo",
    "https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/AmazonEC2/current/",
)
FAMILIES = ("Compute Instance", "Compute Instance (bare metal)")
WANTED = {
    "operatingSystem": "Linux",
    "tenancy": "Shared",
    "preInstalledSw": "NA",
    "capacitystatus": "Used",
    "licenseModel": "No License required",
}


def offer_url(region: str = REGION) -> str:
    return OFFER.format(region=region)


def _linux_on_demand(product: dict[str, Any], types: set[str]) -> bool:
    attrs = product.get("attributes") or {}
    return (
        product.get("productFamily") in FAMILIES
        and attrs.get("instanceType") in types
        and all(attrs.get(k) == v for k, v in WANTED.items())
        and "BoxUsage" in str(attrs.get("usagetype", ""))
        and attrs.get("operation", "RunInstances") == "RunInstances"
        and attrs.get("marketoption", "OnDemand") == "OnDemand"
    )


def _hourly_usd(terms: dict[str, Any]) -> list[float]:
    """The hourly USD prices above 0 of one SKU's on-demand terms."""
    prices = []
    for term in terms.values():
        for dim in (term.get("priceDimensions") or {}).values():
            usd = (dim.get("pricePerUnit") or {}).get("USD")
            if dim.get("unit") == "Hrs" and usd is not None and float(usd) > 0:
                prices.append(float(usd))
    return prices


class _Offer:
    """Push parser of an offer file: its version, the products wanted, their terms."""

    def __init__(self, types: set[str]) -> None:
        self.types = types
        self.version: str | None = None
        self.offer_code: str | None = None
        self.products: dict[str, dict[str, Any]] = {}
        self.terms: dict[str, dict[str, Any]] = {}
        self._found: list[Any] = ijson.sendable_list()
        self._code: list[Any] = ijson.sendable_list()
        self._products: list[Any] = ijson.sendable_list()
        self._terms: list[Any] = ijson.sendable_list()
        self._parsers = [
            ijson.items_coro(self._found, "version"),
            ijson.items_coro(self._code, "offerCode"),
            ijson.kvitems_coro(self._products, "products"),
            ijson.kvitems_coro(self._terms, "terms.OnDemand"),
        ]

    def feed(self, chunk: bytes) -> None:
        for parser in self._parsers:
            parser.send(chunk)
        self._drain()

    def close(self) -> None:
        for parser in self._parsers:
            parser.close()
        self._drain()

    def _drain(self) -> None:
        if self._found and self.version is None:
            self.version = str(self._found[0])
        if self._code and self.offer_code is None:
            self.offer_code = str(self._code[0])
        for sku, product in self._products:
            if isinstance(product, dict) and _linux_on_demand(product, self.types):
                self.products[sku] = product
        for sku, terms in self._terms:
            if sku in self.products and isinstance(terms, dict):
                self.terms[sku] = terms
        del self._found[:], self._code[:], self._products[:], self._terms[:]


def parse(chunks: Iterable[bytes], types: set[str], last_version: str | None, url: str) -> _Offer:
    """Parse an offer file chunk by chunk; stops early when ``version == last_version``."""
    offer = _Offer(types)
    try:
        for chunk in chunks:
            offer.feed(chunk)
            if last_version is not None and offer.version == last_version:
                return offer
        offer.close()
    except ijson.common.IncompleteJSONError as exc:
        raise SourceError(
            f"{redact(url)}: the offer file is cut short or not JSON: {exc}"
        ) from None
    except ijson.common.JSONError as exc:
        raise SourceError(f"{redact(url)}: the offer file is not valid JSON: {exc}") from None
    if offer.offer_code != "AmazonEC2" or offer.version is None:
        raise SourceError(
            f"{redact(url)}: not an EC2 offer file (offerCode {offer.offer_code!r}, "
            f"version {offer.version!r})"
        )
    return offer


def rows_of(offer: _Offer, types: list[str], region: str, ctx: Context, url: str) -> list[dict]:
    """One on-demand row per type, in the order of ``types``."""
    by_type: dict[str, list[str]] = {}
    for sku, product in offer.products.items():
        by_type.setdefault(product["attributes"]["instanceType"], []).append(sku)
    rows = []
    for name in types:
        skus = by_type.get(name, [])
        priced = {sku: _hourly_usd(offer.terms.get(sku, {})) for sku in skus}
        priced = {sku: p for sku, p in priced.items() if p}
        if not priced:
            raise SourceError(
                f"{redact(url)}: no Linux on-demand hourly price for {name} in {region} "
                f"({len(skus)} matching product(s) in offer version {offer.version})"
            )
        if len(priced) > 1 or len(next(iter(priced.values()))) > 1:
            raise SourceError(
                f"{redact(url)}: {name} has {sum(map(len, priced.values()))} Linux on-demand "
                f"hourly prices (SKUs {', '.join(sorted(priced))}); expected one"
            )
        sku, (price,) = next(iter(priced.items()))
        attrs = offer.products[sku]["attributes"]
        try:
            vcpu = int(attrs["vcpu"])
            memory = float(str(attrs["memory"]).replace(",", "").removesuffix(" GiB"))
        except (KeyError, ValueError):
            raise SourceError(
                f"{redact(url)}: {name} (SKU {sku}) has vcpu {attrs.get('vcpu')!r} and memory "
                f"{attrs.get('memory')!r}; expected a count and '<n> GiB'"
            ) from None
        source = f"AWS Price List bulk API, AmazonEC2 {region} offer {offer.version}"
        rows.append(
            Priced(PART, region, name, vcpu, memory, price, "on-demand", source).row(ctx.today)
        )
    return rows


def fetch(ctx: Context) -> Fetched:
    """The AWS rows of :data:`REGION`; unchanged (no rows) when the offer has not changed."""
    types = [t.instance_type for t in instance_types(ctx.data_dir, PART)]
    url = offer_url(REGION)
    last = Validators(ctx.state.get("etag"), ctx.state.get("last_modified"))
    last_version = ctx.state.get("version")
    with ctx.client.stream(url, validators=last) as (response, validators):
        if response.status_code == 304:
            offer = None
        else:
            offer = parse(read_stream(response, url), set(types), last_version, url)
    if offer is None or offer.version == last_version:
        version = last_version if offer is None else offer.version
        title = f"AWS Price List bulk API, AmazonEC2 {REGION}, offer {version}"
        source = Source(title, url, f"offer version {version}")
        state = {**ctx.state, "etag": validators.etag, "last_modified": validators.last_modified}
        return Fetched(None, source, state, note=f"offer version {version} unchanged")
    rows = rows_of(offer, types, REGION, ctx, url)
    source = Source(
        f"AWS Price List bulk API, AmazonEC2 {REGION}, offer version {offer.version} "
        f"(retrieved {ctx.today.isoformat()})",
        url,
        f"offer version {offer.version}",
    )
    state = {
        "version": offer.version,
        "etag": validators.etag,
        "last_modified": validators.last_modified,
    }
    return Fetched(rows, source, state, note=f"offer version {offer.version}")
