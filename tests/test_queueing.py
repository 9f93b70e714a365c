"""Tests of cloudpad.queueing against published values, closed forms and simulation."""

from __future__ import annotations

import heapq
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from cloudpad.models import queueing as q


def exact_erlang_c(c: int, a: Fraction) -> float:
    """Textbook Erlang C with exact rational arithmetic (independent of the recursion)."""
    head = sum(a**k / math.factorial(k) for k in range(c))
    tail = a**c / math.factorial(c) * Fraction(c) / (c - a)
    return float(tail / (head + tail))


# --------------------------------------------------------------------------- published values
def test_call_centre_worked_example():
    # Mitan Ltd, "The Erlang C formula" (www.mitan.co.uk/erlang/elgcmath.htm), worked example:
    # 360 calls per half hour, 240 s average call duration, 55 agents, 15 s target answer time.
    # Results stated there and reproduced in "Expected waiting time formulas in Maxima"
    # (Nemotron-CC-Math copy of the blog post, section 1 "Numerical examples"):
    # E_c = 0.2387, T_w = 8.184 s, P(wait <= 15 s) = 0.8459.
    m = q.mmc(arrival_rate_per_s=360 / 1800, service_rate_per_s=1 / 240, servers=55)
    assert m.offered_load_erlangs == pytest.approx(48.0)
    assert m.p_wait == pytest.approx(0.2387, abs=5e-5)
    assert m.mean_wait_s == pytest.approx(8.184, abs=5e-4)
    assert m.service_level(15.0) == pytest.approx(0.8459, abs=5e-5)


def test_erlang_c_values_quoted_as_correct():
    # Stack Overflow question "Poisson Calculation (Erlang C)" (C/C++): getErlangC(50, 48, 0.96)
    # = 0.694456 and getErlangC(100, 96, 0.96) = 0.5872811, both marked "(correct)" against
    # Excel's POISSON function (arguments: agents, traffic in Erlangs, occupancy).
    assert q.erlang_c(50, 48.0) == pytest.approx(0.694456, abs=1e-6)
    assert q.erlang_c(100, 96.0) == pytest.approx(0.5872811, abs=1e-7)


@pytest.mark.parametrize(
    ("servers", "load"),
    [(1, Fraction(1, 2)), (7, Fraction(13, 2)), (55, Fraction(48)), (500, Fraction(487))],
)
def test_erlang_c_matches_exact_rational_formula(servers, load):
    # Hundreds of servers: the factorial formula overflows floats (170! > 1e308), the
    # recursion must not.  Reference: the same formula in exact rational arithmetic.
    assert q.erlang_c(servers, float(load)) == pytest.approx(exact_erlang_c(servers, load), 1e-12)


def test_erlang_b_matches_exact_formula():
    # Erlang B = (A^c/c!) / sum_{k<=c} A^k/k!, exact for A = 5, c = 10.
    a = Fraction(5)
    exact = (a**10 / math.factorial(10)) / sum(a**k / math.factorial(k) for k in range(11))
    assert q.erlang_b(10, 5.0) == pytest.approx(float(exact), rel=1e-12)


def test_vectorised_erlang_c_equals_scalar_calls():
    servers = np.array([1, 5, 20, 300])
    loads = np.array([0.3, 4.0, 15.0, 290.0])
    vec = q.erlang_c(servers, loads)
    assert vec == pytest.approx(
        [q.erlang_c(int(c), float(a)) for c, a in zip(servers, loads, strict=True)]
    )


# --------------------------------------------------------------------------- M/M/1 closed forms
def test_mm1_textbook_example():
    # HamroCSIT solved question 4514 (hamrocsit.com/question/4514): calls every 5 min on
    # average, calls last 4 min: utilisation 0.8 and mean queue length Lq = 0.64 / 0.2 = 3.2.
    m = q.mmc(arrival_rate_per_s=1 / 5, service_rate_per_s=1 / 4, servers=1)
    assert m.utilization == pytest.approx(0.8)
    assert m.mean_queue_length == pytest.approx(3.2)
    # M/M/1 (Larson and Odoni, Urban Operations Research, 4.6.1): P(wait) = rho,
    # W_q = rho / (mu - lambda) = 16 min, W = 1 / (mu - lambda) = 20 min.
    assert m.p_wait == pytest.approx(0.8)
    assert m.mean_wait_s == pytest.approx(16.0)
    assert m.mean_response_s == pytest.approx(20.0)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    rho=st.floats(0.01, 0.98),
    mu=st.floats(0.1, 1000.0),
    quant=st.floats(0.0, 0.999),
)
def test_mm1_distributions(rho, mu, quant):
    # M/M/1: response time ~ Exp(mu - lambda); P(W > t) = rho exp(-(mu - lambda) t).
    lam = rho * mu
    m = q.mmc(lam, mu, 1)
    assert m.response_percentile_s(quant) == pytest.approx(
        -math.log1p(-quant) / (mu - lam), rel=1e-9, abs=1e-12
    )
    expected_wait_q = max(0.0, math.log(rho / (1 - quant)) / (mu - lam))
    assert m.wait_percentile_s(quant) == pytest.approx(expected_wait_q, rel=1e-9, abs=1e-12)


