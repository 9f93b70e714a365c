"""Managed Kubernetes: node reservations, pods per node, node pools, batch on spot capacity.

What a managed node keeps for itself, following each provider's published rule
(:func:`reserved`; GKE, AKS and EKS), how many pods fit on it
(:func:`eks_max_pods`), what a pool of identical nodes costs for a set of pods
(:func:`pool_options`, built on :func:`cloudpad.models.cost.pack_ffd`), the
same platform run as one VM group per service (:func:`vm_groups`), both sized
alike for a lost zone and a surge (:func:`zonal_services`, :func:`zonal_vm_groups`,
:func:`zonal_pool`, on :mod:`cloudpad.models.headroom`), batch jobs on
interruptible capacity that restart after an interruption (:func:`restart_hours`,
:func:`batch_costs`, :func:`interruptions_per_node_month`), the whole comparison
in one call (:func:`compare`, a :class:`Platform`), and the platform size at which
a shared cluster becomes cheaper than VM groups (:func:`break_even_sweep` over
:func:`sweep_sizes`).

Units: CPU in millicores where a provider states it so (``cpu_millicores``) and
in vCPU in packing tables (1 vCPU = 1,000 millicores); memory in MiB where a
provider states it so and in GiB in packing tables (1 GiB = 1,024 MiB); prices
in USD; a billing month of :func:`cloudpad.models.cost.monthly_cost` (730 h).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from cloudpad.exceptions import InputError
from cloudpad.models import checks, cost, headroom, numeric

#: The managed services whose reservation rules :func:`reserved` follows.
PROVIDERS: tuple[str, ...] = ("gke", "aks", "eks")

#: Managed Kubernetes service of each cloud (the ``provider`` column of ``instance_prices``).
SERVICE_OF_CLOUD: dict[str, str] = {"gcp": "gke", "azure": "aks", "aws": "eks"}

#: The kubelet's default pods-per-node limit and the largest the Kubernetes project tests
#: ("No more than 110 pods per node", kubernetes.io, "Considerations for large clusters").
KUBELET_DEFAULT_MAX_PODS: int = 110

#: Pods per node on AKS with the legacy Azure CNI (Microsoft Learn, "IP address planning
#: for AKS": 250 with Azure CNI Overlay, 110 with kubenet or CNI Pod Subnet, 30 legacy).
AKS_LEGACY_CNI_MAX_PODS: int = 30

#: Hard eviction threshold ``memory.available < 100Mi`` on GKE, AKS >= 1.29 and EKS.
EVICTION_MIB: float = 100.0

#: AKS (1.29 and later) memory reservation ``min(20 MB x max_pods + 50 MB, 25 % of memory)``
#: (Microsoft Learn, "Node resource reservations in AKS"); MB read as MiB.
AKS_MIB_PER_POD: float = 20.0
AKS_BASE_MIB: float = 50.0
AKS_MAX_MEMORY_FRACTION: float = 0.25

MIB_PER_GIB: float = 1024.0

#: Hours in the billing month of :func:`cloudpad.models.cost.monthly_cost`.
_MONTH_HOURS: float = float(cost.monthly_cost(1.0))

# Tiered reservation rules: (tier edges, rate in each tier).  GKE CPU in cores, memory in GiB.
_GKE_CPU = ([0.0, 1.0, 2.0, 4.0, math.inf], [0.06, 0.01, 0.005, 0.0025])
_GKE_MEMORY = ([0.0, 4.0, 8.0, 16.0, 128.0, math.inf], [0.25, 0.20, 0.10, 0.06, 0.02])
# AKS CPU table 60/100/140/180/260/420/740 m at 1/2/4/8/16/32/64 cores is exactly these tiers.
_AKS_CPU = ([0.0, 1.0, 2.0, 4.0, math.inf], [0.06, 0.04, 0.02, 0.01])
# EKS: millicore ranges and hundredths of a percent, integer arithmetic as in nodeadm.
_EKS_CPU_RANGES_M = (0, 1000, 2000, 4000)
_EKS_CPU_BASIS_POINTS = (600, 100, 50, 25)


def _tiered(x: float, edges: Sequence[float], rates: Sequence[float]) -> float:
    """``sum_i rate_i * (min(x, edge_{i+1}) - edge_i)^+``: a progressive rate, like income tax."""
    return float(
        sum(
            r * max(0.0, min(x, hi) - lo)
            for lo, hi, r in zip(edges[:-1], edges[1:], rates, strict=True)
        )
    )


def _eks_cpu_millicores(vcpus: float) -> int:
    total = int(vcpus * 1000)
    ends = (*_EKS_CPU_RANGES_M[1:], total)
    reserved = 0
    for start, end, bp in zip(_EKS_CPU_RANGES_M, ends, _EKS_CPU_BASIS_POINTS, strict=True):
        if total > start:
            reserved += (min(total, end) - start) * bp // 10000
    return reserved


@dataclass(frozen=True)
class Reservation:
    """What a provider keeps on one node, and what is left for pods (see :func:`reserved`).

    ``cpu_millicores`` and ``memory_mib`` are the system reservation
    (kube-reserved and system-reserved together); ``eviction_mib`` is the hard
    eviction threshold, which also comes off allocatable memory.
    """

    provider: str
    vcpus: float
    memory_gib: float
    max_pods: int
    cpu_millicores: float
    memory_mib: float
    eviction_mib: float

    @property
    def allocatable_cpu_millicores(self) -> float:
        """``1000 * vcpus - cpu_millicores``."""
        return 1000.0 * self.vcpus - self.cpu_millicores

    @property
    def allocatable_memory_mib(self) -> float:
        """``1024 * memory_gib - memory_mib - eviction_mib``."""
        return MIB_PER_GIB * self.memory_gib - self.memory_mib - self.eviction_mib

    @property
    def allocatable_vcpu(self) -> float:
        """Allocatable CPU in vCPU."""
        return self.allocatable_cpu_millicores / 1000.0

    @property
    def allocatable_memory_gib(self) -> float:
        """Allocatable memory in GiB."""
        return self.allocatable_memory_mib / MIB_PER_GIB

    @property
    def allocatable_cpu_fraction(self) -> float:
        """Allocatable CPU as a fraction of the node's CPU."""
        return self.allocatable_cpu_millicores / (1000.0 * self.vcpus)

    @property
    def allocatable_memory_fraction(self) -> float:
        """Allocatable memory as a fraction of the node's memory."""
        return self.allocatable_memory_mib / (MIB_PER_GIB * self.memory_gib)


