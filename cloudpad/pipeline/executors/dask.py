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

What the executor guarantees on a cluster:

* **Time limits.** The per-cell timeout and the whole-notebook limit hold on
  the workers as they do locally (:func:`~cloudpad.pipeline.executors.base.execute`
  ends the kernel from a watching thread); the worker goes on to the next job.
* **An unreachable scheduler** is one :class:`~cloudpad.exceptions.CloudpadError`
  naming the address, after ``connect_timeout_s`` at most.
* **The same software.** Before any job is submitted, every worker's Python,
  ``cloudpad`` (version and a digest of its source) and the versions of the
  packages pinned in the book's locks (:data:`LOCKS`, and the manifest's key
  packages) are compared with the client's; any difference is refused, named.
* **A worker that dies** while running a job: the scheduler runs the job again
  on another worker; the local cluster allows :data:`ALLOWED_FAILURES` such
  deaths per job (set ``distributed.scheduler.allowed-failures`` to the same on
  a cluster of your own), then the job is reported failed with the address of
  the last worker that died.  Nothing of it is recorded but the failure.
* **A client that goes away** (Ctrl-C, or killed) leaves nothing running: the
  scheduler cancels its jobs and each worker ends the kernel of a cancelled job.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import platform
import re
import socket
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from cloudpad.exceptions import CloudpadError
from cloudpad.pipeline import distributions
from cloudpad.pipeline.executors.base import Job, JobResult, execute, file_sha256
from cloudpad.pipeline.manifest import KEY_PACKAGES
from cloudpad.pipeline.outcomes import Failure

#: One job at a time per worker process: a job sets the process's environment and
#: redirects its output while its kernel runs.
_ONE_AT_A_TIME = threading.Lock()

#: Deaths of the worker running a job that the local cluster's scheduler allows before it
#: reports the job failed: 1, i.e. the job is tried on a second worker once.
ALLOWED_FAILURES = 1

#: States of a task on a worker that mean nobody wants its result any more.
_UNWANTED = frozenset({"cancelled", "released", "forgotten"})


def run_job(job: Job) -> JobResult:
    """The task each worker runs: execute ``job`` (waiting for any other job in this process).

    The job's kernel is ended as soon as the scheduler cancels the task (its
    client cancelled it or went away).
    """
    from distributed import get_worker

    worker = get_worker()
    key = worker.get_current_task()

    def cancelled() -> bool:
        task = worker.state.tasks.get(key)
        return task is None or task.state in _UNWANTED

    with _ONE_AT_A_TIME:
        return execute(job, cancelled)


#: The locks a worker installs (the runtime lock and the dask extra's), relative to the book.
LOCKS: tuple[str, ...] = ("requirements.txt", "requirements-dask.txt")


def pinned(root: Path) -> set[str]:
    """Names of the packages the book's locks pin (``name==version``), canonical."""
    names: set[str] = set()
    for lock in LOCKS:
        try:
            text = (root / lock).read_text(encoding="utf-8")
        except OSError:
            continue
        pins = re.finditer(r"(?m)^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[.*?\])?==", text)
        names.update(distributions.canonical(m[1]) for m in pins)
    return names


