"""The fault suite, part 2: no process outlives its run.

A ``cloudpad run`` or ``sweep`` killed with SIGKILL (the out-of-memory killer,
a CI time limit) cannot clean up after itself: its worker processes, the
kernels they started and multiprocessing's resource tracker must notice and
exit by themselves.  Each case kills a run while two kernels are busy and
checks that every process it had started is gone within seconds.  (A killed
client of a Dask cluster of its own is in ``test_faults_cluster.py``.)
"""

from __future__ import annotations

import subprocess
import sys
import time

import psutil
import pytest

PARAMS = "n = 2  # count, 0..1000: items"
#: Records the kernel's process id, then stays busy far longer than the test.
BUSY = "import os, time\nopen('../pids.txt', 'a').write(f'{os.getpid()}\\n')\ntime.sleep(120)"

#: Seconds within which every process of a killed run must be gone.
BOUND_S = 10

COMMANDS = {
    "run": ["run", "--jobs", "2"],
    "sweep": ["sweep", "notebooks/a.ipynb", "-p", "n", "1", "2", "--jobs", "2"],
    "run-on-a-dask-local-cluster": ["run", "--executor", "dask", "--jobs", "2"],
}


def alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


@pytest.mark.parametrize("command", list(COMMANDS), ids=list(COMMANDS))
def test_a_killed_run_leaves_no_process_behind(make_book, command):
    book = make_book({"a": (PARAMS, [BUSY]), "b": (PARAMS, [BUSY])})
    run = subprocess.Popen(
        [sys.executable, "-m", "cloudpad", "--root", str(book.root), *COMMANDS[command]],
        stderr=subprocess.DEVNULL,
    )
    pids = book.root / "pids.txt"
    deadline = time.monotonic() + 120
    while len(pids.read_text().split() if pids.exists() else []) < 2:
        assert time.monotonic() < deadline, "the two kernels did not start"
        time.sleep(0.1)
    started = psutil.Process(run.pid).children(recursive=True)
    kernels = [int(pid) for pid in pids.read_text().split()]
    assert set(kernels) <= {p.pid for p in started}  # the kernels are the run's descendants
    run.kill()  # SIGKILL: nothing in the run can clean up
    run.wait()
    deadline = time.monotonic() + BOUND_S
    while any(alive(p) for p in started) and time.monotonic() < deadline:
        time.sleep(0.2)
    survivors = [" ".join(p.cmdline()[:4]) for p in started if alive(p)]
    for process in started:  # leave this machine clean even when the case fails
        if alive(process):
            process.kill()
    assert not survivors, f"still running {BOUND_S} s after the run was killed: {survivors}"