def reserved(
    provider: str, vcpus: float, memory_gib: float, max_pods: int | None = None
) -> Reservation:
    """CPU (millicores) and memory (MiB) a managed Kubernetes service reserves on one node.

    Allocatable = capacity - reservation - eviction threshold (memory).  Rules, as published:

    * ``"gke"`` (Google Kubernetes Engine, Standard node pools; the rule Google
      documents for node versions up to 1.36): CPU 6 % of the first core, 1 % of
      the next, 0.5 % of the next 2, 0.25 % of every core above 4; memory 255 MiB
      below 1 GiB, else 25 % of the first 4 GiB, 20 % of the next 4, 10 % of the
      next 8, 6 % of the next 112, 2 % above 128 GiB; eviction 100 MiB.  Does not
      depend on ``max_pods`` (default 110, GKE Standard's default limit).  Source:
      Google Cloud, "Plan GKE Standard node sizes" (also quoted verbatim in
      awslabs/amazon-eks-ami, which adopted the CPU tiers).
    * ``"aks"`` (Azure Kubernetes Service 1.29 and later, Linux nodes): CPU from
      the table 60/100/140/180/260/420/740 m at 1/2/4/8/16/32/64 cores,
      interpolated between rows by the tiers 6/4/2/1 % that reproduce it (the
      brackets of Azure's Karpenter provider); memory
      ``min(20 MB x max_pods + 50 MB, 25 % of memory)`` with MB read as MiB, plus
      the ``memory.available < 100Mi`` eviction threshold.  ``max_pods`` is
      required (AKS's default is 250 with Azure CNI Overlay, 110 with kubenet or
      CNI Pod Subnet, 30 with legacy Azure CNI).  Source: Microsoft Learn, "Node
      resource reservations in AKS" and "IP address planning for AKS".
    * ``"eks"`` (Amazon EKS optimized AMIs, ``nodeadm`` on Amazon Linux 2023 and
      ``bootstrap.sh`` before it): kube-reserved CPU in GKE's tiers computed in
      integer millicores, memory ``11 MiB x max_pods + 255 MiB``; eviction
      100 MiB.  ``max_pods`` is required (the ENI limit, :func:`eks_max_pods`).
      Source: awslabs/amazon-eks-ami ``nodeadm/internal/kubelet/config.go``
      (``getCPUMillicoresToReserve``, ``getMemoryMebibytesToReserve``,
      ``evictionHard``).

    Bottlerocket, custom AMIs, Windows nodes (AKS adds 2 GB) and GKE Autopilot
    differ.  Raises ``InputError`` for an unknown provider, a missing
    ``max_pods`` where the rule needs it, or a node too small to allocate anything.
    """
    checks.choice("provider", provider, PROVIDERS)
    v = float(checks.positive("vcpus", vcpus))
    gib = float(checks.positive("memory_gib", memory_gib))
    if max_pods is None and provider != "gke":
        raise InputError(
            f"max_pods must be given for {provider!r}: its memory reservation depends on it "
            "(EKS: eks_max_pods(enis, ipv4_per_eni); AKS: 250 with Azure CNI Overlay)"
        )
    pods = (
        KUBELET_DEFAULT_MAX_PODS
        if max_pods is None
        else checks.whole("max_pods", max_pods, minimum=1)
    )
    if provider == "gke":
        cpu = 1000.0 * _tiered(v, *_GKE_CPU)
        mem = 255.0 if gib < 1.0 else MIB_PER_GIB * _tiered(gib, *_GKE_MEMORY)
    elif provider == "aks":
        cpu = 1000.0 * _tiered(v, *_AKS_CPU)
        mem = min(_aks_pods_mib(pods), _aks_cap_mib(gib))
    else:
        cpu = float(_eks_cpu_millicores(v))
        mem = 11.0 * pods + 255.0
    r = Reservation(provider, v, gib, pods, cpu, mem, EVICTION_MIB)
    if r.allocatable_cpu_millicores <= 0 or r.allocatable_memory_mib <= 0:
        raise InputError(
            f"a {provider} node of {v:g} vCPU and {gib:g} GiB with max_pods={pods} has nothing "
            f"left to allocate ({r.allocatable_cpu_millicores:.0f} m, "
            f"{r.allocatable_memory_mib:.0f} MiB)"
        )
    return r


def _aks_pods_mib(max_pods: int) -> float:
    return AKS_MIB_PER_POD * max_pods + AKS_BASE_MIB


def _aks_cap_mib(memory_gib: float) -> float:
    return AKS_MAX_MEMORY_FRACTION * MIB_PER_GIB * memory_gib


def aks_memory_capped(memory_gib: float, max_pods: int) -> bool:
    """Whether AKS's memory reservation on a node is its 25 % cap rather than the per-pod rule.

    True when ``25 % of memory < 20 MiB x max_pods + 50 MiB`` (the rule of
    :func:`reserved`): the pod limit no longer changes what the node keeps.
    """
    gib = float(checks.positive("memory_gib", memory_gib))
    pods = checks.whole("max_pods", max_pods, minimum=1)
    return _aks_cap_mib(gib) < _aks_pods_mib(pods)


def reservation_shares(
    rules: Sequence[tuple[str, int | None]],
    vcpus: Sequence[float] = (1, 2, 4, 8, 16, 32, 64),
    gib_per_vcpu: float = 4.0,
) -> pd.DataFrame:
    """Share of a node's CPU and memory each rule keeps, across node sizes of one shape.

    ``rules`` lists ``(provider, max_pods)`` pairs for :func:`reserved`; nodes
    have ``vcpus`` vCPUs and ``gib_per_vcpu`` GiB per vCPU.  Returns one row per
    rule and size: ``rule`` (e.g. ``"AKS, 250 pods"``), ``vcpu``, ``memory_gib``,
    ``provider``, ``cpu_kept`` and ``memory_kept`` (eviction threshold included), as fractions.
    """
    rows = []
    for provider, pods in rules:
        label = provider.upper() + ("" if pods is None else f", {pods} pods")
        for v in vcpus:
            r = reserved(provider, v, gib_per_vcpu * v, pods)
            rows.append(
                {
                    "rule": label,
                    "provider": provider,
                    "vcpu": v,
                    "memory_gib": gib_per_vcpu * v,
                    "cpu_kept": 1 - r.allocatable_cpu_fraction,
                    "memory_kept": 1 - r.allocatable_memory_fraction,
                }
            )
    return pd.DataFrame(rows)


