"""Tests of cloudpad.cost: monthly cost, discounts, commitments, transfer tiers, bin packing."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloudpad.models import cost


def test_monthly_cost_730_hours():
    # 730-hour month (8,760 h / 12) of the providers' calculators; 0.096 USD/h x 730 = 70.08.
    assert cost.BILLING_MONTH_HOURS == 730.0
    assert cost.monthly_cost(0.096) == pytest.approx(70.08)
    assert cost.monthly_cost(0.096, 3) == pytest.approx(210.24)
    np.testing.assert_allclose(cost.monthly_cost(np.array([1.0, 2.0]), 2), [1460.0, 2920.0])


def test_discounted_price():
    assert cost.discounted_price(0.2, 0.3) == pytest.approx(0.14)
    assert cost.discounted_price(0.2, 0.0) == pytest.approx(0.2)
    with pytest.raises(ValueError, match=r"discount must be within \[0, 1\], got 1\.2"):
        cost.discounted_price(0.2, 1.2)


def test_commitment_cost_by_hand():
    # Demand 2, 2, 6, 6 instances over 4 hours at 1 USD/h, 40 % discount, commit 2:
    # committed 2 x 4 h x 0.6 = 4.8; on demand (4 + 4) x 1 = 8 -> 12.8 USD.
    n = np.array([2, 2, 6, 6])
    assert cost.commitment_cost(n, 1.0, 2, 0.4) == pytest.approx(12.8)
    # Commit nothing: 16 instance-hours on demand; commit 6: 6 x 4 x 0.6 = 14.4.
    np.testing.assert_allclose(cost.commitment_cost(n, 1.0, np.array([0, 6]), 0.4), [16.0, 14.4])


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    demand=st.lists(st.integers(0, 30), min_size=1, max_size=48),
    discount=st.floats(0.0, 0.95),
)
def test_optimal_commitment_is_the_critical_fractile(demand, discount):
    n = np.array(demand, dtype=float)
    k = cost.optimal_commitment(n, discount)
    levels = np.arange(int(n.max()) + 1)
    all_costs = cost.commitment_cost(n, 1.0, levels, discount)
    assert cost.commitment_cost(n, 1.0, k, discount) <= all_costs.min() + 1e-9
    # Critical fractile: every committed level k' <= k is needed in >= (1 - d) of the hours.
    if k > 0:
        assert np.mean(n >= k) >= 1 - discount - 1e-9


def test_transfer_cost_tiers_by_hand():
    tiers = [(10.0, 0.0), (100.0, 0.09), (math.inf, 0.05)]
    # 150 GB: first 10 free, 90 at 0.09 = 8.1, 50 at 0.05 = 2.5 -> 10.6 USD.
    assert cost.transfer_cost(150.0, tiers) == pytest.approx(10.6)
    np.testing.assert_allclose(
        cost.transfer_cost(np.array([0.0, 5.0, 10.0, 20.0]), tiers), [0.0, 0.0, 0.0, 0.9]
    )


@settings(max_examples=60, deadline=None, derandomize=True)
@given(gb=st.floats(0.0, 1e6), more=st.floats(0.0, 1e5))
def test_transfer_cost_monotone_and_bounded(gb, more):
    tiers = [(1.0, 0.0), (10_240.0, 0.09), (51_200.0, 0.085), (math.inf, 0.07)]
    a = cost.transfer_cost(gb, tiers)
    b = cost.transfer_cost(gb + more, tiers)
    assert b >= a - 1e-9
    assert a <= 0.09 * gb + 1e-9  # never above the highest per-GB price


def test_transfer_cost_bad_tiers():
    with pytest.raises(ValueError, match="tiers must have increasing up_to_gb ending with inf"):
        cost.transfer_cost(5.0, [(10.0, 0.1), (5.0, 0.05)])
    with pytest.raises(ValueError, match=r"gb must be a finite number >= 0, got -1\.0"):
        cost.transfer_cost(-1.0, [(math.inf, 0.1)])


def test_ffd_small_example_by_hand():
    # Allocatable 4 vCPU / 16 GiB (no reserve). Requests 3,3,1,1,1,1 vCPU: FFD puts 3+1, 3+1,
    # 1+1 -> 3 nodes, the optimum (lower bound ceil(10 / 4) = 3).
    p = cost.pack_ffd(
        [1, 3, 1, 3, 1, 1],
        [1] * 6,
        4,
        16,
        reserved_cpu=0,
        reserved_memory_gib=0,
        price_per_hour_usd=0.1,
        cluster_fee_per_hour_usd=0.1,
    )
    assert p.nodes == 3
    assert p.cpu_utilization == pytest.approx(10 / 12)
    assert p.monthly_cost_usd == pytest.approx((3 * 0.1 + 0.1) * 730)


def test_ffd_pods_per_node_limit_by_hand():
    # Ten pods of 0.1 vCPU fit one 4-vCPU node by CPU; at most 4 pods per node -> ceil(10 / 4) = 3.
    p = cost.pack_ffd([0.1] * 10, [0.1] * 10, 4, 16, max_pods=4)
    assert p.nodes == 3
    assert np.bincount(p.assignment).tolist() == [4, 4, 2]
    assert cost.pack_ffd([0.1] * 10, [0.1] * 10, 4, 16).nodes == 1
    with pytest.raises(ValueError, match=r"max_pods must be a whole number >= 1"):
        cost.pack_ffd([0.1], [0.1], 4, 16, max_pods=0)


def test_ffd_reservation_defaults_to_none():
    # Nothing is subtracted unless a reservation is passed (cloudpad.models.kubernetes.reserved):
    # a 4 vCPU request fills an empty 4-vCPU node, and does not fit once 0.1 vCPU is reserved.
    assert cost.pack_ffd([4.0], [1.0], 4, 16).cpu_allocatable == 4.0
    with pytest.raises(cost.WorkloadTooLarge):
        cost.pack_ffd([4.0], [1.0], 4, 16, reserved_cpu=0.1)


workloads = st.lists(st.tuples(st.floats(0.05, 3.5), st.floats(0.1, 12.0)), min_size=1, max_size=60)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(items=workloads, node=st.sampled_from([(4, 16.0), (8, 32.0), (4, 8.0)]))
def test_ffd_properties(items, node):
    cpu = np.array([i[0] for i in items])
    mem = np.array([i[1] for i in items])
    vcpu, gib = node
    mem = np.minimum(mem, gib * 0.7)  # keep every workload placeable
    p = cost.pack_ffd(cpu, mem, vcpu, gib, price_per_hour_usd=0.2)
    # every workload placed on an existing node
    assert p.assignment.shape == cpu.shape
    assert p.assignment.min() >= 0 and p.assignment.max() < p.nodes
    # no node over its allocatable capacity
    used_c = np.bincount(p.assignment, weights=cpu, minlength=p.nodes)
    used_m = np.bincount(p.assignment, weights=mem, minlength=p.nodes)
    assert np.all(used_c <= p.cpu_allocatable + 1e-9)
    assert np.all(used_m <= p.memory_allocatable_gib + 1e-9)
    np.testing.assert_allclose(used_c, p.cpu_used, atol=1e-9)
    # never fewer nodes than the volume lower bound; never more nodes than workloads
    lb = cost.lower_bound_nodes(cpu, mem, p.cpu_allocatable, p.memory_allocatable_gib)
    assert lb <= p.nodes <= cpu.size
    assert 0 < p.cpu_utilization <= 1 + 1e-9


def test_pack_errors():
    with pytest.raises(ValueError, match=r"workload 0 .* must fit an empty node"):
        cost.pack_ffd([5.0], [1.0], 4, 16)
    with pytest.raises(ValueError, match="same length"):
        cost.pack_ffd([1.0, 2.0], [1.0], 4, 16)
    with pytest.raises(ValueError, match=r"cpu must be a finite number >= 0"):
        cost.pack_ffd([-1.0], [1.0], 4, 16)


def test_cheapest_node_type_with_book_prices():
    from cloudpad import data

    prices = data.load("instance_prices")
    aws = prices[(prices["provider"] == "aws") & (prices["pricing_model"] == "on-demand")]
    rng = np.random.default_rng(1)
    cpu = rng.choice([0.25, 0.5, 1.0, 2.0], size=40)
    mem = rng.choice([0.5, 1.0, 2.0, 4.0], size=40)
    table = cost.cheapest_node_type(cpu, mem, aws, cluster_fee_per_hour_usd=0.1)
    assert isinstance(table, pd.DataFrame)
    assert table["monthly_cost_usd"].is_monotonic_increasing
    assert set(table["instance_type"]) <= set(aws["instance_type"])
    best = table.iloc[0]
    row = aws[aws["instance_type"] == best["instance_type"]].iloc[0]
    again = cost.pack_ffd(
        cpu,
        mem,
        row["vcpu"],
        row["memory_gib"],
        price_per_hour_usd=row["price_per_hour_usd"],
        cluster_fee_per_hour_usd=0.1,
    )
    assert again.monthly_cost_usd == pytest.approx(best["monthly_cost_usd"])
    with pytest.raises(ValueError, match="must have columns"):
        cost.cheapest_node_type(cpu, mem, aws.drop(columns=["vcpu"]))


def test_pack_ffd_spreads_a_group_over_nodes():
    # Six small replicas of one service fit one big node; with at most one a node (required
    # anti-affinity on the host name) they take six; two services of three take three nodes.
    small = [0.1] * 6
    assert cost.pack_ffd(small, small, 8, 32).nodes == 1
    one = cost.pack_ffd(small, small, 8, 32, groups=["a"] * 6, max_per_group=1)
    assert one.nodes == 6
    assert sorted(np.bincount(one.assignment)) == [1] * 6
    two = cost.pack_ffd(small, small, 8, 32, groups=["a", "b"] * 3, max_per_group=1)
    assert two.nodes == 3
    assert cost.pack_ffd(small, small, 8, 32, groups=["a"] * 6, max_per_group=2).nodes == 3
    # Labels alone (no cap) change nothing.
    assert cost.pack_ffd(small, small, 8, 32, groups=["a"] * 6).nodes == 1
    with pytest.raises(ValueError, match=r"groups must give one label per workload \(6\)"):
        cost.pack_ffd(small, small, 8, 32, groups=["a"], max_per_group=1)
    with pytest.raises(ValueError, match="max_per_group needs groups"):
        cost.pack_ffd(small, small, 8, 32, max_per_group=1)
    with pytest.raises(ValueError, match="max_per_group must be a whole number >= 1"):
        cost.pack_ffd(small, small, 8, 32, groups=["a"] * 6, max_per_group=0)