# --------------------------------------------------------------------------- properties
@settings(max_examples=80, deadline=None, derandomize=True)
@given(load=st.floats(0.05, 300.0), extra=st.integers(0, 40))
def test_waiting_falls_as_servers_grow(load, extra):
    c = math.floor(load) + 1 + extra
    a = q.mmc(load, 1.0, c)
    b = q.mmc(load, 1.0, c + 1)
    assert b.p_wait <= a.p_wait
    assert b.mean_wait_s <= a.mean_wait_s
    assert b.service_level(0.1) >= a.service_level(0.1)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    lam=st.floats(0.5, 3000.0),
    service_ms=st.floats(1.0, 500.0),
    wait_ms=st.floats(0.0, 200.0),
    frac=st.floats(0.5, 0.999),
)
def test_servers_for_is_the_minimum(lam, service_ms, wait_ms, frac):
    mu = 1000.0 / service_ms
    t = wait_ms / 1000.0
    c = q.servers_for(lam, mu, t, frac)
    assert isinstance(c, int)
    assert q.mmc(lam, mu, c).service_level(t) >= frac
    if c - 1 > lam / mu:  # one fewer is either unstable or misses the target
        assert q.mmc(lam, mu, c - 1).service_level(t) < frac


def test_servers_for_vectorised_and_call_centre():
    # Same call centre: with 55 agents 84.6 % wait <= 15 s, so an 80 % target needs <= 55.
    c = q.servers_for(0.2, 1 / 240, 15.0, 0.80)
    assert c <= 55
    assert q.mmc(0.2, 1 / 240, c).service_level(15.0) >= 0.80
    lam = np.array([0.1, 0.2, 0.4])
    vec = q.servers_for(lam, 1 / 240, 15.0, 0.8)
    assert vec.tolist() == [q.servers_for(x, 1 / 240, 15.0, 0.8) for x in lam]


@settings(max_examples=40, deadline=None, derandomize=True)
@given(load=st.floats(0.1, 50.0), extra=st.integers(0, 5), quant=st.floats(0.01, 0.999))
def test_percentiles_invert_cdfs(load, extra, quant):
    c = math.floor(load) + 1 + extra
    m = q.mmc(load, 2.0, c)
    t = m.response_percentile_s(quant)
    assert m.response_cdf(t) == pytest.approx(quant, abs=1e-9)
    w = m.wait_percentile_s(quant)
    assert m.service_level(w) >= quant - 1e-12


def test_utilization_target_replicas():
    # ceil(offered load / target): 1000 req/s at 50 ms each is 50 Erlangs.
    assert q.servers_for_utilization(1000.0, 20.0, 0.5) == 100
    assert q.servers_for_utilization(1000.0, 20.0, 0.7) == 72
    assert q.servers_for_utilization(1000.0, 20.0, 1.0) == 50
    assert q.servers_for_utilization(np.array([10.0, 0.0]), 20.0, 0.9).tolist() == [1, 1]


# --------------------------------------------------------------------------- simulation
def heap_waits(arrivals, services, c, initial=None):
    """Reference FCFS c-server queue: a heap of server-free times (one customer at a time)."""
    free = [0.0] * c if initial is None else sorted(initial)
    out = []
    for a, s in zip(arrivals, services, strict=True):
        f = heapq.heappop(free)
        start = max(a, f)
        out.append(start - a)
        heapq.heappush(free, start + s)
    return np.array(out)


@pytest.mark.parametrize("c", [1, 2, 3, 8])
def test_vectorised_recursions_equal_heap_reference(c):
    rng = np.random.default_rng(7)
    inter = rng.exponential(1.0 / (0.85 * c), size=(3000, 3))
    serv = rng.exponential(1.0, size=(3000, 3))
    arrivals = np.cumsum(inter, axis=0)
    if c == 1:
        got = q._waits_one_server(inter, serv)
    else:
        got = q._waits_many_servers(arrivals, serv, c)
    for s in range(3):
        np.testing.assert_allclose(got[:, s], heap_waits(arrivals[:, s], serv[:, s], c), atol=1e-9)


