"""Tests of cloudpad.models.images: published figures, worked examples by hand, properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloudpad.exceptions import InputError
from cloudpad.models import availability, images, queueing

SLACKER = "https://www.usenix.org/conference/fast16/technical-sessions/presentation/harter"

# --------------------------------------------------------------------------- published values


def test_slacker_constants_are_the_papers():
    # Harter et al., FAST '16, abstract (SLACKER): "pulling packages accounts for 76% of
    # container start time, but only 6.4% of that data is read."
    assert images.SLACKER_PULL_SHARE == 0.76
    assert images.SLACKER_READ_SHARE == 0.064


def test_lazy_speedup_against_slackers_reported_speedup():
    # Harter et al., FAST '16 (SLACKER): pull = 76 % of start time, 6.4 % of it read at start;
    # "Slacker speeds up the median container ... deployment cycle by 5x".
    # By hand: 0.76 x 0.064 = 0.04864; 0.24 + 0.04864 = 0.28864; 1 / 0.28864 = 3.4645.
    speedup = images.lazy_speedup(0.76, 0.064)
    assert speedup == pytest.approx(3.4645, abs=5e-4)
    # The model claims less than the paper reports: even reading nothing during the pull is
    # bounded by Amdahl's 1 / (1 - 0.76) = 4.1667 < 5, so the paper's 5x must come from more
    # than the bytes read (its workers clone snapshots instead of unpacking layers).
    assert images.lazy_speedup(0.76, 0.0) == pytest.approx(1 / 0.24)
    assert speedup < images.lazy_speedup(0.76, 0.0) < 5.0


def test_pull_time_reproduces_the_slacker_split():
    # A start of 100 s in which the pull is 76 s (SLACKER's 76 %): lazy pulling of 6.4 % of the
    # bytes gives the same speed-up as lazy_speedup (no registry latency, so bytes only).
    pull = images.pull_time_s(760.0, 10.0)  # 76 s
    lazy = images.pull_time_s(760.0, 10.0, read_share=0.064)  # 4.864 s
    assert pull == pytest.approx(76.0)
    assert lazy == pytest.approx(4.864)
    assert (24.0 + pull) / (24.0 + lazy) == pytest.approx(images.lazy_speedup(0.76, 0.064))


def test_distroless_readme_sizes_in_pull_time():
    # GoogleContainerTools/distroless README: static ~2 MiB, "about 50% of the size of alpine
    # (~5 MiB), and less than 2% of the size of debian (124 MiB)". Bytes-only pull times keep
    # those ratios; 2 / 124 = 1.6 % < 2 %.
    t = images.pull_time_s(np.array([2.0, 5.0, 124.0]), 50.0)
    assert t[0] / t[1] == pytest.approx(0.4)
    assert t[0] / t[2] < 0.02


# --------------------------------------------------------------------------- worked examples


def test_pull_time_by_hand():
    # 500 MiB at 50 MiB/s, 8 layers, 3 at a time, 40 ms round trip, half the layers cached:
    # manifest 0.04 + (0.5 x 8 / 3) x 0.04 = 0.05333 s of round trips; bytes 0.5 x 10 = 5 s.
    t = images.pull_time_s(500.0, 50.0, cache_hit_share=0.5, layers=8, registry_latency_ms=40.0)
    assert t == pytest.approx(0.04 + 0.5 * 8 / 3 * 0.04 + 5.0)
    assert images.pull_time_s(500.0, 50.0, cache_hit_share=1.0, registry_latency_ms=40.0) == (
        pytest.approx(0.04)
    )


def test_mib_to_gb():
    # 1 GB = 10^9 bytes = 953.674 MiB.
    assert images.mib_to_gb(953.67431640625) == pytest.approx(1.0)
    assert images.MIB_PER_GB == pytest.approx(953.674, abs=1e-3)


def test_ready_time_is_the_sum_of_stages():
    assert images.ready_time_s(45.0, 0.0, 90.0, 5.0) == pytest.approx(140.0)
    np.testing.assert_allclose(images.ready_time_s(5.0, np.array([1.0, 2.0])), [6.0, 7.0])


def test_boot_success_by_hand_and_as_serial_availability():
    # 8 steps each failing 0.5 % of the time: 0.995^8 = 0.960693...
    assert images.boot_success_probability(0.005, 8) == pytest.approx(0.995**8)
    assert images.boot_success_probability(0.005, 8) == pytest.approx(
        availability.serial(*[0.995] * 8)
    )
    assert images.boot_success_probability(0.3, 0) == 1.0
    assert images.boot_success_probability(0.0, 12) == 1.0


def test_expected_ready_time_and_cdf_by_hand():
    # q = 0.5: attempts 1, 2, 3 ... with probabilities 1/2, 1/4, 1/8; mean extra attempts 1.
    assert images.expected_ready_time_s(150.0, 120.0, 0.5) == pytest.approx(270.0)
    cdf = images.ready_time_cdf([0.0, 149.9, 150.0, 269.9, 270.0, 390.0], 150.0, 120.0, 0.5)
    np.testing.assert_allclose(cdf, [0.0, 0.0, 0.5, 0.5, 0.75, 0.875])
    assert images.ready_time_cdf(150.0, 150.0, 0.0, 0.5) == 1.0


def test_sampled_ready_times_match_the_closed_form():
    q, t_ok, t_fail = 0.7, 100.0, 60.0
    s = images.sample_ready_times_s(50, t_ok, t_fail, q, trials=4000, seed=3).ravel()
    mean = images.expected_ready_time_s(t_ok, t_fail, q)
    # Standard error of the mean: sd of (N - 1) t_fail is t_fail sqrt(1 - q) / q.
    se = t_fail * math.sqrt(1 - q) / q / math.sqrt(s.size)
    assert abs(s.mean() - mean) < 4 * se
    for t in (100.0, 160.0, 220.0):
        assert np.mean(s <= t) == pytest.approx(images.ready_time_cdf(t, t_ok, t_fail, q), abs=0.01)
    again = images.sample_ready_times_s(50, t_ok, t_fail, q, trials=4000, seed=3).ravel()
    np.testing.assert_array_equal(s, again)


def test_spike_lost_requests_by_hand():
    # 4 replicas x 2 workers x 50/s = 400/s before; traffic steps to 1,000/s at t = 0; 8 new
    # replicas all ready at t = 30 s. Lost with shedding: (1000 - 400) x 30 s = 18,000.
    t = np.arange(0.0, 120.0, 1.0)
    reps = images.replicas_over_time(t, 4, np.full((1, 8), 30.0))
    assert reps[0, 29] == 4 and reps[0, 30] == 12
    out = images.spike_outcome(t, 1000.0, reps, 2, 50.0, 0.1)
    assert out.lost[0] == pytest.approx(18_000.0)
    assert out.recovered_s[0] == 30.0
    # Queued instead: the backlog peaks at 18,000 and drains at 1,200 - 1,000 = 200/s for 90 s;
    # requests arriving while it exists: 1,000 x (30 + 90) = 120,000.
    assert out.queued[0] == pytest.approx(120_000.0)


def test_spike_slowed_uses_the_mmc_queue():
    # With capacity always above traffic, "slowed" is the M/M/c share over the target x arrivals.
    t = np.arange(0.0, 10.0, 1.0)
    reps = np.full((1, t.size), 5)
    out = images.spike_outcome(t, 400.0, reps, 2, 50.0, 0.01)
    late = 1 - queueing.mmc(400.0, 50.0, 10).service_level(0.01)
    assert out.slowed[0] == pytest.approx(400.0 * 10 * late)
    assert out.lost[0] == 0.0


def test_registry_storage_and_cost_by_hand():
    # One shared 124 MiB base, 20 services x 30 versions x 40 MiB: 124 + 24,000 = 24,124 MiB
    # = 25.296 GB; Artifact Registry: 0.5 GB free, 0.10 USD/GB-month -> 2.48 USD.
    gb = images.registry_storage_gb(124.0, 40.0, 20, 30)
    assert gb == pytest.approx(24_124 / 953.674316, rel=1e-6)
    assert images.registry_monthly_cost_usd(gb, 0.10, 0.5) == pytest.approx((gb - 0.5) * 0.10)
    assert images.registry_monthly_cost_usd(0.3, 0.10, 0.5) == 0.0


def test_pull_transfer_cost_by_hand():
    # 1,000 pulls of a 953.67 MiB (1 GB) image, half cached, one price of 0.02 USD/GB: 10 USD.
    usd = images.pull_transfer_cost_usd(
        1000, 953.67431640625, [(math.inf, 0.02)], cache_hit_share=0.5
    )
    assert usd == pytest.approx(10.0)


def test_blocked_scaleout_loss_by_hand():
    # 6 dependencies each down 0.5 % of the time: blocked 1 - 0.995^6 = 0.029628; 400 requests/s
    # above capacity for a mean remaining outage of 1,800 s: 0.029628 x 400 x 1800 = 21,332.
    loss = images.blocked_scaleout_loss(400.0, 0.005, 6, 1800.0)
    assert loss == pytest.approx((1 - 0.995**6) * 400 * 1800)
    assert loss == pytest.approx(21_332, abs=1)
    assert images.blocked_scaleout_loss(400.0, 0.005, 0, 1800.0) == 0.0


def test_fleet_availability_is_k_of_n_of_the_replica():
    # MTBF 720 h, replaced in 3,600 s: a = 720 / 721 per replica; 3 of 4 needed.
    a = 720.0 / 721.0
    assert images.fleet_availability(720.0, 3600.0, 4, 3) == pytest.approx(
        availability.k_of_n(3, 4, a)
    )


def test_bad_inputs_are_named():
    with pytest.raises(InputError, match="cache_hit_share"):
        images.pull_time_s(100.0, 10.0, cache_hit_share=1.5)
    with pytest.raises(InputError, match="throughput_mib_per_s"):
        images.pull_time_s(100.0, 0.0)
    with pytest.raises(InputError, match="success_p"):
        images.expected_ready_time_s(10.0, 10.0, 0.0)
    with pytest.raises(InputError, match="steps"):
        images.boot_success_probability(0.1, -1)
    with pytest.raises(InputError, match="evenly spaced"):
        images.spike_outcome(np.array([0.0, 1.0, 3.0]), 10.0, np.ones((1, 3)), 1, 1.0, 0.1)


# --------------------------------------------------------------------------- properties

sizes = st.floats(0.0, 20_000.0)
shares = st.floats(0.0, 1.0)


@settings(max_examples=80, deadline=None, derandomize=True)
@given(size=sizes, more=sizes, h=shares, h2=shares, r=shares, layers=st.integers(0, 60))
def test_pull_time_monotone_in_size_cache_and_read_share(size, more, h, h2, r, layers):
    kw = {"layers": layers, "registry_latency_ms": 30.0}
    base = images.pull_time_s(size, 40.0, cache_hit_share=h, read_share=r, **kw)
    assert images.pull_time_s(size + more, 40.0, cache_hit_share=h, read_share=r, **kw) >= base
    lo, hi = sorted((h, h2))
    # Cache hits only help.
    assert images.pull_time_s(size, 40.0, cache_hit_share=hi, read_share=r, **kw) <= (
        images.pull_time_s(size, 40.0, cache_hit_share=lo, read_share=r, **kw) + 1e-12
    )
    # Lazy pulling (r <= 1) is never slower than a full pull.
    assert base <= images.pull_time_s(size, 40.0, cache_hit_share=h, **kw) + 1e-12


@settings(max_examples=60, deadline=None, derandomize=True)
@given(f=shares, r=shares, r2=shares)
def test_lazy_speedup_between_one_and_amdahl(f, r, r2):
    s = images.lazy_speedup(f, r)
    assert 1.0 - 1e-12 <= s
    if f < 1:
        assert s <= 1.0 / (1.0 - f) + 1e-9
    lo, hi = sorted((r, r2))
    assert images.lazy_speedup(f, lo) >= images.lazy_speedup(f, hi) - 1e-12


@settings(max_examples=60, deadline=None, derandomize=True)
@given(p=st.floats(0.0, 0.5), k=st.integers(0, 40))
def test_boot_success_falls_with_steps_and_failure_rate(p, k):
    q = images.boot_success_probability(p, k)
    assert images.boot_success_probability(p, k + 1) <= q + 1e-15
    assert images.boot_success_probability(min(p + 0.01, 1.0), k) <= q + 1e-15
    assert q == pytest.approx((1 - p) ** k)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(delay=st.floats(0.0, 200.0), new=st.integers(0, 12), rate=st.floats(0.0, 2000.0))
def test_later_replicas_lose_more_requests(delay, new, rate):
    t = np.arange(0.0, 300.0, 1.0)
    ready = images.sample_ready_times_s(new, 60.0, 90.0, 0.8, trials=20, seed=5)
    early = images.spike_outcome(t, rate, images.replicas_over_time(t, 3, ready), 2, 50.0, 0.05)
    late = images.spike_outcome(
        t, rate, images.replicas_over_time(t, 3, ready + delay), 2, 50.0, 0.05
    )
    assert np.all(late.lost >= early.lost - 1e-9)
    assert np.all(late.queued >= early.queued - 1e-9)
    # Never more lost than the excess over the starting capacity for the whole horizon.
    assert np.all(late.lost <= max(rate - 300.0, 0.0) * t.size + 1e-9)


# --------------------------------------------------------------------------- like for like
# A scale-out after a step in traffic, compared for five ways of shipping with the same spare
# capacity: none (every replica needs a machine) or a warm spare (room on running nodes, or a
# warm pool of pre-initialised VMs). The inputs are the article's defaults; the expectations
# are worked out by hand below, not copied from the code.

SCENARIO = dict(
    baseline_rps=300.0,
    spike_rps=900.0,
    service_ms=20.0,
    target_utilization=0.6,
    workers=2,
    price_per_hour_usd=0.096,
    decide_s=30.0,
    vm_boot_s=45.0,
    # kubernetes/autoscaler, cluster-autoscaler/FAQ.md ("How does scale-up work?"): it "checks
    # for any unschedulable pods every 10 seconds (configurable by `--scan-interval` flag)".
    autoscaler_scan_s=10.0,
    node_join_s=20.0,
    pod_start_s=5.0,
    install_s=120.0,
    app_start_s=8.0,
    app_mib=60.0,
    fat_image_mib=1200.0,
    image_layers=10,
    throughput_mib_per_s=20.0,
    registry_rtt_ms=30.0,
    boot_steps=6,
    step_failure_p=0.005,
    fail_detect_s=180.0,
    slowed_wait_ms=50.0,
    warm_spare_replicas=4,
    horizon_s=900.0,
    trials=400,
    seed=11,
)
BOOT, BAKED, FAT, SLIM, LAZY = images.WAYS


def _compare(**changes):
    return images.compare(images.Scenario(**(SCENARIO | changes)))


def test_without_spare_capacity_a_container_waits_for_the_machine_it_runs_on():
    # The error this catches: containers started "on a node with room to spare" while VMs had to
    # boot. Without spare room a pod waits for the autoscaler's scan, the same machine boot, the
    # node's join and a cold pull, so in every trial it serves no earlier than the baked VM
    # (both make one remote call at boot, and the draws are common to both).
    out = _compare(warm_spare_replicas=0)
    for way in (FAT, SLIM, LAZY):
        cold = out.ways[way].cold
        assert cold.provision_s == SCENARIO["vm_boot_s"]
        assert cold.join_s == SCENARIO["node_join_s"] and cold.scan_s == 10.0
        assert np.all(out.ready[way, "none"] >= out.ready[BAKED, "none"])
        assert np.all(out.outcomes[way, "none"].lost >= out.outcomes[BAKED, "none"].lost)
    # By hand, with no failed boot: decide 30 + mean scan 5 + boot 45 + join 20 + pod 5 +
    # pull (62 MiB / 20 MiB/s = 3.1 s + 0.03 + 0.1 of round trips) + start 8 = 116.23 s.
    assert out.ways[SLIM].cold.mean_ready_s == pytest.approx(5 + 45 + 20 + 5 + 3.23 + 8)
    # The baked VM loses the excess 900 - 5 x 2 x 50 = 400 requests/s for 30 + 45 + 8 = 83 s
    # when its boots succeed (its one remote step fails 0.5 % of the time).
    assert np.median(out.outcomes[BAKED, "none"].lost) == pytest.approx(400 * 83)


def test_the_warm_spare_is_priced_the_same_for_every_way():
    # 4 replicas of 0.096 USD/hour for the 730-hour month: 280.32 USD, whichever way they are
    # used; no spare costs nothing.
    assert _compare().spare_monthly_usd == pytest.approx(4 * 0.096 * 730)
    assert _compare(warm_spare_replicas=0).spare_monthly_usd == 0.0


def test_a_warm_pool_vm_starts_only_its_application():
    # A pre-initialised VM has booted and run its configuration before the step: it serves
    # decide + app start = 38 s after the step, with no remote call left to fail. A pod on
    # spare room still schedules, pulls and starts, so it is never earlier.
    out = _compare()
    for way in (BOOT, BAKED):
        warm = out.ways[way].warm
        assert warm.mean_ready_s == 8.0 and warm.remote_steps == 0
    first = slice(0, SCENARIO["warm_spare_replicas"])  # the replicas that land on the spare
    for way in (FAT, SLIM, LAZY):
        assert np.all(out.ready[way, "warm"][:, first] >= out.ready[BAKED, "warm"][:, first])
    # 4 spares carry 400 requests/s, the whole excess: the VMs lose 400 x 38 = 15,200.
    assert out.outcomes[BAKED, "warm"].lost == pytest.approx(np.full(400, 400 * 38.0))


def test_replicas_beyond_the_spare_start_cold():
    # 10 new replicas, 4 spares: replicas 5..10 take the path with a machine to provision.
    out = _compare(step_failure_p=0.0)
    ready = out.ready[SLIM, "warm"]
    assert ready.shape == (400, 10)
    assert np.allclose(ready[:, :4], 30 + 5 + 3.23 + 8)
    assert np.all(ready[:, 4:] >= 30 + 45 + 20 + 5 + 3.23 + 8)
    assert np.all(ready[:, 4:] <= 30 + 10 + 45 + 20 + 5 + 3.23 + 8)


def test_boot_attempts_by_inverse_transform():
    # N = 1 + floor(ln U / ln(1 - q)). q = 0.5: U = 0.6 -> 1 + floor(0.737) = 1;
    # U = 0.3 -> 1 + floor(1.737) = 2; U = 0.1 -> 1 + floor(3.32) = 4; q = 1 -> always 1.
    u = np.array([0.6, 0.3, 0.1])
    np.testing.assert_array_equal(images.boot_attempts(u, 0.5), [1, 2, 4])
    np.testing.assert_array_equal(images.boot_attempts(u, 1.0), [1, 1, 1])
    # P(N > n) = (1 - q)^n, the geometric law, over many draws.
    draws = images.boot_attempts(1.0 - np.random.default_rng(0).random(200_000), 0.3)
    for n in (1, 2, 4):
        assert np.mean(draws > n) == pytest.approx(0.7**n, abs=0.004)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(q=st.floats(0.01, 1.0), q2=st.floats(0.01, 1.0), u=st.floats(1e-9, 1.0))
def test_common_draws_never_give_the_likelier_boot_more_attempts(q, q2, u):
    # Coupling through the same uniform draw: a boot more likely to succeed never needs more
    # attempts in the same trial.
    lo, hi = sorted((q, q2))
    assert images.boot_attempts(u, hi) <= images.boot_attempts(u, lo)


def test_designs_share_their_random_draws():
    # Common random numbers: two ways that are the same design (nothing installed at boot, one
    # remote step) see the same failed boots in every trial, so their difference is exactly 0.
    # Drawing each design from its own seed, as the first edition did, made it sampling noise.
    out = _compare(install_s=0.0, boot_steps=1, step_failure_p=0.05)
    np.testing.assert_array_equal(out.ready[BOOT, "none"], out.ready[BAKED, "none"])
    np.testing.assert_array_equal(out.outcomes[BOOT, "none"].lost, out.outcomes[BAKED, "none"].lost)
    # And the difference between two different designs varies less than with independent draws.
    a, b = _compare(step_failure_p=0.05), _compare(step_failure_p=0.05, seed=12)
    common = a.outcomes[BOOT, "none"].slowed - a.outcomes[BAKED, "none"].slowed
    apart = a.outcomes[BOOT, "none"].slowed - b.outcomes[BAKED, "none"].slowed
    assert np.var(common) < np.var(apart)


def test_a_step_that_fits_the_running_capacity_is_refused():
    with pytest.raises(InputError, match="spike_rps"):
        _compare(spike_rps=450.0)  # 5 replicas x 100 requests/s already carry it


def test_the_spare_is_sized_against_the_step():
    # After the step 900 requests/s meet 5 running + 4 spare replicas of 2 x 50/s = 900/s: the
    # spare carries the step at 100 % utilisation; one more spare brings it to 900/1000 = 90 %.
    assert _compare().key_results()["spare_utilization"] == pytest.approx(1.0)
    assert _compare(warm_spare_replicas=5).key_results()["spare_utilization"] == pytest.approx(0.9)
    # More spares than new replicas: only the 10 new ones are taken, 900 / 1,500 = 60 %.
    assert _compare(warm_spare_replicas=20).key_results()["spare_utilization"] == pytest.approx(0.6)