def eks_max_pods(enis: int, ipv4_per_eni: int) -> int:
    """Pods per node on EKS with the VPC CNI: ``enis * (ipv4_per_eni - 1) + 2``.

    Each pod takes a secondary IPv4 address of one of the instance's network
    interfaces (the first address of each is the interface's own), and two
    host-network pods (the VPC CNI and kube-proxy) need none.  ``enis`` and
    ``ipv4_per_eni`` are the instance type's limits on its default network card
    (m5.large: 3 and 10, so 29).  Source: awslabs/amazon-eks-ami
    ``eni-max-pods.txt`` header and ``nodeadm`` ``CalcMaxPods``; prefix
    delegation and custom networking change the rule.
    """
    e = checks.whole("enis", enis, minimum=0)
    ips = checks.whole("ipv4_per_eni", ipv4_per_eni, minimum=1)
    return e * (ips - 1) + 2


def max_pods_by_type(eni_limits: pd.DataFrame) -> dict[str, int]:
    """EKS pods per node for each row of ``eni_limits`` (``instance_type``, ``max_enis``,
    ``ipv4_per_eni``: the ``eks_eni_limits`` data), by :func:`eks_max_pods`."""
    return {
        r.instance_type: eks_max_pods(r.max_enis, r.ipv4_per_eni)
        for r in eni_limits.itertuples(index=False)
    }


# --------------------------------------------------------------------------- node types
_PRICE_COLUMNS = ("instance_type", "vcpu", "memory_gib", "price_per_hour_usd")


def _price_table(prices: pd.DataFrame) -> pd.DataFrame:
    missing = sorted(set(_PRICE_COLUMNS) - set(prices.columns))
    if missing:
        raise InputError(f"prices must have columns {list(_PRICE_COLUMNS)}, missing {missing}")
    if prices.empty:
        raise InputError("prices must list at least one instance type, got none")
    return prices.loc[:, list(_PRICE_COLUMNS)].reset_index(drop=True)


