"""The migration to Kubernetes as a journey: waves, the months of running both, and the state.

A platform does not move in one night.  This module orders its services into waves from the
call graph and the risk each carries, prices every week of the journey while the old virtual
machines and the new cluster both run, and weighs the three homes of a stateful component.

* headroom -- like for like, every service (on VMs or on the cluster) runs in each of ``Z``
  zones the replicas that keep its peak plus a surge when a zone is lost: one implementation,
  :func:`cloudpad.models.kubernetes.zonal_services` on :mod:`cloudpad.models.headroom`;
* :func:`reach` -- the share of the platform's entry traffic whose call tree reaches a
  service or component (its blast radius), from the call graph ``platform_dependencies``;
* :func:`migration_order` and :func:`assign_waves` -- orders of the services: ``"edges
  inward"`` (least reach first, so callers move before the services they call; the strangler
  fig grown from the edges), ``"core first"`` (most reach first) and ``"biggest bill first"``
  (the dearest VM groups first), cut into waves of a team's capacity;
* :func:`crossing_calls_per_s` -- the calls per second at peak that cross between the
  cluster and the VMs while a wave is half-way;
* :func:`vm_monthly_usd`, :func:`cluster_monthly_usd` -- the two bills, built on
  :mod:`cloudpad.models.kubernetes` (VM groups, node pools, batch on spot) with the same
  headroom on both sides; low-latency services on a pool of exclusive cores
  (:func:`exclusive_node_types`, :func:`whole_core_pods`) or in the shared pool;
* :func:`journey` and :func:`summary` -- the weekly bill of a plan and what it costs
  above today's bill (the dual cost), when it pays back, and what it saves over a horizon;
* :func:`stateful_options` -- each stateful component left on VMs, run by an operator on the
  cluster, or bought managed, priced with the people who run it
  (:func:`cloudpad.models.team.total_cost_usd_per_month`);
* :func:`decision_log` -- the journey's decisions as dated rows.

Money in USD per 730-hour billing month (:data:`cloudpad.models.cost.BILLING_MONTH_HOURS`);
time in weeks of 168 hours.  The platform data is authored example data, not measured.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cloudpad.exceptions import InputError
from cloudpad.models import checks, cost, team
from cloudpad.models import kubernetes as k8s

#: Billing months in a week: ``168 / 730``.
MONTHS_PER_WEEK: float = 168.0 / cost.BILLING_MONTH_HOURS

#: The orders :func:`migration_order` knows.
ORDERS: tuple[str, ...] = ("edges inward", "core first", "biggest bill first")

#: The homes of a stateful component :func:`stateful_options` prices.
HOMES: tuple[str, ...] = ("virtual machines", "operator on the cluster", "managed service")


# --------------------------------------------------------------------------- call graph
def _graph(edges: pd.DataFrame) -> dict[str, list[str]]:
    needed = {"caller", "callee"}
    missing = sorted(needed - set(edges.columns))
    if missing:
        raise InputError(f"edges must have columns caller and callee, missing {missing}")
    graph: dict[str, list[str]] = {}
    for a, b in zip(edges["caller"], edges["callee"], strict=True):
        graph.setdefault(a, []).append(b)
        graph.setdefault(b, [])
    return graph


def topological_order(edges: pd.DataFrame) -> list[str]:
    """Every node of the call graph, callers before the nodes they call (Kahn's algorithm).

    Ties are broken by name, so the order is deterministic.  Raises ``InputError`` naming the
    nodes on a cycle: a platform whose services call each other in a circle has no
    edges-inward order, and those services must move together.
    """
    graph = _graph(edges)
    indegree = dict.fromkeys(graph, 0)
    for callees in graph.values():
        for b in callees:
            indegree[b] += 1
    ready = sorted(n for n, d in indegree.items() if d == 0)
    order: list[str] = []
    while ready:
        node = ready.pop(0)
        order.append(node)
        for b in graph[node]:
            indegree[b] -= 1
            if indegree[b] == 0:
                ready.append(b)
        ready.sort()
    if len(order) < len(graph):
        stuck = sorted(n for n, d in indegree.items() if d > 0)
        raise InputError(f"the call graph must have no cycle; these services are on one: {stuck}")
    return order


def reach(services: pd.DataFrame, edges: pd.DataFrame) -> pd.Series:
    """Share of the platform's entry traffic whose call tree reaches each node of the graph.

    Entry services are the non-batch services nobody calls; each weighs its
    ``peak_requests_per_second``.  A node's reach is the summed weight of the entries from
    which a chain of calls leads to it, over the weight of all entries (an entry reaches
    itself).  If a node fails, at most this share of requests can fail with it: its blast
    radius.  Batch jobs and what only they use have reach 0.  Indexed by node name, in
    :func:`topological_order`.
    """
    order = topological_order(edges)
    graph = _graph(edges)
    called = set(edges["callee"])
    live = services[services["kind"] != "batch"]
    weight = dict(zip(live["service"], live["peak_requests_per_second"], strict=True))
    entries = {s: w for s, w in weight.items() if s not in called}
    total = float(sum(entries.values()))
    if total <= 0:
        raise InputError("the platform must have entry services with traffic (nobody calls them)")
    out = {}
    for node in order:
        seen, stack = {node}, [node]
        while stack:  # walk callers upwards: who reaches this node?
            n = stack.pop()
            for caller, callees in graph.items():
                if n in callees and caller not in seen:
                    seen.add(caller)
                    stack.append(caller)
        out[node] = sum(w for e, w in entries.items() if e in seen) / total
    for s in services["service"]:
        out.setdefault(s, entries.get(s, 0.0) / total)
    return pd.Series(out, name="reach", dtype=float)


def migration_order(
    services: pd.DataFrame,
    edges: pd.DataFrame,
    rule: str,
    vm_usd: Mapping[str, float] | None = None,
) -> list[str]:
    """The services of ``services`` in the order ``rule`` moves them.

    * ``"edges inward"``: least :func:`reach` first, ties callers first
      (:func:`topological_order`), then by name.  Reach never falls along a call, so every
      service moves no later than the services it calls: the cluster grows from the edges
      inward, and the services the whole platform depends on move last.
    * ``"core first"``: the reverse, most reach first (the services everything calls).
    * ``"biggest bill first"``: the largest monthly VM bill first (``vm_usd``, per service),
      ties by name; blind to the call graph.
    """
    checks.choice("rule", rule, ORDERS)
    names = list(services["service"])
    if rule == "biggest bill first":
        if vm_usd is None:
            raise InputError("rule 'biggest bill first' needs vm_usd, the VM bill per service")
        return sorted(names, key=lambda s: (-float(vm_usd[s]), s))
    share = reach(services, edges)
    topo = {n: i for i, n in enumerate(topological_order(edges))}
    ranked = sorted(names, key=lambda s: (share[s], topo.get(s, -1), s))
    return ranked if rule == "edges inward" else ranked[::-1]


def assign_waves(order: Sequence[str], per_wave: int) -> pd.Series:
    """Wave number (1, 2, ...) of each service: ``per_wave`` services a wave, in ``order``."""
    size = checks.whole("per_wave", per_wave, minimum=1)
    return pd.Series({s: i // size + 1 for i, s in enumerate(order)}, name="wave", dtype=int)


def crossing_calls_per_s(
    services: pd.DataFrame, edges: pd.DataFrame, moved: Iterable[str]
) -> float:
    """Calls per second at peak between a moved service and one still on VMs.

    Sum over service-to-service edges with exactly one end in ``moved`` of the caller's
    ``peak_requests_per_second`` times ``calls_per_request``.  Calls to stateful components
    are left out: the components stay outside the cluster here, so those calls cross in the
    end state too.
    """
    done = set(moved)
    rate = dict(zip(services["service"], services["peak_requests_per_second"], strict=True))
    total = 0.0
    for a, b, n in zip(edges["caller"], edges["callee"], edges["calls_per_request"], strict=True):
        if a in rate and b in rate and ((a in done) != (b in done)):
            total += float(rate[a]) * float(n)
    return total


# --------------------------------------------------------------------------- the two bills
def vm_monthly_usd(zone_services: pd.DataFrame, vms: pd.DataFrame, zones: int) -> pd.Series:
    """Monthly VM bill of each service, one VM group per zone (batch: one group, as today).

    ``zone_services`` are the replicas of one zone
    (:func:`cloudpad.models.kubernetes.zonal_services`); the groups are
    :func:`cloudpad.models.kubernetes.zonal_vm_groups`.  A Series ``vm_usd`` by service.
    """
    groups = k8s.zonal_vm_groups(zone_services, vms, zones=zones).set_index("service")
    return groups["monthly_cost_usd"].rename("vm_usd")


def exclusive_node_types(nodes: pd.DataFrame) -> pd.DataFrame:
    """Node types for a pool of exclusive cores: the reserved CPU rounded up to whole CPUs.

    Under the CPU manager's static policy exclusive CPUs are whole CPUs taken from the shared
    pool, and the CPUs kept for the system come out of it "in integer quantity"; what the
    DaemonSets request stays in the shared pool too.  So ``reserved_cpu`` (system plus
    DaemonSets, :func:`cloudpad.models.kubernetes.node_types`) becomes its ceiling.
    """
    out = nodes.copy()
    out["reserved_cpu"] = np.ceil(out["reserved_cpu"] - 1e-9)
    return out[out["reserved_cpu"] < out["vcpu"]].reset_index(drop=True)


def whole_core_pods(pods: pd.DataFrame) -> pd.DataFrame:
    """``pods`` (:func:`cloudpad.models.kubernetes.pods`) with CPU rounded up to whole cores.

    A Guaranteed pod gets exclusive CPUs only for an integer CPU request.
    """
    return pods.assign(cpu=np.ceil(pods["cpu"] - 1e-9))


@dataclass(frozen=True)
class ClusterBill:
    """The cluster's monthly bill in parts (USD): shared pool, low-latency pool, batch, fee."""

    shared_usd: float
    low_latency_usd: float
    batch_usd: float
    fee_usd: float

    @property
    def total_usd(self) -> float:
        """Sum of the parts."""
        return self.shared_usd + self.low_latency_usd + self.batch_usd + self.fee_usd


def _zonal_pool_usd(pods: pd.DataFrame, types: pd.DataFrame, zones: int) -> float:
    return float(k8s.zonal_pool(pods, types, zones=zones).iloc[0]["monthly_cost_usd"])


def cluster_monthly_usd(
    moved: Iterable[str],
    zone_services: pd.DataFrame,
    nodes: pd.DataFrame,
    batch_usd: Mapping[str, float],
    *,
    zones: int,
    fee_per_hour_usd: float,
    dedicated_low_latency: bool,
) -> ClusterBill:
    """Monthly bill of the cluster once the services ``moved`` run on it.

    The shared pool holds, in every zone, one zone's pods
    (:func:`cloudpad.models.kubernetes.zonal_services`) of the moved
    ui and api services, and of the low-latency ones unless ``dedicated_low_latency``; it has
    at least one node a zone from the day the cluster exists.  With
    ``dedicated_low_latency`` the moved low-latency services get a pool of exclusive cores
    (:func:`whole_core_pods` on :func:`exclusive_node_types`).  Each pool is the cheapest node
    type of ``nodes`` with the same nodes in each zone
    (:func:`cloudpad.models.kubernetes.zonal_pool`).
    Moved batch jobs cost ``batch_usd`` (e.g. on spot,
    :func:`cloudpad.models.kubernetes.batch_costs`); the control-plane fee is paid throughout.
    """
    z = checks.whole("zones", zones, minimum=1)
    fee = float(checks.non_negative("fee_per_hour_usd", fee_per_hour_usd))
    chosen = zone_services[zone_services["service"].isin(set(moved))]
    low = (chosen["kind"] == "low_latency") & dedicated_low_latency
    shared = k8s.pods(chosen[(chosen["kind"] != "batch") & ~low])
    special = k8s.pods(chosen[low])
    low_usd = (
        _zonal_pool_usd(whole_core_pods(special), exclusive_node_types(nodes), z)
        if len(special)
        else 0.0
    )
    jobs = sum(float(batch_usd[s]) for s in chosen.loc[chosen["kind"] == "batch", "service"])
    return ClusterBill(
        shared_usd=_zonal_pool_usd(shared, nodes, z),
        low_latency_usd=low_usd,
        batch_usd=jobs,
        fee_usd=fee * cost.BILLING_MONTH_HOURS,
    )


# --------------------------------------------------------------------------- the journey
@dataclass(frozen=True)
class Schedule:
    """How the journey is paced, in weeks.

    ``build_weeks``: the cluster runs (one node a zone and the fee) before the first wave;
    ``wave_weeks``: one wave's length, its services switched over at its end;
    ``rollback_weeks``: how long a moved service's VMs are kept, ready to take the traffic back.
    """

    build_weeks: int
    wave_weeks: int
    rollback_weeks: int

    def __post_init__(self) -> None:
        checks.whole("build_weeks", self.build_weeks, minimum=0)
        checks.whole("wave_weeks", self.wave_weeks, minimum=1)
        checks.whole("rollback_weeks", self.rollback_weeks, minimum=0)

    def cutover_week(self, wave: int) -> int:
        """Week at whose start wave ``wave`` (1, 2, ...) serves from the cluster."""
        return self.build_weeks + checks.whole("wave", wave, minimum=1) * self.wave_weeks

    def end_week(self, waves: int) -> int:
        """Week at whose start the last VM of ``waves`` waves is switched off."""
        return self.cutover_week(waves) + self.rollback_weeks


def journey(
    waves: pd.Series,
    vm_usd: pd.Series,
    cluster_usd: Callable[[frozenset[str]], float],
    schedule: Schedule,
    crossing: Callable[[frozenset[str]], float] | None = None,
) -> pd.DataFrame:
    """Week by week bill of a migration plan, from the cluster's first week to the last VM off.

    ``waves`` gives each service's wave (:func:`assign_waves`); ``vm_usd`` its monthly VM bill
    (:func:`vm_monthly_usd`); ``cluster_usd(moved)`` the cluster's monthly bill with the
    services ``moved`` on it.  In week ``w`` a service serves from the cluster from
    ``schedule.cutover_week(wave)`` and its VMs run until ``rollback_weeks`` later.  Returns one
    row per week: ``week``, ``moved`` (services on the cluster), ``vm_usd`` and ``cluster_usd``
    (monthly rates), ``total_usd`` and, with ``crossing``, ``crossing_calls_per_s``.
    """
    missing = sorted(set(waves.index) - set(vm_usd.index))
    if missing:
        raise InputError(f"vm_usd must price every service of waves, missing {missing}")
    last = int(waves.max())
    cut = {s: schedule.cutover_week(int(w)) for s, w in waves.items()}
    rows = []
    for week in range(schedule.end_week(last) + 1):
        moved = frozenset(s for s, c in cut.items() if c <= week)
        on_vms = [s for s, c in cut.items() if week < c + schedule.rollback_weeks]
        row = {"week": week, "moved": len(moved), "vm_usd": float(vm_usd[on_vms].sum())}
        row["cluster_usd"] = float(cluster_usd(moved))
        row["total_usd"] = row["vm_usd"] + row["cluster_usd"]
        if crossing is not None:
            row["crossing_calls_per_s"] = float(crossing(moved))
        rows.append(row)
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class JourneySummary:
    """What a :func:`journey` costs and saves against staying on VMs (see :func:`summary`)."""

    weeks: int
    dual_cost_usd: float
    peak_monthly_usd: float
    payback_week: int | None
    saved_usd: float


def summary(weekly: pd.DataFrame, today_usd: float, horizon_weeks: int) -> JourneySummary:
    """The journey of :func:`journey` against staying on today's VMs for ``horizon_weeks``.

    * ``weeks``: from the cluster's first week until the last VM is off;
    * ``dual_cost_usd``: ``sum_w max(0, bill_w - today) * 168/730``, what the journey pays
      above today's bill while both run;
    * ``peak_monthly_usd``: the highest monthly rate on the way;
    * ``payback_week``: the first week from which the cumulative bill stays at or below what
      staying would have cost (None if not within the horizon);
    * ``saved_usd``: staying's bill minus the journey's over the horizon, the weeks after the
      journey at its last weekly bill.
    """
    today = float(checks.non_negative("today_usd", today_usd))
    horizon = checks.whole("horizon_weeks", horizon_weeks, minimum=1)
    bills = weekly["total_usd"].to_numpy(dtype=float)
    if horizon > bills.size:
        bills = np.concatenate([bills, np.full(horizon - bills.size, bills[-1])])
    bills = bills[:horizon]
    over = np.cumsum(bills - today) * MONTHS_PER_WEEK
    stays = np.flatnonzero(over > 1e-9)
    payback = 0 if stays.size == 0 else int(stays[-1]) + 1
    return JourneySummary(
        weeks=len(weekly),
        dual_cost_usd=float(np.clip(weekly["total_usd"] - today, 0, None).sum() * MONTHS_PER_WEEK),
        peak_monthly_usd=float(weekly["total_usd"].max()),
        payback_week=payback if payback < horizon else None,
        saved_usd=float(-over[-1]),
    )


# --------------------------------------------------------------------------- stateful
def stateful_options(
    stateful: pd.DataFrame,
    vms: pd.DataFrame,
    *,
    managed_price_factor: float,
    toil_hours_per_week: Mapping[str, float],
    failures_per_year: Mapping[str, float],
    usd_per_engineer_hour: float,
) -> pd.DataFrame:
    """Monthly cost of each stateful component in each of :data:`HOMES`, people included.

    ``stateful`` has the columns of ``platform_stateful``.  The machines: ``nodes`` VMs of the
    cheapest type of ``vms`` that holds one node's requests
    (:func:`cloudpad.models.kubernetes.pool_options`); an operator on the cluster runs the same
    nodes as a node pool (the same bill); a managed service costs ``managed_price_factor``
    times that (an assumption: the providers price managed databases per instance above the
    bare instance).  The people: ``toil_hours_per_week[home]`` plus
    ``failures_per_year[home]`` pages of :data:`cloudpad.models.team.SRE_HOURS_PER_INCIDENT`
    hours each, at ``usd_per_engineer_hour``
    (:func:`cloudpad.models.team.total_cost_usd_per_month`).  Returns one row per component
    and home: ``component``, ``home``, ``machines_usd``, ``hours``, ``total_usd`` (monthly).
    """
    factor = float(checks.non_negative("managed_price_factor", managed_price_factor))
    for name, given in (("toil_hours_per_week", toil_hours_per_week),
                        ("failures_per_year", failures_per_year)):  # fmt: skip
        missing = [h for h in HOMES if h not in given]
        if missing:
            raise InputError(f"{name} must give a value for every home, missing {missing}")
    rows = []
    for c in stateful.itertuples(index=False):
        n = checks.whole("nodes", c.nodes, minimum=1)
        cpu = [c.cpu_request_millicores / 1000.0] * n
        mem = [c.memory_request_mib / k8s.MIB_PER_GIB] * n
        machines = float(k8s.pool_options(cpu, mem, vms, min_nodes=n).iloc[0]["monthly_cost_usd"])
        for home in HOMES:
            weekly = float(toil_hours_per_week[home]) + (
                float(failures_per_year[home]) * team.SRE_HOURS_PER_INCIDENT / team.WEEKS_PER_YEAR
            )
            hours = float(team.engineer_hours_per_month(weekly))
            bill = machines * (factor if home == "managed service" else 1.0)
            rows.append(
                {
                    "component": c.component,
                    "home": home,
                    "machines_usd": bill,
                    "hours": hours,
                    "total_usd": float(
                        team.total_cost_usd_per_month(bill, hours, usd_per_engineer_hour)
                    ),
                }
            )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- the log
def decision_log(start: str, entries: Sequence[tuple[int, str, str]]) -> pd.DataFrame:
    """The journey's decisions as dated rows: ``(week, decision, basis)`` from ``start``.

    ``start`` is the ISO date (YYYY-MM-DD) of week 0; a row's date is the Monday on or after
    ``start + week`` weeks.  Sorted by date, then as given.  Returns ``date``, ``week``,
    ``decision``, ``basis``.
    """
    try:
        day0 = dt.date.fromisoformat(start)
    except ValueError:
        raise InputError(f"start must be a date YYYY-MM-DD, got {start!r}") from None
    rows = []
    for i, (week, decision, basis) in enumerate(entries):
        w = checks.whole("week", week, minimum=0)
        day = day0 + dt.timedelta(weeks=w)
        day += dt.timedelta(days=(7 - day.weekday()) % 7)
        rows.append(
            {"date": day.isoformat(), "week": w, "decision": decision, "basis": basis, "i": i}
        )
    out = pd.DataFrame(rows).sort_values(["week", "i"], kind="stable")
    return out.drop(columns="i").reset_index(drop=True)


def compare_orders(
    services: pd.DataFrame,
    edges: pd.DataFrame,
    vm_usd: pd.Series,
    cluster_usd: Callable[[frozenset[str]], float],
    *,
    per_wave: int,
    schedule: Schedule,
    horizon_weeks: int,
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Every order of :data:`ORDERS`, and a big bang (one wave), as journeys and in summary.

    The one call behind the article's conclusions: each order is cut into waves of
    ``per_wave`` (:func:`assign_waves`), priced week by week (:func:`journey`, with the
    crossing calls of :func:`crossing_calls_per_s`) and summarised against today's bill,
    ``vm_usd.sum()`` (:func:`summary`).  Returns the weekly frames by order and a table
    indexed by order with ``waves``, ``weeks``, ``dual_cost_usd``, ``peak_monthly_usd``,
    ``payback_week`` (NaN if none within the horizon), ``saved_usd`` and
    ``max_crossing_calls_per_s``.
    """
    today = float(vm_usd.sum())
    plans = {rule: migration_order(services, edges, rule, vm_usd) for rule in ORDERS}
    plans["big bang"] = list(services["service"])
    sizes = {rule: per_wave for rule in ORDERS} | {"big bang": len(services)}

    def crossing(moved: frozenset[str]) -> float:
        return crossing_calls_per_s(services, edges, moved)

    weekly, rows = {}, {}
    for rule, order in plans.items():
        waves = assign_waves(order, sizes[rule])
        weekly[rule] = journey(waves, vm_usd, cluster_usd, schedule, crossing)
        s = summary(weekly[rule], today, horizon_weeks)
        rows[rule] = {
            "waves": int(waves.max()),
            "weeks": s.weeks,
            "dual_cost_usd": s.dual_cost_usd,
            "peak_monthly_usd": s.peak_monthly_usd,
            "payback_week": np.nan if s.payback_week is None else s.payback_week,
            "saved_usd": s.saved_usd,
            "max_crossing_calls_per_s": float(weekly[rule]["crossing_calls_per_s"].max()),
        }
    return weekly, pd.DataFrame.from_dict(rows, orient="index")
