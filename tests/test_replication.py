"""Tests of cloudpad.models.replication: quorums, commit latency, data at risk, recovery, cost.

Published values, each named in its test: the Raft paper (Ongaro and Ousterhout, "In Search of
an Understandable Consensus Algorithm (Extended Version)", USENIX ATC 2014), "Consistency levels
in Azure Cosmos DB" (Microsoft Learn, ms.date 2025-08-28), the MySQL 8.4 Reference Manual
(19.4.10.2, "Configuring Semisynchronous Replication"), the CockroachDB documentation
("Geo-Partitioned Leaseholders Topology", v21.1), "Using switchover or failover in Amazon Aurora
Global Database" (AWS), and "Overview of business continuity with Azure SQL Database" (Microsoft
Learn, ms.date 2021-10-18).  The exact order-statistic distribution is checked against a seeded
simulation and against the i.i.d. formula of cloudpad.models.latency; Hypothesis runs
derandomized.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloudpad.exceptions import InputError
from cloudpad.models import replication as rp
from cloudpad.models.latency import Exponential, PointMass, kth_of_n_quantile, quantile_ci

PROPS = settings(max_examples=25, deadline=None, derandomize=True)

#: A small made-up round-trip table (ms, both directions) with distances (km) for the tests.
PAIRS = pd.DataFrame(
    [
        ("A", "B", 10.0, 800.0),
        ("B", "A", 12.0, 800.0),
        ("A", "C", 30.0, 2000.0),
        ("C", "A", 30.0, 2000.0),
        ("A", "D", 60.0, 4000.0),
        ("D", "A", 58.0, 4000.0),
        ("B", "C", 25.0, 1500.0),
        ("C", "B", 25.0, 1500.0),
        ("B", "D", 55.0, 3500.0),
        ("D", "B", 55.0, 3500.0),
        ("C", "D", 35.0, 2500.0),
        ("D", "C", 35.0, 2500.0),
        ("A", "E", 5.0, 100.0),
        ("E", "A", 5.0, 100.0),
    ],
    columns=["source_region", "destination_region", "rtt_p95_ms", "distance_km"],
)
RTTS = rp.RoundTrips(PAIRS)
TIMES = rp.RecoveryTimes(
    detect=5, respond=15, decide=20, promote=1, redirect=5, auto_detect=2, auto_grace=60,
    election_seconds=12, restore_hours=12,
)  # fmt: skip


# --------------------------------------------------------------------------- published values
def test_raft_five_servers_tolerate_two_failures():
    # Ongaro and Ousterhout 2014, section 5: "A Raft cluster contains several servers; five is a
    # typical number, which allows the system to tolerate two failures."
    assert rp.majority(5) == 3
    assert rp.tolerated_failures(5) == 2


def test_cosmos_db_dynamic_quorum_majorities():
    # Cosmos DB consistency levels, "Dynamic quorum": "in a 3 or 4 region account, the majority
    # is 2 or 3 regions respectively, so only 1 region can be removed in either case. For a 5
    # region account, the majority is 3, so up to 2 unresponsive regions can be removed."
    assert [rp.majority(n) for n in (3, 4, 5)] == [2, 3, 3]
    assert [rp.tolerated_failures(n) for n in (3, 4, 5)] == [1, 1, 2]


def test_cosmos_db_strong_write_rule_is_two_round_trips_to_every_region_plus_ten_ms():
    # Cosmos DB consistency levels: under strong consistency across regions "the write latency is
    # equal to two times round-trip time (RTT) between any of the two farthest regions, plus 10
    # milliseconds at the 99th percentile".  A write committed in every region ("counts remote",
    # all of them) over two round trips with 10 ms of local work is the same rule.
    assert rp.cosmos_strong_write_p99_ms(100.0) == 210.0
    every = rp.Design("strong", (("A", 1), ("B", 1), ("C", 1)), 2, "remote", "failover")
    assert rp.commit_ms(every, RTTS, zone_rtt_ms=1.0, local_ms=10.0, round_trips=2) == (
        rp.cosmos_strong_write_p99_ms(RTTS.ms("A", "C"))
    )


def test_mysql_semi_sync_waits_for_one_replica():
    # MySQL 8.4 manual, 19.4.10.2: rpl_semi_sync_source_wait_for_replica_count "The default is
    # 1, meaning that the source only waits for one replica to acknowledge receipt".  The
    # semi-synchronous design waits for exactly the remote replica's round trip.
    semi = rp.standard_designs("A", "C", "D")[2]
    assert semi.name == "semi-sync, 2 regions" and semi.acks == 1 and semi.counts == "remote"
    assert rp.commit_ms(semi, RTTS, zone_rtt_ms=2.0, local_ms=1.0) == 1.0 + 30.0


def test_cockroachdb_three_replicas_commit_on_the_first_follower():
    # CockroachDB "Geo-Partitioned Leaseholders Topology": with three replicas in three regions,
    # "as soon as one follower has appended the write to its Raft log (and thus a majority of
    # replicas agree based on identical Raft logs), it notifies the leaseholder and the write is
    # committed".  Leader in A, followers in B (10 ms) and C (30 ms): the commit waits 10 ms.
    three = rp.Design("3 regions", (("A", 1), ("B", 1), ("C", 1)), rp.majority(3) - 1, "any",
                      "election")  # fmt: skip
    assert three.acks == 1
    assert rp.commit_ms(three, RTTS, zone_rtt_ms=2.0, local_ms=0.0) == 10.0
    assert three.safe_on_region_loss


def test_data_at_risk_at_published_lag_bounds():
    # Aurora Global Database: "Valid values for rds.global_db_rpo range from 20 seconds" (the
    # smallest RPO bound); Cosmos DB: "For multi-region accounts the minimum value of K and T is
    # 100,000 write operations or 300 seconds."  At 1,000 writes/s those lags hold 20,000 and
    # 300,000 writes.
    assert rp.writes_at_risk(1000.0, 20.0) == 20_000
    assert rp.writes_at_risk(1000.0, 300.0) == 300_000


def test_azure_sql_recovery_table_rows():
    # Azure SQL business continuity (2021-10-18): "While failover itself takes only a few
    # seconds, the service will take at least 1 hour to activate it", hence "Auto-failover
    # groups | 1 h"; "Geo-restore from geo-replicated backups | 12 h".  With a one-hour grace
    # period and seconds to promote and redirect, the automated failover's RTO is one hour.
    stages = dict(detect=0, respond=0, decide=0, promote=0.05, redirect=0, auto_detect=0)
    azure = rp.RecoveryTimes(**stages, auto_grace=60, election_seconds=0, restore_hours=12)
    assert azure.minutes("failover", automated=True) == pytest.approx(60.0, abs=0.1)
    assert azure.minutes("restore", automated=False) == 12 * 60


# --------------------------------------------------------------------------- designs
def test_standard_designs_shape():
    zones, asynch, semi, quorum, every = rp.standard_designs("A", "C", "D")
    assert [d.total_copies for d in (zones, asynch, semi, quorum, every)] == [3, 4, 4, 5, 5]
    assert [d.safe_on_region_loss for d in (zones, asynch, semi, quorum, every)] == [
        False, False, True, True, True,
    ]  # fmt: skip
    # Five copies, none of the three regions holds a majority: two copies in the leader's region.
    assert quorum.copies == (("A", 2), ("C", 2), ("D", 1)) and quorum.acks == 2


def test_majority_of_five_waits_for_the_nearest_other_region():
    quorum = rp.majority_design("A", "D", "C")  # two copies in D (60 ms), one in C (30 ms)
    # Followers: one zone copy (2 ms), D twice (60), C (30): the second fastest is C.
    assert rp.commit_ms(quorum, RTTS, zone_rtt_ms=2.0, local_ms=1.0) == 31.0


def test_majority_design_after_losing_the_leader_region():
    quorum = rp.majority_design("A", "B", "C")
    after = quorum.after_losing("A")
    assert after is not None and after.leader_region == "B"
    assert after.copies == (("B", 2), ("C", 1)) and after.acks == 2
    # The new leader in B waits for its zone copy and for C: the second fastest is C (25 ms).
    assert rp.commit_ms(after, RTTS, zone_rtt_ms=2.0, local_ms=1.0) == 26.0
    # Losing the two-copy region B as well leaves C alone: no majority, no writes.
    assert after.after_losing("B") is None


def test_zones_only_cannot_resume_and_async_resumes_without_remote_acks():
    zones, asynch = rp.standard_designs("A", "B", "C")[:2]
    assert zones.after_losing("A") is None
    failed_over = asynch.after_losing("A")
    assert failed_over.copies == (("B", 1),) and failed_over.acks == 0


def test_design_refuses_impossible_waits():
    with pytest.raises(InputError, match="waits for 2 acknowledgements but only 1 remote"):
        rp.Design("bad", (("A", 3), ("B", 1)), 2, "remote", "failover")
    with pytest.raises(InputError, match="names a region twice"):
        rp.Design("bad", (("A", 1), ("A", 1)), 0, "local", "restore")
    with pytest.raises(InputError, match="counts must be one of"):
        rp.Design("bad", (("A", 1),), 0, "nearby", "restore")
    with pytest.raises(InputError, match="three regions"):
        rp.standard_designs("A", "A", "B")


def test_unknown_pair_is_named():
    with pytest.raises(InputError, match="no measured round trip from 'A' to 'Z'"):
        RTTS.ms("A", "Z")


# --------------------------------------------------------------------------- order statistics
def test_path_model_keeps_the_measured_p95():
    path = rp.path_model(40.0, 0.25)
    assert path.quantile(0.95) == pytest.approx(40.0)
    # Median = p95 * (1 - f (1 - ln 2 / ln 20)).
    assert path.quantile(0.5) == pytest.approx(40.0 * (1 - 0.25 * (1 - math.log(2) / math.log(20))))
    assert isinstance(rp.path_model(40.0, 0.0), PointMass)


def test_kth_ack_matches_the_iid_order_statistic():
    # Identical paths: the k-th of n has F(X_(k)) ~ Beta(k, n - k + 1) (latency.kth_of_n_quantile).
    path = Exponential(mean_ms=5.0, shift_ms=20.0)
    for k in (1, 2, 3):
        ack = rp.KthAck((path,) * 3, k)
        for q in (0.5, 0.95, 0.99):
            assert ack.quantile(q) == pytest.approx(kth_of_n_quantile(path, 3, k, q), rel=1e-9)


def test_kth_ack_against_a_simulation():
    paths = tuple(rp.path_model(p, 0.3) for p in (2.0, 33.0, 41.0, 41.0))
    ack = rp.KthAck(paths, 2, local_ms=1.0)
    draws = ack.sample(200_000, seed=7)
    for q in (0.5, 0.95, 0.99):
        assert quantile_ci(draws, q, 0.999).contains(ack.quantile(q))


def test_kth_ack_without_variation_is_the_deterministic_commit():
    quorum = rp.majority_design("A", "D", "C")
    dist = rp.commit_distribution(quorum, RTTS, 2.0, 1.0, variable_share=0.0)
    assert dist.quantile(0.5) == dist.quantile(0.95) == rp.commit_ms(quorum, RTTS, 2.0, 1.0)


@PROPS
@given(
    p95s=st.lists(st.floats(min_value=1.0, max_value=300.0), min_size=1, max_size=6),
    share=st.floats(min_value=0.01, max_value=0.9),
    q=st.floats(min_value=0.01, max_value=0.99),
    data=st.data(),
)
def test_waiting_for_more_acks_never_helps(p95s, share, q, data):
    paths = tuple(rp.path_model(p, share) for p in p95s)
    k = data.draw(st.integers(min_value=1, max_value=len(paths)))
    ack = rp.KthAck(paths, k)
    t = ack.quantile(q)
    assert ack.cdf(t) >= q - 1e-9
    if k < len(paths):
        assert rp.KthAck(paths, k + 1).quantile(q) >= t - 1e-9
    # Never faster than the k-th smallest fixed part, never slower than the slowest path's tail.
    fixed = np.sort([(1 - share) * p for p in p95s])[k - 1]
    assert fixed - 1e-9 <= t <= max(d.quantile(1 - (1 - q) / len(paths)) for d in paths) + 1e-9


# --------------------------------------------------------------------------- RPO, RTO, cost
def test_expected_outage_limits_and_simulation():
    assert rp.expected_outage_minutes(360.0, np.inf) == 360.0
    assert rp.expected_outage_minutes(360.0, 0.0) == 0.0
    draws = np.random.default_rng(3).exponential(360.0, 400_000)
    assert np.minimum(draws, 46.0).mean() == pytest.approx(
        rp.expected_outage_minutes(360.0, 46.0), rel=0.01
    )
    assert (draws > 62.0).mean() == pytest.approx(rp.failover_probability(360.0, 62.0), abs=0.005)


def test_recovery_stages_add_up():
    assert TIMES.minutes("failover", automated=False) == 5 + 15 + 20 + 1 + 5
    assert TIMES.minutes("failover", automated=True) == 2 + 60 + 1 + 5
    assert TIMES.minutes("election", automated=False) == pytest.approx(0.2)
    assert TIMES.decision(automated=True) == 62
    assert TIMES.point_of_no_return("failover", automated=False) == 5 + 15 + 20 + 1
    # A restore can be called off until it is finished; it is by hand either way.
    assert TIMES.point_of_no_return("restore", automated=True) == 40 + 12 * 60
    with pytest.raises(InputError, match="detect must be a finite number >= 0"):
        rp.RecoveryTimes(-1, 0, 0, 0, 0, 0, 0, 0, 0)


def test_breakdown_totals_are_the_recovery_times():
    table = TIMES.breakdown()
    assert table.loc["failover by hand", "total"] == TIMES.minutes("failover", automated=False)
    assert table.loc["automated failover", "total"] == TIMES.minutes("failover", automated=True)
    assert table.loc["majority election", "total"] == TIMES.minutes("election", automated=True)
    assert table.loc["restore from backup", "total"] == TIMES.minutes("restore", automated=False)
    assert table.loc["automated failover", "grace period"] == 60


def test_replicated_bytes_per_month():
    # 100 writes/s of 1,000 bytes for 730 h = 262.8 GB per copy.
    assert rp.replicated_gb_per_month(100.0, 1000.0) == pytest.approx(262.8)
    assert rp.replicated_gb_per_month(100.0, 1000.0, copies=3) == pytest.approx(788.4)


def test_break_even_is_the_inverse_of_the_traffic_bill():
    rate = rp.break_even_writes_per_s(100.0, 2000.0, 0.02, copies=2)
    assert rp.replicated_gb_per_month(rate, 2000.0, copies=2) * 0.02 == pytest.approx(100.0)
    with pytest.raises(InputError, match="usd_per_gb must be a finite number > 0"):
        rp.break_even_writes_per_s(100.0, 2000.0, 0.0)


def test_describe_names_copies_and_waits():
    table = rp.describe(rp.standard_designs("A", "C", "D"))
    assert table.loc["async, 2 regions", "copies"] == "A ×3, C ×1"
    assert (
        table.loc["semi-sync, 2 regions", "commit waits for"] == "1 of 1 followers in other regions"
    )
    assert table.loc["majority, 3 regions", "commit waits for"] == "2 of 4 followers anywhere"


def test_which_region_losses_stop_writes():
    _, asynch, semi, quorum, every = rp.standard_designs("A", "C", "D")
    assert not asynch.stalls_without("C")  # the remote copy's acknowledgement never counted
    assert semi.stalls_without("C") and semi.fallback_s == 10.0  # until MySQL's timeout
    assert not quorum.stalls_without("C") and not quorum.stalls_without("D")
    assert every.stalls_without("C") and every.stalls_without("D") and every.fallback_s is None
    with pytest.raises(InputError, match="no follower region 'A'"):
        every.stalls_without("A")


def test_write_outage_minutes_per_year():
    m = 360.0
    yearly = dict(outages_per_region_per_year=0.5, mean_outage_minutes=m, automated=False)
    _, asynch, semi, quorum, every = rp.standard_designs("A", "C", "D")
    leader = 0.5 * rp.expected_outage_minutes(m, 46.0)
    assert rp.write_outage_minutes_per_year(asynch, TIMES, **yearly) == pytest.approx(leader)
    # Semi-sync also stalls for its 10 s timeout whenever C is down.
    stall = 0.5 * rp.expected_outage_minutes(m, 10.0 / 60.0)
    assert rp.write_outage_minutes_per_year(semi, TIMES, **yearly) == pytest.approx(leader + stall)
    # Sync-all stops whenever any of its three regions is down, until C or D is dropped by hand.
    drop = 0.5 * rp.expected_outage_minutes(m, 41.0)
    assert rp.write_outage_minutes_per_year(every, TIMES, **yearly) == pytest.approx(
        leader + 2 * drop
    )
    assert rp.write_outage_minutes_per_year(quorum, TIMES, **yearly) < 0.5 * 0.2


def test_compare_rows():
    designs = rp.standard_designs("A", "C", "D")
    table = rp.compare(
        designs, RTTS, zone_rtt_ms=2.0, local_ms=1.0, variable_share=0.2, lag_s=1.0,
        backup_rpo_s=3600.0, workload=rp.Workload(1000.0, 100.0, 1000.0), times=TIMES,
        outages_per_region_per_year=0.5, mean_outage_minutes=360.0,
        node_usd_per_hour=0.1, region_usd_per_gb=0.02, zone_usd_per_gb=0.01,
    )  # fmt: skip
    assert list(table.index) == [d.name for d in designs]
    assert table.loc["async, 2 regions", "writes_at_risk"] == 1000.0
    assert table.loc["zones only", "rpo_s"] == 3600.0
    assert table.loc["semi-sync, 2 regions", "commit_at_p95_rtt_ms"] == 31.0
    assert table.loc["sync all, 3 regions", "commit_at_p95_rtt_ms"] == 61.0
    assert table.loc["majority, 3 regions", "region_gb"] == pytest.approx(3 * 262.8)
    assert table.loc["async, 2 regions", "zone_usd"] == pytest.approx(2 * 262.8 * 0.01)
    assert table.loc["zones only", "nodes_usd"] == pytest.approx(3 * 0.1 * 730)
    ordered = table[["commit_median_ms", "commit_p95_ms"]].to_numpy()
    assert np.all(ordered[:, 0] <= ordered[:, 1])
    # Writes lost a year: 0.5 outages x P(outage outlasts the promotion at 41 min) x 100/s x 1 s.
    assert table.loc["async, 2 regions", "lost_by_hand_per_year"] == pytest.approx(
        0.5 * math.exp(-41.0 / 360.0) * 100.0
    )
    assert table.loc["majority, 3 regions", "lost_automated_per_year"] == 0.0


def test_compare_prices_each_remote_region():
    designs = rp.standard_designs("A", "C", "D")
    setting = dict(
        zone_rtt_ms=2.0, local_ms=1.0, variable_share=0.0, lag_s=1.0, backup_rpo_s=3600.0,
        workload=rp.Workload(100.0, 100.0, 1000.0), times=TIMES, outages_per_region_per_year=0.5,
        mean_outage_minutes=360.0, node_usd_per_hour=0.1,
    )  # fmt: skip
    table = rp.compare(designs, RTTS, region_usd_per_gb={"C": 0.02, "D": 0.08}, **setting)
    # Majority: two copies in C and one in D, 262.8 GB a month each.
    assert table.loc["majority, 3 regions", "region_usd"] == pytest.approx(
        262.8 * (2 * 0.02 + 0.08)
    )
    with pytest.raises(InputError, match="no price to 'D'"):
        rp.compare(designs, RTTS, region_usd_per_gb={"C": 0.02}, **setting)


# --------------------------------------------------------------------------- which regions
def test_partners_budget_and_separation():
    table = rp.partners(PAIRS, "A", budget_ms=35.0, local_ms=1.0, min_km=483.0)
    assert list(table.region) == ["E", "B", "C", "D"]
    assert list(table.fits) == [False, True, True, False]  # E too close, D too slow
    assert table.set_index("region").loc["B", "rtt_back_ms"] == 12.0


def test_farthest_partner_or_a_clear_refusal():
    table = rp.partners(PAIRS, "A", budget_ms=35.0, local_ms=1.0, min_km=483.0)
    assert rp.farthest_partner(table).region == "C"
    tight = rp.partners(PAIRS, "A", budget_ms=8.0, local_ms=1.0, min_km=483.0)
    with pytest.raises(
        InputError, match="no region fits .* the nearest, E, is 100 km away at 6 ms"
    ):
        rp.farthest_partner(tight)
    with pytest.raises(InputError, match="no three regions led from 'A' fit budget_ms = 8"):
        rp.quorum_sets(PAIRS, "A", budget_ms=8.0, local_ms=1.0, zone_rtt_ms=2.0, min_km=483.0)


def test_frontier_grows_with_the_budget():
    table = rp.frontier(PAIRS, [5.0, 12.0, 40.0, 100.0], local_ms=1.0)
    assert list(table.pairs) == [0, 3, 10, 14]
    assert list(table.farthest_km) == [0.0, 800.0, 2500.0, 4000.0]


def test_quorum_sets_rank_by_latency_after_losing_the_leader():
    table = rp.quorum_sets(
        PAIRS, "A", budget_ms=40.0, local_ms=1.0, zone_rtt_ms=2.0, min_km=483.0, top=3
    )
    # E is too close to A.  (B, C): now 11 ms, after losing A the leader in B waits for C, 26 ms.
    first = table.iloc[0]
    assert (first.second, first.third) == ("B", "C")
    assert (first.commit_ms, first.commit_after_loss_ms) == (11.0, 26.0)
    assert "E" not in set(table.second) | set(table.third)