def price_lists(prices: pd.DataFrame, cloud: str, region: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The on-demand and spot rows of ``prices`` (``instance_prices``) for ``cloud`` and ``region``.

    Raises ``InputError`` naming the regions that exist for ``cloud`` if
    ``region`` has no on-demand price; the spot list may be empty (the book's
    data has spot prices for GCP only).
    """
    checks.choice("cloud", cloud, SERVICE_OF_CLOUD)
    rows = prices[(prices["provider"] == cloud) & (prices["region"] == region)]
    on_demand = rows[rows["pricing_model"] == "on-demand"].reset_index(drop=True)
    if on_demand.empty:
        known = ", ".join(sorted(set(prices.loc[prices["provider"] == cloud, "region"])))
        raise InputError(f"no on-demand prices for {cloud} in {region!r}; regions: {known}")
    return on_demand, rows[rows["pricing_model"] == "spot"].reset_index(drop=True)


def node_types(
    prices: pd.DataFrame,
    provider: str,
    *,
    max_pods: int | Mapping[str, int],
    daemonset_cpu_millicores: float = 0.0,
    daemonset_memory_mib: float = 0.0,
    daemonset_pods: int = 0,
) -> pd.DataFrame:
    """Instance types as Kubernetes nodes of ``provider``: what each keeps and what it can hold.

    ``prices`` has the columns of ``instance_prices`` (``instance_type``,
    ``vcpu``, ``memory_gib``, ``price_per_hour_usd``).  ``max_pods`` is one
    limit for every type or a mapping ``instance_type -> limit`` (EKS).  Every
    node also runs DaemonSet pods (CNI, kube-proxy, log and metrics agents) that
    request ``daemonset_cpu_millicores`` and ``daemonset_memory_mib`` and take
    ``daemonset_pods`` pod slots.  Adds ``max_pods``, ``system_cpu`` and
    ``system_memory_gib`` (:func:`reserved`, eviction threshold included),
    ``agent_cpu`` and ``agent_memory_gib`` (the DaemonSets), ``reserved_cpu`` and
    ``reserved_memory_gib`` (their sums: what :func:`cloudpad.models.cost.pack_ffd`
    subtracts) and ``pod_slots`` (pods left for workloads), in vCPU and GiB.
    """
    table = _price_table(prices)
    ds_cpu = float(checks.non_negative("daemonset_cpu_millicores", daemonset_cpu_millicores))
    ds_mem = float(checks.non_negative("daemonset_memory_mib", daemonset_memory_mib))
    ds_pods = checks.whole("daemonset_pods", daemonset_pods, minimum=0)
    rows = []
    for t in table.itertuples(index=False):
        if isinstance(max_pods, Mapping):
            if t.instance_type not in max_pods:
                raise InputError(f"max_pods has no limit for instance type {t.instance_type!r}")
            limit = max_pods[t.instance_type]
        else:
            limit = max_pods
        r = reserved(provider, t.vcpu, t.memory_gib, limit)
        rows.append(
            {
                "max_pods": r.max_pods,
                "system_cpu": r.cpu_millicores / 1000.0,
                "system_memory_gib": (r.memory_mib + r.eviction_mib) / MIB_PER_GIB,
                "agent_cpu": ds_cpu / 1000.0,
                "agent_memory_gib": ds_mem / MIB_PER_GIB,
                "pod_slots": r.max_pods - ds_pods,
            }
        )
    out = pd.concat([table, pd.DataFrame(rows)], axis=1)
    out["reserved_cpu"] = out["system_cpu"] + out["agent_cpu"]
    out["reserved_memory_gib"] = out["system_memory_gib"] + out["agent_memory_gib"]
    return out


def vm_types(
    prices: pd.DataFrame, *, agent_cpu_millicores: float = 0.0, agent_memory_mib: float = 0.0
) -> pd.DataFrame:
    """Instance types as plain VMs: the same columns as :func:`node_types`, no Kubernetes.

    A VM keeps nothing for a kubelet (``system_*`` = 0) and has no pod limit
    (``pod_slots`` = NaN); its agents (log shipping, monitoring) request
    ``agent_cpu_millicores`` and ``agent_memory_mib``.
    """
    out = _price_table(prices)
    out["max_pods"] = np.nan
    out["system_cpu"] = 0.0
    out["system_memory_gib"] = 0.0
    out["agent_cpu"] = (
        float(checks.non_negative("agent_cpu_millicores", agent_cpu_millicores)) / 1e3
    )
    out["agent_memory_gib"] = (
        float(checks.non_negative("agent_memory_mib", agent_memory_mib)) / MIB_PER_GIB
    )
    out["pod_slots"] = np.nan
    out["reserved_cpu"] = out["agent_cpu"]
    out["reserved_memory_gib"] = out["agent_memory_gib"]
    return out


# --------------------------------------------------------------------------- packing
def pods(services: pd.DataFrame) -> pd.DataFrame:
    """One row per pod (replica) of ``services``: ``service``, ``kind``, ``cpu`` (vCPU),
    ``memory_gib``.  ``services`` has the columns of ``platform_services``."""
    needed = {"service", "kind", "replicas", "cpu_request_millicores", "memory_request_mib"}
    missing = sorted(needed - set(services.columns))
    if missing:
        raise InputError(f"services must have columns {sorted(needed)}, missing {missing}")
    reps = services["replicas"].to_numpy(dtype=int)
    if (reps < 1).any():
        raise InputError(f"replicas must be >= 1, got {reps.min()}")
    idx = np.repeat(np.arange(len(services)), reps)
    s = services.iloc[idx]
    return pd.DataFrame(
        {
            "service": s["service"].to_numpy(),
            "kind": s["kind"].to_numpy(),
            "cpu": s["cpu_request_millicores"].to_numpy(dtype=float) / 1000.0,
            "memory_gib": s["memory_request_mib"].to_numpy(dtype=float) / MIB_PER_GIB,
        }
    )


def pool_options(
    cpu: ArrayLike,
    memory_gib: ArrayLike,
    types: pd.DataFrame,
    *,
    min_nodes: int = 1,
    hours_per_month: float | None = None,
    fee_per_hour_usd: float = 0.0,
    services: ArrayLike | None = None,
    max_replicas_per_node: int | None = None,
) -> pd.DataFrame:
    """Pack pods (``cpu`` vCPU, ``memory_gib`` GiB) onto a pool of each type; cheapest first.

    ``types`` comes from :func:`node_types` or :func:`vm_types`.  For each type
    :func:`cloudpad.models.cost.pack_ffd` places the pods on nodes that offer
    size minus ``reserved_*`` and at most ``pod_slots`` pods, and with ``services`` (each pod's
    service) and ``max_replicas_per_node`` at most that many replicas of one service a node
    (1: required pod anti-affinity on the host name); the pool has at
    least ``min_nodes`` nodes, billed ``hours_per_month`` hours (default: the
    whole 730-hour month), plus a control-plane fee billed every hour.  Types
    too small for the largest pod are left out.  Columns: ``instance_type``,
    ``vcpu``, ``memory_gib``, ``nodes``, ``vcpu_paid``, ``vcpu_requested``,
    ``vcpu_system``, ``vcpu_agents`` (the memory ones likewise in GiB),
    ``cpu_allocatable_used`` (requests over allocatable CPU),
    ``memory_allocatable_used``, ``monthly_cost_usd``.
    """
    c = np.atleast_1d(np.asarray(checks.non_negative("cpu", cpu), dtype=float))
    m = np.atleast_1d(np.asarray(checks.non_negative("memory_gib", memory_gib), dtype=float))
    floor = checks.whole("min_nodes", min_nodes, minimum=0)
    hours = _MONTH_HOURS if hours_per_month is None else hours_per_month
    hours = float(checks.non_negative("hours_per_month", hours))
    fee = float(checks.non_negative("fee_per_hour_usd", fee_per_hour_usd))
    rows = []
    for t in types.itertuples(index=False):
        slots = None if pd.isna(t.pod_slots) else int(t.pod_slots)
        if slots is not None and slots < 1:
            continue
        try:
            p = cost.pack_ffd(
                c, m, t.vcpu, t.memory_gib,
                reserved_cpu=t.reserved_cpu, reserved_memory_gib=t.reserved_memory_gib,
                max_pods=slots, node_type=t.instance_type, groups=services,
                max_per_group=max_replicas_per_node,
            )  # fmt: skip
        except cost.WorkloadTooLarge:
            continue
        n = max(p.nodes, floor)
        rows.append(
            {
                "instance_type": t.instance_type,
                "vcpu": t.vcpu,
                "memory_gib": t.memory_gib,
                "nodes": n,
                "vcpu_paid": n * t.vcpu,
                "vcpu_requested": c.sum(),
                "vcpu_system": n * t.system_cpu,
                "vcpu_agents": n * t.agent_cpu,
                "memory_gib_paid": n * t.memory_gib,
                "memory_gib_requested": m.sum(),
                "memory_gib_system": n * t.system_memory_gib,
                "memory_gib_agents": n * t.agent_memory_gib,
                "cpu_allocatable_used": c.sum() / (n * (t.vcpu - t.reserved_cpu)) if n else 0.0,
                "memory_allocatable_used": (
                    m.sum() / (n * (t.memory_gib - t.reserved_memory_gib)) if n else 0.0
                ),
                "monthly_cost_usd": n * t.price_per_hour_usd * hours + fee * _MONTH_HOURS,
            }
        )
    if not rows:
        raise InputError("types must contain at least one type that fits the largest pod")
    out = pd.DataFrame(rows)
    return out.sort_values(["monthly_cost_usd", "instance_type"], kind="stable").reset_index(
        drop=True
    )


def vm_groups(
    services: pd.DataFrame,
    types: pd.DataFrame,
    *,
    min_vms: int = 2,
    hours_per_month: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """The platform as it runs today: one VM group per service, each of its cheapest type.

    For each service the replicas are packed onto VMs of every type in
    ``types`` (:func:`vm_types`) with :func:`pool_options`; a group of an
    always-on service has at least ``min_vms`` VMs (one per zone), a batch
    group at least one.  ``hours_per_month`` maps a service to the hours its
    VMs are billed (default the whole month).  Returns one row per service:
    ``service``, ``kind`` and the chosen row of :func:`pool_options`.
    """
    floor = checks.whole("min_vms", min_vms, minimum=1)
    hours = dict(hours_per_month or {})
    rows = []
    for svc in services.itertuples(index=False):
        p = pods(pd.DataFrame([svc._asdict()]))
        best = pool_options(
            p["cpu"],
            p["memory_gib"],
            types,
            min_nodes=1 if svc.kind == "batch" else floor,
            hours_per_month=hours.get(svc.service),
        ).iloc[0]
        rows.append({"service": svc.service, "kind": svc.kind, **best.to_dict()})
    return pd.DataFrame(rows)


def right_sized_vm_groups(
    services: pd.DataFrame,
    types: pd.DataFrame,
    *,
    min_vms: int = 2,
    hours_per_month: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """A lower bound on VM groups: VMs cut exactly to size, priced pro rata.

    Each service runs on ``min_vms`` VMs (batch: one) that each hold an equal
    share of its requests plus the agents' (``reserved_*`` of ``types``), and a
    VM costs the fraction ``max(cpu / vcpu, memory / memory_gib)`` of a type's
    price, for the type where that is cheapest.  No provider sells VMs below its
    smallest size or by the fraction, so this is what perfectly right-sized VM
    groups would cost, not a price list: a floor under :func:`vm_groups`.
    Returns ``service``, ``kind``, ``instance_type`` (whose price per unit was
    used) and ``monthly_cost_usd``.
    """
    floor = checks.whole("min_vms", min_vms, minimum=1)
    hours = dict(hours_per_month or {})
    table = _price_table(types).join(
        types[["reserved_cpu", "reserved_memory_gib"]].reset_index(drop=True)
    )
    rows = []
    for svc in services.itertuples(index=False):
        n = 1 if svc.kind == "batch" else floor
        cpu = svc.replicas * svc.cpu_request_millicores / 1000.0 / n + table["reserved_cpu"]
        mem = svc.replicas * svc.memory_request_mib / MIB_PER_GIB / n + table["reserved_memory_gib"]
        share = np.maximum(cpu / table["vcpu"], mem / table["memory_gib"])
        usd = n * share * table["price_per_hour_usd"] * hours.get(svc.service, _MONTH_HOURS)
        best = int(np.argmin(usd.to_numpy()))
        rows.append(
            {
                "service": svc.service,
                "kind": svc.kind,
                "instance_type": table["instance_type"].iloc[best],
                "monthly_cost_usd": float(usd.iloc[best]),
            }
        )
    return pd.DataFrame(rows)


def paid_capacity(rows: pd.DataFrame) -> pd.DataFrame:
    """Where the CPU and memory paid for in ``rows`` go, summed over the rows.

    ``rows`` are rows of :func:`pool_options` or :func:`vm_groups`.  Returns a
    frame with columns ``vCPU`` and ``GiB`` and rows ``requested by pods``,
    ``kept by the provider`` (reservation and eviction threshold), ``agents and
    DaemonSets`` and ``unused`` (paid minus the other three).
    """
    out = {}
    for unit, col in (("vCPU", "vcpu"), ("GiB", "memory_gib")):
        parts = {
            "requested by pods": rows[f"{col}_requested"].sum(),
            "kept by the provider": rows[f"{col}_system"].sum(),
            "agents and DaemonSets": rows[f"{col}_agents"].sum(),
        }
        out[unit] = parts | {"unused": rows[f"{col}_paid"].sum() - sum(parts.values())}
    return pd.DataFrame(out)


# --------------------------------------------------------------------------- headroom
#: Columns of a :func:`pool_options` row that count one copy per zone.
_PER_ZONE: tuple[str, ...] = (
    "nodes", "vcpu_paid", "vcpu_requested", "vcpu_system", "vcpu_agents", "memory_gib_paid",
    "memory_gib_requested", "memory_gib_system", "memory_gib_agents", "monthly_cost_usd",
)  # fmt: skip


def zonal_services(services: pd.DataFrame, zones: int, surge: float) -> pd.DataFrame:
    """``services`` (``platform_services``) with the replicas ONE zone runs.

    An always-on service of ``r`` replicas at its peak runs ``k = ceil(r (1 + s) / (Z - 1))`` in
    each of ``zones`` = Z zones (:func:`cloudpad.models.headroom.replicas_per_zone`), so that
    losing a zone leaves its peak plus a ``surge`` = s, on VMs and on the cluster alike.  Batch
    services are left as they are: a job whose zone fails runs again.
    """
    out = services.copy()
    live = (out["kind"] != "batch").to_numpy()
    if live.any():
        k = headroom.replicas_per_zone(out.loc[live, "replicas"].to_numpy(), zones, surge)
        out.loc[live, "replicas"] = np.atleast_1d(k)
    return out


def _times_zones(rows: pd.DataFrame, copies: ArrayLike) -> pd.DataFrame:
    out = rows.copy()
    n = np.asarray(copies)
    for col in _PER_ZONE:
        out[col] = out[col] * n
    out["zones"] = n
    return out


def zonal_vm_groups(
    zone_services: pd.DataFrame,
    types: pd.DataFrame,
    *,
    zones: int,
    hours_per_month: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """VM groups sized like a zone-spread cluster: one group per service in each zone.

    Each always-on service's replicas of one zone (:func:`zonal_services`) go on the cheapest VM
    group of :func:`vm_groups` with at least one VM, and the group is repeated in each of
    ``zones`` zones (counts, capacities and cost times ``zones``); a batch job keeps its one
    group.  Returns the columns of :func:`vm_groups` plus ``zones`` (the copies counted).
    """
    z = checks.whole("zones", zones, minimum=1)
    groups = vm_groups(zone_services, types, min_vms=1, hours_per_month=hours_per_month)
    return _times_zones(groups, np.where(groups["kind"] == "batch", 1, z))


def zonal_pool(
    zone_pods: pd.DataFrame,
    types: pd.DataFrame,
    *,
    zones: int,
    fee_per_hour_usd: float = 0.0,
    max_replicas_per_node: int | None = None,
) -> pd.DataFrame:
    """A cluster's node pool with the same nodes in each of ``zones`` zones; cheapest type first.

    ``zone_pods`` (:func:`pods` of :func:`zonal_services`) are one zone's pods: a topology
    spread constraint on the zone puts the same replicas in every zone, and a regional node pool
    keeps the same number of nodes in each (Google Cloud, "Regional clusters"), so one zone is
    packed with :func:`pool_options` (at least one node; at most ``max_replicas_per_node`` of a
    service a node) and the pool is ``zones`` copies of it; the control-plane fee is added once.
    ``cpu_allocatable_used`` and ``memory_allocatable_used`` are a zone's, the same in all.
    Returns the columns of :func:`pool_options` plus ``zones``.
    """
    z = checks.whole("zones", zones, minimum=1)
    fee = float(checks.non_negative("fee_per_hour_usd", fee_per_hour_usd))
    one = pool_options(
        zone_pods["cpu"], zone_pods["memory_gib"], types, min_nodes=1,
        services=zone_pods["service"].to_numpy(), max_replicas_per_node=max_replicas_per_node,
    )  # fmt: skip
    out = _times_zones(one, z)
    out["monthly_cost_usd"] += fee * _MONTH_HOURS
    return out.sort_values(["monthly_cost_usd", "instance_type"], kind="stable").reset_index(
        drop=True
    )


# --------------------------------------------------------------------------- spot capacity
def interruptions_per_node_month(interrupted_share: ArrayLike) -> float | np.ndarray:
    """Interruption rate per node-month from the share of instances interrupted in a month.

    AWS's Spot Instance Advisor gives, per instance type and region, a "frequency of
    interruption", "the rate at which Spot has reclaimed capacity during the trailing month", in
    bands of <5 %, 5-10 %, 10-15 %, 15-20 % and >20 % (the page and its data file
    ``spot-advisor-data.json``): a share of instances, not a rate per node.  If a node that runs
    the whole month is interrupted by a Poisson process of rate ``lambda`` per node-month, the
    share interrupted at least once is ``p = 1 - exp(-lambda)``, so ``lambda = -ln(1 - p)``:
    0.2, the lower edge of the worst band, is 0.223 interruptions per node-month; 0.05 is 0.051.
    Nodes that ran for less than the month were exposed for less, so for them the same share
    means a higher rate per hour: the conversion is the least pessimistic reading of a band.
    ``interrupted_share`` in [0, 1).
    """
    p = np.asarray(checks.probability("interrupted_share", interrupted_share), dtype=float)
    if np.any(p >= 1):
        raise InputError(f"interrupted_share must be below 1 (every node interrupted), got {p}")
    return numeric.scalar_or_array(-np.log1p(-p))


def restart_hours(
    job_hours: float, interruptions_per_hour: ArrayLike, checkpoint_hours: float | None = None
) -> float | np.ndarray:
    """Expected node-hours to finish a job of ``job_hours`` that restarts when interrupted.

    Interruptions arrive as a Poisson process of rate ``lambda`` =
    ``interruptions_per_hour`` per node; an interrupted job loses the work since
    its last checkpoint and starts again from there on a new node.  A segment of
    length ``x`` between checkpoints takes ``(exp(lambda x) - 1) / lambda``
    node-hours on average (``x`` when ``lambda`` = 0): the renewal equation
    ``E = E[min(F, x)] + P(F < x) E`` with ``F`` exponential.  With
    ``checkpoint_hours`` = ``c`` the job is ``floor(T / c)`` segments of ``c``
    plus the rest; without, one segment of ``T`` (the RESTART model of Asmussen
    et al., 2008).  Time to get a new node and to write checkpoints is not
    billed here.  Vectorised over the rate.
    """
    t = float(checks.positive("job_hours", job_hours))
    lam = np.asarray(checks.non_negative("interruptions_per_hour", interruptions_per_hour))
    if checkpoint_hours is None or checkpoint_hours >= t:
        segments = [t]
    else:
        c = float(checks.positive("checkpoint_hours", checkpoint_hours))
        whole, rest = divmod(t, c)
        segments = [c] * int(whole) + ([rest] if rest > 1e-12 else [])
    total = np.zeros_like(lam, dtype=float)
    for x in segments:
        with np.errstate(divide="ignore", invalid="ignore"):
            total = total + np.where(lam > 0, np.expm1(lam * x) / np.where(lam > 0, lam, 1), x)
    return numeric.scalar_or_array(total)


def spot_break_even_rate(
    job_hours: float, spot_to_on_demand: float, checkpoint_hours: float | None = None
) -> float:
    """Interruptions per node-hour at which a job on spot costs as much as on demand.

    Solves ``spot_to_on_demand * restart_hours(T, lambda, c) = T`` for ``lambda``
    (the re-runs eat the whole discount) by bisection; ``spot_to_on_demand`` is
    the spot price over the on-demand price, in (0, 1]; at 1 (no discount) spot
    is never cheaper and the rate is 0.  Below the returned rate spot is cheaper
    on average.
    """
    t = float(checks.positive("job_hours", job_hours))
    ratio = float(checks.in_range("spot_to_on_demand", spot_to_on_demand, 0, 1))
    if ratio == 0:
        raise InputError("spot_to_on_demand must be > 0, got 0")
    if ratio == 1:
        return 0.0
    seg = t if checkpoint_hours is None else min(t, float(checkpoint_hours))
    return float(
        numeric.bisect(
            lambda lam: ratio * restart_hours(t, lam, checkpoint_hours) < t, 0.0, 60.0 / seg
        )
    )


def batch_costs(
    services: pd.DataFrame,
    jobs: pd.DataFrame,
    spot_types: pd.DataFrame,
    on_demand_types: pd.DataFrame,
    *,
    interruptions_per_hour: float,
    checkpoint_hours: float | None = None,
) -> pd.DataFrame:
    """Monthly cost of each batch job on spot nodes (with re-runs) and on on-demand nodes.

    ``jobs`` has ``service``, ``runs_per_month`` and ``hours_per_run`` (the
    ``platform_batch_jobs`` data); the job's pods (from ``services``) are packed
    onto the cheapest node type of each price list with :func:`pool_options`,
    billed only while the job runs: ``runs x hours_per_run`` on demand, and
    ``runs x restart_hours(...)`` on spot, each pod's work restarting on its own
    after an interruption of its node.  Columns: ``service``, ``spot_type``,
    ``spot_nodes``, ``spot_monthly_usd``, ``rerun_share`` (extra node-hours from
    interruptions), ``on_demand_type``, ``on_demand_nodes``,
    ``on_demand_monthly_usd``.
    """
    lam = float(checks.non_negative("interruptions_per_hour", interruptions_per_hour))
    by_name = services.set_index("service")
    rows = []
    for job in jobs.itertuples(index=False):
        if job.service not in by_name.index or by_name.loc[job.service, "kind"] != "batch":
            raise InputError(f"job {job.service!r} must be a batch service of services")
        p = pods(by_name.loc[[job.service]].reset_index())
        run = float(checks.positive("hours_per_run", job.hours_per_run))
        billed = restart_hours(run, lam, checkpoint_hours)
        spot = pool_options(
            p["cpu"], p["memory_gib"], spot_types, hours_per_month=job.runs_per_month * billed
        ).iloc[0]
        od = pool_options(
            p["cpu"], p["memory_gib"], on_demand_types, hours_per_month=job.runs_per_month * run
        ).iloc[0]
        rows.append(
            {
                "service": job.service,
                "spot_type": spot["instance_type"],
                "spot_nodes": int(spot["nodes"]),
                "spot_monthly_usd": spot["monthly_cost_usd"],
                "rerun_share": billed / run - 1.0,
                "on_demand_type": od["instance_type"],
                "on_demand_nodes": int(od["nodes"]),
                "on_demand_monthly_usd": od["monthly_cost_usd"],
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- the comparison
@dataclass(frozen=True)
class Platform:
    """A platform on VM groups and on one cluster, sized alike (see :func:`compare`).

    ``zone_services``: one zone's replicas (:func:`zonal_services`); ``vm_groups``: today's VM
    groups, a group per service in each zone, the batch VMs running all month
    (:func:`zonal_vm_groups`); ``right_sized``: the same VMs cut exactly to size, a floor
    (:func:`right_sized_vm_groups`); ``pools``: a cluster of each node type that fits, cheapest
    first (:func:`zonal_pool`, fee included); ``batch``: each batch job on the cluster's spot and
    on-demand nodes, billed while it runs (:func:`batch_costs`); ``vm_batch``: the same on spot
    and on-demand VMs started and stopped with their jobs.  Costs in USD per 730-hour month.
    """

    zones: int
    zone_services: pd.DataFrame = field(repr=False)
    vm_groups: pd.DataFrame = field(repr=False)
    right_sized: pd.DataFrame = field(repr=False)
    pools: pd.DataFrame = field(repr=False)
    batch: pd.DataFrame = field(repr=False)
    vm_batch: pd.DataFrame = field(repr=False)

    def _vm(self, frame: pd.DataFrame, batch: bool) -> float:
        return float(frame.loc[(frame["kind"] == "batch") == batch, "monthly_cost_usd"].sum())

    @property
    def vm_always_usd(self) -> float:
        """The always-on services' VM groups."""
        return self._vm(self.vm_groups, False)

    @property
    def vm_batch_usd(self) -> float:
        """The batch jobs' VM groups, running all month."""
        return self._vm(self.vm_groups, True)

    @property
    def vm_total_usd(self) -> float:
        """Every service on its VM groups, as run today (the batch VMs all month)."""
        return self.vm_always_usd + self.vm_batch_usd

    @property
    def vm_batch_spot_usd(self) -> float:
        """The batch jobs on spot VMs started and stopped with their jobs."""
        return float(self.vm_batch["spot_monthly_usd"].sum())

    @property
    def vm_like_total_usd(self) -> float:
        """VM groups run like the cluster: always-on groups, batch on spot VMs while it runs."""
        return self.vm_always_usd + self.vm_batch_spot_usd

    @property
    def right_sized_usd(self) -> float:
        """VMs cut exactly to size for the always-on services, batch on spot VMs while it runs."""
        return self._vm(self.right_sized, False) + self.vm_batch_spot_usd

    def baselines(self) -> pd.DataFrame:
        """Monthly cost of each service without a cluster, run like the cluster runs it.

        Indexed by service; columns ``VM groups`` and ``right-sized VMs`` (the always-on
        services' :attr:`vm_groups` and :attr:`right_sized`), both with the batch jobs on spot
        VMs while they run (:attr:`vm_batch`): the baselines of :func:`break_even_sweep`.
        """
        jobs = self.vm_batch.set_index("service")["spot_monthly_usd"]
        out = {}
        for name, frame in (("VM groups", self.vm_groups), ("right-sized VMs", self.right_sized)):
            usd = frame.set_index("service")["monthly_cost_usd"].copy()
            usd.loc[jobs.index] = jobs
            out[name] = usd
        return pd.DataFrame(out)

    @property
    def cluster(self) -> pd.Series:
        """The cheapest cluster's row of ``pools``."""
        return self.pools.iloc[0]

    @property
    def cluster_always_usd(self) -> float:
        """The always-on services on the cheapest cluster, fee included."""
        return float(self.cluster["monthly_cost_usd"])

    @property
    def batch_spot_usd(self) -> float:
        """The batch jobs on spot nodes of a pool that scales to zero."""
        return float(self.batch["spot_monthly_usd"].sum())

    @property
    def cluster_total_usd(self) -> float:
        """The cluster with its batch jobs on spot."""
        return self.cluster_always_usd + self.batch_spot_usd

    @property
    def always_saving(self) -> float:
        """``1 - cluster_always / vm_always``."""
        return 1.0 - self.cluster_always_usd / self.vm_always_usd

    @property
    def total_saving(self) -> float:
        """Like for like: ``1 - cluster_total / vm_like_total``."""
        return 1.0 - self.cluster_total_usd / self.vm_like_total_usd

    @property
    def today_saving(self) -> float:
        """Against today's bill: ``1 - cluster_total / vm_total``."""
        return 1.0 - self.cluster_total_usd / self.vm_total_usd


def compare(
    services: pd.DataFrame,
    jobs: pd.DataFrame,
    nodes: pd.DataFrame,
    spot_nodes: pd.DataFrame,
    vms: pd.DataFrame,
    spot_vms: pd.DataFrame,
    *,
    zones: int,
    surge: float,
    fee_per_hour_usd: float,
    interruptions_per_hour: float,
    checkpoint_hours: float | None = None,
    max_replicas_per_node: int | None = None,
) -> Platform:
    """The platform ``services`` and batch ``jobs`` on VM groups and on one cluster, alike.

    Both sides spread every always-on service over ``zones`` zones with the replicas that keep
    its peak plus ``surge`` when a zone is lost (:func:`zonal_services`): today's VMs as a group
    per service in each zone (:func:`zonal_vm_groups`), the cluster as a node pool with the same
    nodes in each zone on each type of ``nodes`` (:func:`zonal_pool`, with
    ``fee_per_hour_usd`` and at most ``max_replicas_per_node`` replicas of a service a node).
    Batch jobs: one VM group each, running all month as today, and, like for like, on spot VMs
    (``spot_vms``) started and stopped with their jobs, against a spot pool that scales to zero
    (:func:`batch_costs` on ``spot_nodes``, with ``interruptions_per_hour`` and
    ``checkpoint_hours`` on both sides).  ``vms`` are the VM types (:func:`vm_types`).  Returns
    a :class:`Platform`, whose properties are the comparison's conclusions.
    """
    z = checks.whole("zones", zones, minimum=2)
    zone_services = zonal_services(services, z, surge)
    live = (zone_services["kind"] != "batch").to_numpy()
    whole = zone_services.assign(replicas=np.where(live, z, 1) * zone_services["replicas"])
    spot = dict(interruptions_per_hour=interruptions_per_hour, checkpoint_hours=checkpoint_hours)
    return Platform(
        zones=z,
        zone_services=zone_services,
        vm_groups=zonal_vm_groups(zone_services, vms, zones=z),
        right_sized=right_sized_vm_groups(whole, vms, min_vms=z),  # a VM a zone, cut to size
        pools=zonal_pool(
            pods(zone_services[live]),
            nodes,
            zones=z,
            fee_per_hour_usd=fee_per_hour_usd,
            max_replicas_per_node=max_replicas_per_node,
        ),
        batch=batch_costs(services, jobs, spot_nodes, nodes, **spot),
        vm_batch=batch_costs(services, jobs, spot_vms, vms, **spot),
    )


# --------------------------------------------------------------------------- break-even
def break_even_sweep(
    zone_services: pd.DataFrame,
    vm_monthly_usd: pd.DataFrame,
    batch_monthly_usd: Mapping[str, float],
    types: pd.DataFrame,
    *,
    sizes: Sequence[int],
    orders: int,
    seed: int,
    zones: int,
    fee_per_hour_usd: float,
    max_replicas_per_node: int | None = None,
) -> pd.DataFrame:
    """Monthly cost of one cluster, and of the platform without one, for ``sizes`` services.

    A platform of ``n`` services is the first ``n`` of a random order of
    ``zone_services`` (:func:`zonal_services`: one zone's replicas; a fresh permutation is
    appended for every ``len(zone_services)`` beyond the inventory, so large platforms repeat
    services, each copy a service of its own); ``orders`` such orders are drawn with ``seed``.
    ``vm_monthly_usd`` is indexed by service, one column per way of running it without
    Kubernetes sized for the same zones (e.g. :func:`zonal_vm_groups`); a platform costs the
    sum over its services.  The cluster costs the cheapest :func:`zonal_pool` of the always-on
    pods on ``types`` (``zones`` copies of a zone's pool, the control-plane fee, at most
    ``max_replicas_per_node`` of a service a node) plus ``batch_monthly_usd`` of its batch
    jobs.  Returns one row per (``order``, ``services``) with ``cluster`` and one column per
    baseline, in USD a month.
    """
    sizes = [checks.whole("size", s, minimum=1) for s in sizes]
    rng = np.random.default_rng(checks.whole("seed", seed, minimum=0))
    n = len(zone_services)
    rows = []
    for k in range(checks.whole("orders", orders, minimum=1)):
        order = np.concatenate([rng.permutation(n) for _ in range(-(-max(sizes) // n))])
        for size in sizes:
            chosen = zone_services.iloc[order[:size]]
            batch = (chosen["kind"] == "batch").to_numpy()
            jobs = sum(batch_monthly_usd.get(s, 0.0) for s in chosen["service"][batch])
            copies = chosen[~batch].assign(service=np.flatnonzero(~batch))  # each a service
            pool = zonal_pool(
                pods(copies), types, zones=zones, fee_per_hour_usd=fee_per_hour_usd,
                max_replicas_per_node=max_replicas_per_node,
            ).iloc[0]  # fmt: skip
            baselines = vm_monthly_usd.loc[chosen["service"]].sum()
            rows.append(
                {"order": k, "services": size, "cluster": pool["monthly_cost_usd"] + jobs}
                | baselines.to_dict()
            )
    return pd.DataFrame(rows)


def sweep_ratio(sweep: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """Cluster cost over ``baseline`` cost for each platform size of a :func:`break_even_sweep`.

    The ratio is taken order by order (the same services on both sides), then
    summarised per size: ``median``, ``low`` (smallest) and ``high`` (largest),
    indexed by ``services``.  Below 1 the cluster is cheaper.
    """
    ratio = (sweep["cluster"] / sweep[baseline]).groupby(sweep["services"])
    return pd.DataFrame({"median": ratio.median(), "low": ratio.min(), "high": ratio.max()})


def sweep_sizes(largest: int, every_up_to: int = 15, step: int = 5) -> list[int]:
    """Platform sizes for :func:`break_even_sweep`: all up to ``every_up_to``, then every ``step``.

    From 1 to ``min(every_up_to, largest)`` every size, then the multiples of
    ``step`` above ``every_up_to`` up to ``largest``, and ``largest`` itself, in
    increasing order: dense where the break-even usually lies, sparse beyond.
    """
    top = checks.whole("largest", largest, minimum=1)
    dense = checks.whole("every_up_to", every_up_to, minimum=1)
    k = checks.whole("step", step, minimum=1)
    first = (dense // k + 1) * k  # the first multiple of step above the dense range
    return sorted({*range(1, min(dense, top) + 1), *range(first, top + 1, k), top})


def break_even_size(sweep: pd.DataFrame, baseline: str) -> int | None:
    """Smallest platform size from which the cluster costs no more than ``baseline``.

    Uses the median of the paired ratio (:func:`sweep_ratio`): from the returned
    size on, in at least half of the random orders of every size swept, the
    cluster is at least as cheap.  Returns ``None`` if it is still dearer at
    the largest size.
    """
    cheaper = (sweep_ratio(sweep, baseline)["median"] <= 1.0 + 1e-12).to_numpy()
    if not cheaper[-1]:
        return None
    dearer = np.flatnonzero(~cheaper)
    sizes = np.sort(sweep["services"].unique())
    return int(sizes[0 if dearer.size == 0 else dearer[-1] + 1])
