"""Tests of cloudpad.models.kubernetes against the providers' own examples, tables and code."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloudpad import data
from cloudpad.models import kubernetes as k8s

# Pages and files the expected values come from.
AKS_PAGE = "https://learn.microsoft.com/azure/aks/node-resource-reservations"
EKS_AMI = "https://github.com/awslabs/amazon-eks-ami"


# --------------------------------------------------------------------------- AKS
def test_aks_worked_example_8_gb_30_pods():
    # AKS_PAGE, "AKS 1.29 and later", first example: "If the virtual machine (VM) provides 8 GB
    # of memory and the node supports up to 30 pods, AKS reserves 20 MB * 30 Max Pods + 50 MB =
    # 650 MB for kube-reserved. Allocatable space = 8 GB - 0.65 GB (kube-reserved) - 0.1 GB
    # (eviction threshold) = 7.25 GB or 90.625% allocatable."  The page counts 8 GB as 8,000 MB,
    # so the node is given as 8,000 of the model's MiB.
    r = k8s.reserved("aks", 2, 8000 / 1024, max_pods=30)
    assert r.memory_mib == pytest.approx(650)
    assert r.eviction_mib == pytest.approx(100)
    assert r.allocatable_memory_mib == pytest.approx(7250)
    assert r.allocatable_memory_fraction == pytest.approx(0.90625)


def test_aks_worked_example_4_gb_70_pods_hits_the_25_percent_cap():
    # AKS_PAGE, second example: "If the VM provides 4 GB of memory and the node supports up to
    # 70 pods, AKS reserves 25% * 4 GB = 1000 MB for kube-reserved, as this is less than 20 MB *
    # 70 Max Pods + 50 MB = 1450 MB."
    r = k8s.reserved("aks", 2, 4000 / 1024, max_pods=70)
    assert r.memory_mib == pytest.approx(1000)


def test_aks_memory_capped_follows_the_worked_examples():
    # AKS_PAGE's two examples above: 8 GB with 30 pods reserves 20 MB * 30 + 50 MB = 650 MB,
    # below a quarter of 8 GB; 4 GB with 70 pods reserves the 25 % (1000 MB < 1450 MB).
    assert not k8s.aks_memory_capped(8000 / 1024, 30)
    assert k8s.aks_memory_capped(4000 / 1024, 70)
    # At the boundary the two are equal: 25 % of 4 GiB = 1024 MiB = 20 * 48.7 + 50; 48 pods
    # (1010 MiB) stay under the cap, 49 pods (1030 MiB) go over it.
    assert not k8s.aks_memory_capped(4, 48)
    assert k8s.aks_memory_capped(4, 49)
    with pytest.raises(ValueError, match="max_pods"):
        k8s.aks_memory_capped(4, 0)


@pytest.mark.parametrize(
    ("cores", "millicores"),
    [(1, 60), (2, 100), (4, 140), (8, 180), (16, 260), (32, 420), (64, 740)],
)
def test_aks_cpu_table(cores, millicores):
    # AKS_PAGE, "CPU reservations": "Kube-reserved CPU (millicores) | 60 | 100 | 140 | 180 | 260 |
    # 420 | 740" for 1, 2, 4, 8, 16, 32 and 64 cores.
    assert k8s.reserved("aks", cores, 64, max_pods=110).cpu_millicores == pytest.approx(millicores)


def test_aks_cpu_between_table_rows():
    # Azure/karpenter-provider-azure pkg/providers/instancetype/kube_reserved_test.go (AKS's own
    # node provisioner): "3 cores, 64GiB" -> wantCPU "120m", between the table's 100 and 140.
    assert k8s.reserved("aks", 3, 64, max_pods=110).cpu_millicores == pytest.approx(120)


# --------------------------------------------------------------------------- GKE
def test_gke_memory_150_gib_node():
    # hatemosphere/gke-node-allocatable-memory-calculator README (built on Google's "Plan GKE
    # node sizes" page): a 150 GiB node reserves "Standard GKE reserved memory: 9.8577 GiB",
    # including "an additional 100 MiB for Pod eviction".
    r = k8s.reserved("gke", 32, 150.0)
    assert (r.memory_mib + r.eviction_mib) / 1024 == pytest.approx(9.8577, abs=5e-5)


def test_gke_n1_standard_2():
    # D. Polencic, "Allocatable memory and CPU in Kubernetes Nodes" (learnkube.com/
    # allocatable-resources), GKE section: an n1-standard-2 (2 vCPU, 7.5 GiB) reserves
    # 0.06 + 0.01 = 70 millicores and 0.25 x 4 + 0.2 x 3.5 = 1.7 GiB, plus the eviction threshold.
    r = k8s.reserved("gke", 2, 7.5)
    assert r.cpu_millicores == pytest.approx(70)
    assert r.memory_mib == pytest.approx(1.7 * 1024)
    assert r.eviction_mib == 100


def test_gke_tiers_by_hand():
    # "Plan GKE Standard node sizes": "255 MiB of memory for machines with less than 1 GiB".
    assert k8s.reserved("gke", 1, 0.6).memory_mib == pytest.approx(255)
    # CPU 6 % of core 1, 1 % of core 2, 0.5 % of cores 3-4, 0.25 % above:
    # 64 cores -> 60 + 10 + 10 + 0.25 % x 60,000 m = 230 m.
    assert k8s.reserved("gke", 64, 256).cpu_millicores == pytest.approx(230)
    # Memory 256 GiB: 1 + 0.8 + 0.8 + 0.06 x 112 + 0.02 x 128 = 11.88 GiB.
    assert k8s.reserved("gke", 64, 256).memory_mib == pytest.approx(11.88 * 1024)
    # GKE's memory rule ignores the pod limit.
    assert k8s.reserved("gke", 4, 16, 32).memory_mib == k8s.reserved("gke", 4, 16, 250).memory_mib


# --------------------------------------------------------------------------- EKS
@pytest.mark.parametrize(("max_pods", "mib"), [(110, 1465), (58, 893), (44, 739), (60, 915)])
def test_eks_memory_matches_nodeadm_fixtures(max_pods, mib):
    # EKS_AMI @81fec2e, nodeadm/test/e2e/cases/*/expected*.json, kubeReserved.memory for the
    # maxPods of each case: kubelet-config-new-instance-type (110 -> "1465Mi"),
    # kubelet-config-dir (58 -> "893Mi"), custom-max-pods-expression (44 -> "739Mi") and its
    # kubelet-config-max-pods scenario (60 -> "915Mi"); every case has evictionHard
    # memory.available "100Mi".
    r = k8s.reserved("eks", 2, 8, max_pods=max_pods)
    assert r.memory_mib == mib
    assert r.eviction_mib == 100


def test_eks_cpu_integer_millicores():
    # EKS_AMI files/bootstrap.sh get_cpu_millicores_to_reserve and nodeadm config.go: ranges
    # (0, 1000, 2000, 4000, total) m at 600/100/50/25 hundredths of a percent, integer division.
    # 2 vCPU: 60 + 10 = 70 m (the nodeadm fixtures above: "cpu": "70m").
    assert k8s.reserved("eks", 2, 8, max_pods=29).cpu_millicores == 70
    # 5 vCPU: 60 + 10 + 10 + floor(1000 x 25 / 10000) = 82 m, where GKE's percentages give 82.5.
    assert k8s.reserved("eks", 5, 16, max_pods=58).cpu_millicores == 82
    assert k8s.reserved("gke", 5, 16).cpu_millicores == pytest.approx(82.5)


@pytest.mark.parametrize(
    ("enis", "ips", "pods"),
    [(3, 10, 29), (4, 15, 58), (3, 6, 17), (3, 12, 35), (2, 5, 10), (50, 1, 2)],
)
def test_eks_max_pods(enis, ips, pods):
    # EKS_AMI eni-max-pods.txt (templates/shared/runtime at 2bed73d, removed in #2659): header
    # "# of ENI * (# of IPv4 per ENI - 1) + 2"; rows "m5.large 29", "m5.xlarge 58",
    # "t3.medium 17", "t3.large 35" for ENI limits 3x10, 4x15, 3x6, 3x12 (EC2 instance data in
    # nodeadm/internal/kubelet/instance-info.jsonl).  (2, 5) -> 10 and (50, 1) -> 2 are
    # TestMaxPodsFromENIInfo in nodeadm/internal/kubelet/maxpods/maxpods_test.go.
    assert k8s.eks_max_pods(enis, ips) == pods


# eni-max-pods.txt @2bed73d rows for the AWS types priced in data/instance_prices.csv.
ENI_MAX_PODS_TXT = {
    "c6i.large": 29, "c6i.xlarge": 58, "c7i.2xlarge": 58, "c7i.large": 29, "c7i.xlarge": 58,
    "m6i.large": 29, "m6i.xlarge": 58, "m7i.2xlarge": 58, "m7i.large": 29, "m7i.xlarge": 58,
    "r6i.large": 29, "r6i.xlarge": 58, "r7i.2xlarge": 58, "r7i.large": 29, "r7i.xlarge": 58,
    "t3.large": 35, "t3.medium": 17,
}  # fmt: skip


def test_eni_data_reproduces_the_published_table():
    limits = data.load("eks_eni_limits")
    got = {
        r.instance_type: k8s.eks_max_pods(r.max_enis, r.ipv4_per_eni) for r in limits.itertuples()
    }
    assert got == ENI_MAX_PODS_TXT
    prices = data.load("instance_prices")
    assert set(limits["instance_type"]) == set(
        prices.loc[prices.provider == "aws", "instance_type"]
    )


# --------------------------------------------------------------------------- reserved(): rules
def test_reserved_refuses_bad_input():
    with pytest.raises(ValueError, match="provider must be one of 'gke', 'aks', 'eks'"):
        k8s.reserved("ecs", 2, 8)
    with pytest.raises(ValueError, match="max_pods must be given for 'eks'"):
        k8s.reserved("eks", 2, 8)
    with pytest.raises(ValueError, match="max_pods must be given for 'aks'"):
        k8s.reserved("aks", 2, 8)
    with pytest.raises(ValueError, match="has nothing left to allocate"):
        k8s.reserved("eks", 2, 1, max_pods=250)  # 11 x 250 + 255 MiB > 1 GiB
    with pytest.raises(ValueError, match="vcpus must be a finite number > 0"):
        k8s.reserved("gke", 0, 8)


@settings(max_examples=80, deadline=None, derandomize=True)
@given(
    provider=st.sampled_from(k8s.PROVIDERS),
    vcpus=st.integers(1, 96),
    per_vcpu=st.sampled_from([4.0, 8.0]),
    pods=st.integers(8, 110),  # up to the kubelet default, which fits a 1-vCPU, 4-GiB EKS node
)
def test_allocatable_is_capacity_minus_reservation(provider, vcpus, per_vcpu, pods):
    gib = vcpus * per_vcpu
    r = k8s.reserved(provider, vcpus, gib, pods)
    assert r.allocatable_cpu_millicores == pytest.approx(1000 * vcpus - r.cpu_millicores)
    assert r.allocatable_memory_mib == pytest.approx(1024 * gib - r.memory_mib - 100)
    assert 0 < r.allocatable_cpu_fraction < 1 and 0 < r.allocatable_memory_fraction < 1
    # A bigger node of the same shape never keeps a larger share of its CPU.
    bigger = k8s.reserved(provider, 2 * vcpus, 2 * gib, pods)
    assert bigger.allocatable_cpu_fraction >= r.allocatable_cpu_fraction - 1e-12


def test_reservation_shares():
    shares = k8s.reservation_shares([("aks", 30), ("gke", None)], vcpus=[2, 8], gib_per_vcpu=4)
    assert shares["rule"].tolist() == ["AKS, 30 pods", "AKS, 30 pods", "GKE", "GKE"]
    # AKS_PAGE CPU table: 100 m of 2 cores = 5 %; 180 m of 8 cores = 2.25 %.
    assert shares["cpu_kept"].tolist()[:2] == pytest.approx([0.05, 0.0225])
    # AKS on an 8 GiB node with 30 pods: (650 + 100) MiB of 8,192 MiB.
    assert shares["memory_kept"].iloc[0] == pytest.approx(750 / 8192)


# --------------------------------------------------------------------------- node pools
def prices_frame(rows):
    return pd.DataFrame(rows, columns=["instance_type", "vcpu", "memory_gib", "price_per_hour_usd"])


def test_node_types_columns():
    prices = prices_frame([("a", 2, 8.0, 0.1), ("b", 4, 16.0, 0.2)])
    t = k8s.node_types(
        prices, "eks", max_pods={"a": 29, "b": 58}, daemonset_cpu_millicores=100,
        daemonset_memory_mib=256, daemonset_pods=3,
    )  # fmt: skip
    r = k8s.reserved("eks", 2, 8.0, 29)
    first = t.iloc[0]
    assert first["system_cpu"] == pytest.approx(r.cpu_millicores / 1000)
    assert first["system_memory_gib"] == pytest.approx((r.memory_mib + 100) / 1024)
    assert first["reserved_cpu"] == pytest.approx(0.07 + 0.1)
    assert first["reserved_memory_gib"] == pytest.approx((574 + 100 + 256) / 1024)
    assert t["pod_slots"].tolist() == [26, 55]
    with pytest.raises(ValueError, match="max_pods has no limit for instance type 'b'"):
        k8s.node_types(prices, "eks", max_pods={"a": 29})


def test_price_lists():
    prices = data.load("instance_prices")
    on_demand, spot = k8s.price_lists(prices, "gcp", "us-central1")
    # data/README (reference data): 16 GCP rows per region, on-demand and spot for 8 types.
    assert len(on_demand) == len(spot) == 8
    assert len(k8s.price_lists(prices, "aws", "us-east-1")[1]) == 0  # no AWS spot rows
    with pytest.raises(ValueError, match="no on-demand prices for aws in 'us-central1'; regions"):
        k8s.price_lists(prices, "aws", "us-central1")


def test_pool_options_by_hand():
    # Ten pods of 1 vCPU / 1 GiB on 4-vCPU nodes keeping 0.5 vCPU: 3 pods a node -> 4 nodes;
    # on 8-vCPU nodes keeping 0.5 vCPU: 7 a node -> 2 nodes.  Prices 0.2 and 0.5 USD/h.
    types = k8s.vm_types(prices_frame([("small", 4, 16.0, 0.2), ("big", 8, 32.0, 0.5)]))
    types["reserved_cpu"] = 0.5
    options = k8s.pool_options([1.0] * 10, [1.0] * 10, types, fee_per_hour_usd=0.1)
    assert options["instance_type"].tolist() == ["small", "big"]  # 4 x 0.2 < 2 x 0.5
    small = options.iloc[0]
    assert small["nodes"] == 4
    assert small["monthly_cost_usd"] == pytest.approx((4 * 0.2 + 0.1) * 730)
    assert small["cpu_allocatable_used"] == pytest.approx(10 / (4 * 3.5))
    # With a floor of 6 nodes both pools have 6; with 2 pod slots a node, 10 pods need 5 nodes.
    floored = k8s.pool_options([1.0] * 10, [1.0] * 10, types, min_nodes=6)
    assert floored.set_index("instance_type")["nodes"].to_dict() == {"small": 6, "big": 6}
    types["pod_slots"] = 2
    assert k8s.pool_options([1.0] * 10, [1.0] * 10, types).iloc[0]["nodes"] == 5
    # Billed for part of the month only.
    part = k8s.pool_options([1.0], [1.0], types.iloc[:1], hours_per_month=10)
    assert part.iloc[0]["monthly_cost_usd"] == pytest.approx(0.2 * 10)


def test_pool_options_skips_types_too_small():
    types = k8s.vm_types(prices_frame([("small", 2, 4.0, 0.1), ("big", 8, 32.0, 0.4)]))
    assert k8s.pool_options([3.0], [1.0], types)["instance_type"].tolist() == ["big"]
    with pytest.raises(ValueError, match="at least one type that fits the largest pod"):
        k8s.pool_options([9.0], [1.0], types)


def test_vm_groups_min_vms_and_batch():
    services = pd.DataFrame(
        {
            "service": ["web", "job"],
            "kind": ["api", "batch"],
            "replicas": [1, 1],
            "cpu_request_millicores": [500, 500],
            "memory_request_mib": [512, 512],
        }
    )
    types = k8s.vm_types(prices_frame([("small", 2, 4.0, 0.1)]))
    groups = k8s.vm_groups(services, types, min_vms=2, hours_per_month={"job": 30.0})
    assert groups["nodes"].tolist() == [2, 1]
    assert groups["monthly_cost_usd"].tolist() == pytest.approx([2 * 0.1 * 730, 0.1 * 30])


def test_paid_capacity_adds_up():
    types = k8s.vm_types(prices_frame([("n", 4, 16.0, 0.2)]), agent_cpu_millicores=100)
    types["system_cpu"], types["reserved_cpu"] = 0.3, 0.4
    rows = k8s.pool_options([1.0] * 5, [2.0] * 5, types)
    split = k8s.paid_capacity(rows)
    # 5 pods of 1 vCPU on nodes offering 3.6 vCPU: 2 nodes, 8 vCPU paid; 0.6 kept, 0.2 agents.
    assert split["vCPU"].to_dict() == pytest.approx(
        {"requested by pods": 5.0, "kept by the provider": 0.6, "agents and DaemonSets": 0.2,
         "unused": 2.2}
    )  # fmt: skip
    assert split["GiB"].sum() == pytest.approx(32.0)


def test_pods_expands_replicas():
    services = data.load("platform_services")
    p = k8s.pods(services)
    assert len(p) == services["replicas"].sum()
    assert p["cpu"].sum() == pytest.approx(
        (services["replicas"] * services["cpu_request_millicores"]).sum() / 1000
    )


# --------------------------------------------------------------------------- spot and restarts
def test_restart_hours_closed_form_by_hand():
    # No interruptions: the job length.  lambda = 1/h, T = 1 h: (e - 1) / 1 = 1.71828 h.
    assert k8s.restart_hours(6.0, 0.0) == pytest.approx(6.0)
    assert k8s.restart_hours(1.0, 1.0) == pytest.approx(math.e - 1)
    # Checkpoints every 0.5 h: two segments of (e^0.5 - 1) each.
    assert k8s.restart_hours(1.0, 1.0, 0.5) == pytest.approx(2 * (math.exp(0.5) - 1))
    # 1 h job, checkpoint every 0.4 h: 0.4 + 0.4 + 0.2.
    lam = 0.3
    expected = 2 * math.expm1(lam * 0.4) / lam + math.expm1(lam * 0.2) / lam
    assert k8s.restart_hours(1.0, lam, 0.4) == pytest.approx(expected)
    np.testing.assert_allclose(
        k8s.restart_hours(2.0, np.array([0.0, 0.5])), [2.0, 2 * 1.71828], rtol=1e-5
    )


def simulate_restart(job_hours, rate, checkpoint, runs, rng):
    """Independent event-by-event simulation: billed node-hours until each run finishes."""
    seg = job_hours if checkpoint is None else checkpoint
    total = np.zeros(runs)
    for i in range(runs):
        done = 0.0
        while done < job_hours - 1e-12:
            need = min(seg, job_hours - done)
            fail = rng.exponential(1 / rate)
            if fail >= need:
                total[i] += need
                done += need
            else:
                total[i] += fail  # work since the last checkpoint is lost
    return total


@pytest.mark.parametrize(("rate", "checkpoint"), [(0.2, None), (0.5, None), (0.5, 1.0)])
def test_restart_hours_agrees_with_simulation(rate, checkpoint):
    rng = np.random.default_rng(7)
    sim = simulate_restart(4.0, rate, checkpoint, 20_000, rng)
    half_width = 3 * sim.std(ddof=1) / math.sqrt(sim.size)
    assert abs(sim.mean() - k8s.restart_hours(4.0, rate, checkpoint)) < half_width


@settings(max_examples=60, deadline=None, derandomize=True)
@given(t=st.floats(0.1, 48), lam=st.floats(0.0, 2.0), c=st.floats(0.05, 48))
def test_restart_hours_properties(t, lam, c):
    plain = k8s.restart_hours(t, lam)
    checkpointed = k8s.restart_hours(t, lam, c)
    assert plain >= t - 1e-9  # never less than the work itself
    assert checkpointed <= plain * (1 + 1e-9)  # checkpoints never hurt (their cost is not modelled)
    assert k8s.restart_hours(t, lam + 0.1) >= plain  # more interruptions, more node-hours


def test_spot_break_even_rate_by_hand():
    # Spot at 1 / (e - 1) of the on-demand price: a 1-hour job breaks even at lambda = 1/h,
    # where it takes (e - 1) node-hours on average.
    rate = k8s.spot_break_even_rate(1.0, 1 / (math.e - 1))
    assert rate == pytest.approx(1.0, rel=1e-9)
    # Checkpoints every half hour: 2 (e^(0.5 lambda) - 1) / lambda = 1 / ratio; solve by hand for
    # ratio 0.5 -> (e^x - 1) / x = 2 with x = 0.5 lambda -> x = 1.2564 -> lambda = 2.5128.
    assert k8s.spot_break_even_rate(1.0, 0.5, 0.5) == pytest.approx(2.5128, rel=1e-4)
    assert k8s.spot_break_even_rate(6.0, 1.0) == 0.0  # no discount: never cheaper
    with pytest.raises(ValueError, match="spot_to_on_demand must be"):
        k8s.spot_break_even_rate(6.0, 1.5)


def test_batch_costs_by_hand():
    services = pd.DataFrame(
        {
            "service": ["job"],
            "kind": ["batch"],
            "replicas": [2],
            "cpu_request_millicores": [1000],
            "memory_request_mib": [1024],
        }
    )
    jobs = pd.DataFrame({"service": ["job"], "runs_per_month": [10], "hours_per_run": [2.0]})
    od = k8s.vm_types(prices_frame([("n", 4, 16.0, 0.2)]))
    spot = k8s.vm_types(prices_frame([("n", 4, 16.0, 0.05)]))
    out = k8s.batch_costs(services, jobs, spot, od, interruptions_per_hour=0.1).iloc[0]
    # Both pods fit one node; on demand: 10 runs x 2 h x 0.2 USD = 4 USD.
    assert out["on_demand_monthly_usd"] == pytest.approx(4.0)
    # Spot: 10 x (e^0.2 - 1) / 0.1 h x 0.05 USD.
    assert out["spot_monthly_usd"] == pytest.approx(10 * math.expm1(0.2) / 0.1 * 0.05)
    assert out["rerun_share"] == pytest.approx(math.expm1(0.2) / 0.2 - 1)
    with pytest.raises(ValueError, match="must be a batch service"):
        k8s.batch_costs(services.assign(kind="api"), jobs, spot, od, interruptions_per_hour=0.1)


# --------------------------------------------------------------------------- break-even
def test_break_even_size():
    sweep = pd.DataFrame(
        {
            "order": [0] * 5 + [1] * 5,
            "services": [1, 2, 3, 4, 5] * 2,
            "vms": [10, 20, 30, 40, 50] * 2,
            "cluster": [25, 22, 35, 38, 40, 25, 18, 36, 41, 40],
        }
    )
    ratio = k8s.sweep_ratio(sweep, "vms")
    assert ratio.loc[2].tolist() == pytest.approx([1.0, 0.9, 1.1])  # median, low, high
    # Paired ratios by hand: size 1: 2.5, 2.5; size 2: 1.1, 0.9 (median 1.0, not dearer);
    # size 3: 1.17, 1.2 (dearer); size 4: 0.95, 1.025 (median 0.9875); size 5: 0.8, 0.8.
    assert k8s.break_even_size(sweep, "vms") == 4
    assert k8s.break_even_size(sweep.assign(cluster=100), "vms") is None


def test_right_sized_vm_groups_by_hand():
    services = pd.DataFrame(
        {
            "service": ["web", "job"],
            "kind": ["api", "batch"],
            "replicas": [3, 1],
            "cpu_request_millicores": [500, 1000],
            "memory_request_mib": [1024, 1024],
        }
    )
    types = k8s.vm_types(
        prices_frame([("cpu", 4, 8.0, 0.2), ("mem", 2, 16.0, 0.15)]), agent_cpu_millicores=100
    )
    out = k8s.right_sized_vm_groups(services, types, min_vms=2).set_index("service")
    # web: 2 VMs of 0.75 + 0.1 vCPU and 1.5 GiB.  "cpu": max(0.85 / 4, 1.5 / 8) = 0.2125 of
    # 0.2 USD/h; "mem": max(0.85 / 2, 1.5 / 16) = 0.425 of 0.15 USD/h -> 0.0425 < 0.06375.
    assert out.loc["web", "instance_type"] == "cpu"
    assert out.loc["web", "monthly_cost_usd"] == pytest.approx(2 * 0.2125 * 0.2 * 730)
    # job: 1 VM of 1.1 vCPU and 1 GiB: "cpu" 0.275 x 0.2 = 0.055 < "mem" 0.55 x 0.15 = 0.0825.
    assert out.loc["job", "monthly_cost_usd"] == pytest.approx(0.275 * 0.2 * 730)
    # Never above the real VM groups on the same prices.
    real = k8s.vm_groups(services, types, min_vms=2).set_index("service")["monthly_cost_usd"]
    assert (out["monthly_cost_usd"] <= real + 1e-9).all()


def test_sweep_sizes_dense_then_every_fifth():
    assert k8s.sweep_sizes(60) == [*range(1, 16), 20, 25, 30, 35, 40, 45, 50, 55, 60]
    assert k8s.sweep_sizes(7) == [1, 2, 3, 4, 5, 6, 7]
    assert k8s.sweep_sizes(22) == [*range(1, 16), 20, 22]  # the largest is always swept
    assert k8s.sweep_sizes(12, every_up_to=4, step=3) == [1, 2, 3, 4, 6, 9, 12]
    with pytest.raises(ValueError, match="largest"):
        k8s.sweep_sizes(0)


def test_break_even_sweep_on_the_book_platform():
    services = data.load("platform_services")
    prices = data.load("instance_prices").query(
        "provider == 'gcp' and region == 'us-central1' and pricing_model == 'on-demand'"
    )
    types = k8s.node_types(prices, "gke", max_pods=110)
    vm = pd.DataFrame({"flat": 100.0}, index=services["service"])
    zone_services = k8s.zonal_services(services, 3, 0.2)
    sweep = k8s.break_even_sweep(
        zone_services, vm, {}, types, sizes=[1, 5, 30, 31], orders=2, seed=3, zones=3,
        fee_per_hour_usd=0.1,
    )  # fmt: skip
    assert len(sweep) == 8
    assert sweep.groupby("order")["flat"].apply(list).tolist() == [[100, 500, 3000, 3100]] * 2
    # The full inventory is the same platform whatever the order, and it is the cluster of
    # the comparison: the cheapest zonal pool of its always-on pods, fee included.
    full = sweep.loc[sweep["services"] == 30, "cluster"]
    assert full.nunique() == 1
    live = k8s.pods(zone_services[zone_services["kind"] != "batch"])
    pool = k8s.zonal_pool(live, types, zones=3, fee_per_hour_usd=0.1).iloc[0]
    assert full.iloc[0] == pytest.approx(pool["monthly_cost_usd"])
    # A cluster never costs less than its control-plane fee and a node in each of three zones.
    floor = 0.1 * 730 + 3 * prices["price_per_hour_usd"].min() * 730
    assert (sweep["cluster"] >= floor - 1e-9).all()


# --------------------------------------------------------------------------- headroom
def test_zonal_services_keep_the_peak_and_the_surge_with_a_zone_lost():
    services = data.load("platform_services")
    zs = k8s.zonal_services(services, 3, 0.2).set_index("service")
    # The worked example of cloudpad.models.headroom: 6 replicas, 20 % surge: 4 a zone.
    assert zs.loc["web-storefront", "replicas"] == 4
    assert zs.loc["admin-console", "replicas"] == 2  # 2 x 1.2 = 2.4 on two zones: 2 a zone
    assert zs.loc["catalog-indexer", "replicas"] == 2  # batch: as it was
    live = zs["kind"] != "batch"
    peak = services.set_index("service")["replicas"]
    assert (zs.loc[live, "replicas"] * 2 >= peak[live] * 1.2 - 1e-9).all()


def test_both_sides_keep_the_same_headroom():
    """The comparison is like for like: VM groups and cluster hold the same replicas per zone.

    With a zone lost, each side keeps (Z - 1) / Z of what it runs, which must carry the peak
    plus the surge.  The article's old sizing (the data's replicas on at least two VMs, and
    packed on at least three nodes) does not: a zone holding a third or half of them leaves too
    few, which this test shows for the same data.
    """
    services = data.load("platform_services")
    prices = data.load("instance_prices").query("provider == 'gcp' and region == 'us-central1'")
    on_demand = prices.query("pricing_model == 'on-demand'")
    spot = prices.query("pricing_model == 'spot'")
    nodes, spot_nodes = (k8s.node_types(p, "gke", max_pods=110) for p in (on_demand, spot))
    vms, spot_vms = k8s.vm_types(on_demand), k8s.vm_types(spot)
    jobs = data.load("platform_batch_jobs")
    platform = k8s.compare(
        services, jobs, nodes, spot_nodes, vms, spot_vms, zones=3, surge=0.2,
        fee_per_hour_usd=0.1, interruptions_per_hour=0.0,
    )  # fmt: skip
    live = services["kind"] != "batch"
    need = services.loc[live, "replicas"] * 1.2 * services.loc[live, "cpu_request_millicores"]
    need_vcpu = need.sum() / 1000  # the peak plus the surge, in requested vCPU
    groups = platform.vm_groups[platform.vm_groups["kind"] != "batch"]
    for side in (groups["vcpu_requested"].sum(), platform.cluster["vcpu_requested"]):
        assert side * 2 / 3 >= need_vcpu - 1e-9  # a zone lost: two thirds are left
    assert groups["vcpu_requested"].sum() == pytest.approx(platform.cluster["vcpu_requested"])
    assert (groups["nodes"] % 3 == 0).all()  # the same VMs in each zone
    assert platform.cluster["nodes"] % 3 == 0  # the same nodes in each zone
    # The old sizing: every replica of the data, spread over the zones, keeps two thirds.
    old = services.loc[live, "replicas"] * services.loc[live, "cpu_request_millicores"] / 1000
    assert old.sum() * 2 / 3 < need_vcpu


def test_zonal_pool_and_vm_groups_by_hand():
    # One zone: three pods of 1 vCPU / 1 GiB on 4-vCPU nodes keeping 0.5 vCPU (3 a node): one
    # node a zone, three in three zones, plus the fee once.
    types = k8s.vm_types(prices_frame([("small", 4, 16.0, 0.2)]))
    types["reserved_cpu"] = 0.5
    pods = pd.DataFrame({"service": ["a", "a", "b"], "cpu": [1.0] * 3, "memory_gib": [1.0] * 3})
    pool = k8s.zonal_pool(pods, types, zones=3, fee_per_hour_usd=0.1).iloc[0]
    assert pool["nodes"] == 3 and pool["zones"] == 3
    assert pool["monthly_cost_usd"] == pytest.approx((3 * 0.2 + 0.1) * 730)
    assert pool["vcpu_requested"] == pytest.approx(9.0)
    assert pool["cpu_allocatable_used"] == pytest.approx(3 / 3.5)
    # At most one replica of a service a node: a's two replicas take two nodes a zone.
    spread = k8s.zonal_pool(pods, types, zones=3, max_replicas_per_node=1).iloc[0]
    assert spread["nodes"] == 6
    services = pd.DataFrame(
        {
            "service": ["web", "job"],
            "kind": ["api", "batch"],
            "replicas": [2, 1],
            "cpu_request_millicores": [500, 500],
            "memory_request_mib": [512, 512],
        }
    )
    vm_types = k8s.vm_types(prices_frame([("small", 2, 4.0, 0.1)]))
    groups = k8s.zonal_vm_groups(services, vm_types, zones=3).set_index("service")
    # web: 2 replicas a zone fit one VM, in each of 3 zones; job: one VM, not one a zone.
    assert groups["nodes"].to_dict() == {"web": 3, "job": 1}
    assert groups.loc["web", "monthly_cost_usd"] == pytest.approx(3 * 0.1 * 730)
    assert groups.loc["web", "vcpu_requested"] == pytest.approx(3.0)


def test_platform_baselines_run_batch_like_the_cluster():
    frame = pd.DataFrame
    platform = k8s.Platform(
        zones=3,
        zone_services=frame(),
        vm_groups=frame({"service": ["web", "job"], "kind": ["api", "batch"],
                         "monthly_cost_usd": [300.0, 70.0]}),
        right_sized=frame({"service": ["web", "job"], "kind": ["api", "batch"],
                           "monthly_cost_usd": [120.0, 30.0]}),
        pools=frame({"monthly_cost_usd": [200.0]}),
        batch=frame({"service": ["job"], "spot_monthly_usd": [2.0]}),
        vm_batch=frame({"service": ["job"], "spot_monthly_usd": [2.5]}),
    )  # fmt: skip
    assert platform.baselines().to_dict() == {
        "VM groups": {"web": 300.0, "job": 2.5},
        "right-sized VMs": {"web": 120.0, "job": 2.5},
    }
    assert platform.vm_total_usd == 370.0 and platform.vm_like_total_usd == 302.5
    assert platform.right_sized_usd == 122.5
    assert platform.cluster_total_usd == 202.0
    assert platform.total_saving == pytest.approx(1 - 202 / 302.5)
    assert platform.today_saving == pytest.approx(1 - 202 / 370)
    assert platform.always_saving == pytest.approx(1 - 200 / 300)


@pytest.mark.parametrize(
    ("share", "rate"),
    # AWS Spot Instance Advisor (aws.amazon.com/ec2/spot/instance-advisor/, data file
    # spot-advisor-data.json, "ranges"): bands <5 %, 5-10 %, 10-15 %, 15-20 %, >20 % of instances
    # interrupted in the trailing month.  Their edges as rates: -ln(1 - p), by hand.
    [(0.0, 0.0), (0.05, 0.051293), (0.10, 0.105361), (0.15, 0.162519), (0.20, 0.223144)],
)
def test_interruptions_per_node_month_from_the_advisor_bands(share, rate):
    assert k8s.interruptions_per_node_month(share) == pytest.approx(rate, abs=1e-6)


def test_interruptions_per_node_month_refuses_every_node_interrupted():
    with pytest.raises(ValueError, match="interrupted_share must be below 1"):
        k8s.interruptions_per_node_month(1.0)
    with pytest.raises(ValueError, match="interrupted_share must be within"):
        k8s.interruptions_per_node_month(-0.1)
