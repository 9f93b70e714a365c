"""Cost models: monthly cost from hourly prices, discounts, data transfer, bin packing.

Conventions: prices in USD; a month is the 730-hour *billing* month (8,760 hours a year / 12,
:data:`BILLING_MONTH_HOURS`), the convention of the AWS, Azure and Google Cloud pricing
calculators; not the 30-day (720 h) SLA month of ``availability.SLA_MONTH_HOURS``.  CPU in vCPU,
memory in GiB.  No provider price is hard-coded here: prices come from
``cloudpad.data.load("instance_prices")`` or are passed in by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from cloudpad.exceptions import InputError
from cloudpad.models import checks, numeric

#: Hours in the billing month of cloud pricing calculators (8,760 h / 12).  Not the 30-day
#: (720 h) SLA month of availability targets, ``availability.SLA_MONTH_HOURS``.
BILLING_MONTH_HOURS: float = 730.0


def monthly_cost(price_per_hour_usd: ArrayLike, count: ArrayLike = 1) -> float | np.ndarray:
    """Monthly cost in USD of ``count`` instances at ``price_per_hour_usd`` each.

    Formula: ``price_per_hour_usd * count * 730``.
    Source: the 730-hour month of the providers' pricing calculators.
    """
    price = checks.non_negative("price_per_hour_usd", price_per_hour_usd)
    n = checks.non_negative("count", count)
    return price * n * BILLING_MONTH_HOURS


# --------------------------------------------------------------------------- discounts
def discounted_price(price_per_hour_usd: ArrayLike, discount: ArrayLike) -> float | np.ndarray:
    """Hourly price after a fractional discount (reserved, committed use, savings plan, spot).

    Formula: ``price_per_hour_usd * (1 - discount)``, ``discount`` in [0, 1]
    (0.3 = 30 % off list).  Discount levels differ by provider, term and
    instance family; pass the one from your provider's price page (the book's
    price data holds GCP spot prices directly as rows with ``pricing_model = spot``).
    """
    price = checks.non_negative("price_per_hour_usd", price_per_hour_usd)
    d = checks.probability("discount", discount)
    return price * (1.0 - d)


def commitment_cost(
    instances_per_hour: ArrayLike,
    price_per_hour_usd: float,
    committed: ArrayLike,
    discount: float,
) -> float | np.ndarray:
    """Cost in USD of running a varying instance count with a fixed commitment.

    ``instances_per_hour`` is the number of instances needed in each hour of the
    period (a 1-D array; e.g. 24 values for a day).  ``committed`` instances are
    paid every hour at ``price * (1 - discount)`` whether used or not; demand above
    the commitment runs on demand at ``price``:
    ``sum_h [committed * price * (1 - discount) + max(n_h - committed, 0) * price]``.
    ``committed`` may be an array (one cost per level).  This is the billing rule
    of reserved instances, savings plans and committed-use discounts in their
    simplest form (no upfront payment, one instance size).
    """
    n = np.asarray(checks.non_negative("instances_per_hour", instances_per_hour), dtype=float)
    if n.ndim != 1 or n.size == 0:
        raise InputError(f"instances_per_hour must be a non-empty 1-D array, got shape {n.shape}")
    price = float(checks.non_negative("price_per_hour_usd", price_per_hour_usd))
    d = float(checks.probability("discount", discount))
    k = np.asarray(checks.non_negative("committed", committed), dtype=float)
    over = np.maximum(n[None, :] - k.reshape(-1, 1), 0.0).sum(axis=1)
    cost = k.ravel() * n.size * price * (1.0 - d) + over * price
    return float(cost[0]) if k.ndim == 0 else cost.reshape(k.shape)


def optimal_commitment(instances_per_hour: ArrayLike, discount: float) -> int:
    """Commitment level (instances) that minimises :func:`commitment_cost`.

    One more committed instance costs ``price (1 - discount)`` every hour and
    saves ``price`` in the hours where demand reaches it, so it pays off exactly
    when at least a fraction ``1 - discount`` of the hours need it: the optimum
    is the largest ``k`` with ``share(n_h >= k) >= 1 - discount`` (the
    newsvendor critical fractile).  Computed by evaluating every level from 0
    to the peak; ties go to the smaller commitment.
    """
    n = np.asarray(checks.non_negative("instances_per_hour", instances_per_hour), dtype=float)
    d = float(checks.probability("discount", discount))
    levels = np.arange(int(np.ceil(n.max())) + 1)
    cost = commitment_cost(n, 1.0, levels, d)
    return int(levels[int(np.argmin(np.round(cost, 9)))])


# --------------------------------------------------------------------------- data transfer
def transfer_cost(gb: ArrayLike, tiers: list[tuple[float, float]]) -> float | np.ndarray:
    """Cost in USD of ``gb`` gigabytes under tiered per-GB pricing.

    ``tiers`` lists ``(up_to_gb, usd_per_gb)`` in increasing order of
    ``up_to_gb``, the last one ``float("inf")``: the first ``up_to_gb[0]`` GB cost
    ``usd_per_gb[0]`` each, the GB from there up to ``up_to_gb[1]`` cost
    ``usd_per_gb[1]``, and so on (the structure of provider internet-egress
    price tables; pass the current figures from the provider's page, this
    function states none).  Vectorised over ``gb``.
    """
    x = np.asarray(checks.non_negative("gb", gb), dtype=float)
    if not tiers:
        raise InputError("tiers must list at least one (up_to_gb, usd_per_gb) pair, got []")
    bounds = np.array([float(t[0]) for t in tiers])
    prices = np.array([float(t[1]) for t in tiers])
    if np.isnan(bounds).any() or np.any(bounds <= 0):
        raise InputError(f"tier bound up_to_gb must be > 0, got {bounds.tolist()}")
    checks.non_negative("tier price usd_per_gb", prices)
    if np.any(np.diff(bounds) <= 0) or not np.isinf(bounds[-1]):
        raise InputError(
            f"tiers must have increasing up_to_gb ending with inf, got {bounds.tolist()}"
        )
    lower = np.concatenate(([0.0], bounds[:-1]))
    in_tier = np.clip(x[..., None] - lower, 0.0, bounds - lower)
    total = (in_tier * prices).sum(axis=-1)
    return numeric.scalar_or_array(total)


# --------------------------------------------------------------------------- bin packing
@dataclass(frozen=True)
class Packing:
    """Result of packing workloads onto identical nodes (see :func:`pack_ffd`).

    ``assignment[i]`` is the node index of workload ``i``; ``cpu_used`` and
    ``memory_used_gib`` are per node; capacities are the allocatable amounts
    (node size minus reserved overhead).
    """

    node_type: str
    nodes: int
    assignment: np.ndarray = field(repr=False)
    cpu_used: np.ndarray = field(repr=False)
    memory_used_gib: np.ndarray = field(repr=False)
    cpu_allocatable: float
    memory_allocatable_gib: float
    price_per_hour_usd: float
    cluster_fee_per_hour_usd: float = 0.0

    @property
    def cpu_utilization(self) -> float:
        """Requested CPU over allocatable CPU of all nodes."""
        return float(self.cpu_used.sum() / (self.nodes * self.cpu_allocatable))

    @property
    def memory_utilization(self) -> float:
        """Requested memory over allocatable memory of all nodes."""
        return float(self.memory_used_gib.sum() / (self.nodes * self.memory_allocatable_gib))

    @property
    def monthly_cost_usd(self) -> float:
        """``(nodes * price + cluster_fee) * 730`` USD per month."""
        return float(
            monthly_cost(self.price_per_hour_usd, self.nodes)
            + monthly_cost(self.cluster_fee_per_hour_usd)
        )


class WorkloadTooLarge(InputError):
    """A workload's request exceeds what an empty node of the type can allocate."""


