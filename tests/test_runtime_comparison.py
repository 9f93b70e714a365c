"""Tests of cloudpad.models.runtime_comparison: the go-or-java article's one conclusion function."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from cloudpad.exceptions import InputError
from cloudpad.models import runtime_comparison as rc
from cloudpad.models import runtime_memory as mem

#: Two runs per setting, numbers chosen for hand calculation (not the book's measurements).
MEASURED = pd.DataFrame(
    {
        "collector": ["G1", "G1", "G1", "G1", "ZGC", "ZGC"],
        "pause_target_ms": [200.0, 200.0, 20.0, 20.0, float("nan"), float("nan")],
        "alloc_mib_per_s": [150.0] * 6,
        "mean_cycle_interval_s": [4.0, 4.0, 1.0, 2.0, 5.0, 5.0],
        "mean_pause_ms": [30.0, 40.0, 10.0, 14.0, 0.02, 0.02],
        "heap_committed_mib": [1200.0] * 6,
        "gc_committed_mib": [60.0, 60.0, 60.0, 60.0, 24.0, 24.0],
        "other_committed_mib": [16.0] * 6,
        "class_committed_mib": [0.2] * 6,
        "code_committed_mib": [7.5] * 6,
        "thread_committed_mib": [0.8] * 6,
        # G1 resident below its tracked memory, ZGC 60 MiB above it
        "peak_rss_mib": [1270.0] * 4 + [1200.0 + 24.0 + 8.5 + 60.0] * 2,
    }
)

PARAMS = dict(
    peak_rps=20000.0,
    service_median_ms=4.0,
    service_p99_ms=20.0,
    go_cpu_ms_per_request=2.0,
    java_cpu_ms_per_request=2.0,
    go_alloc_kib_per_request=256.0,
    java_alloc_kib_per_request=256.0,
    zgc_cpu_overhead=0.0,
    live_heap_mib=300.0,
    go_heap_ratio=2.0,
    java_heap_ratio=4.0,
    go_pause_ms=0.5,
    zgc_pause_ms=1.0,
    g1_pause_target_ms=20.0,
    jvm_loaded_classes=15000,
    jvm_code_cache_mib=48.0,
    jvm_threads=200,
    jvm_stack_kib_per_thread=256.0,
    jvm_direct_buffers_mib=10.0,
    go_goroutines=1024,
    go_stack_kib_per_goroutine=8.0,
    go_runtime_share_of_heap=0.05,
    go_fixed_mib=20.0,
    memory_headroom_share=0.1,
    scan_mib_per_cpu_s=1024.0,
    cores_per_replica=2.0,
    target_utilization=0.6,
    slo_p99_ms=50.0,
)
MARKET = dict(node_vcpu=8, node_memory_gib=16, price_per_hour_usd=0.357)


def test_measured_jvm_takes_means_of_the_setting_runs():
    tuned = rc.measured_jvm(MEASURED, "G1", 20)
    assert tuned.pause_ms == pytest.approx(12.0)
    assert tuned.eden_mib == pytest.approx(150.0 * 1.5)
    assert tuned.gc_share_of_heap == pytest.approx(0.05)
    assert tuned.runs == 2
    assert rc.measured_jvm(MEASURED, "ZGC").gc_share_of_heap == pytest.approx(0.02)
    # the rest of the JVM: NMT's other categories for G1, the untracked resident set for ZGC
    assert tuned.other_mib == pytest.approx(16.0)
    assert rc.measured_jvm(MEASURED, "ZGC").other_mib == pytest.approx(60.0)
    with pytest.raises(InputError, match="pause target 50"):
        rc.measured_jvm(MEASURED, "G1", 50)


def test_jvm_containers_hold_the_heap_and_the_measured_and_assumed_terms():
    built = rc.settings(PARAMS, MEASURED)
    assert list(built) == list(rc.NAMES)
    beside = mem.metaspace_mib(15000) + 48.0 + 200 * 256 / 1024 + 10.0
    zgc = built["zgc"]
    assert zgc.heap_mib == 1200.0  # -Xmx = 4 x 300 MiB
    assert zgc.memory_mib == pytest.approx((1200.0 + beside + 24.0 + 60.0) / 0.9)
    assert built["g1_tuned"].memory_mib == pytest.approx((1200.0 + beside + 60.0 + 16.0) / 0.9)
    # the old model's heap / MaxRAMPercentage (4,800 MiB) was three times too large
    assert zgc.memory_mib < mem.default_ergonomics_container_mib(1200.0) / 2.5
    # G1 with a tuned target collects when the eden it chose (measured) fills
    assert built["g1_tuned"].headroom_mib == pytest.approx(225.0)
    assert built["g1_measured"].headroom_mib == pytest.approx(720.0)  # 60 % of the heap
    assert built["g1_measured"].pause_ms == pytest.approx(35.0)


def test_go_with_a_memory_limit_gets_the_zgc_container():
    built = rc.settings(PARAMS, MEASURED)
    assert built["go_limit"].memory_mib == pytest.approx(built["zgc"].memory_mib)
    assert built["go_limit"].gogc == math.inf  # GOGC=off, the limit alone sets the heap
    assert built["go_limit"].heap_mib > built["zgc"].heap_mib  # Go keeps less beside its heap
    assert built["go"].heap_mib == pytest.approx(300.0 + 308.0)  # stacks count as roots


def test_workloads_are_per_runtime():
    work = rc.workloads({**PARAMS, "java_cpu_ms_per_request": 3.0})
    assert work["go"].cpu_ms_per_request == 2.0 and work["go_limit"].cpu_ms_per_request == 2.0
    assert work["zgc"].cpu_ms_per_request == 3.0 and work["g1_tuned"].cpu_ms_per_request == 3.0


def test_compare_has_one_row_per_setting_and_more_cpu_costs_more():
    table = rc.compare(PARAMS, MEASURED, **MARKET)
    assert list(table.index) == list(rc.NAMES)
    assert (table["memory_mib"] < 2000).all()
    dearer = rc.compare({**PARAMS, "zgc_cpu_overhead": 0.15}, MEASURED, **MARKET)
    assert dearer.loc["zgc", "replicas"] > table.loc["zgc", "replicas"]
    assert dearer.loc["go", "replicas"] == table.loc["go", "replicas"]


def test_break_even_overhead_is_the_first_step_where_zgc_is_not_cheaper():
    found = rc.break_even_overhead(PARAMS, MEASURED, against="go", upper=0.5, **MARKET)
    usd = lambda x: rc.compare({**PARAMS, "zgc_cpu_overhead": x}, MEASURED, **MARKET)[  # noqa: E731
        "usd_per_million"
    ]
    if 0.0 < found < math.inf:
        assert usd(found)["zgc"] >= usd(found)["go"]
        assert usd(found - 2e-3)["zgc"] < usd(found - 2e-3)["go"]
    else:  # the example's numbers must give a finite break-even for this test to mean much
        pytest.fail(f"no break-even found: {found}")