def software(names: Iterable[str]) -> dict[str, str]:
    """What a process runs: Python, ``cloudpad`` (version, digest of its source), each of ``names``.

    Runs on the client and on every worker; a package that is not installed is
    ``"not installed"``.
    """
    import cloudpad

    package = Path(cloudpad.__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(f"{path.relative_to(package).as_posix()} {file_sha256(path)}\n".encode())
    versions = distributions.installed()
    found = {"Python": platform.python_version(), "cloudpad source": digest.hexdigest()[:12]}
    for name in sorted({distributions.canonical(n) for n in names} | {"cloudpad"}):
        found[name] = versions.get(name, "not installed")
    return found


def _probe(address: str, seconds: float) -> None:
    """Open and close one connection to the scheduler, its handshake included, within ``seconds``.

    ``distributed.Client(timeout=…)`` bounds the TCP connection but not the
    handshake after it, so a port that accepts and never answers (a hung
    scheduler, a port-forward to nothing) would make it wait forever.
    """
    from distributed.comm import connect
    from distributed.comm.addressing import get_address_host_port, parse_address

    if parse_address(address)[0] == "tcp":
        # A plain TCP connection first: a closed port is refused at once, whatever the load
        # (distributed's connect() retries a refused port with backoff until its timeout).
        with socket.create_connection(get_address_host_port(address), timeout=seconds):
            pass

    async def probe() -> None:
        # connect() itself gives up after ``seconds``, naming why (refused, unreachable); the
        # grace second lets that reason arrive before the outer limit, which bounds the rest.
        comm = await asyncio.wait_for(connect(address, timeout=seconds), seconds + 1)
        await comm.close()

    asyncio.run(probe())


def _cause(exc: BaseException) -> str:
    """The innermost reason of a failed connection, e.g. ``connection refused``."""
    while exc.__cause__ or exc.__context__:
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return "no answer"


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
        self, address: str | None = None, workers: int | None = None, connect_timeout_s: float = 30
    ) -> None:
        self.address = address
        self.connect_timeout_s = connect_timeout_s
        self.workers = max(1, workers or os.cpu_count() or 1)
        self._cluster: Any = None
        self._client: Any = None
        self._futures: dict[Any, Job] = {}
        self._checked: set[str] = set()  # workers whose software matched
        if address is not None:
            self._connect()

    def _connect(self) -> Any:
        if self._client is not None:
            return self._client
        from distributed import Client, LocalCluster

        if self.address is None:
            import dask

            with dask.config.set({"distributed.scheduler.allowed-failures": ALLOWED_FAILURES}):
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
                _probe(self.address, self.connect_timeout_s)
                self._client = Client(self.address, timeout=f"{self.connect_timeout_s}s")
            except ValueError as exc:
                raise CloudpadError(
                    f"--scheduler {self.address!r} is not a Dask scheduler address ({exc}); "
                    "expected tcp://HOST:PORT"
                ) from None
            except (OSError, TimeoutError) as exc:
                raise CloudpadError(
                    f"cannot reach the Dask scheduler at {self.address} within "
                    f"{self.connect_timeout_s:g} s ({_cause(exc)}): check --scheduler (a "
                    "scheduler listens on tcp://HOST:8786 by default) or allow longer with "
                    "--connect-timeout"
                ) from None
            except Exception as exc:  # something answered, in a protocol that is not Dask's
                raise CloudpadError(
                    f"the service at {self.address} is not a Dask scheduler (it answered with "
                    f"something Dask could not read: {type(exc).__name__}); check --scheduler"
                ) from None
        return self._client

    def check_software(self, root: Path) -> None:
        """Refuse workers whose software differs from this client's, naming each difference.

        Compared: Python, ``cloudpad`` (its version and a digest of its source)
        and the packages pinned in ``root``'s locks (:data:`LOCKS`) and
        :data:`~cloudpad.pipeline.manifest.KEY_PACKAGES`: a cache fed by other
        code would record results this book's code did not make.  Each worker
        is checked once, when it is first seen.
        """
        client = self.client
        new = [w for w in client.scheduler_info()["workers"] if w not in self._checked]
        if not new:
            return
        names = sorted(set(KEY_PACKAGES) | pinned(root))
        here = software(names)
        differences = [
            f"{address} has {name} {theirs.get(name, 'unknown')} (here {mine})"
            for address, theirs in sorted(client.run(software, names, workers=new).items())
            for name, mine in here.items()
            if theirs.get(name) != mine
        ]
        if differences:
            shown = "; ".join(differences[:5])
            more = f"; and {len(differences) - 5} more" if len(differences) > 5 else ""
            raise CloudpadError(
                f"the Dask workers run other software than this client: {shown}{more}; install "
                "the book's requirements-dask.txt and cloudpad on every worker (no job was "
                "started)"
            )
        self._checked.update(new)

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
        from distributed import KilledWorker, as_completed

        jobs = list(jobs)
        if not jobs:
            return
        client = self._connect()
        self.check_software(Path(jobs[0].root))
        futures = {
            client.submit(run_job, self._env(job), key=_task_key(job, i), pure=False): job
            for i, job in enumerate(jobs)
        }
        self._futures = futures
        for future in as_completed(list(futures)):
            job = futures[future]
            try:
                result = future.result()
            except KilledWorker as exc:
                worker = getattr(exc.last_worker, "address", exc.last_worker)
                message = (
                    f"the Dask worker {worker} died while running it, after "
                    f"{exc.allowed_failures} other worker(s) had; nothing of it was recorded"
                )
                failure = Failure(None, None, "WorkerDied", message)
                result = JobResult(job.id, job.notebook, False, 0.0, "", failure, log=message)
            except Exception as exc:  # the task never returned: import failed, ...
                message = f"the Dask task failed: {type(exc).__name__}: {exc}"
                failure = Failure(None, None, "WorkerFailed", message)
                result = JobResult(job.id, job.notebook, False, 0.0, "", failure, log=message)
            futures.pop(future, None)
            future.release()
            yield result
        self._futures = {}

    def terminate(self) -> None:
        """Stop now: cancel the jobs (each worker ends their kernels) and close the client."""
        if self._client is None:
            return
        try:
            if self._futures:
                self._client.cancel(list(self._futures))
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
