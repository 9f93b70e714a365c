"""Tests of cloudpad.models.runtimes: GC pauses in the latency tail, memory, replicas and cost.

Checks against published values cite their source; the latency formula is checked
against a hand calculation, against the service distribution when there are no
pauses, and against a seeded Monte Carlo walk of a pause timeline.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate

from cloudpad.exceptions import InputError
from cloudpad.models import runtime_memory as rt_memory
from cloudpad.models import runtimes as rt
from cloudpad.models.latency import (
    Empirical,
    Exponential,
    Hedged,
    Lognormal,
    Mixture,
    PointMass,
    quantile_ci,
)
from cloudpad.models.runtime_memory import GoNonHeap, JvmNonHeap

SERVICE = Lognormal.from_percentiles(5.0, 20.0)  # median 5 ms, p99 20 ms


# --------------------------------------------------------------------------- published values
def test_go_heap_target_matches_the_gc_guide_example():
    # go.dev/doc/gc-guide, section "GOGC": live heap 8 MiB, 1 MiB of goroutine stacks and
    # 1 MiB of pointers in globals; GOGC=100 allocates 10 MiB before the next GC, "for a
    # total heap footprint of 18 MiB"; GOGC=50 allocates 5 MiB, GOGC=200 allocates 20 MiB.
    assert rt.go_heap_target_mib(8, 100, roots_mib=2) == pytest.approx(18.0)
    assert rt.go_heap_target_mib(8, 50, roots_mib=2) == pytest.approx(13.0)
    assert rt.go_heap_target_mib(8, 200, roots_mib=2) == pytest.approx(28.0)


def test_go_heap_minimum_is_4_mib():
    # go.dev/doc/gc-guide: "the Go GC has a minimum total heap size of 4 MiB".
    assert rt.go_heap_target_mib(1.0) == pytest.approx(4.0)


def test_go_heap_is_twice_the_live_heap_by_default():
    # Hudson, "Getting to Go" (go.dev/blog/ismmkeynote), 2018 SLO: "The heap is still at 2x";
    # runtime/debug.SetGCPercent: GOGC is "100 if the variable is not set".
    setting = rt.go(300.0)
    assert setting.heap_mib == pytest.approx(600.0)
    assert setting.headroom_mib == pytest.approx(300.0)


def test_gc_guide_steady_state_cpu_overhead():
    # go.dev/doc/gc-guide, "Understanding costs": 10 MiB/s allocated, a scan rate of
    # 100 MiB/cpu-second, 10 MiB live; a GC every 1 cpu-second gives a 20 MiB heap and
    # "a 10% overhead"; every 2 cpu-seconds a 30 MiB heap and 5 %.  One request = 1 MiB,
    # 10 requests per second, one core; pauses made negligible.
    for gogc, heap, overhead in ((100, 20.0, 0.10), (200, 30.0, 0.05)):
        setting = rt.go(10.0, gogc, pause_ms=1e-9)
        assert setting.heap_mib == pytest.approx(heap)
        assert setting.cycle_interval_s(10.0) == pytest.approx(gogc / 100)
        per_request_ms = rt.gc_cpu_ms_per_request(setting, 1024.0, 100.0, cores=1)
        assert per_request_ms * 10 / 1000 == pytest.approx(overhead, rel=1e-6)


def test_go_forces_a_cycle_every_two_minutes():
    # golang/go src/runtime/proc.go: "var forcegcperiod int64 = 2 * 60 * 1e9" (nanoseconds).
    setting = rt.go(100.0)
    assert setting.cycle_interval_s(0.0) == pytest.approx(120.0)
    assert setting.cycle_interval_s(1e-6) == pytest.approx(120.0)
    assert setting.cycle_interval_s(100.0) == pytest.approx(1.0)


def test_published_defaults():
    # Hudson 2018 (go.dev/blog/ismmkeynote): "500 microseconds stop the world pause per GC cycle".
    assert rt.GO_PAUSE_SLO_MS == 0.5
    # openjdk/jdk g1Arguments.cpp: "FLAG_SET_DEFAULT(MaxGCPauseMillis, 200)";
    # "We set it here to ~8%." FLAG_SET_DEFAULT(GCTimeRatio, 12): 1 / (1 + 12) = 7.7 %.
    assert rt.G1_PAUSE_TARGET_MS == 200
    assert 1 / (1 + rt.G1_GC_TIME_RATIO) == pytest.approx(0.08, abs=0.005)
    # JEP 439 (openjdk.org/jeps/439): "Pause times should not exceed 1 millisecond";
    # JEP 333 (openjdk.org/jeps/333): "GC pause times should not exceed 10ms".
    assert (rt.ZGC_PAUSE_GOAL_MS, rt.ZGC_JDK11_PAUSE_GOAL_MS) == (1.0, 10.0)
    # go.dev/doc/gc-guide, Latency: "the GC takes 25% of CPU resources when in the mark phase".
    assert rt.GO_MARK_CPU_FRACTION == 0.25


def test_jvm_container_with_xmx_is_heap_plus_non_heap():
    # Issue 17: with an explicit -Xmx the heap does not depend on MaxRAMPercentage, so the
    # container holds the heap and the JVM's non-heap memory, not heap / 0.25 (the old model
    # gave 4,800 MiB for a 1,200 MiB heap).
    jvm = JvmNonHeap(metaspace_mib=96, code_cache_mib=48, threads=200, stack_kib_per_thread=256)
    for build in (rt.g1, rt.zgc):
        setting = build(1200, 300, non_heap=jvm)
        assert setting.memory_mib == pytest.approx(1200 + 96 + 48 + 50)
        assert setting.memory_mib < 1200 / rt_memory.JVM_MAX_RAM_FRACTION / 3
    # The GC's structures grow with the heap: 5 % of 1,200 MiB is 60 MiB.
    assert rt.g1(1200, 300, non_heap=JvmNonHeap(gc_share_of_heap=0.05)).memory_mib == 1260
    # A share of the container left free is added on top: (1,200 + 60) / 0.9.
    got = rt.g1(1200, 300, non_heap=JvmNonHeap(other_mib=60), memory_headroom_share=0.1)
    assert got.memory_mib == pytest.approx(1400.0)
    assert sum(got.memory_terms().values()) == pytest.approx(got.memory_mib)


def test_go_container_is_heap_plus_stacks_and_runtime():
    go = rt.go(300.0, non_heap=GoNonHeap(goroutines=1024, stack_kib_per_goroutine=8, fixed_mib=20))
    # go.dev/doc/gc-guide: goroutine stacks are GC roots, "Live heap + (Live heap + GC roots)
    # * GOGC / 100": 300 + 308 MiB of heap, and 8 MiB of stacks and 20 MiB beside it.
    assert go.heap_mib == pytest.approx(608.0)
    assert go.memory_mib == pytest.approx(608.0 + 8.0 + 20.0)


def test_go_memory_limit_caps_the_heap_at_the_limit_less_the_runtime():
    # go.dev/doc/gc-guide, "Memory limit": the limit bounds all the memory the runtime manages
    # (Sys - HeapReleased), so the heap can grow to the limit less the runtime's other memory.
    rest = GoNonHeap(runtime_share_of_heap=0.05, fixed_mib=20)
    capped = rt.go(300.0, 300.0, non_heap=rest, memory_limit_mib=1000.0)  # GOGC 300: 1,200 MiB
    assert capped.heap_mib == pytest.approx((1000.0 - 20.0) / 1.05)
    off = rt.go(300.0, math.inf, non_heap=rest, memory_limit_mib=1000.0)  # GOGC=off
    assert off.heap_mib == pytest.approx(capped.heap_mib)
    assert rt.go(300.0, 100.0, non_heap=rest, memory_limit_mib=1000.0).heap_mib == 600.0
    with pytest.raises(InputError, match="memory_limit_mib"):
        rt.go(300.0, math.inf, non_heap=rest, memory_limit_mib=300.0)
    with pytest.raises(InputError, match="GOGC=off"):
        rt.go(300.0, math.inf)


def test_g1_eden_is_at_most_60_percent_of_the_heap():
    # G1MaxNewSizePercent = 60 (-XX:+UnlockExperimentalVMOptions -XX:+PrintFlagsFinal).
    assert rt.g1(1000, 100).headroom_mib == pytest.approx(600)
    assert rt.g1(1000, 500).headroom_mib == pytest.approx(500)  # the live data must fit too
    assert rt.g1(1000, 100).cycle_interval_s(60.0) == pytest.approx(10.0)


def test_zgc_has_three_pauses_per_cycle():
    # A ZGC cycle: Pause Mark Start, Pause Mark End, Pause Relocate Start (ZDriver; the JDK's
    # -Xlog:gc+phases output lists the three per young collection).
    setting = rt.zgc(1200, 300)
    assert setting.headroom_mib == pytest.approx(900)
    assert setting.pauses_per_s(90.0) == pytest.approx(3 * 90.0 / 900)


# --------------------------------------------------------------------------- partial means
@pytest.mark.parametrize(
    "dist",
    [
        Lognormal(5.0, 0.6),
        Exponential(4.0, shift_ms=2.0),
        Mixture((Lognormal(5.0, 0.3), Exponential(20.0)), (0.9, 0.1)),
    ],
    ids=["lognormal", "shifted-exponential", "mixture"],
)
def test_partial_mean_against_numerical_integration(dist):
    # E[S; S <= c] = integral of (1 - F) from 0 to c minus c (1 - F(c)).
    for c in (1.0, 5.0, 12.0, 60.0):
        area, _ = integrate.quad(lambda x: float(dist.sf(x)), 0.0, c, limit=200)
        assert rt.partial_mean_ms(dist, c) == pytest.approx(area - c * dist.sf(c), abs=1e-7)


def test_partial_mean_of_samples_and_point_mass():
    sample = Empirical(np.array([1.0, 2.0, 3.0, 10.0]))
    assert rt.partial_mean_ms(sample, 2.5) == pytest.approx((1 + 2) / 4)
    assert rt.partial_mean_ms(sample, np.inf) == pytest.approx(16 / 4)
    assert rt.partial_mean_ms(PointMass(7.0), [6.9, 7.0]).tolist() == [0.0, 7.0]
    # Lognormal mean exp(mu + sigma^2 / 2)
    assert rt.partial_mean_ms(Lognormal(5.0, 0.6), np.inf) == pytest.approx(5 * math.exp(0.18))


def test_partial_mean_refuses_a_distribution_without_closed_form():
    with pytest.raises(InputError, match="partial mean"):
        rt.partial_mean_ms(Hedged(SERVICE, 10.0), 5.0)


# --------------------------------------------------------------------------- latency with pauses
def test_paused_latency_by_hand_for_a_constant_service_time():
    # S = 10 ms always, D = 100 ms, r = 0.1 / s = 1e-4 / ms, no backlog:
    # a = r D = 0.01 of requests wait U ~ Uniform[0, 100]; r s = 0.001 meet a pause in service.
    # For 10 < t < 110: P(L > t) = 0.01 (110 - t) / 100 + 0.001.
    dist = rt.PausedLatency(PointMass(10.0), 100.0, 0.1)
    assert dist.sf(60.0) == pytest.approx(0.01 * 0.5 + 0.001)
    assert dist.sf(109.0) == pytest.approx(0.01 * 0.01 + 0.001)
    assert dist.sf(110.5) == pytest.approx(0.0, abs=1e-15)
    assert dist.sf(9.99) == pytest.approx(1.0)
    assert dist.hit_probability == pytest.approx(0.011)
    # the quantile with tail share 0.006 sits where 0.01 (110 - t) / 100 = 0.005
    assert dist.isf(0.006) == pytest.approx(60.0, abs=1e-6)


def test_backlog_stretches_the_disturbed_window():
    # Fluid backlog: the share of arrivals that wait grows by 1 / (1 - utilisation).
    calm = rt.PausedLatency(PointMass(10.0), 100.0, 0.1, utilization=0.0)
    busy = rt.PausedLatency(PointMass(10.0), 100.0, 0.1, utilization=0.75)
    assert busy.disturbed_fraction == pytest.approx(4 * calm.disturbed_fraction)
    assert busy.pause_fraction == pytest.approx(calm.pause_fraction)


def test_no_pauses_means_the_service_distribution():
    dist = rt.PausedLatency(SERVICE, 200.0, 0.0)
    t = np.array([1.0, 5.0, 20.0, 80.0])
    np.testing.assert_allclose(dist.sf(t), SERVICE.sf(t), rtol=1e-12)
    assert dist.quantile(0.99) == pytest.approx(20.0, rel=1e-9)


def test_quantiles_are_bracketed_by_service_and_service_plus_pause():
    dist = rt.PausedLatency(SERVICE, 50.0, 0.5, utilization=0.4)
    q = np.array([0.5, 0.9, 0.99, 0.999])
    got = np.asarray(dist.quantile(q))
    assert np.all(got >= np.asarray(SERVICE.quantile(q)) - 1e-9)
    assert np.all(got <= np.asarray(SERVICE.quantile(q)) + 50.0 + 1e-9)
    assert np.all(np.diff(got) > 0)
    assert np.asarray(dist.cdf(got)) == pytest.approx(q, abs=1e-9)


@pytest.mark.parametrize(
    ("pause_ms", "pauses_per_s", "utilization"),
    [(200.0, 0.1, 0.0), (200.0, 0.1, 0.5), (1.0, 3.0, 0.3), (20.0, 0.5, 0.6)],
    ids=["g1-target-idle", "g1-target-busy", "zgc-goal", "g1-measured-busy"],
)
def test_exact_quantiles_inside_monte_carlo_intervals(pause_ms, pauses_per_s, utilization):
    # Periodic pauses: at most one pause touches a request, the case the formula is exact for.
    dist = rt.PausedLatency(SERVICE, pause_ms, pauses_per_s, utilization)
    sim = rt.simulate_paused_latency(
        SERVICE, pause_ms, pauses_per_s, 400_000, utilization=utilization, seed=7
    )
    for q in (0.5, 0.9, 0.99, 0.999):
        ci = quantile_ci(sim, q, level=0.999)
        assert ci.low <= dist.quantile(q) <= ci.high, (q, ci, dist.quantile(q))
    hit = np.mean(sim > SERVICE.isf(1e-9))  # beyond any service time: only pauses get there
    assert hit <= dist.disturbed_fraction + 1e-3


def test_poisson_pauses_agree_when_pauses_are_rare():
    # A Poisson process can put two pauses close together; with r (D + s) small the
    # first-order formula still matches within the Monte Carlo interval.
    dist = rt.PausedLatency(SERVICE, 50.0, 0.2)
    sim = rt.simulate_paused_latency(SERVICE, 50.0, 0.2, 400_000, process="poisson", seed=3)
    for q in (0.9, 0.99, 0.999):
        ci = quantile_ci(sim, q, level=0.999)
        assert ci.low <= dist.quantile(q) <= ci.high


def test_sample_draws_the_same_distribution():
    dist = rt.PausedLatency(SERVICE, 100.0, 0.2, utilization=0.5)
    x = dist.sample(200_000, seed=11)
    for q in (0.9, 0.99):
        ci = quantile_ci(x, q, level=0.999)
        assert ci.low <= dist.quantile(q) <= ci.high


def test_simulation_is_reproducible():
    a = rt.simulate_paused_latency(SERVICE, 10.0, 1.0, 1000, seed=5)
    b = rt.simulate_paused_latency(SERVICE, 10.0, 1.0, 1000, seed=5)
    np.testing.assert_array_equal(a, b)


def test_gc_bound_replica_is_refused():
    with pytest.raises(InputError, match="GC-bound"):
        rt.PausedLatency(SERVICE, 500.0, 1.0, utilization=0.6)  # 0.5 / 0.4 > 1


@pytest.mark.parametrize(
    "kwargs",
    [
        {"pause_ms": 0.0, "pauses_per_s": 1.0},
        {"pause_ms": 1.0, "pauses_per_s": -1.0},
        {"pause_ms": 1.0, "pauses_per_s": 1.0, "utilization": 1.0},
    ],
)
def test_bad_latency_inputs(kwargs):
    with pytest.raises(InputError):
        rt.PausedLatency(SERVICE, **kwargs)


def test_heap_must_exceed_live_data():
    with pytest.raises(InputError, match="heap_mib"):
        rt.g1(300, 300)
    with pytest.raises(InputError, match="max_eden_mib"):
        rt.g1(600, 300, max_eden_mib=0.0)


# --------------------------------------------------------------------------- fleet, cost
WORKLOAD = rt.Workload(20_000.0, SERVICE, cpu_ms_per_request=2.0, alloc_kib_per_request=256.0)


def _size(setting, slo_ms=50.0):
    return rt.size_fleet(
        setting,
        WORKLOAD,
        cores=2,
        scan_mib_per_cpu_s=1024.0,
        target_utilization=0.6,
        slo_ms=slo_ms,
    )


def test_capacity_by_hand():
    # Go, 300 MiB live, GOGC 100: headroom 300 MiB; 256 KiB per request = 1/1200 cycles per
    # request; marking 300 / 1024 s = 292.97 ms per cycle, pause 0.5 ms x 2 cores.
    setting = rt.go(300.0)
    per_cycle = 1000 * 300 / 1024 + 0.5 * 2
    assert rt.gc_cpu_ms_per_request(setting, 256, 1024, 2) == pytest.approx(per_cycle / 1200)
    assert rt.replica_capacity_rps(setting, WORKLOAD, 2, 1024) == pytest.approx(
        2000 / (2.0 + per_cycle / 1200)
    )


def test_fleet_is_the_smallest_that_meets_both_targets():
    setting = rt.g1(1200, 300)  # 200 ms pauses at the target: latency, not CPU, sets the size
    fleet = _size(setting)
    assert fleet.meets_slo and fleet.replicas > fleet.cpu_replicas
    assert fleet.latency_ms <= 50.0
    capacity = fleet.capacity_rps
    smaller = rt.PausedLatency(
        SERVICE,
        200.0,
        float(setting.pauses_per_s(WORKLOAD.peak_rps / (fleet.replicas - 1) * 256 / 1024)),
        WORKLOAD.peak_rps / (fleet.replicas - 1) / capacity,
    )
    assert smaller.quantile(0.99) > 50.0
    assert fleet.utilization <= 0.6


def test_cpu_sets_the_fleet_when_pauses_are_short():
    fleet = _size(rt.go(300.0))
    assert fleet.meets_slo and fleet.replicas == fleet.cpu_replicas
    expected = math.ceil(WORKLOAD.peak_rps / (fleet.capacity_rps * 0.6))
    assert fleet.replicas == expected


def test_unreachable_slo_is_reported():
    fleet = _size(rt.go(300.0), slo_ms=15.0)  # the service alone has p99 = 20 ms
    assert not fleet.meets_slo
    assert fleet.replicas == fleet.cpu_replicas
    assert fleet.latency_ms > 15.0


def test_fleet_cost_by_hand():
    # 10 replicas of 2 vCPU and 5,000 MiB on 8 vCPU / 16 GiB instances: memory allows 3
    # per instance (3 x 5000 = 15,000 <= 16,384 MiB), CPU 4, so 4 instances.
    cost = rt.fleet_cost(
        10, 2, 5000, node_vcpu=8, node_memory_gib=16, price_per_hour_usd=0.5, rps=1000
    )
    assert cost.nodes == 4
    assert cost.monthly_usd == pytest.approx(4 * 0.5 * 730)
    assert cost.usd_per_million == pytest.approx(4 * 0.5 / (1000 * 3600) * 1e6)


def test_scale_out_headroom():
    # traffic rising 50 requests/s every second, 30 s to start a replica of 400 requests/s:
    # 1,500 requests/s must already be covered: ceil(1500 / 400) = 4 replicas.
    assert rt.scale_out_headroom(50, 30, 400) == 4
    assert rt.scale_out_headroom(50, 8, 400) == 1
    assert rt.scale_out_headroom(0, 30, 400) == 0


# --------------------------------------------------------------------------- helpers for articles
def test_with_heap_ratio_rebuilds_each_collector():
    go = rt.go(300.0, non_heap=GoNonHeap(fixed_mib=100.0)).with_heap_ratio(3.0)
    assert go.heap_mib == pytest.approx(900.0) and go.memory_mib == pytest.approx(1000.0)
    jvm = JvmNonHeap(gc_share_of_heap=0.1)
    g1 = rt.g1(1200, 300, pause_ms=20.0, max_eden_mib=100, non_heap=jvm).with_heap_ratio(2.0)
    assert (g1.heap_mib, g1.memory_mib, g1.pause_ms) == (600.0, 660.0, 20.0)
    assert g1.headroom_mib == pytest.approx(100.0)  # the pause target's eden is kept
    assert rt.zgc(1200, 300).with_heap_ratio(2.0).headroom_mib == pytest.approx(300.0)
    with pytest.raises(InputError, match="ratio"):
        go.with_heap_ratio(1.0)


def test_latency_quantile_is_infinite_when_gc_bound():
    setting = rt.g1(400, 300)  # eden 100 MiB, 200 ms pauses
    got = rt.latency_quantile_ms(setting, SERVICE, [10.0, 600.0], 0.99, utilization=0.5)
    assert np.isfinite(got[0]) and got[1] == np.inf  # 600 MiB/s: 6 pauses/s of 0.2 s
    assert got[0] == pytest.approx(rt.replica_latency(setting, SERVICE, 10.0, 0.5).quantile(0.99))


def test_replica_profile_at_the_utilisation_target():
    setting = rt.go(300.0, non_heap=GoNonHeap(fixed_mib=100.0))
    row = rt.replica_profile(setting, WORKLOAD, cores=2, scan_mib_per_cpu_s=1024, utilization=0.5)
    capacity = rt.replica_capacity_rps(setting, WORKLOAD, 2, 1024)
    assert row["requests_per_s"] == pytest.approx(0.5 * capacity)
    assert row["alloc_mib_per_s"] == pytest.approx(0.5 * capacity * 256 / 1024)
    assert row["cycle_interval_s"] == pytest.approx(300 / row["alloc_mib_per_s"])
    assert row["memory_mib"] == pytest.approx(700.0)
    assert row["p50_ms"] < row["p99_ms"] < row["p999_ms"]


def test_simulation_check_reports_the_interval():
    dist = rt.PausedLatency(SERVICE, 20.0, 0.5, utilization=0.6)
    table = rt.simulation_check(dist, 200_000, seed=2, level=0.999)
    assert list(table["q"]) == [0.5, 0.99, 0.999]
    assert table["inside"].all()
    assert (table["low_ms"] <= table["simulated_ms"]).all()
    assert (table["simulated_ms"] <= table["high_ms"]).all()


def test_compare_fleets_rows_match_size_fleet_and_fleet_cost():
    jvm = JvmNonHeap(other_mib=250.0)
    settings = {
        "go": rt.go(300.0, non_heap=GoNonHeap(fixed_mib=100.0)),
        "g1": rt.g1(1200, 300, pause_ms=20.0, non_heap=jvm),
    }
    kwargs = dict(cores=2, scan_mib_per_cpu_s=1024, target_utilization=0.6, slo_ms=50.0)
    table = rt.compare_fleets(
        settings, WORKLOAD, node_vcpu=8, node_memory_gib=16, price_per_hour_usd=0.357, **kwargs
    )
    for key, setting in settings.items():
        fleet = rt.size_fleet(setting, WORKLOAD, **kwargs)
        bill = rt.fleet_cost(
            fleet.replicas,
            2,
            setting.memory_mib,
            node_vcpu=8,
            node_memory_gib=16,
            price_per_hour_usd=0.357,
            rps=WORKLOAD.peak_rps,
        )
        assert table.loc[key, "replicas"] == fleet.replicas
        assert table.loc[key, "nodes"] == bill.nodes
        assert table.loc[key, "usd_per_million"] == pytest.approx(bill.usd_per_million)
    # -Xmx1200m and 250 MiB beside the heap: 1,450 MiB per replica, so CPU (4 replicas of 2
    # vCPU per 8 vCPU instance), not memory, fills an instance
    assert table.loc["g1", "memory_mib"] == pytest.approx(1450.0)
    assert table.loc["g1", "replicas_per_node"] == pytest.approx(4.0, abs=0.5)


def test_compare_fleets_gives_up_past_max_growth():
    settings = {"g1": rt.g1(1200, 300)}  # 200 ms pauses: p99 of 25 ms needs a huge fleet
    table = rt.compare_fleets(
        settings,
        WORKLOAD,
        cores=2,
        scan_mib_per_cpu_s=1024,
        target_utilization=0.6,
        slo_ms=25.0,
        node_vcpu=8,
        node_memory_gib=16,
        price_per_hour_usd=0.357,
        max_growth=2,
    )
    assert not table.loc["g1", "meets_slo"]
    assert table.loc["g1", "replicas"] == table.loc["g1", "cpu_replicas"]


def test_simulation_check_reuses_given_samples():
    dist = rt.PausedLatency(SERVICE, 20.0, 0.5, utilization=0.6)
    sim = rt.simulate_paused_latency(SERVICE, 20.0, 0.5, 50_000, utilization=0.6, seed=4)
    given = rt.simulation_check(dist, 1, samples=sim)
    fresh = rt.simulation_check(dist, 50_000, seed=4)
    assert given.equals(fresh)


def test_go_mark_phase_takes_a_quarter_of_the_cores():
    # go.dev/doc/gc-guide, Latency: "the GC takes 25% of CPU resources when in the mark phase".
    # 300 MiB live at 1,024 MiB per CPU-second on 2 cores: 0.293 CPU-s, 0.586 s of wall time.
    setting = rt.go(300.0)
    got = rt.go_mark_phase(setting, WORKLOAD, cores=2, scan_mib_per_cpu_s=1024, utilization=0.6)
    assert got["mark_s"] == pytest.approx(300 / 1024 / 0.5)
    row = rt.replica_profile(setting, WORKLOAD, cores=2, scan_mib_per_cpu_s=1024, utilization=0.6)
    assert got["marking_time_share"] == pytest.approx(got["mark_s"] / row["cycle_interval_s"])
    assert got["utilization_while_marking"] == pytest.approx(0.6 * (1 - row["gc_cpu_share"]) / 0.75)
    with pytest.raises(InputError, match="Go's collector"):
        rt.go_mark_phase(
            rt.zgc(1200, 300), WORKLOAD, cores=2, scan_mib_per_cpu_s=1024, utilization=0.6
        )


def test_zgc_barrier_overhead_raises_the_program_cpu():
    # JEP 333 goal: "No more than 15% application throughput reduction compared to using G1".
    assert rt.ZGC_JEP333_THROUGHPUT_LOSS == 0.15
    plain, taxed = rt.zgc(1200, 300), rt.zgc(1200, 300, cpu_overhead=0.15)
    assert rt.program_cpu_ms(taxed, WORKLOAD) == pytest.approx(1.15 * WORKLOAD.cpu_ms_per_request)
    assert rt.replica_capacity_rps(taxed, WORKLOAD, 2, 1024) < rt.replica_capacity_rps(
        plain, WORKLOAD, 2, 1024
    )


def test_g1_with_a_pause_target_collects_when_its_chosen_eden_fills():
    # Oracle G1 tuning guide: the young generation size "is the main means for G1 to allow it
    # to meet the pause-time"; the model takes the eden G1 chose (read from a GC log).
    tuned = rt.g1(1200, 300, pause_ms=12.0, max_eden_mib=225.0)
    assert tuned.headroom_mib == pytest.approx(225.0)
    assert tuned.cycle_interval_s(150.0) == pytest.approx(1.5)
    assert rt.g1(1200, 300).headroom_mib == pytest.approx(720.0)