def lower_bound_nodes(
    cpu: ArrayLike, memory_gib: ArrayLike, cpu_capacity: float, memory_capacity_gib: float
) -> int:
    """``max(ceil(sum cpu / cpu_capacity), ceil(sum memory / memory_capacity))``: no packing
    can use fewer nodes (the volume bound of vector bin packing)."""
    c = np.asarray(checks.non_negative("cpu", cpu), dtype=float)
    m = np.asarray(checks.non_negative("memory_gib", memory_gib), dtype=float)
    bound = max(c.sum() / cpu_capacity, m.sum() / memory_capacity_gib)
    return int(np.ceil(bound - 1e-9))


def pack_ffd(
    cpu: ArrayLike,
    memory_gib: ArrayLike,
    node_vcpu: float,
    node_memory_gib: float,
    *,
    price_per_hour_usd: float = 0.0,
    reserved_cpu: float = 0.0,
    reserved_memory_gib: float = 0.0,
    cluster_fee_per_hour_usd: float = 0.0,
    node_type: str = "node",
    max_pods: int | None = None,
    groups: ArrayLike | None = None,
    max_per_group: int | None = None,
) -> Packing:
    """First-fit decreasing packing of workloads (CPU, memory requests) onto identical nodes.

    Each node offers ``node_vcpu - reserved_cpu`` vCPU and ``node_memory_gib -
    reserved_memory_gib`` GiB; the reservation is zero unless given (a managed
    Kubernetes node's comes from :func:`cloudpad.models.kubernetes.reserved`).
    With ``max_pods`` a node also holds at most that many workloads (the
    kubelet's pods-per-node limit).  With ``groups`` (one label per workload, e.g. its
    service) and ``max_per_group`` a node holds at most that many workloads of one group: the
    replicas of a service spread over nodes (``1``: Kubernetes' required pod anti-affinity on
    ``kubernetes.io/hostname``, one replica a node).  Workloads are sorted by decreasing size,
    the larger of their two requests as a fraction of the allocatable capacity
    (the "max" key for vector bin packing), and each goes to the first open
    node where both requests (and a pod slot) fit; otherwise a new node opens.
    FFD is a heuristic: it can use more nodes than the optimum but never fewer
    than :func:`lower_bound_nodes`.  Raises
    :class:`WorkloadTooLarge` (an ``InputError``) if a workload is larger than an empty node.
    Source: Johnson (1973) for FFD; Panigrahy et al. (2011) for its vector variants.
    """
    c = np.atleast_1d(np.asarray(checks.non_negative("cpu", cpu), dtype=float))
    m = np.atleast_1d(np.asarray(checks.non_negative("memory_gib", memory_gib), dtype=float))
    if c.shape != m.shape or c.ndim != 1:
        raise InputError(
            f"cpu and memory_gib must be 1-D arrays of the same length, got {c.shape}, {m.shape}"
        )
    nv = float(checks.positive("node_vcpu", node_vcpu))
    nm = float(checks.positive("node_memory_gib", node_memory_gib))
    rc = checks.non_negative("reserved_cpu", reserved_cpu)
    rm = checks.non_negative("reserved_memory_gib", reserved_memory_gib)
    slots = c.size if max_pods is None else checks.whole("max_pods", max_pods, minimum=1)
    label, cap = _groups(groups, max_per_group, c.size)
    cap_c, cap_m = nv - float(rc), nm - float(rm)
    if cap_c <= 0 or cap_m <= 0:
        raise InputError(
            f"reserved capacity must be below the node size, got {rc} vCPU of {nv}, "
            f"{rm} GiB of {nm}"
        )
    eps = 1e-9
    too_big = (c > cap_c + eps) | (m > cap_m + eps)
    if too_big.any():
        i = int(np.argmax(too_big))
        raise WorkloadTooLarge(
            f"workload {i} ({c[i]} vCPU, {m[i]} GiB) must fit an empty {node_type} "
            f"({cap_c:.3f} vCPU, {cap_m:.3f} GiB allocatable)"
        )
    order = np.argsort(-np.maximum(c / cap_c, m / cap_m), kind="stable")
    n = c.size
    free_c = np.empty(n)
    free_m = np.empty(n)
    free_pods = np.empty(n, dtype=np.int64)
    assignment = np.empty(n, dtype=np.int64)
    in_group = np.zeros((int(label.max()) + 1 if n else 0, n), dtype=np.int64)  # per node
    opened = 0
    for i in order:  # FFD is sequential; the first-fit search is vectorised over open nodes
        fits = np.flatnonzero(
            (free_c[:opened] >= c[i] - eps)
            & (free_m[:opened] >= m[i] - eps)
            & (free_pods[:opened] > 0)
            & (in_group[label[i], :opened] < cap)
        )
        if fits.size:
            j = int(fits[0])
        else:
            j = opened
            free_c[j], free_m[j], free_pods[j] = cap_c, cap_m, slots
            opened += 1
        free_c[j] -= c[i]
        free_m[j] -= m[i]
        free_pods[j] -= 1
        in_group[label[i], j] += 1
        assignment[i] = j
    used_c = cap_c - free_c[:opened]
    used_m = cap_m - free_m[:opened]
    return Packing(
        node_type=node_type,
        nodes=opened,
        assignment=assignment,
        cpu_used=used_c,
        memory_used_gib=used_m,
        cpu_allocatable=cap_c,
        memory_allocatable_gib=cap_m,
        price_per_hour_usd=float(checks.non_negative("price_per_hour_usd", price_per_hour_usd)),
        cluster_fee_per_hour_usd=float(
            checks.non_negative("cluster_fee_per_hour_usd", cluster_fee_per_hour_usd)
        ),
    )


