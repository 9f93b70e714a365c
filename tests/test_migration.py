"""Tests of cloudpad.models.migration: waves from the call graph, the journey's bill.

The zone-loss headroom both bills keep is cloudpad.models.headroom's, used through
cloudpad.models.kubernetes.zonal_services (tests/test_headroom.py, tests/test_kubernetes.py).
Worked examples: the CPU manager's static policy, whose reserved CPUs come out of the shared
pool "in integer quantity" (Kubernetes, "Control CPU Management Policies on the Node"), so a
4-vCPU node keeping 0.28 vCPU has 3 whole CPUs for exclusive pods; a two-service journey
priced by hand.  The platform is the book's authored example data.
"""

from __future__ import annotations

import pandas as pd
import pytest

from cloudpad import data
from cloudpad.exceptions import InputError
from cloudpad.models import kubernetes as k8s
from cloudpad.models import migration as mg
from cloudpad.models import team


@pytest.fixture(scope="module")
def platform():
    return data.load("platform_services"), data.load("platform_dependencies")


def test_reach_of_the_example(platform):
    services, edges = platform
    share = mg.reach(services, edges)
    assert share["rate-limiter"] == pytest.approx(1.0)  # every entry service calls it
    assert share["nightly-order-export"] == 0.0  # a batch job serves no requests
    entries = 1800 + 300 + 15 + 20 + 120 + 2500 + 1200  # the seven entry services' peaks
    assert share["admin-console"] == pytest.approx(15 / entries)
    for a, b in zip(edges["caller"], edges["callee"], strict=True):  # reach never falls
        assert share[b] >= share[a] - 1e-12


def test_edges_inward_moves_callers_first(platform):
    services, edges = platform
    order = mg.migration_order(services, edges, "edges inward")
    position = {s: i for i, s in enumerate(order)}
    for a, b in zip(edges["caller"], edges["callee"], strict=True):
        if a in position and b in position:
            assert position[a] < position[b], f"{a} calls {b} but moves after it"
    assert order[-1] == "rate-limiter"
    assert mg.migration_order(services, edges, "core first") == order[::-1]


def test_biggest_bill_first_needs_the_bill(platform):
    services, edges = platform
    bill = dict.fromkeys(services["service"], 1.0) | {"help-center": 9.0}
    assert mg.migration_order(services, edges, "biggest bill first", bill)[0] == "help-center"
    with pytest.raises(InputError, match="needs vm_usd"):
        mg.migration_order(services, edges, "biggest bill first")
    with pytest.raises(InputError, match="rule must be one of"):
        mg.migration_order(services, edges, "random")


def test_a_cycle_is_named():
    edges = pd.DataFrame({"caller": ["a", "b", "c"], "callee": ["b", "c", "b"]})
    with pytest.raises(InputError, match="\\['b', 'c'\\]"):
        mg.topological_order(edges)


def test_waves_and_crossing_calls(platform):
    services, edges = platform
    waves = mg.assign_waves(["a", "b", "c", "d", "e"], 2)
    assert waves.tolist() == [1, 1, 2, 2, 3]
    assert mg.crossing_calls_per_s(services, edges, []) == 0.0
    assert mg.crossing_calls_per_s(services, edges, services["service"]) == 0.0
    # Only the rate limiter moved: every entry service calls it once per request.
    assert mg.crossing_calls_per_s(services, edges, ["rate-limiter"]) == pytest.approx(5955.0)


def test_exclusive_cores_in_integer_quantity():
    # Static policy: reserved CPUs leave the shared pool in whole CPUs; 0.28 -> 1 of 4.
    nodes = pd.DataFrame({"instance_type": ["x", "tiny"], "vcpu": [4, 1],
                          "reserved_cpu": [0.28, 1.0]})  # fmt: skip
    out = mg.exclusive_node_types(nodes)
    assert out["reserved_cpu"].tolist() == [1.0]  # the 1-vCPU node has nothing exclusive
    pods = pd.DataFrame({"cpu": [0.25, 1.0, 1.5]})
    assert mg.whole_core_pods(pods)["cpu"].tolist() == [1.0, 1.0, 2.0]


def test_a_journey_priced_by_hand():
    # Two services at 100 USD a month each on VMs; the cluster costs 30 a month empty and
    # 20 more for each service on it.  Build 1 week, waves of 2 weeks, rollback 1 week.
    waves = pd.Series({"a": 1, "b": 2})
    vm = pd.Series({"a": 100.0, "b": 100.0})
    schedule = mg.Schedule(build_weeks=1, wave_weeks=2, rollback_weeks=1)
    weekly = mg.journey(waves, vm, lambda moved: 30.0 + 20.0 * len(moved), schedule)
    # Weeks 0-2: 230; week 3 (a moved, still on VMs): 250; week 4: 150;
    # week 5 (b moved, still on VMs): 170; week 6: 70.
    assert weekly["total_usd"].tolist() == [230, 230, 230, 250, 150, 170, 70]
    s = mg.summary(weekly, today_usd=200.0, horizon_weeks=10)
    assert s.weeks == 7
    assert s.dual_cost_usd == pytest.approx((30 * 3 + 50) * mg.MONTHS_PER_WEEK)
    assert s.peak_monthly_usd == 250.0
    # Cumulative over today: 30, 60, 90, 140, 90, 60, -70: below 0 from week 6.
    assert s.payback_week == 6
    assert s.saved_usd == pytest.approx((130 * 4 + 50 + 30 - 140) * mg.MONTHS_PER_WEEK)


def test_stateful_homes_add_people_to_the_bill():
    prices = pd.DataFrame({"instance_type": ["m"], "vcpu": [4], "memory_gib": [16.0],
                           "price_per_hour_usd": [0.2]})  # fmt: skip
    vms = k8s.vm_types(prices)
    stateful = pd.DataFrame({"component": ["db"], "nodes": [3], "cpu_request_millicores": [2000],
                             "memory_request_mib": [8192]})  # fmt: skip
    toil = {"virtual machines": 4.0, "operator on the cluster": 2.0, "managed service": 0.5}
    pages = dict.fromkeys(mg.HOMES, 0.0)
    rows = mg.stateful_options(stateful, vms, managed_price_factor=1.7, toil_hours_per_week=toil,
                               failures_per_year=pages, usd_per_engineer_hour=100.0)  # fmt: skip
    by = rows.set_index("home")
    assert by.loc["virtual machines", "machines_usd"] == pytest.approx(3 * 0.2 * 730)
    assert by.loc["managed service", "machines_usd"] == pytest.approx(1.7 * 3 * 0.2 * 730)
    hours = 4.0 * team.WEEKS_PER_BILLING_MONTH
    assert by.loc["virtual machines", "total_usd"] == pytest.approx(438 + 100 * hours)
    with pytest.raises(InputError, match="failures_per_year must give .* 'managed service'"):
        given = {"toil_hours_per_week": toil, "failures_per_year": {"virtual machines": 0}}
        mg.stateful_options(stateful, vms, managed_price_factor=1, usd_per_engineer_hour=1, **given)


def test_decision_log_dates_are_mondays():
    log = mg.decision_log("2027-01-06", [(2, "later", "x"), (0, "first", "y")])
    assert log["decision"].tolist() == ["first", "later"]
    assert log["date"].tolist() == ["2027-01-11", "2027-01-25"]  # 2027-01-06 is a Wednesday
    with pytest.raises(InputError, match="start must be a date"):
        mg.decision_log("January", [])
