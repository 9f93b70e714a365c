"""Benchmark: the M/M/c queue simulation (models.queueing.simulate_mmc) against plain loops,
SimPy and Ciw.

Run: ``python benchmarks/bench_queueing.py``.

Workload: M/M/4 FCFS, arrivals 3.2 per second, service rate 1 per second per server
(utilisation 0.8), 10^6 measured customers.  Every simulator estimates the mean wait in
queue and the probability of waiting, with a 95 % confidence interval (independent
streams for cloudpad; 20 batch means of one long run, after a warm-up, for the others),
and is compared with the Erlang C closed form.

Competitors:

* pure-Python recursion: the same FCFS recursion as cloudpad (a heap of the c
  server-free times, Kiefer–Wolfowitz), one customer at a time, ``random`` module;
* pure-Python event list: the textbook discrete-event simulation (a heap of arrival
  and departure events, a FIFO queue), the "straightforward" way to write it;
* SimPy 4 (``simpy.Resource`` with ``capacity=c``, one process per customer);
* Ciw 3 (``ciw.Simulation`` of a one-node network with Exponential distributions).

Slow competitors run on fewer customers and their time is scaled linearly to 10^6 (all
are linear in the number of customers); the table says which.  Times are the best of a
few repetitions on this machine (wall clock, one process).
"""

from __future__ import annotations

import heapq
import math
import platform
import random
import time
from collections import deque

import numpy as np

from cloudpad.models import queueing as q

LAM, MU, C = 3.2, 1.0, 4
N = 1_000_000
WARMUP = 2_000  # customers dropped from single-run competitors
BATCHES = 20


def batch_ci(values: np.ndarray) -> tuple[float, float]:
    """Mean and 95 % half-width from BATCHES batch means (Student t)."""
    from scipy import stats

    v = np.asarray(values, dtype=float)[WARMUP:]
    means = np.array([b.mean() for b in np.array_split(v, BATCHES)])
    half = stats.t.ppf(0.975, BATCHES - 1) * means.std(ddof=1) / math.sqrt(BATCHES)
    return float(v.mean()), float(half)


def python_recursion(n: int, seed: int) -> list[float]:
    rng = random.Random(seed)
    free = [0.0] * C
    t = 0.0
    waits = []
    for _ in range(n):
        t += rng.expovariate(LAM)
        f = heapq.heappop(free)
        start = t if t > f else f
        waits.append(start - t)
        heapq.heappush(free, start + rng.expovariate(MU))
    return waits


def python_event_list(n: int, seed: int) -> list[float]:
    rng = random.Random(seed)
    events = [(rng.expovariate(LAM), 0)]  # (time, kind): 0 arrival, 1 departure
    queue: deque[float] = deque()
    busy = 0
    arrived = 0
    waits = []
    while events:
        now, kind = heapq.heappop(events)
        if kind == 0:
            arrived += 1
            if arrived < n:
                heapq.heappush(events, (now + rng.expovariate(LAM), 0))
            if busy < C:
                busy += 1
                waits.append(0.0)
                heapq.heappush(events, (now + rng.expovariate(MU), 1))
            else:
                queue.append(now)
        elif queue:
            waits.append(now - queue.popleft())
            heapq.heappush(events, (now + rng.expovariate(MU), 1))
        else:
            busy -= 1
    return waits


def simpy_run(n: int, seed: int) -> list[float]:
    import simpy

    rng = random.Random(seed)
    env = simpy.Environment()
    servers = simpy.Resource(env, capacity=C)
    waits: list[float] = []

    def customer(env):
        arrived = env.now
        with servers.request() as req:
            yield req
            waits.append(env.now - arrived)
            yield env.timeout(rng.expovariate(MU))

    def source(env):
        for _ in range(n):
            yield env.timeout(rng.expovariate(LAM))
            env.process(customer(env))

    env.process(source(env))
    env.run()
    return waits


def ciw_run(n: int, seed: int) -> list[float]:
    import ciw

    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=LAM)],
        service_distributions=[ciw.dists.Exponential(rate=MU)],
        number_of_servers=[C],
    )
    ciw.seed(seed)
    sim = ciw.Simulation(network)
    sim.simulate_until_max_customers(n, method="Finish")
    records = sorted(sim.get_all_records(), key=lambda r: r.arrival_date)
    return [r.waiting_time for r in records]


def timed(fn, reps: int):
    best, out = math.inf, None
    for i in range(reps):
        t0 = time.perf_counter()
        out = fn(i)
        best = min(best, time.perf_counter() - t0)
    return best, out


def main() -> None:
    import ciw
    import simpy

    m = q.mmc(LAM, MU, C)
    print(f"M/M/{C}: lambda={LAM}/s, mu={MU}/s, rho={m.utilization:.2f}; {N:,} customers")
    print(f"closed form: mean wait {m.mean_wait_s:.4f} s, P(wait) {m.p_wait:.4f}")
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, simpy "
        f"{simpy.__version__}, ciw {ciw.__version__}, {platform.machine()}\n"
    )

    rows = []
    t_ours, sim = timed(lambda i: q.simulate_mmc(LAM, MU, C, N, seed=i), 5)
    mw, pw = sim.mean_wait_s(), sim.p_wait()
    rows.append(
        (
            "cloudpad.simulate_mmc",
            sim.customers,
            t_ours,
            t_ours * N / sim.customers,
            mw.value,
            mw.half_width,
            pw.value,
            pw.half_width,
        )
    )

    competitors = [
        ("pure-Python recursion (heap)", python_recursion, N, 2),
        ("pure-Python event list", python_event_list, N // 5, 2),
        ("SimPy", simpy_run, N // 10, 2),
        ("Ciw", ciw_run, N // 50, 1),
    ]
    for name, fn, n, reps in competitors:
        t, waits = timed(lambda i, fn=fn, n=n: fn(n, 100 + i), reps)
        w = np.asarray(waits)
        mean, half = batch_ci(w)
        p, ph = batch_ci(w > 0)
        rows.append((name, n, t, t * N / n, mean, half, p, ph))

    print(
        f"{'simulator':30s} {'customers':>10s} {'time s':>8s} {'s per 1e6':>10s} "
        f"{'x slower':>9s} {'mean wait (95% CI)':>22s} {'P(wait) (95% CI)':>20s}"
    )
    for name, n, t, per_m, mean, half, p, ph in rows:
        ok = "ok" if abs(mean - m.mean_wait_s) <= half and abs(p - m.p_wait) <= ph else "OUT"
        print(
            f"{name:30s} {n:>10,d} {t:8.3f} {per_m:10.3f} {per_m / rows[0][3]:9.1f} "
            f"{mean:10.4f} ± {half:.4f} {p:10.4f} ± {ph:.4f} {ok}"
        )
    print(
        "\n'x slower' = competitor time per 10^6 customers / cloudpad time per 10^6;"
        " times of runs on fewer customers are scaled linearly."
    )


if __name__ == "__main__":
    main()