@pytest.mark.parametrize(
    ("lam", "mu", "c"), [(0.7, 1.0, 1), (2.4, 1.0, 3), (40.0, 2.5, 20), (0.2, 1 / 240, 55)]
)
def test_simulation_agrees_with_closed_form(lam, mu, c):
    sim = q.simulate_mmc(lam, mu, c, 400_000, seed=11, level=0.999)
    m = q.mmc(lam, mu, c)
    assert sim.customers >= 400_000
    assert sim.mean_wait_s().contains(m.mean_wait_s)
    assert sim.p_wait().contains(m.p_wait)
    assert sim.service_level(0.25 / mu).contains(m.service_level(0.25 / mu))
    assert sim.mean_response_s().contains(m.mean_response_s)
    assert sim.response_percentile_s(0.9).contains(m.response_percentile_s(0.9))


@settings(max_examples=6, deadline=None, derandomize=True)
@given(rho=st.floats(0.3, 0.85), c=st.integers(1, 12), seed=st.integers(0, 1000))
def test_simulation_within_ci_property(rho, c, seed):
    sim = q.simulate_mmc(rho * c, 1.0, c, 200_000, seed=seed, level=0.999)
    m = q.mmc(rho * c, 1.0, c)
    assert sim.mean_wait_s().contains(m.mean_wait_s)
    assert sim.p_wait().contains(m.p_wait)


def test_simulation_is_deterministic():
    a = q.simulate_mmc(3.0, 1.0, 4, 20_000, seed=3)
    b = q.simulate_mmc(3.0, 1.0, 4, 20_000, seed=3)
    np.testing.assert_array_equal(a.waits_s, b.waits_s)


# --------------------------------------------------------------------------- errors
def test_unstable_queue_is_refused():
    with pytest.raises(ValueError, match=r"utilization must be < 1.*got 1\.0"):
        q.mmc(10.0, 1.0, 10)
    with pytest.raises(ValueError, match="utilization must be < 1"):
        q.erlang_c(3, 4.0)
    with pytest.raises(ValueError, match="utilization must be < 1"):
        q.simulate_mmc(5.0, 1.0, 2, 1000)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((-1.0, 1.0, 2), r"arrival_rate_per_s must be a finite number >= 0, got -1\.0"),
        ((1.0, -2.0, 2), r"service_rate_per_s must be a finite number > 0, got -2\.0"),
        ((1.0, 1.0, 2.5), r"servers must be a whole number >= 1, got 2\.5"),
        ((1.0, 1.0, 0), r"servers must be a whole number >= 1, got 0"),
        ((float("nan"), 1.0, 2), r"arrival_rate_per_s must be a number, got NaN"),
        ((1.0, float("nan"), 2), r"service_rate_per_s must be a number, got NaN"),
        ((1.0, 1.0, True), r"servers must be a whole number >= 1, got True"),
    ],
)
def test_bad_inputs(args, message):
    with pytest.raises(ValueError, match=message):
        q.mmc(*args)


def test_bad_arguments_elsewhere():
    m = q.mmc(1.0, 2.0, 1)
    with pytest.raises(ValueError, match=r"q must be within \[0, 1\)"):
        m.wait_percentile_s(1.0)
    with pytest.raises(ValueError, match=r"q must be within \[0.0, 1.0\], got 1\.5"):
        m.response_percentile_s(1.5)
    with pytest.raises(ValueError, match=r"target_wait_s must be a finite number >= 0, got -1\.0"):
        m.service_level(-1.0)
    with pytest.raises(ValueError, match=r"target_fraction must be within \(0.0, 1.0\)"):
        q.servers_for(1.0, 2.0, 0.1, 1.0)
    with pytest.raises(ValueError, match=r"servers must be whole numbers >= 1, got \[1\.5\]"):
        q.erlang_c(np.array([2.0, 1.5]), 0.5)
    with pytest.raises(ValueError, match=r"target_utilization must be within \(0, 1\]"):
        q.servers_for_utilization(1.0, 1.0, 0.0)
    with pytest.raises(ValueError, match=r"customers must be a whole number >= 2"):
        q.simulate_mmc(0.5, 1.0, 1, 1)


def test_diurnal_rate_shape():
    hours = np.arange(0, 24, 0.25)
    rate = q.diurnal_rate(hours, 1000.0, 0.25, peak_hour=20)
    assert rate.max() == pytest.approx(1000.0)
    assert rate.min() == pytest.approx(250.0)
    assert hours[np.argmax(rate)] == 20.0
    assert hours[np.argmin(rate)] == 8.0
    assert q.diurnal_rate(14.0, 1000.0, 0.25, 20) == pytest.approx(625.0)  # halfway: cos = 0
    with pytest.raises(ValueError, match=r"trough_ratio must be within \[0, 1\], got 2\.0"):
        q.diurnal_rate(1.0, 10.0, 2.0)


