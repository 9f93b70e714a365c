"""Tests of cloudpad.models.runtime_memory: a Go or JVM container is its heap plus the rest."""

from __future__ import annotations

import pytest

from cloudpad.exceptions import InputError
from cloudpad.models import runtime_memory as mem


def test_metaspace_follows_the_cf_memory_calculator():
    # cloudfoundry/java-buildpack-memory-calculator README, Algorithm: metaspace is
    # "(5800B * loaded class count) + 14000000b"; 10,000 classes: 72,000,000 B.
    assert mem.metaspace_mib(10_000) == pytest.approx(72_000_000 / 2**20)
    assert mem.metaspace_mib(0) == pytest.approx(14_000_000 / 2**20)


def test_published_defaults():
    # java -XX:+PrintFlagsFinal (Temurin 25.0.3, Linux x64): ThreadStackSize = 1024,
    # ReservedCodeCacheSize = 251662336 (240 MiB), MaxRAMPercentage = 25.000000; Oracle GC
    # Tuning Guide, Ergonomics: "Maximum heap size of 1/4 of physical memory".
    # go.dev/doc/gc-guide, Suggested uses: "leave an additional 5-10% of headroom".
    assert mem.JVM_DEFAULT_STACK_KIB == 1024
    assert mem.JVM_RESERVED_CODE_CACHE_MIB == 240
    assert mem.JVM_MAX_RAM_FRACTION == 0.25
    assert (mem.GO_LIMIT_HEADROOM_LOW, mem.GO_LIMIT_HEADROOM_HIGH) == (0.05, 0.10)


def test_jvm_terms_add_up_and_gc_grows_with_the_heap():
    jvm = mem.JvmNonHeap(
        metaspace_mib=100,
        code_cache_mib=50,
        threads=200,
        stack_kib_per_thread=512,
        gc_share_of_heap=0.05,
        direct_buffers_mib=10,
        other_mib=20,
    )
    terms = jvm.terms(1000)
    assert terms["thread stacks"] == pytest.approx(100.0)
    assert terms["GC structures"] == pytest.approx(50.0)
    assert jvm.total_mib(1000) == pytest.approx(330.0)
    assert jvm.total_mib(2000) - jvm.total_mib(1000) == pytest.approx(50.0)


def test_go_terms():
    go = mem.GoNonHeap(
        goroutines=2048, stack_kib_per_goroutine=8, runtime_share_of_heap=0.05, fixed_mib=20
    )
    assert go.stacks_mib == pytest.approx(16.0)
    assert go.total_mib(600) == pytest.approx(16.0 + 30.0 + 20.0)
    with pytest.raises(InputError, match="stack_kib_per_goroutine"):
        mem.GoNonHeap(goroutines=1, stack_kib_per_goroutine=1.0)  # below Go's 2 KiB minimum


def test_container_adds_the_headroom_share():
    assert mem.container_memory_mib(1200, 300, 0.0) == pytest.approx(1500.0)
    assert mem.container_memory_mib(1200, 300, 0.1) == pytest.approx(1500.0 / 0.9)
    with pytest.raises(InputError, match="headroom_share"):
        mem.container_memory_mib(1200, 300, 1.0)


def test_default_ergonomics_need_four_times_the_heap():
    # Without -Xmx the JVM takes at most MaxRAMPercentage = 25 % of what it sees as its heap:
    # a 1,200 MiB heap needs a 4,800 MiB container; MaxRAMPercentage = 75 needs 1,600 MiB.
    assert mem.default_ergonomics_container_mib(1200) == pytest.approx(4800.0)
    assert mem.default_ergonomics_container_mib(1200, 0.75) == pytest.approx(1600.0)
