"""The Dask executor: notebooks executed on a Dask distributed cluster, results back as data.

``DaskExecutor(address)`` connects to a running scheduler (``cloudpad run
--executor dask --scheduler tcp://host:8786``); without an address it starts a
``LocalCluster`` of ``workers`` single-threaded worker processes on this
machine.  Each :class:`~cloudpad.pipeline.executors.base.Job` is submitted as
one task running :func:`~cloudpad.pipeline.executors.base.execute` on a worker;
the :class:`~cloudpad.pipeline.executors.base.JobResult` (the executed
notebook's text, the files read with their hashes, the key results, the log)
travels back to the client through Dask, so the client and the workers share
no filesystem.

What each worker needs: Python with the book's ``requirements.txt`` and
``cloudpad`` installed (the same versions as the client), a ``python3`` Jupyter
kernel, and the book checked out at the same path as on the client (the
kernel runs in the notebook's folder and reads ``data/`` there), or the data
at the path ``CLOUDPAD_DATA_DIR`` names on the client.  A worker executes one
notebook at a time (jobs on a worker with several threads wait for each other),
so start workers with ``--nthreads 1`` and as many processes as cores.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable, Iterator
from typing import Any

from cloudpad.exceptions import CloudpadError
from cloudpad.pipeline.executors.base import Job, JobResult, execute
from cloudpad.pipeline.outcomes import Failure

#: One job at a time per worker process: a job sets the process's environment and
#: redirects its output while its kernel runs.
_ONE_AT_A_TIME = threading.Lock()


def run_job(job: Job) -> JobResult:
    """The task each worker runs: execute ``job`` (waiting for any other job in this process)."""
    with _ONE_AT_A_TIME:
        return execute(job)


def _kill_kernels() -> int:
    """On a worker: kill this process's children (the kernels of jobs being cancelled)."""
    import psutil

    children = psutil.Process().children(recursive=True)
    for child in children:
        try:
            child.kill()
        except psutil.Error:
            pass
    return len(children)


def _task_key(job: Job, index: int) -> str:
    """A unique task name that says which notebook it is (shown on the Dask dashboard)."""
    stem = job.notebook.rsplit("/", 1)[-1].removesuffix(".ipynb")
    return f"cloudpad-{stem}-{index}-{os.urandom(4).hex()}"


class DaskExecutor:
    """Execute jobs on a Dask cluster: the scheduler at ``address``, or a new local cluster.

    ``workers`` is the size of the local cluster (default: the number of cores);
    it is ignored with an ``address``.  The connection is made when the
    executor is created (an unreachable scheduler is a :class:`CloudpadError`
    at once); a local cluster starts when the first jobs arrive.
    """

    def __init__(
        self, address: str | None = None, workers: int | None = None, connect_timeout_s: float = 15
    ) -> None:
        self.address = address
        self.connect_timeout_s = connect_timeout_s
        self.workers = max(1, workers or os.cpu_count() or 1)
        self._cluster: Any = None
        self._client: Any = None
        self._futures: dict[Any, Job] = {}
        if address is not None:
            self._connect()

    def _connect(self) -> Any:
        if self._client is not None:
            return self._client
        from distributed import Client, LocalCluster

        if self.address is None:
            self._cluster = LocalCluster(
                n_workers=self.workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
            self._client = Client(self._cluster)
        else:
            try:
                self._client = Client(self.address, timeout=f"{self.connect_timeout_s}s")
            except (OSError, TimeoutError) as exc:
                raise CloudpadError(
                    f"cannot reach the Dask scheduler at {self.address!r}: {exc} "
                    "(check --scheduler; a scheduler listens on tcp://HOST:8786 by default)"
                ) from None
        return self._client

    @property
    def client(self) -> Any:
        """The ``distributed.Client`` (connecting or starting the local cluster if needed)."""
        return self._connect()

    @staticmethod
    def _env(job: Job) -> Job:
        limits = {f"{n}_NUM_THREADS": "1" for n in ("OMP", "OPENBLAS", "MKL")}
        return Job(**{**job.__dict__, "env": {**limits, **job.env}})

    def run(self, jobs: Iterable[Job]) -> Iterator[JobResult]:
        """Submit every job, then yield results as they complete."""
        from distributed import as_completed

        jobs = list(jobs)
        if not jobs:
            return
        client = self._connect()
        futures = {
            client.submit(run_job, self._env(job), key=_task_key(job, i), pure=False): job
            for i, job in enumerate(jobs)
        }
        self._futures = futures
        for future in as_completed(list(futures)):
            job = futures[future]
            try:
                result = future.result()
            except Exception as exc:  # the task never returned: worker lost, import failed, ...
                message = f"the Dask task failed: {type(exc).__name__}: {exc}"
                failure = Failure(None, None, "WorkerFailed", message)
                result = JobResult(job.id, job.notebook, False, 0.0, "", failure)
            futures.pop(future, None)
            future.release()
            yield result
        self._futures = {}

    def terminate(self) -> None:
        """Stop now: cancel the jobs, kill the kernels the workers started, close the client."""
        if self._client is None:
            return
        try:
            if self._futures:
                self._client.cancel(list(self._futures))
                self._client.run(_kill_kernels)
        except Exception:  # stopping anyway; the cluster may already be gone
            pass
        self._futures = {}
        self.close()

    def close(self) -> None:
        """Close the client, and the local cluster if this executor started it."""
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None
