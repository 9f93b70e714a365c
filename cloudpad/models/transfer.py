"""The network bill: what moving bytes costs on AWS, Azure and Google Cloud.

Prices come from ``cloudpad.data.load("transfer_prices")`` (one row per provider,
item, product, source area, destination area and volume tier, each with its
source and whether it is verified) and regions map to continent-sized pricing
areas through ``transfer_areas``; no price is hard-coded here.

Units: volumes in GB (10^9 bytes) per month, prices in USD per GB.  Google
prices per GiB (2^30 bytes); :func:`price_book` converts (1 USD/GiB =
0.9313 USD/GB, tier starts likewise).  A month is the 730-hour billing month of
:data:`cloudpad.models.cost.BILLING_MONTH_HOURS`.  Request and object sizes
are in KiB (1,024 bytes).

The pieces:

* :func:`price_book` -- one provider's prices for one region: inter-zone
  (per GB crossing, both billed sides added), internet and CDN tiers, NAT,
  load balancer and CDN charges, and which of them are unverified;
* :func:`inter_region_price` -- the price of a GB from one region to another,
  for this article and for "Data across regions" (replication traffic);
* :func:`platform_traffic` -- the monthly bytes of the book's example
  platform (``platform_services`` and its call graph, ``platform_dependencies``,
  whose :func:`entry_services` take the users' requests) from a few
  per-request assumptions;
* :func:`monthly_bill` -- the monthly transfer bill of a design (zones,
  regions, cross-zone load balancing, CDN and its cache hit ratio), line by
  line, next to a compute bill from :func:`compute_bill`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd
from numpy.typing import ArrayLike

from cloudpad.exceptions import InputError
from cloudpad.models import checks, cost

#: Providers priced in ``transfer_prices``.
PROVIDERS: tuple[str, ...] = ("aws", "azure", "gcp")
#: GB (10^9 bytes) in a GiB (2^30 bytes): a price per GiB divided by this is a price per GB.
GB_PER_GIB: float = 2**30 / 1e9
#: Bytes in a KiB.
KIB: float = 1024.0
#: Seconds in the 730-hour billing month.
MONTH_SECONDS: float = cost.BILLING_MONTH_HOURS * 3600.0
#: Sides of a transfer the provider bills, by ``billed_side``.
_SIDES: dict[str, int] = {"sender": 1, "both": 2, "none": 0, "-": 0}
#: Readable names of the items of ``transfer_prices``, for prose and tables.
ITEM_NAMES: dict[str, str] = {
    "inter_zone": "inter-zone transfer",
    "inter_region": "inter-region transfer",
    "internet_egress": "internet egress",
    "nat_gateway_hour": "NAT gateway hours",
    "nat_gateway_processed": "NAT processing",
    "lb_hour": "load balancer hours",
    "lb_processed_in": "load balancer processing (in)",
    "lb_processed_out": "load balancer processing (out)",
    "cdn_egress": "CDN egress",
    "cdn_origin_fill": "CDN cache fill",
    "cdn_requests": "CDN requests",
    "cdn_base_fee": "CDN base fee",
}
#: The bill's lines, in the order the article shows them.
LINES: tuple[str, ...] = (
    "CDN",
    "internet egress",
    "load balancer",
    "NAT gateway",
    "cross-zone",
    "cross-region",
)


def _per_gb(price: float, unit: str) -> float:
    """A per-GB price from a price per GB or per GiB (USD)."""
    return price / GB_PER_GIB if unit == "USD/GiB" else price


def _tier_start_gb(start: float, unit: str) -> float:
    return start * GB_PER_GIB if unit == "USD/GiB" else start


@dataclass(frozen=True)
class PriceBook:
    """One provider's transfer prices for one region, in USD per GB, hour, month or request.

    ``inter_zone_usd_per_gb`` is the price of one GB crossing zones with every
    billed side added (AWS bills sender and receiver $0.01 each: 0.02).
    Tiers are ``(up_to_gb, usd_per_gb)`` lists for :func:`cost.transfer_cost`.
    ``nat_per_zone`` is true when a NAT gateway is a zonal resource the design
    puts in every zone.  ``unverified`` names the items whose price the dataset
    marks as not verified; ``substituted`` notes prices taken from another
    region than asked.
    """

    provider: str
    region: str
    inter_zone_usd_per_gb: float
    internet_tiers: list[tuple[float, float]]
    nat_usd_per_hour: float
    nat_per_zone: bool
    nat_usd_per_gb: float
    lb_usd_per_hour: float
    lb_in_usd_per_gb: float
    lb_out_usd_per_gb: float
    cdn_tiers: list[tuple[float, float]]
    cdn_origin_fill_usd_per_gb: float
    cdn_usd_per_10k_requests: float
    cdn_base_usd_per_month: float
    unverified: tuple[str, ...] = ()
    substituted: tuple[str, ...] = ()


def _check_prices(prices: pd.DataFrame) -> None:
    needed = {
        "provider",
        "item",
        "source_area",
        "destination_area",
        "tier_start",
        "price_usd",
        "unit",
        "billed_side",
        "basis",
        "verified",
    }
    missing = sorted(needed - set(prices.columns))
    if missing:
        raise InputError(f"prices must have the columns of transfer_prices, missing {missing}")


def _area_of(areas: pd.DataFrame, provider: str, region: str) -> str:
    hit = areas[(areas["provider"] == provider) & (areas["region"] == region)]
    if hit.empty:
        known = ", ".join(sorted(areas.loc[areas["provider"] == provider, "region"]))
        raise InputError(f"region {region!r} is not a {provider} region of transfer_areas: {known}")
    return str(hit["area"].iloc[0])


def _item_rows(
    prices: pd.DataFrame, provider: str, item: str, wanted: Sequence[str]
) -> tuple[pd.DataFrame, str | None]:
    """Rows of ``item`` for the first source area in ``wanted`` that has any; else the one area.

    Returns the rows (sorted by tier) and a note when the prices come from an
    area not asked for (a region the data does not price), or empty rows.
    """
    rows = prices[(prices["provider"] == provider) & (prices["item"] == item)]
    for area in wanted:
        hit = rows[rows["source_area"] == area]
        if not hit.empty:
            return hit.sort_values("tier_start"), None
    areas = sorted(set(rows["source_area"]))
    if len(areas) == 1:
        note = f"{item}: prices of {areas[0]} (none for {wanted[0]})"
        return rows.sort_values("tier_start"), note
    return rows.iloc[0:0], None


def _tiers(rows: pd.DataFrame) -> list[tuple[float, float]]:
    """``(up_to_gb, usd_per_gb)`` tiers for :func:`cost.transfer_cost` from tier rows."""
    starts = [
        _tier_start_gb(float(s), u) for s, u in zip(rows["tier_start"], rows["unit"], strict=True)
    ]
    per_gb = [_per_gb(float(p), u) for p, u in zip(rows["price_usd"], rows["unit"], strict=True)]
    bounds = [*starts[1:], math.inf]
    return list(zip(bounds, per_gb, strict=True))


def price_book(prices: pd.DataFrame, provider: str, region: str, area: str) -> PriceBook:
    """The prices of ``provider`` for a design in ``region`` (of pricing ``area``).

    For each item the rows of ``region`` are used, else those of ``area``,
    else ``any``; an item priced for a single other area (AWS internet egress
    only for us-east-1, say) takes that area's prices and says so in
    ``substituted``.  CDN prices are keyed on the users' geography (the data
    holds North America's), not on the region, and are taken as they are.
    An item with no row costs 0 and is named in ``substituted`` ("no price
    found"), so a reader sees every gap; a CDN without a base fee (AWS,
    Google) has no ``cdn_base_fee`` row and is not flagged.
    Raises :class:`InputError` for an unknown provider or a frame without the
    columns of ``transfer_prices``.
    """
    checks.choice("provider", provider, PROVIDERS)
    _check_prices(prices)
    wanted = (region, area, "any")
    unverified: list[str] = []
    notes: list[str] = []

    def rows(item: str) -> pd.DataFrame:
        got, note = _item_rows(prices, provider, item, wanted)
        if note and not item.startswith("cdn_"):
            notes.append(note)
        if got.empty and item != "cdn_base_fee":
            notes.append(f"{item}: no price found, counted as 0")
        elif not got["verified"].all():
            unverified.append(item)
        return got

    def single(item: str) -> float:
        got = rows(item)
        return 0.0 if got.empty else _per_gb(float(got["price_usd"].iloc[0]), got["unit"].iloc[0])

    zone = rows("inter_zone")
    inter_zone = 0.0
    if not zone.empty:
        first = zone.iloc[0]
        inter_zone = (
            _per_gb(float(first["price_usd"]), first["unit"]) * _SIDES[first["billed_side"]]
        )
    nat_hour = rows("nat_gateway_hour")
    internet, cdn = rows("internet_egress"), rows("cdn_egress")
    return PriceBook(
        provider=provider,
        region=region,
        inter_zone_usd_per_gb=inter_zone,
        internet_tiers=_tiers(internet) if not internet.empty else [(math.inf, 0.0)],
        nat_usd_per_hour=0.0 if nat_hour.empty else float(nat_hour["price_usd"].iloc[0]),
        nat_per_zone=(not nat_hour.empty) and nat_hour["basis"].iloc[0] == "per_zone",
        nat_usd_per_gb=single("nat_gateway_processed"),
        lb_usd_per_hour=single("lb_hour"),
        lb_in_usd_per_gb=single("lb_processed_in"),
        lb_out_usd_per_gb=single("lb_processed_out"),
        cdn_tiers=_tiers(cdn) if not cdn.empty else [(math.inf, 0.0)],
        cdn_origin_fill_usd_per_gb=single("cdn_origin_fill"),
        cdn_usd_per_10k_requests=single("cdn_requests"),
        cdn_base_usd_per_month=single("cdn_base_fee"),
        unverified=tuple(unverified),
        substituted=tuple(notes),
    )


@dataclass(frozen=True)
class InterRegionPrice:
    """The price of one GB sent from one region to another (billed at the source).

    ``usd_per_gb`` is per GB (Google's per-GiB prices converted); ``row`` names
    the ``(source_area, destination_area)`` of the price used; ``verified`` is
    the dataset's flag for it.
    """

    usd_per_gb: float
    verified: bool
    row: tuple[str, str]


def inter_region_price(
    prices: pd.DataFrame,
    areas: pd.DataFrame,
    provider: str,
    source_region: str,
    destination_region: str,
) -> InterRegionPrice:
    """The list price of a GB from ``source_region`` to ``destination_region`` of ``provider``.

    Looks the pair up in ``transfer_prices`` (``inter_region`` rows) from the
    most specific row to the least: source region to destination region,
    source region to ``any`` (AWS prices by source Region), source area to
    destination area (Azure and Google price by continent, areas from
    ``transfer_areas``), source area to ``any``, and, for regions on different
    continents, ``any`` to ``other_continent``.  The same region costs 0.
    Raises :class:`InputError` naming the pair when no row applies (the
    dataset lists what was not found, e.g. Azure between continents).
    :class:`Pricing` caches these answers for repeated bills.
    """
    checks.choice("provider", provider, PROVIDERS)
    _check_prices(prices)
    src_area = _area_of(areas, provider, source_region)
    dst_area = _area_of(areas, provider, destination_region)
    if source_region == destination_region:
        return InterRegionPrice(0.0, True, (source_region, destination_region))
    rows = prices[(prices["provider"] == provider) & (prices["item"] == "inter_region")]
    keys = [
        (source_region, destination_region),
        (source_region, "any"),
        (src_area, dst_area),
        (src_area, "any"),
    ]
    if src_area != dst_area:
        keys.append(("any", "other_continent"))
    for key in keys:
        hit = rows[(rows["source_area"] == key[0]) & (rows["destination_area"] == key[1])]
        if not hit.empty:
            first = hit.iloc[0]
            price = _per_gb(float(first["price_usd"]), first["unit"])
            return InterRegionPrice(price, bool(first["verified"]), key)
    raise InputError(
        f"no {provider} inter-region price in transfer_prices for {source_region} ({src_area}) "
        f"to {destination_region} ({dst_area})"
    )


@dataclass(frozen=True)
class Traffic:
    """A platform's monthly traffic, all regions together (GB, requests per month).

    ``requests``: dynamic requests from users; ``static_requests``: requests for
    cacheable objects; ``dynamic_gb`` and ``static_gb``: response bytes to
    users; ``request_gb``: bytes users send; ``internal_gb``: bytes of
    service-to-service calls (both directions); ``write_gb``: bytes written to
    the databases, which every replica receives; ``nat_gb``: bytes sent to the
    internet from private subnets (logs, metrics, third-party APIs);
    ``state_gb``: bytes of calls to stateful components (databases, caches,
    search index, event stream; both directions); ``calls`` and
    ``state_calls``: the calls a month between services and to stateful
    components.
    """

    requests: float
    static_requests: float
    dynamic_gb: float
    static_gb: float
    request_gb: float
    internal_gb: float
    write_gb: float
    nat_gb: float
    state_gb: float = 0.0
    calls: float = 0.0
    state_calls: float = 0.0


def entry_services(services: pd.DataFrame, dependencies: pd.DataFrame) -> list[str]:
    """The services users call: every non-batch service that no other service calls.

    ``services`` and ``dependencies`` as in :func:`platform_traffic`; the
    order is that of ``services``.
    """
    called = set(dependencies["callee"])
    live = services[services["kind"] != "batch"]
    return [s for s in live["service"] if s not in called]


def platform_traffic(
    services: pd.DataFrame,
    dependencies: pd.DataFrame,
    edge_services: Sequence[str],
    *,
    peak_to_mean: float,
    dynamic_kib: float,
    request_kib: float,
    static_objects_per_request: float,
    static_object_kib: float,
    internal_kib_per_call: float,
    write_mib_per_s: float,
    nat_gb_per_month: float,
) -> Traffic:
    """Monthly traffic of a platform of ``services`` that call each other as in ``dependencies``.

    ``services`` has the columns of ``platform_services``, ``dependencies`` those
    of ``platform_dependencies`` (caller, callee, calls_per_request); a callee
    that is not a service is a stateful component (a database, cache, search
    index or queue).  The services named in ``edge_services`` take users'
    requests.  A service's mean rate is its ``peak_requests_per_second /
    peak_to_mean``; a month has :data:`MONTH_SECONDS`.  Then, with :math:`D`
    user requests a month, :math:`C` calls between services and :math:`K`
    calls to stateful components (each caller's mean rate times its
    ``calls_per_request``, summed) and sizes in KiB:

    * dynamic bytes :math:`D \\cdot` ``dynamic_kib``;
    * static requests :math:`S = D \\cdot` ``static_objects_per_request`` of
      ``static_object_kib`` each;
    * request bytes :math:`(D + S) \\cdot` ``request_kib``;
    * internal bytes :math:`C \\cdot` ``internal_kib_per_call`` and state bytes
      :math:`K \\cdot` ``internal_kib_per_call``;
    * written bytes ``write_mib_per_s`` :math:`\\cdot 2^{20} \\cdot` :data:`MONTH_SECONDS`.

    Every size, rate and ratio is an assumption of the caller (the article
    declares them); the request rates and the call graph come from the data.
    """
    needed = {"service", "kind", "peak_requests_per_second"}
    missing = sorted(needed - set(services.columns))
    if missing:
        raise InputError(f"services must have columns {sorted(needed)}, missing {missing}")
    graph = {"caller", "callee", "calls_per_request"}
    missing = sorted(graph - set(dependencies.columns))
    if missing:
        raise InputError(f"dependencies must have columns {sorted(graph)}, missing {missing}")
    unknown = sorted(set(edge_services) - set(services["service"]))
    if unknown or not len(edge_services):
        raise InputError(
            f"edge_services must name services of the platform, got {list(edge_services)!r}"
        )
    strangers = sorted(set(dependencies["caller"]) - set(services["service"]))
    if strangers:
        raise InputError(f"dependencies name callers that are not services: {strangers}")
    ratio = float(checks.in_range("peak_to_mean", peak_to_mean, 1.0, math.inf))
    sizes = {
        "dynamic_kib": dynamic_kib,
        "request_kib": request_kib,
        "static_objects_per_request": static_objects_per_request,
        "static_object_kib": static_object_kib,
        "internal_kib_per_call": internal_kib_per_call,
        "write_mib_per_s": write_mib_per_s,
        "nat_gb_per_month": nat_gb_per_month,
    }
    size = {k: float(checks.non_negative(k, v)) for k, v in sizes.items()}
    per_month = MONTH_SECONDS / ratio
    rate = services.set_index("service")["peak_requests_per_second"]
    edge = services["service"].isin(edge_services) & (services["kind"] != "batch")
    users = float(services.loc[edge, "peak_requests_per_second"].sum()) * per_month
    per_call = checks.non_negative("calls_per_request", dependencies["calls_per_request"])
    made = rate.loc[dependencies["caller"]].to_numpy() * per_call * per_month
    to_service = dependencies["callee"].isin(services["service"]).to_numpy()
    gb = KIB / 1e9
    static = users * size["static_objects_per_request"]
    call_gb = size["internal_kib_per_call"] * gb
    return Traffic(
        requests=users,
        static_requests=static,
        dynamic_gb=users * size["dynamic_kib"] * gb,
        static_gb=static * size["static_object_kib"] * gb,
        request_gb=(users + static) * size["request_kib"] * gb,
        internal_gb=float(made[to_service].sum()) * call_gb,
        write_gb=size["write_mib_per_s"] * 2**20 * MONTH_SECONDS / 1e9,
        nat_gb=size["nat_gb_per_month"],
        state_gb=float(made[~to_service].sum()) * call_gb,
        calls=float(made[to_service].sum()),
        state_calls=float(made[~to_service].sum()),
    )


#: How a CDN is used: not at all, in front of the cacheable (static) objects only, or in
#: front of every request, dynamic responses included.
CDN_MODES: tuple[str, ...] = ("none", "static", "all")


@dataclass(frozen=True)
class Design:
    """Where the platform runs and how its traffic is routed.

    ``regions``: the regions it runs in, active-active, users served from
    every region; ``zones``: zones used in each region; ``cross_zone``:
    whether load balancing between services spreads calls over every zone
    (true) or keeps them in the caller's zone (false, zone-aware routing), in
    which case ``zone_spill`` of the calls still cross (a zone without a
    healthy endpoint, an imbalance); ``cdn``: one of :data:`CDN_MODES`;
    ``cache_hit_ratio``: the share of static bytes and requests the CDN
    serves from its cache (dynamic responses always go to the origin).
    """

    provider: str
    regions: tuple[str, ...]
    zones: int
    cross_zone: bool
    cdn: str
    cache_hit_ratio: float
    zone_spill: float = 0.0

    def __post_init__(self) -> None:
        checks.choice("provider", self.provider, PROVIDERS)
        if not self.regions or len(set(self.regions)) != len(self.regions):
            raise InputError(f"regions must be distinct and at least one, got {self.regions!r}")
        checks.whole("zones", self.zones, minimum=1)
        checks.choice("cdn", self.cdn, CDN_MODES)
        checks.probability("cache_hit_ratio", self.cache_hit_ratio)
        checks.probability("zone_spill", self.zone_spill)


class Pricing:
    """``transfer_prices`` and ``transfer_areas`` with the look-ups a bill needs, cached.

    :meth:`book` is :func:`price_book` for a provider and region, and
    :meth:`inter_region` is :func:`inter_region_price`; both remember their
    answers, so a sweep of hundreds of bills reads the tables once per key.
    """

    def __init__(self, prices: pd.DataFrame, areas: pd.DataFrame) -> None:
        _check_prices(prices)
        needed = {"provider", "region", "area"}
        if not needed <= set(areas.columns):
            raise InputError(f"areas must have columns {sorted(needed)}, got {list(areas.columns)}")
        self.prices, self.areas = prices, areas
        self._books: dict[tuple[str, str], PriceBook] = {}
        self._pairs: dict[tuple[str, str, str], InterRegionPrice] = {}

    def book(self, provider: str, region: str) -> PriceBook:
        """The :class:`PriceBook` of ``provider`` in ``region``."""
        key = (provider, region)
        if key not in self._books:
            area = _area_of(self.areas, provider, region)
            self._books[key] = price_book(self.prices, provider, region, area)
        return self._books[key]

    def inter_region(self, provider: str, source: str, destination: str) -> InterRegionPrice:
        """The :class:`InterRegionPrice` of a GB from ``source`` to ``destination``."""
        key = (provider, source, destination)
        if key not in self._pairs:
            self._pairs[key] = inter_region_price(
                self.prices, self.areas, provider, source, destination
            )
        return self._pairs[key]


@dataclass(frozen=True)
class Bill:
    """A monthly bill in USD: transfer ``lines`` (named as in :data:`LINES`) and compute.

    ``unverified`` names the price items behind the bill that the dataset does
    not count as verified; ``notes`` the substitutions and gaps of the prices.
    """

    lines: dict[str, float]
    compute_usd: float
    unverified: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def transfer_usd(self) -> float:
        """Sum of the transfer lines."""
        return float(sum(self.lines.values()))

    @property
    def total_usd(self) -> float:
        """Transfer and compute together."""
        return self.transfer_usd + self.compute_usd

    @property
    def transfer_share(self) -> float:
        """Transfer over the whole bill (0 when the bill is 0)."""
        return self.transfer_usd / self.total_usd if self.total_usd > 0 else 0.0


def crossing_share(zones: int, cross_zone: bool, zone_spill: float = 0.0) -> float:
    """Share of calls between services that cross zones.

    With calls spread evenly over ``zones`` zones whatever the caller's zone,
    a call stays in its zone with probability :math:`1/n`, so
    :math:`(n - 1)/n` cross; zone-aware routing leaves ``zone_spill``.  One
    zone: nothing crosses.
    """
    n = checks.whole("zones", zones, minimum=1)
    spill = float(checks.probability("zone_spill", zone_spill))
    if n == 1:
        return 0.0
    return (n - 1) / n if cross_zone else spill


def cross_zone_gb(traffic: Traffic, design: Design) -> dict[str, float]:
    """The GB a month that cross zones, by cause (the parts of the cross-zone line).

    With :math:`n` zones and :math:`r` regions: ``"service calls"``, the
    ``internal_gb`` times :func:`crossing_share`; ``"stateful calls"``, the
    ``state_gb`` times :math:`(n - 1)/n` whatever the routing (a primary,
    leader or shard owner sits in one zone, and the model sends every call to
    it); ``"replica writes"``, the ``write_gb`` copied to the :math:`n - 1`
    other zones' replicas in each of the :math:`r` regions.
    """
    n, r = design.zones, len(design.regions)
    share = crossing_share(n, design.cross_zone, design.zone_spill)
    return {
        "service calls": traffic.internal_gb * share,
        "stateful calls": traffic.state_gb * crossing_share(n, cross_zone=True),
        "replica writes": traffic.write_gb * r * (n - 1),
    }


_CDN_ITEMS = {"cdn_egress", "cdn_requests", "cdn_base_fee", "cdn_origin_fill"}


def monthly_bill(
    traffic: Traffic, design: Design, pricing: Pricing, compute_usd: float = 0.0
) -> Bill:
    """The monthly transfer bill of ``traffic`` on ``design``, next to ``compute_usd``.

    With :math:`r` regions, :math:`n` zones, cache hit ratio :math:`h` and the
    prices of the first region (:meth:`Pricing.book`), the lines in USD a month:

    * **CDN**: the bytes it delivers at its tiers (static bytes; with
      ``cdn="all"`` dynamic ones too), its requests at the request price, a
      base fee, and cache fill of the bytes it fetches from the origin,
      :math:`(1 - h)` of the static bytes (plus the dynamic ones with ``"all"``);
    * **internet egress**: the users' bytes that leave the region directly
      (all of them without a CDN, the dynamic ones with ``"static"``) plus the
      NAT traffic, at the internet tiers (tiers apply to the monthly total);
    * **load balancer**: :math:`r` balancers by the hour, plus the request
      bytes that reach the origin and the origin's response bytes at the
      processing prices;
    * **NAT gateway**: a gateway per zone or per region by the hour, plus the
      NAT bytes at the processing price;
    * **cross-zone**: the bytes of :func:`cross_zone_gb` (calls between
      services, calls to stateful components, copies of database writes) at
      the inter-zone price (all billed sides);
    * **cross-region**: each region's share :math:`1/r` of the writes sent to
      every other region at :meth:`Pricing.inter_region`.

    Left out: request bytes a CDN forwards to the origin, responses to NAT
    traffic, free allowances, the load balancer's own cross-zone hop to its
    targets, storage and managed-service traffic.
    """
    book = pricing.book(design.provider, design.regions[0])
    r, n = len(design.regions), design.zones
    hours = cost.BILLING_MONTH_HOURS
    t = traffic
    hit = 0.0 if design.cdn == "none" else design.cache_hit_ratio
    all_requests = t.requests + t.static_requests
    origin_requests = t.requests + (1.0 - hit) * t.static_requests
    origin_gb = t.dynamic_gb + (1.0 - hit) * t.static_gb
    lines = dict.fromkeys(LINES, 0.0)
    if design.cdn == "none":
        direct_gb = t.dynamic_gb + t.static_gb
    else:
        front_all = design.cdn == "all"
        cdn_gb = t.static_gb + (t.dynamic_gb if front_all else 0.0)
        cdn_requests = t.static_requests + (t.requests if front_all else 0.0)
        fill_gb = (1.0 - hit) * t.static_gb + (t.dynamic_gb if front_all else 0.0)
        lines["CDN"] = (
            float(cost.transfer_cost(cdn_gb, book.cdn_tiers))
            + cdn_requests / 1e4 * book.cdn_usd_per_10k_requests
            + book.cdn_base_usd_per_month
            + fill_gb * book.cdn_origin_fill_usd_per_gb
        )
        direct_gb = 0.0 if front_all else t.dynamic_gb
    internet_gb = direct_gb + t.nat_gb
    lines["internet egress"] = float(cost.transfer_cost(internet_gb, book.internet_tiers))
    lb_in_gb = origin_requests / all_requests * t.request_gb if all_requests > 0 else 0.0
    lines["load balancer"] = (
        r * book.lb_usd_per_hour * hours
        + lb_in_gb * book.lb_in_usd_per_gb
        + origin_gb * book.lb_out_usd_per_gb
    )
    gateways = r * (n if book.nat_per_zone else 1)
    lines["NAT gateway"] = gateways * book.nat_usd_per_hour * hours + t.nat_gb * book.nat_usd_per_gb
    zone_gb = sum(cross_zone_gb(t, design).values())
    lines["cross-zone"] = zone_gb * book.inter_zone_usd_per_gb
    unverified = set(book.unverified)
    for src in design.regions:
        for dst in design.regions:
            if src != dst:
                price = pricing.inter_region(design.provider, src, dst)
                lines["cross-region"] += t.write_gb / r * price.usd_per_gb
                if not price.verified:
                    unverified.add("inter_region")
    if design.cdn == "none":
        unverified -= _CDN_ITEMS
    if r == 1:
        unverified.discard("inter_region")
    if n == 1:
        unverified.discard("inter_zone")
    compute = float(checks.non_negative("compute_usd", compute_usd))
    return Bill(lines, compute, tuple(sorted(unverified)), book.substituted)


def compute_bill(
    cpu: ArrayLike,
    memory_gib: ArrayLike,
    node_vcpu: float,
    node_memory_gib: float,
    usd_per_hour: float,
    zones: int,
    regions: int,
) -> tuple[int, float]:
    """Nodes per region and monthly compute cost (USD) of running ``cpu``/``memory_gib`` requests.

    The requests (one entry per replica) are packed on identical nodes with
    :func:`cost.pack_ffd`, the node count is rounded up to a multiple of
    ``zones`` (every zone gets the same number of nodes, and at least one),
    and every region runs the whole platform:
    :math:`\\lceil k/n \\rceil\\, n` nodes :math:`\\times` price :math:`\\times 730 \\times r`.
    No headroom for a lost zone or region is added beyond what the requests
    carry.
    """
    n = checks.whole("zones", zones, minimum=1)
    r = checks.whole("regions", regions, minimum=1)
    packing = cost.pack_ffd(
        cpu, memory_gib, node_vcpu, node_memory_gib, price_per_hour_usd=usd_per_hour
    )
    nodes = int(math.ceil(max(packing.nodes, 1) / n) * n)
    return nodes, float(cost.monthly_cost(usd_per_hour, nodes * r))


def path_prices(pricing: Pricing, provider: str, region: str, other_region: str) -> pd.DataFrame:
    """The first-tier price of one GB along each path, USD per GB, and whether it is verified.

    Rows: ``cross-zone`` (every billed side), ``cross-region`` (to
    ``other_region``), ``internet``, ``internet via NAT`` (NAT processing plus
    internet), ``via load balancer`` (response bytes processed plus internet),
    ``via CDN`` (the CDN's first tier; the origin's cache fill not counted).
    Columns: ``usd_per_gb`` and ``verified`` (every price item behind the
    path is verified in ``transfer_prices``).
    """
    book = pricing.book(provider, region)
    internet = book.internet_tiers[0][1]
    between = pricing.inter_region(provider, region, other_region)
    paths = {
        "cross-zone": (book.inter_zone_usd_per_gb, {"inter_zone"}),
        "cross-region": (between.usd_per_gb, set() if between.verified else {"inter_region"}),
        "internet": (internet, {"internet_egress"}),
        "internet via NAT": (
            book.nat_usd_per_gb + internet,
            {"nat_gateway_processed", "internet_egress"},
        ),
        "via load balancer": (
            book.lb_out_usd_per_gb + internet,
            {"lb_processed_out", "internet_egress"},
        ),
        "via CDN": (book.cdn_tiers[0][1], {"cdn_egress"}),
    }
    shaky = set(book.unverified) | ({"inter_region"} if not between.verified else set())
    return pd.DataFrame(
        {
            "usd_per_gb": {k: price for k, (price, _) in paths.items()},
            "verified": {k: not (items & shaky) for k, (_, items) in paths.items()},
        }
    )


def compute_bills(
    cpu: ArrayLike,
    memory_gib: ArrayLike,
    node_vcpu: float,
    node_memory_gib: float,
    usd_per_hour: float,
    zones: int,
    regions: int,
) -> dict[tuple[int, int], float]:
    """:func:`compute_bill` (USD a month) for every shape up to ``zones`` and ``regions``.

    Keys ``(zones, regions)`` from ``(1, 1)``: the argument :func:`sweep` takes.
    """
    n = checks.whole("zones", zones, minimum=1)
    r = checks.whole("regions", regions, minimum=1)
    node = (node_vcpu, node_memory_gib, usd_per_hour)
    return {
        (z, k): compute_bill(cpu, memory_gib, *node, z, k)[1]
        for z in range(1, n + 1)
        for k in range(1, r + 1)
    }


def sweep(
    traffic: Traffic,
    design: Design,
    pricing: Pricing,
    compute: dict[tuple[int, int], float],
    **vary: Sequence[object],
) -> pd.DataFrame:
    """Bills of ``design`` with one field varied: ``sweep(..., zones=[1, 2, 3])``.

    ``compute`` maps ``(zones, regions)`` to the compute bill of that shape
    (a missing shape raises :class:`InputError`).  For ``regions`` pass a list
    of region tuples.  Returns one row per value: the value, each line of the
    bill, ``transfer_usd``, ``compute_usd`` and ``total_usd``.
    """
    if len(vary) != 1:
        raise InputError(f"sweep varies exactly one field of Design, got {sorted(vary)}")
    [(name, values)] = vary.items()
    fields = {f.name for f in dataclasses.fields(Design)}
    if name not in fields:
        raise InputError(f"sweep field must be one of {sorted(fields)}, got {name!r}")
    out = []
    for value in values:
        d = dataclasses.replace(design, **{name: value})
        shape = (d.zones, len(d.regions))
        if shape not in compute:
            raise InputError(f"compute has no bill for (zones, regions) = {shape}")
        bill = monthly_bill(traffic, d, pricing, compute[shape])
        row = {name: value, **bill.lines}
        row |= {"transfer_usd": bill.transfer_usd, "compute_usd": bill.compute_usd}
        out.append(row | {"total_usd": bill.total_usd})
    return pd.DataFrame(out)


def break_even_hit_ratio(traffic: Traffic, design: Design, pricing: Pricing) -> float | None:
    """The cache hit ratio from which ``design``'s CDN costs no more than no CDN at all.

    Compares the transfer bill of ``design`` (its CDN mode, at cache hit ratio
    :math:`h`) with the same design without a CDN.  The bill with a CDN
    falls as :math:`h` rises (less cache fill, fewer bytes and requests
    through the load balancer), so bisection finds the smallest :math:`h`
    within 0.001.  Returns 0.0 when the CDN is cheaper even with an empty
    cache, ``None`` when it is dearer even at :math:`h = 1`.
    """
    if design.cdn == "none":
        raise InputError("break_even_hit_ratio needs a design with a CDN, got cdn='none'")

    def with_cdn(h: float) -> float:
        return monthly_bill(traffic, dataclasses.replace(design, cache_hit_ratio=h), pricing)

    without = monthly_bill(traffic, dataclasses.replace(design, cdn="none"), pricing)
    target = without.transfer_usd + 1e-9
    if with_cdn(0.0).transfer_usd <= target:
        return 0.0
    if with_cdn(1.0).transfer_usd > target:
        return None
    lo, hi = 0.0, 1.0
    while hi - lo > 1e-3:
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if with_cdn(mid).transfer_usd <= target else (mid, hi)
    return hi


def with_object_size(traffic: Traffic, static_object_kib: float, request_kib: float) -> Traffic:
    """``traffic`` with the same static bytes carried by objects of ``static_object_kib`` each.

    The static request count becomes static bytes / object size, and the
    request bytes follow the new request count at ``request_kib`` a request.
    """
    size = float(checks.positive("static_object_kib", static_object_kib))
    per_request = float(checks.non_negative("request_kib", request_kib))
    static = traffic.static_gb * 1e9 / (size * KIB)
    request_gb = (traffic.requests + static) * per_request * KIB / 1e9
    return dataclasses.replace(traffic, static_requests=static, request_gb=request_gb)


def break_even_object_kib(
    traffic: Traffic, design: Design, pricing: Pricing, request_kib: float, largest_kib: float
) -> float | None:
    """The static object size above which ``design``'s CDN costs no more than no CDN.

    Holds the static bytes of ``traffic`` and varies the size of the objects
    that carry them (:func:`with_object_size`): fewer, larger objects mean
    fewer CDN requests.  Bisection between 1 KiB and ``largest_kib`` (on a
    log scale, to 0.1 %).  Returns ``None`` when the CDN is dearer even at
    ``largest_kib``, and 1.0 when it is cheaper already at 1 KiB.
    """
    if design.cdn == "none":
        raise InputError("break_even_object_kib needs a design with a CDN, got cdn='none'")
    top = float(checks.in_range("largest_kib", largest_kib, 1.0, math.inf))
    without = dataclasses.replace(design, cdn="none")

    def cdn_cheaper(kib: float) -> bool:
        t = with_object_size(traffic, kib, request_kib)
        cdn = monthly_bill(t, design, pricing).transfer_usd
        return cdn <= monthly_bill(t, without, pricing).transfer_usd + 1e-9

    if cdn_cheaper(1.0):
        return 1.0
    if not cdn_cheaper(top):
        return None
    lo, hi = 0.0, math.log(top)
    while hi - lo > 1e-3:
        mid = 0.5 * (lo + hi)
        lo, hi = (lo, mid) if cdn_cheaper(math.exp(mid)) else (mid, hi)
    return math.exp(hi)


def cdn_request_usd_per_gb(
    pricing: Pricing, provider: str, region: str, object_kib: float
) -> float:
    """A CDN's request fee expressed per GB delivered, for objects of ``object_kib`` each.

    Formula: price per 10,000 requests :math:`/ (10^4 \\cdot` ``object_kib``
    :math:`\\cdot 1024 / 10^9)`; it grows as objects shrink.
    """
    size = float(checks.positive("object_kib", object_kib))
    per_10k = pricing.book(provider, region).cdn_usd_per_10k_requests
    return per_10k / (1e4 * size * KIB / 1e9)
