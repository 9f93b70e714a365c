"""The executor interface: serialisable jobs in, typed results out, as data.

A :class:`Job` says everything needed to execute one notebook anywhere the book
is installed: the notebook's path relative to the book and its JSON text, the
parameters, the per-cell and whole-notebook time limits and the environment
for the kernel.  :func:`execute` runs one job with Papermill and returns a
:class:`JobResult`: status, duration, the failure (cell, exception, traceback),
the executed notebook's JSON text, the files the kernel read with their
SHA-256, the distributions it imported with their versions, the key results
and the log.  Nothing comes back through side files
or a shared filesystem, so an executor for other machines is one new class:
an :class:`Executor` maps jobs to results (``local.ProcessPoolExecutor`` on this
machine, ``dask.DaskExecutor`` on a Dask cluster).

What a worker needs: Python with the runtime lock (``requirements.txt``) and
``cloudpad`` installed, a ``python3`` Jupyter kernel, and the book (its ``data/``) at
``Job.root`` on that machine (or ``CLOUDPAD_DATA_DIR`` in ``Job.env``).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import signal
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import nbformat

from cloudpad.pipeline import distributions, keyresults, tracking
from cloudpad.pipeline.outcomes import TRACEBACK_LINES, Failure

#: The kernel every notebook is stored with and executed by.
KERNEL = "python3"

#: Tag of the banner cell Papermill puts on top of a notebook that raised.
ERROR_CELL_TAG = "papermill-error-cell-tag"

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass(frozen=True)
class Job:
    """One notebook to execute; plain data, so it can be sent to another process or machine."""

    notebook: str  # path relative to the book's root; the kernel runs in its folder
    source: str  # the notebook's JSON text
    parameters: dict[str, Any]
    timeout_s: int  # per cell
    env: dict[str, str] = field(default_factory=dict)  # added to the kernel's environment
    root: str = "."  # the book's root folder on the executing machine
    wall_timeout_s: float | None = None  # the whole notebook
    id: str = ""  # the caller's name for this job, echoed in its result


@dataclass
class JobResult:
    """What executing a :class:`Job` produced, as data."""

    id: str
    notebook: str
    ok: bool
    duration_s: float
    executed: str  # the executed notebook's JSON text ("" if none was produced)
    failure: Failure | None = None
    reads: dict[str, str] = field(default_factory=dict)  # file -> SHA-256
    packages: dict[str, str] = field(default_factory=dict)  # distribution imported -> version
    key_results: dict[str, Any] = field(default_factory=dict)
    figures: list[str] = field(default_factory=list)
    log: str = ""


class Executor(Protocol):
    """Executes jobs, yielding each result as soon as it is done (any order)."""

    def run(self, jobs: Iterable[Job]) -> Iterator[JobResult]: ...

    def close(self) -> None: ...


def file_sha256(path: Path) -> str:
    """SHA-256 hex digest of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def relative_key(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` when inside it (POSIX form), else absolute."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path.resolve())


@contextlib.contextmanager
def _captured_output(log_path: Path) -> Iterator[None]:
    """Send this process's stdout/stderr (and its children's, the kernel's) to ``log_path``."""
    saved = [os.dup(1), os.dup(2)]
    with open(log_path, "w", encoding="utf-8") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)


class NotebookTimeout(Exception):
    """The whole notebook ran past its wall-clock limit (``Job.wall_timeout_s``)."""


class JobCancelled(Exception):
    """The job was no longer wanted while it ran (e.g. its Dask client went away)."""


class _Watch:
    """Ends a job's kernel from another thread: past the whole-notebook limit, or once
    ``cancelled()`` says the job is no longer wanted.

    Killing the kernel (its process group) makes Papermill fail the running cell
    with a dead kernel, which unwinds the job in whatever thread runs it (the
    main thread of a local worker, a task thread of a Dask worker), so the
    worker process stays usable for the next job.  ``reason`` then says why.
    """

    POLL_S = 0.25

    def __init__(self, seconds: float | None, cancelled: Callable[[], bool] | None) -> None:
        self.seconds = seconds
        self.cancelled = cancelled
        self.reason: str | None = None  # "timeout" or "cancelled" once the kernel was ended
        self._kernels: list[Any] = []  # kernel managers this job started
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> _Watch:
        _current.watch = self  # for the kernels this thread starts (see _track_cells)
        if self.seconds or self.cancelled:
            self._thread = threading.Thread(target=self._watch, name="cloudpad-watch", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        _current.watch = None
        self._done.set()
        if self._thread is not None:
            self._thread.join()

    def kernel_started(self, manager: Any) -> None:
        """Called in the job's thread with each kernel manager it starts."""
        with self._lock:
            self._kernels.append(manager)
            ended = self.reason is not None
        if ended:
            _kill_kernel(manager)

    def _watch(self) -> None:
        deadline = time.monotonic() + self.seconds if self.seconds else None
        while not self._done.wait(self.POLL_S):
            if deadline is not None and time.monotonic() >= deadline:
                reason = "timeout"
            elif self.cancelled is not None and self.cancelled():
                reason = "cancelled"
            else:
                continue
            with self._lock:
                self.reason = reason
                kernels = list(self._kernels)
            for manager in kernels:
                _kill_kernel(manager)
            return

    def failure(self, output: Path) -> Failure:
        """The failure to report for a job whose kernel this watch ended."""
        if self.reason == "timeout":
            exc: Exception = NotebookTimeout(
                f"the notebook ran longer than its limit of {self.seconds:g} s; its kernel was "
                "stopped"
            )
        else:
            exc = JobCancelled("no longer wanted while it ran; its kernel was stopped")
        return failure_from(exc, output)


def _kill_kernel(manager: Any) -> None:
    """Kill a kernel and whatever it started (its process group), from any thread."""
    provisioner = getattr(manager, "provisioner", None)
    pid, pgid = getattr(provisioner, "pid", None), getattr(provisioner, "pgid", None)
    with contextlib.suppress(OSError):  # already gone
        if pgid and pgid != os.getpgrp():  # the kernel runs in a session of its own
            os.killpg(pgid, signal.SIGKILL)
        elif pid:
            os.kill(pid, signal.SIGKILL)


#: Environment variable that, set to 1, lets kernels open network connections.
ALLOW_NETWORK_ENV = "CLOUDPAD_ALLOW_NETWORK"

#: IPython startup file: the kernel may connect to this machine only (articles run offline).
OFFLINE_STARTUP = """\
import ipaddress as _ip
import sys as _sys


def _cloudpad_local(host):
    if host in (None, "", "localhost") or str(host).endswith(".localhost"):
        return True
    try:
        return _ip.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


def _cloudpad_offline(event, args):
    if event == "socket.getaddrinfo":
        host = args[0]
    elif event == "socket.connect" and isinstance(args[1], tuple):
        host = args[1][0]
    else:
        return
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not _cloudpad_local(host):
        raise ConnectionRefusedError(
            f"articles run offline: this notebook tried to reach {host!r}; "
            "read data from data/ with cloudpad.data.load (set CLOUDPAD_ALLOW_NETWORK=1 to allow)"
        )


_sys.addaudithook(_cloudpad_offline)
"""


def _offline_profile(folder: Path) -> dict[str, str]:
    """An IPython profile whose startup blocks network access; returns the env naming it."""
    startup = folder / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-cloudpad-offline.py").write_text(OFFLINE_STARTUP, encoding="utf-8")
    return {"IPYTHONDIR": str(folder)}


@contextlib.contextmanager
def _environment(extra: dict[str, str]) -> Iterator[None]:
    """``os.environ`` updated with ``extra`` for the duration (the kernel inherits it)."""
    saved = {name: os.environ.get(name) for name in extra}
    os.environ.update(extra)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def execute(job: Job, cancelled: Callable[[], bool] | None = None) -> JobResult:
    """Execute ``job`` with Papermill in this process and return everything as data.

    Runs in any thread.  The whole-notebook limit (``job.wall_timeout_s``) and
    ``cancelled`` (polled; true once the job is no longer wanted) end the
    kernel from a watching thread (:class:`_Watch`).
    """
    import papermill

    _track_cells()
    root = Path(job.root)
    with tempfile.TemporaryDirectory(prefix="cloudpad-job-") as tmp:
        output, deps_log, log_path = (Path(tmp) / n for n in ("out.ipynb", "deps.log", "job.log"))
        env = {**job.env, tracking.LOG_ENV: str(deps_log), tracking.ROOT_ENV: str(root)}
        if env.get(ALLOW_NETWORK_ENV, os.environ.get(ALLOW_NETWORK_ENV)) != "1":
            env.update(_offline_profile(Path(tmp) / "ipython"))
        started = time.perf_counter()
        failure = None
        watch = _Watch(job.wall_timeout_s, cancelled)
        with _captured_output(log_path), _environment(env), watch:
            logging.basicConfig(level=logging.WARNING, force=True)
            for attempt in range(1, KERNEL_START_ATTEMPTS + 1):
                _current.manager = None
                output.unlink(missing_ok=True)
                deps_log.unlink(missing_ok=True)
                try:
                    papermill.execute_notebook(
                        nbformat.reads(job.source, as_version=4),
                        str(output),
                        parameters=job.parameters or None,
                        kernel_name=KERNEL,
                        cwd=str((root / job.notebook).parent),
                        execution_timeout=job.timeout_s,
                        progress_bar=False,
                        log_output=False,
                        request_save_on_cell_execute=False,  # saved once at the end
                    )
                    failure = None
                except Exception as exc:  # every failure is reported
                    _save_partial(output)
                    failure = watch.failure(output) if watch.reason else failure_from(exc, output)
                if not (failure and _kernel_did_not_start(failure)) or watch.reason:
                    break
                note = f"cloudpad: the kernel did not start (try {attempt}): {failure.message}\n"
                os.write(2, note.encode())  # into the job's log (fd 2 is captured above)
        duration = time.perf_counter() - started
        executed = _relabel(output, job.notebook) if output.is_file() else ""
        result = JobResult(job.id, job.notebook, failure is None, duration, executed, failure)
        result.log = log_path.read_text(encoding="utf-8", errors="replace")
        if failure is not None and failure.cell is not None and executed:
            failure.cell = source_cell(nbformat.reads(executed, as_version=4), failure.cell)
        if failure is None:
            files = tracking.read_log(deps_log)
            result.reads = {relative_key(p, root): file_sha256(p) for p in files if p.is_file()}
            result.packages = distributions.of_modules(tracking.read_modules(deps_log))
            nb = nbformat.reads(executed, as_version=4)
            result.key_results, result.figures = keyresults.extract(nb)
        return result


#: The notebook Papermill is executing in this thread, for the failure report.
_current = threading.local()


def _track_cells() -> None:
    """Let this thread know which notebook and kernel it runs (patched once per process).

    Papermill saves the executed notebook at the end, and after each cell only
    when asked, which rewrites the whole notebook (figures included) after every
    cell.  Instead the runner keeps a handle on the running notebook and saves
    it once, when execution ends in a timeout or a dead kernel.  Each kernel
    nbclient starts is handed to the job's :class:`_Watch`, which may end it.
    """
    from nbclient import NotebookClient
    from papermill.engines import NotebookExecutionManager

    if getattr(NotebookExecutionManager, "_cloudpad_tracked", False):
        return
    original = NotebookExecutionManager.cell_start
    original_start = NotebookClient.start_new_kernel  # what Papermill's client calls

    def cell_start(self, cell, cell_index=None, **kwargs):
        _current.manager = self
        return original(self, cell, cell_index, **kwargs)

    def start_new_kernel(self, **kwargs):
        original_start(self, **kwargs)
        watch = getattr(_current, "watch", None)
        if watch is not None:
            watch.kernel_started(self.km)

    NotebookExecutionManager.cell_start = cell_start
    NotebookClient.start_new_kernel = start_new_kernel
    NotebookExecutionManager._cloudpad_tracked = True


def _save_partial(output: Path) -> None:
    """Write what the failed notebook has so far (Papermill does not after a timeout)."""
    manager = getattr(_current, "manager", None)
    if manager is not None and not output.is_file():
        with contextlib.suppress(Exception):  # a report without the notebook beats none
            output.write_text(nbformat.writes(manager.nb), encoding="utf-8")


#: Tries to start a kernel for one job: a start can fail for reasons of the moment
#: (two kernels picking the same free port), so it is retried once before it is reported.
KERNEL_START_ATTEMPTS = 2


def _kernel_did_not_start(failure: Failure) -> bool:
    """The job failed before its first cell, because its kernel never answered."""
    return (
        failure.cell is None
        and getattr(_current, "manager", None) is None
        and failure.exception in ("RuntimeError", "DeadKernelError", "TimeoutError")
        and "kernel" in failure.message.lower()
    )


def _relabel(output: Path, notebook: str) -> str:
    """The executed notebook's text, with Papermill's input and output paths set to ``notebook``.

    Papermill records where it read and wrote the notebook; here those are a
    temporary file and the in-memory notebook, which would make the executed
    copy differ from run to run (and carry the whole source in its metadata).
    """
    try:
        nb = nbformat.read(output, as_version=4)
    except (OSError, ValueError):  # a notebook cut short: keep what there is
        return output.read_text(encoding="utf-8", errors="replace")
    meta = nb.metadata.get("papermill")
    if meta is not None:
        meta["input_path"] = meta["output_path"] = notebook
    return nbformat.writes(nb)


def failure_from(exc: BaseException, output: Path) -> Failure:
    """Describe ``exc`` raised while executing; find the failing cell in ``output``."""
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        lines = "\n".join(_ANSI.sub("", line) for line in exc.traceback).splitlines()
        return Failure(
            cell=exc.cell_index + 1 if exc.cell_index is not None else None,
            execution_count=exc.exec_count,
            exception=exc.ename,
            message=_ANSI.sub("", str(exc.evalue)),
            traceback=lines[-TRACEBACK_LINES:],
        )
    cell, count = running_cell(output)
    name = type(exc).__name__
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else name
    if name == "CellTimeoutError":
        message = "the cell exceeded its timeout: " + message
    elif name == "NotebookTimeout":
        message = "the whole notebook exceeded its wall-clock limit: " + message
    elif name == "JobCancelled":
        message = "the job was cancelled: " + message
    elif name == "DeadKernelError":
        message = "the kernel died: " + message
    text = "".join(traceback.format_exception(exc)).splitlines()
    return Failure(cell, count, name, message, text[-TRACEBACK_LINES:])


def source_cell(executed: nbformat.NotebookNode, cell: int) -> int:
    """Cell number (1-based) in the source notebook of cell ``cell`` of the executed notebook.

    Papermill inserts an ``injected-parameters`` cell after the ``parameters``
    cell when parameters are overridden, and an error banner cell on top after a
    failure; the user knows the notebook without either.
    """
    cells = [
        c for c in executed.cells if ERROR_CELL_TAG not in c.get("metadata", {}).get("tags", [])
    ]
    injected = sum(
        "injected-parameters" in c.get("metadata", {}).get("tags", []) for c in cells[: cell - 1]
    )
    return cell - injected


def running_cell(output: Path) -> tuple[int | None, int | None]:
    """The cell Papermill last started in ``output`` (1-based) and its execution count."""
    try:
        nb = nbformat.read(output, as_version=4)
    except (OSError, ValueError):
        return None, None
    started = None
    for i, cell in enumerate(nb.cells):
        meta = cell.get("metadata", {}).get("papermill", {})
        if cell.cell_type == "code" and meta.get("status") in ("running", "completed"):
            if meta.get("start_time"):
                started = (i + 1, cell.get("execution_count"))
    return started if started else (None, None)
