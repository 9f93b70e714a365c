"""The local executor: a pool of long-lived worker processes on this machine.

Each worker imports Papermill once and then executes one job after another, so
a notebook pays for its kernel start but not for a new Python process.  A
worker runs one job at a time, so the environment it gives its kernel and the
output it captures are that job's alone.  Results come back as data
(:class:`~cloudpad.pipeline.executors.base.JobResult`).
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Iterable, Iterator

from cloudpad.pipeline.executors.base import Job, JobResult, execute
from cloudpad.pipeline.outcomes import Failure


def _end(code: int) -> None:
    """In a worker: kill its kernels (its child processes), then exit at once."""
    import psutil

    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            child.kill()
    os._exit(code)


def _stop(_signum: int, _frame: object) -> None:
    """SIGTERM in a worker: its kernels go too."""
    _end(143)


#: How often a worker checks that the run that started it is still there (seconds).
PARENT_POLL_S = 0.5


def _watch_parent(parent: int) -> None:
    """In a worker: end it and its kernels soon after the run that started it dies.

    A run killed with SIGKILL (the out-of-memory killer, a CI time limit) cannot
    stop its workers, so each worker watches for itself: once its parent is no
    longer ``parent`` (it was re-parented), it kills its kernels and exits.  A
    thread polling ``getppid`` rather than ``PR_SET_PDEATHSIG``: that signal
    follows the *thread* that started the worker, and the pool starts workers
    from whichever thread submits a job, which may end long before the run.
    The kernels watch their own parent too (ipykernel's parent poller, through
    the ``JPY_PARENT_PID`` jupyter_client sets), and the resource tracker exits
    once every process holding its pipe has.
    """
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_S)
    _end(137)


def _warm(parent: int) -> None:
    """Worker start-up: import what every job needs; on SIGTERM or the parent's death take the
    kernels down too."""
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides what an interrupt stops
    threading.Thread(
        target=_watch_parent, args=(parent,), name="cloudpad-parent", daemon=True
    ).start()
    import papermill  # noqa: F401


class ProcessPoolExecutor:
    """Execute jobs in ``jobs`` worker processes (default: the number of cores)."""

    def __init__(self, jobs: int | None = None, threads_per_kernel: int | None = None) -> None:
        self.jobs = max(1, jobs or os.cpu_count() or 1)
        # With several kernels at once, numeric libraries get one thread each.
        self.threads = threads_per_kernel or (1 if self.jobs > 1 else os.cpu_count() or 1)
        self._pool: cf.ProcessPoolExecutor | None = None
        self._futures: dict[cf.Future, Job] = {}

    def running(self) -> list[str]:
        """The notebooks being executed now (for a progress line; may include one queued)."""
        return [job.notebook for future, job in list(self._futures.items()) if future.running()]

    def _env(self, job: Job) -> Job:
        threads = str(self.threads)
        limits = {f"{n}_NUM_THREADS": threads for n in ("OMP", "OPENBLAS", "MKL")}
        return Job(**{**job.__dict__, "env": {**limits, **job.env}})

    def run(self, jobs: Iterable[Job]) -> Iterator[JobResult]:
        """Submit every job, then yield results as they complete."""
        jobs = list(jobs)
        if not jobs:
            return
        if self._pool is None:
            context = multiprocessing.get_context("spawn")
            workers = min(self.jobs, len(jobs))
            self._pool = cf.ProcessPoolExecutor(
                workers, mp_context=context, initializer=_warm, initargs=(os.getpid(),)
            )
        futures = {self._pool.submit(execute, self._env(job)): job for job in jobs}
        self._futures = futures
        for future in cf.as_completed(futures):
            job = futures[future]
            try:
                yield future.result()
            except Exception as exc:  # the worker process itself died
                message = f"the worker process failed: {type(exc).__name__}: {exc}"
                failure = Failure(None, None, "WorkerDied", message)
                yield JobResult(job.id, job.notebook, False, 0.0, "", failure)

    def terminate(self) -> None:
        """Stop now: cancel queued jobs and end the workers (they shut their kernels down)."""
        if self._pool is None:
            return
        processes = list((self._pool._processes or {}).values())
        self._pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
        self._pool = None

    def close(self) -> None:
        """Let the workers finish and exit."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
