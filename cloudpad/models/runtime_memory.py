"""The memory a Go or JVM container needs: its heap plus what the runtime keeps outside it.

A container's memory is ``(heap + non-heap) / (1 - headroom)``: the peak heap the
collector is allowed (``-Xmx`` for the JVM, the GOGC target or GOMEMLIMIT for Go),
the runtime's memory outside that heap, and a share left free for what no runtime
accounts for.  Units: MiB (2^20 bytes) unless a name says otherwise.

An explicit ``-Xmx`` fixes the JVM's heap and overrides ``MaxRAMPercentage``; only a
JVM given neither sizes its heap from the memory it sees, at most a quarter of it
(:func:`default_ergonomics_container_mib`).  The non-heap terms of the JVM are the
categories its Native Memory Tracking reports (``-XX:NativeMemoryTracking=summary``):

* ``Class`` (metaspace): the Cloud Foundry Java buildpack's memory calculator budgets
  "(5800B * loaded class count) + 14000000b" (:func:`metaspace_mib`);
* ``Code`` (the JIT's code cache): committed as methods are compiled, reserved up to
  ``ReservedCodeCacheSize`` = 240 MiB by default;
* ``Thread``: one stack per thread, at most ``ThreadStackSize`` (``-Xss``) = 1024 KiB on
  Linux x64; only the pages a thread has touched are resident;
* ``GC``: the collector's own structures (card table, mark bitmaps, remembered sets),
  which grow with the heap and differ between collectors; this book measured them
  (``data/gc_pauses_measured.csv``);
* direct buffers (NIO), capped by ``MaxDirectMemorySize`` (0 by default, which lets them
  grow as large as the heap); the calculator budgets 10 MB "in the absence of any
  reasonable heuristic";
* the rest of the JVM (symbols, internal tables, compiler arenas, the class-data
  sharing archive).

Go's runtime memory outside the heap: goroutine stacks (at least 2 KiB each,
``runtime/stack.go``), which since Go 1.18 also count as GC roots in the heap target,
and the runtime's metadata, unused span space and binary.  GOMEMLIMIT bounds
"Sys - HeapReleased", everything the runtime manages (Go GC guide, "Memory limit"),
and the guide advises "an additional 5-10% of headroom to account for memory sources
the Go runtime is unaware of" when the program owns a container.

Sources: Cloud Foundry, java-buildpack-memory-calculator README (algorithm); the JVM's
own flag defaults (``-XX:+PrintFlagsFinal`` of Temurin 25.0.3: ThreadStackSize = 1024,
ReservedCodeCacheSize = 251662336, MaxDirectMemorySize = 0, MaxRAMPercentage = 25); Oracle,
Java SE GC Tuning Guide, "Ergonomics" ("Maximum heap size of 1/4 of physical
memory"); go.dev/doc/gc-guide ("Memory limit", "Suggested uses").
"""

from __future__ import annotations

from dataclasses import dataclass

from cloudpad.exceptions import InputError
from cloudpad.models import checks

__all__ = [
    "GO_LIMIT_HEADROOM_HIGH",
    "GO_LIMIT_HEADROOM_LOW",
    "GO_MIN_STACK_KIB",
    "JVM_DEFAULT_STACK_KIB",
    "JVM_MAX_RAM_FRACTION",
    "JVM_RESERVED_CODE_CACHE_MIB",
    "METASPACE_BASE_BYTES",
    "METASPACE_BYTES_PER_CLASS",
    "GoNonHeap",
    "JvmNonHeap",
    "container_memory_mib",
    "default_ergonomics_container_mib",
    "metaspace_mib",
]

#: CF memory calculator: metaspace "(5800B * loaded class count) + 14000000b".
METASPACE_BYTES_PER_CLASS: float = 5800.0
METASPACE_BASE_BYTES: float = 14_000_000.0
#: HotSpot's default thread stack on Linux x64: ``ThreadStackSize`` = 1024 KiB (PrintFlagsFinal).
JVM_DEFAULT_STACK_KIB: float = 1024.0
#: ``ReservedCodeCacheSize`` = 251662336 B = 240 MiB with tiered compilation (PrintFlagsFinal).
JVM_RESERVED_CODE_CACHE_MIB: float = 240.0
#: Default ``MaxRAMPercentage`` = 25: without -Xmx the heap is at most 1/4 of the memory seen.
JVM_MAX_RAM_FRACTION: float = 0.25
#: Go's smallest goroutine stack, 2 KiB (``fixedStack`` in golang/go ``src/runtime/stack.go``).
GO_MIN_STACK_KIB: float = 2.0
#: Go GC guide: leave "an additional 5-10% of headroom" beside GOMEMLIMIT in a container.
GO_LIMIT_HEADROOM_LOW: float = 0.05
GO_LIMIT_HEADROOM_HIGH: float = 0.10

_MIB = 2.0**20


def metaspace_mib(loaded_classes: float) -> float:
    """Metaspace budget (MiB) for a JVM that loads ``loaded_classes`` classes.

    Formula of the Cloud Foundry Java buildpack memory calculator:
    ``(5800 B * classes + 14,000,000 B) / 2^20``.  A budget its authors use to size
    ``-XX:MaxMetaspaceSize``, not a measurement of one application.
    """
    n = float(checks.non_negative("loaded_classes", loaded_classes))
    return (METASPACE_BYTES_PER_CLASS * n + METASPACE_BASE_BYTES) / _MIB