def test_summary_and_compare_tables():
    m = q.mmc(0.2, 1 / 240, 55)
    s = m.summary(15.0)
    # Same published call-centre figures as above, in the table's units (%, ms).
    assert s["P(wait > 0) (%)"] == pytest.approx(23.87, abs=5e-3)
    assert s["mean wait (ms)"] == pytest.approx(8184.0, abs=0.5)
    assert s["share waiting ≤ 15000 ms (%)"] == pytest.approx(84.59, abs=5e-3)
    assert s["utilisation (%)"] == pytest.approx(100 * 48 / 55)
    assert s["servers"] == 55
    sim = q.simulate_mmc(2.4, 1.0, 3, 100_000, seed=5, level=0.999)
    table = q.compare(q.mmc(2.4, 1.0, 3), sim, 0.5)
    assert list(table.columns) == ["closed form", "simulated", "CI low", "CI high", "inside CI"]
    assert list(table.index) == [
        "P(wait > 0) (%)",
        "mean wait (ms)",
        "p99 wait (ms)",
        "share waiting ≤ 500 ms (%)",
        "p99 response (ms)",
    ]
    assert table["inside CI"].all()
    assert (table["CI low"] <= table["simulated"]).all()
    assert (table["simulated"] <= table["CI high"]).all()
    # the units: ms rows are 1000 x the seconds, % rows 100 x the fraction
    assert table.loc["mean wait (ms)", "simulated"] == pytest.approx(1000 * sim.mean_wait_s().value)
    assert table.loc["P(wait > 0) (%)", "closed form"] == pytest.approx(100 * q.erlang_c(3, 2.4))


def test_simulated_tails_are_empirical_shares():
    sim = q.simulate_mmc(2.4, 1.0, 3, 20_000, seed=6)
    waits, resp = sim.waits_s.ravel(), (sim.waits_s + sim.services_s).ravel()
    grid = np.array([0.0, 0.1, 1.0, 5.0])
    np.testing.assert_allclose(sim.wait_sf(grid), [(waits > t).mean() for t in grid])
    np.testing.assert_allclose(sim.response_sf(grid), [(resp > t).mean() for t in grid])
    assert sim.wait_sf(0.0) == pytest.approx(sim.p_wait().value)
    assert sim.streams == sim.waits_s.shape[1]
    assert sim.customers == sim.streams * sim.waits_s.shape[0]


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    lam=st.floats(0.5, 3000.0),
    service_ms=st.floats(1.0, 500.0),
    vcpu=st.integers(1, 16),
    frac=st.floats(0.5, 0.999),
)
def test_replicas_for_is_the_fewest_whole_replicas(lam, service_ms, vcpu, frac):
    mu, t = 1000.0 / service_ms, 0.01
    n = q.replicas_for(lam, mu, vcpu, t, frac)
    assert isinstance(n, int)
    assert q.mmc(lam, mu, n * vcpu).service_level(t) >= frac
    assert (n - 1) * vcpu < q.servers_for(lam, mu, t, frac)  # one replica fewer is too few


def test_replicas_for_vectorised():
    lam = np.array([100.0, 1200.0, 5000.0])
    got = q.replicas_for(lam, 40.0, 2, 0.01, 0.99)
    assert got.tolist() == [q.replicas_for(x, 40.0, 2, 0.01, 0.99) for x in lam]


def test_square_root_staffing_matches_halfin_whitt_limit():
    # Halfin and Whitt (1981), "Heavy-traffic limits for queues with many exponential
    # servers", Operations Research 29(3): with c = A + beta sqrt(A) servers the probability
    # of waiting tends to [1 + beta Phi(beta) / phi(beta)]^-1 as A grows (0.2234 at beta = 1).
    limit = 1 / (1 + stats.norm.cdf(1.0) / stats.norm.pdf(1.0))
    errors = []
    for a in (100.0, 2500.0, 10000.0):
        c = int(a + math.sqrt(a))
        assert q.square_root_beta(c, a) == pytest.approx(1.0)
        errors.append(abs(q.erlang_c(c, a) - limit))
    assert errors[-1] < 0.002
    assert errors == sorted(errors, reverse=True)  # converging
    assert q.square_root_utilization(10000.0, 1.0) == pytest.approx(10000 / 10100)
    u = q.square_root_utilization(np.array([1.0, 100.0, 1e4]), 2.0)
    assert np.all(np.diff(u) > 0) and u[-1] < 1


def test_initial_server_state_matches_heap_reference():
    rng = np.random.default_rng(3)
    c, streams = 5, 4
    inter = rng.exponential(1.0 / 4.5, size=(2000, streams))
    serv = rng.exponential(1.0, size=(2000, streams))
    initial = np.sort(rng.exponential(1.0, size=(c, streams)), axis=0)
    arrivals = np.cumsum(inter, axis=0)
    got = q._waits_many_servers(arrivals, serv, c, initial)
    for s in range(streams):
        ref = heap_waits(arrivals[:, s], serv[:, s], c, initial[:, s].tolist())
        np.testing.assert_allclose(got[:, s], ref, atol=1e-9)
