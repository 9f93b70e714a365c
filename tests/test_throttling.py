"""Tests of cloudpad.models.throttling: CFS bandwidth control and its effect on a latency tail.

Published values: the Linux kernel's "CFS Bandwidth Control" (Documentation/scheduler/
sched-bwc.rst) examples of quota and period; Buffer's measurement that a container was
throttled while using far less than its limit (E. Khun, "Kubernetes: Make your services faster
by removing CPU limits", 2020).  The simulation is checked against the M/M/c closed form
(Erlang C, cloudpad.models.queueing) where no quota applies.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloudpad.exceptions import InputError
from cloudpad.models import queueing
from cloudpad.models import throttling as th


@pytest.mark.parametrize(
    ("quota", "period", "cores"),
    [
        (250.0, 250.0, 1.0),  # sched-bwc.rst example 1: "1 CPU worth of runtime every 250ms"
        (1000.0, 500.0, 2.0),  # example 2: "2 CPUs worth of runtime every 500ms"
        (10.0, 50.0, 0.2),  # example 3: "10ms quota will be equivalent to 20% of 1 CPU"
    ],
)
def test_quota_and_period_as_in_the_kernel_documentation(quota, period, cores):
    assert th.limit_cores(quota, period) == pytest.approx(cores)
    assert th.quota_ms(cores, period) == pytest.approx(quota)


def test_default_period_is_the_kernels():
    # sched-bwc.rst: "The default values are: cpu.cfs_period_us=100ms".
    assert th.DEFAULT_PERIOD_MS == 100.0
    assert th.quota_ms(0.5) == pytest.approx(50.0)


def test_burst_worked_example():
    # Worked from the kernel's rule (quota per period, throttled until the next period):
    # 200 ms of CPU on 4 threads under a 1-core limit: 100 ms of CPU in 25 ms, throttled
    # 75 ms, the remaining 100 ms in 25 ms: done at 125 ms instead of 50 ms.
    assert th.burst_ms(200.0, 4, 1.0) == pytest.approx(125.0)
    assert th.burst_ms(200.0, 4, None) == pytest.approx(50.0)
    assert th.burst_ms(200.0, 4, 4.0) == pytest.approx(50.0)  # k <= L: never throttled
    assert th.burst_ms(100.0, 4, 1.0) == pytest.approx(25.0)  # exactly one quota


def test_stall_is_the_rest_of_the_period():
    assert th.stall_ms(2.0, 16) == pytest.approx(87.5)  # 200 ms quota gone in 12.5 ms
    assert th.stall_ms(2.0, 2) == 0.0
    assert th.stall_ms(2.0, 1) == 0.0


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 64), st.floats(0.0, 99.0))
def test_limit_for_stall_inverts_stall(threads, stall):
    limit = th.limit_for_stall(threads, stall)
    if limit > 0:
        assert th.stall_ms(limit, threads) == pytest.approx(stall, abs=1e-9)
    assert th.limit_for_stall(threads, 0.0) == threads


def test_without_a_limit_the_simulation_is_the_mmc_queue():
    # Erlang C: the p99 response of M/M/2 at 583 requests/s of 2.06 ms each (rho = 0.6).
    sim = th.simulate(583.0, 2.06, 2, None, requests=100_000, seed=3)
    exact = 1000.0 * queueing.mmc(583.0, 1000.0 / 2.06, 2).response_percentile_s(0.99)
    assert sim.percentile_ms(0.99) == pytest.approx(exact, rel=0.05)
    assert sim.throttled_share == 0.0
    assert sim.cpu_cores_used == pytest.approx(0.6 * 2, rel=0.03)


@settings(max_examples=10, deadline=None)
@given(st.integers(1, 8), st.integers(1, 4))
def test_a_limit_of_at_least_the_threads_never_throttles(threads, extra):
    kw = {"burst": 4, "requests": 2000, "seed": 7}
    free = th.simulate(200.0, 1.0, threads + 1, None, **kw)
    capped = th.simulate(200.0, 1.0, threads + 1, float(threads + extra), **kw)
    assert capped.throttled_periods == 0
    np.testing.assert_allclose(capped.response_ms, free.response_ms)


def test_throttled_far_below_the_limit_as_buffer_measured():
    # Buffer (Khun, 2020): a container limited to 800m and using about 200m was still
    # throttled.  Bursts of 8 requests on 8 threads use 0.2 cores on average and throttle.
    sim = th.simulate(20.0, 10.0, 8, 0.8, burst=8, requests=20_000, seed=1)
    assert sim.cpu_cores_used == pytest.approx(0.2, rel=0.05)
    assert sim.throttled_share > 0.05
    free = th.simulate(20.0, 10.0, 8, None, burst=8, requests=20_000, seed=1)
    assert sim.percentile_ms(0.99) > 2 * free.percentile_ms(0.99)


def test_limit_sweep_and_smallest_limit():
    sweep = th.limit_sweep(583.0, 2.06, [1.6, 2.0, 3.0], threads=8, burst=8, requests=5000)
    assert list(sweep.columns) == ["limit", "p50_ms", "p99_ms", "throttled_share"]
    assert sweep["p99_ms"].iloc[0] > sweep["p99_ms"].iloc[-1]
    assert th.smallest_limit(sweep, 1e6) == 1.6
    assert th.smallest_limit(sweep, 1e-3) is None
    exclusive = th.limit_sweep(583.0, 2.06, [2, 3], threads=None, requests=2000)
    assert (exclusive["throttled_share"] == 0).all()
    with pytest.raises(InputError, match="limit \\(exclusive cores\\)"):
        th.limit_sweep(583.0, 2.06, [2.5], threads=None, requests=100)


def test_an_overloaded_container_is_refused():
    with pytest.raises(InputError, match="the load 1.2 cores must stay below"):
        th.simulate(600.0, 2.0, 8, 1.0)
    with pytest.raises(InputError, match="threads must be"):
        th.simulate(10.0, 1.0, 0, None)