@dataclass(frozen=True)
class JvmNonHeap:
    """Memory a JVM keeps outside its heap, one term per Native Memory Tracking category.

    ``metaspace_mib`` (Class), ``code_cache_mib`` (Code), ``threads`` times
    ``stack_kib_per_thread`` (Thread), ``gc_share_of_heap`` times the heap (GC: the
    collector's structures grow with the heap), ``direct_buffers_mib`` (NIO) and
    ``other_mib`` (symbols, internal tables, compiler arenas, shared archive).
    """

    metaspace_mib: float = 0.0
    code_cache_mib: float = 0.0
    threads: float = 0.0
    stack_kib_per_thread: float = 0.0
    gc_share_of_heap: float = 0.0
    direct_buffers_mib: float = 0.0
    other_mib: float = 0.0

    def __post_init__(self) -> None:
        for name in (
            "metaspace_mib",
            "code_cache_mib",
            "threads",
            "stack_kib_per_thread",
            "direct_buffers_mib",
            "other_mib",
        ):
            checks.non_negative(name, getattr(self, name))
        checks.in_range("gc_share_of_heap", self.gc_share_of_heap, 0.0, 1.0)

    def terms(self, heap_mib: float) -> dict[str, float]:
        """Each term in MiB for a heap of ``heap_mib``."""
        heap = float(checks.non_negative("heap_mib", heap_mib))
        return {
            "metaspace": self.metaspace_mib,
            "code cache": self.code_cache_mib,
            "thread stacks": self.threads * self.stack_kib_per_thread / 1024.0,
            "GC structures": self.gc_share_of_heap * heap,
            "direct buffers": self.direct_buffers_mib,
            "rest of the JVM": self.other_mib,
        }

    def total_mib(self, heap_mib: float) -> float:
        """Sum of :meth:`terms`, MiB."""
        return sum(self.terms(heap_mib).values())


@dataclass(frozen=True)
class GoNonHeap:
    """Memory the Go runtime keeps beside the objects of its heap.

    ``goroutines`` times ``stack_kib_per_goroutine`` (stacks, also GC roots),
    ``runtime_share_of_heap`` times the heap (span and GC metadata, unused span space)
    and ``fixed_mib`` (binary, runtime structures that do not grow with the heap).
    """

    goroutines: float = 0.0
    stack_kib_per_goroutine: float = GO_MIN_STACK_KIB
    runtime_share_of_heap: float = 0.0
    fixed_mib: float = 0.0

    def __post_init__(self) -> None:
        checks.non_negative("goroutines", self.goroutines)
        if not self.stack_kib_per_goroutine >= GO_MIN_STACK_KIB:
            raise InputError(
                f"stack_kib_per_goroutine must be >= {GO_MIN_STACK_KIB:g} KiB (Go's smallest "
                f"stack), got {self.stack_kib_per_goroutine!r}"
            )
        checks.in_range("runtime_share_of_heap", self.runtime_share_of_heap, 0.0, 1.0)
        checks.non_negative("fixed_mib", self.fixed_mib)

    @property
    def stacks_mib(self) -> float:
        """Goroutine stacks, MiB: ``goroutines * stack_kib / 1024``."""
        return self.goroutines * self.stack_kib_per_goroutine / 1024.0

    def terms(self, heap_mib: float) -> dict[str, float]:
        """Each term in MiB for a heap of ``heap_mib``."""
        heap = float(checks.non_negative("heap_mib", heap_mib))
        return {
            "goroutine stacks": self.stacks_mib,
            "runtime metadata": self.runtime_share_of_heap * heap,
            "binary and fixed": self.fixed_mib,
        }

    def total_mib(self, heap_mib: float) -> float:
        """Sum of :meth:`terms`, MiB."""
        return sum(self.terms(heap_mib).values())


def container_memory_mib(heap_mib: float, non_heap_mib: float, headroom_share: float) -> float:
    """Container memory (MiB) for a runtime: ``(heap + non-heap) / (1 - headroom_share)``.

    ``headroom_share`` is the share of the container left free for memory no runtime
    accounts for (the Go GC guide's "5-10% of headroom"); the same share is used for
    every runtime so that the comparison is like for like.
    """
    heap = float(checks.non_negative("heap_mib", heap_mib))
    other = float(checks.non_negative("non_heap_mib", non_heap_mib))
    h = float(checks.non_negative("headroom_share", headroom_share))
    if h >= 1.0:
        raise InputError(f"headroom_share must be < 1, got {headroom_share!r}")
    return (heap + other) / (1.0 - h)


def default_ergonomics_container_mib(
    heap_mib: float, max_ram_fraction: float = JVM_MAX_RAM_FRACTION
) -> float:
    """Container memory (MiB) a JVM *without* ``-Xmx`` must see to size its heap at ``heap_mib``.

    ``heap / MaxRAMPercentage``: four times the heap at the default 25 % (Oracle, GC Tuning
    Guide, "Ergonomics").  What a container costs when the heap is left to the defaults;
    with ``-Xmx`` (or a raised ``MaxRAMPercentage``) the container is
    :func:`container_memory_mib` instead.
    """
    heap = float(checks.positive("heap_mib", heap_mib))
    f = float(checks.in_range("max_ram_fraction", max_ram_fraction, 0.0, 1.0, closed=False))
    return heap / f