def _groups(groups: ArrayLike | None, max_per_group: int | None, n: int) -> tuple[np.ndarray, int]:
    """Integer labels of ``groups`` (all 0 without) and the cap per node (``n`` without)."""
    if groups is None:
        if max_per_group is not None:
            raise InputError("max_per_group needs groups, one label per workload; got no groups")
        return np.zeros(n, dtype=np.int64), n
    g = np.atleast_1d(np.asarray(groups))
    if g.shape != (n,):
        raise InputError(f"groups must give one label per workload ({n}), got shape {g.shape}")
    cap = n if max_per_group is None else checks.whole("max_per_group", max_per_group, minimum=1)
    return np.unique(g, return_inverse=True)[1].astype(np.int64), cap


def cheapest_node_type(
    cpu: ArrayLike,
    memory_gib: ArrayLike,
    node_types: pd.DataFrame,
    *,
    cluster_fee_per_hour_usd: float = 0.0,
) -> pd.DataFrame:
    """Pack the workloads onto each node type with :func:`pack_ffd`; cheapest first.

    ``node_types`` has columns ``instance_type``, ``vcpu``, ``memory_gib``,
    ``price_per_hour_usd`` (the columns of ``cloudpad.data.load("instance_prices")``).
    Types too small for the largest workload are skipped.  Returns one row per
    type: ``nodes``, ``cpu_utilization``, ``memory_utilization``,
    ``monthly_cost_usd`` (nodes plus one cluster fee), sorted by cost.
    """
    needed = {"instance_type", "vcpu", "memory_gib", "price_per_hour_usd"}
    missing = needed - set(node_types.columns)
    if missing:
        raise InputError(
            f"node_types must have columns {sorted(needed)}, missing {sorted(missing)}"
        )
    rows = []
    for t in node_types.itertuples(index=False):
        try:
            p = pack_ffd(
                cpu,
                memory_gib,
                t.vcpu,
                t.memory_gib,
                price_per_hour_usd=t.price_per_hour_usd,
                cluster_fee_per_hour_usd=cluster_fee_per_hour_usd,
                node_type=t.instance_type,
            )
        except WorkloadTooLarge:
            continue  # this node type is too small for the largest workload
        rows.append(
            {
                "instance_type": t.instance_type,
                "nodes": p.nodes,
                "cpu_utilization": p.cpu_utilization,
                "memory_utilization": p.memory_utilization,
                "monthly_cost_usd": p.monthly_cost_usd,
            }
        )
    if not rows:
        raise InputError("node_types must contain at least one type that fits the largest workload")
    return pd.DataFrame(rows).sort_values("monthly_cost_usd", kind="stable").reset_index(drop=True)
