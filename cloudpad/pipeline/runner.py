"""Execute the book's notebooks with Papermill: in parallel, through the cache, loudly on failure.

:func:`run` is the whole pipeline step behind ``cloudpad run``:

1. choose the notebooks (all of ``_toc.yml`` by default) and check each one and
   each ``-p`` override before any kernel starts (:mod:`cloudpad.parameters`);
2. ask the cache (:mod:`cloudpad.cache`) which results are still good; the
   others are executed by Papermill in a pool of ``jobs`` worker processes, each
   notebook into ``_build/executed/<same relative path>``;
3. on success, store a cache record with the files the kernel really read
   (:mod:`cloudpad.tracking`); on failure, keep the failed executed notebook,
   forget any cache record and report notebook, cell, exception and the last
   traceback lines.  A failing notebook never stops the others.

Kernel output (warnings, stderr) goes to ``_build/logs/<notebook>.log``, not to
the terminal, so a parallel run prints a single progress bar.
"""

from __future__ import annotations

import concurrent.futures as cf
import datetime as dt
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from cloudpad.exceptions import NotebookError
from cloudpad.pipeline import cache, tracking
from cloudpad.pipeline.parameters import notebook_parameters, parse_overrides
from cloudpad.pipeline.project import Project

#: The kernel every notebook is stored with and executed by.
KERNEL = "python3"
#: Lines of traceback shown per failure.
TRACEBACK_LINES = 12

# The worker passes the dependency log to its kernel under this name and renames
# it just before the kernel starts, so the worker's own imports are not recorded.
_PENDING_LOG_ENV = "CLOUDPAD_DEPS_LOG_FOR_KERNEL"

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass
class Failure:
    """Where and how a notebook failed."""

    cell: int | None  # 1-based position among all cells of the executed notebook
    execution_count: int | None
    exception: str
    message: str
    traceback: list[str] = field(default_factory=list)

    def headline(self) -> str:
        where = "before any cell ran" if self.cell is None else f"cell {self.cell}"
        if self.execution_count is not None:
            where += f" (In [{self.execution_count}])"
        return f"{where}: {self.exception}: {self.message}"


@dataclass
class Outcome:
    """What happened to one notebook in a run."""

    notebook: str  # relative to the project root
    status: str  # "executed", "cached" or "failed"
    duration_s: float
    executed_at: str
    reason: str  # why it was executed, or "unchanged" for a cache hit
    output: str
    log: str = ""
    failure: Failure | None = None
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunResult:
    """All outcomes of a run, in the order the notebooks were given."""

    outcomes: list[Outcome]
    elapsed_s: float

    @property
    def executed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "executed"]

    @property
    def cached(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "cached"]

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    @property
    def ok(self) -> bool:
        return not self.failed


@dataclass(frozen=True)
class _Job:
    notebook: str
    output: str
    log: str
    deps_log: str
    root: str
    cwd: str
    parameters: dict[str, Any]
    timeout_s: int
    threads: int


def _timestamp() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def notebook_timeout(notebook: Path, default: int) -> int:
    """Per-cell timeout of ``notebook``: metadata ``mystnb.execution_timeout``, else ``default``."""
    nb = nbformat.read(notebook, as_version=4)
    value = nb.metadata.get("mystnb", {}).get("execution_timeout", default)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise NotebookError(
            f"{notebook}: metadata mystnb.execution_timeout must be a whole number of "
            f"seconds > 0, got {value!r}"
        )
    return value


def check_notebook(notebook: Path) -> None:
    """Refuse a file that is not a valid notebook with a ``parameters`` cell and kernel python3."""
    if notebook.suffix != ".ipynb":
        raise NotebookError(f"{notebook}: not a notebook (expected a .ipynb file)")
    if not notebook.is_file():
        raise NotebookError(f"{notebook}: no such notebook")
    try:
        nb = nbformat.read(notebook, as_version=4)
        nbformat.validate(nb)
    except (ValueError, nbformat.ValidationError) as exc:
        raise NotebookError(f"{notebook}: not a valid notebook: {exc}") from None
    kernel = nb.metadata.get("kernelspec", {}).get("name")
    if kernel != KERNEL:
        raise NotebookError(f"{notebook}: kernelspec name must be {KERNEL!r}, got {kernel!r}")
    notebook_parameters(notebook)


def _worker_env(job: _Job) -> dict[str, str]:
    """Environment of the worker process and so of its kernel."""
    env = dict(os.environ)
    env.update(
        {
            _PENDING_LOG_ENV: job.deps_log,
            tracking.ROOT_ENV: job.root,
            tracking.DATA_ENV: os.environ.get(tracking.DATA_ENV) or str(Path(job.root) / "data"),
            "SOURCE_DATE_EPOCH": "0",
            "PYTHONHASHSEED": "0",
            "PYDEVD_DISABLE_FILE_VALIDATION": "1",
            "JUPYTER_PLATFORM_DIRS": "1",
            "OMP_NUM_THREADS": str(job.threads),
            "OPENBLAS_NUM_THREADS": str(job.threads),
            "MKL_NUM_THREADS": str(job.threads),
        }
    )
    env.pop("MPLBACKEND", None)
    return env


def _failure_from(exc: BaseException, output: Path) -> Failure:
    """Describe ``exc`` raised while executing; find the failing cell in ``output``."""
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        lines = [_ANSI.sub("", line) for line in exc.traceback]
        text = "\n".join(lines).splitlines()
        return Failure(
            cell=exc.cell_index + 1 if exc.cell_index is not None else None,
            execution_count=exc.exec_count,
            exception=exc.ename,
            message=_ANSI.sub("", str(exc.evalue)),
            traceback=text[-TRACEBACK_LINES:],
        )
    cell, count = _running_cell(output)
    name = type(exc).__name__
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else name
    if name == "CellTimeoutError":
        message = "the cell exceeded its timeout: " + message
    elif name == "DeadKernelError":
        message = "the kernel died: " + message
    tb = traceback.format_exception(exc)
    text = "".join(tb).splitlines()
    return Failure(cell, count, name, message, text[-TRACEBACK_LINES:])


def _running_cell(output: Path) -> tuple[int | None, int | None]:
    """The cell Papermill last started in ``output`` (1-based) and its execution count."""
    try:
        nb = nbformat.read(output, as_version=4)
    except (OSError, ValueError):
        return None, None
    started = None
    for i, cell in enumerate(nb.cells):
        status = cell.get("metadata", {}).get("papermill", {}).get("status")
        if (
            cell.cell_type == "code"
            and status in ("running", "completed")
            and (cell.metadata.papermill.get("start_time"))
        ):
            started = (i + 1, cell.get("execution_count"))
    return started if started else (None, None)


def _execute(job: _Job) -> dict[str, Any]:
    """Execute one notebook with Papermill (in the worker process)."""
    import papermill

    logging.basicConfig(level=logging.WARNING, force=True)
    os.environ[tracking.LOG_ENV] = os.environ.pop(_PENDING_LOG_ENV, job.deps_log)
    output = Path(job.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    failure = None
    try:
        papermill.execute_notebook(
            job.notebook,
            job.output,
            parameters=job.parameters or None,
            kernel_name=KERNEL,
            cwd=job.cwd,
            execution_timeout=job.timeout_s,
            progress_bar=False,
            log_output=False,
            request_save_on_cell_execute=True,  # a hung cell still leaves a notebook
        )
    except Exception as exc:  # every failure is reported, none stops the run
        failure = _failure_from(exc, output)
    return {
        "duration_s": time.perf_counter() - started,
        "failure": asdict(failure) if failure else None,
    }


def _spawn(job: _Job) -> dict[str, Any]:
    """Run :func:`_execute` for ``job`` in a fresh Python process; its output goes to the log.

    A separate process per notebook isolates kernels, environment (each kernel
    gets its own dependency log) and stderr noise from the parallel run.
    """
    Path(job.log).parent.mkdir(parents=True, exist_ok=True)
    Path(job.deps_log).parent.mkdir(parents=True, exist_ok=True)
    Path(job.deps_log).unlink(missing_ok=True)
    answer_path = Path(job.deps_log).with_suffix(".result.json")
    answer_path.unlink(missing_ok=True)
    job_path = Path(job.deps_log).with_suffix(".job.json")
    job_path.write_text(json.dumps(asdict(job)), encoding="utf-8")
    started = time.perf_counter()
    with open(job.log, "w", encoding="utf-8") as log:
        done = subprocess.run(
            [sys.executable, "-m", "cloudpad.pipeline.runner", str(job_path), str(answer_path)],
            env=_worker_env(job),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    if answer_path.exists():
        return json.loads(answer_path.read_text(encoding="utf-8"))
    message = f"the worker process exited with code {done.returncode} (see {job.log})"
    return {
        "duration_s": time.perf_counter() - started,
        "failure": asdict(Failure(None, None, "WorkerDied", message, _tail(Path(job.log)))),
    }


def _tail(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines()[-TRACEBACK_LINES:]
    except OSError:
        return []


def _select(project: Project, notebooks: Sequence[Path] | None) -> list[Path]:
    if not notebooks:
        return project.notebooks()
    chosen = []
    for path in notebooks:
        full = (path if path.is_absolute() else Path.cwd() / path).resolve()
        if not path.is_absolute() and not full.exists() and (project.root / path).exists():
            full = (project.root / path).resolve()  # relative to the book, e.g. with --root
        try:
            project.relative(full)
        except ValueError:
            raise NotebookError(f"{path}: not inside the book project {project.root}") from None
        chosen.append(full)
    return chosen


@dataclass(frozen=True)
class Planned:
    """A notebook checked and ready to run: its path, typed overrides and cell timeout."""

    notebook: Path
    parameters: dict[str, Any]
    timeout_s: int


def prepare(
    project: Project,
    notebooks: Sequence[Path] | None = None,
    overrides: Iterable[tuple[str, str]] = (),
) -> list[Planned]:
    """Check the notebooks and ``-p`` overrides; nothing is executed.

    Raises :class:`~cloudpad.exceptions.NotebookError`,
    :class:`~cloudpad.exceptions.ParameterError` or
    :class:`~cloudpad.exceptions.ConfigError` naming the notebook and what is wrong.
    """
    pairs = list(overrides)
    default_timeout = project.timeout_s()
    plan = []
    for nb_path in _select(project, notebooks):
        check_notebook(nb_path)
        params = parse_overrides(nb_path, pairs)
        plan.append(Planned(nb_path, params, notebook_timeout(nb_path, default_timeout)))
    return plan


def run(
    project: Project,
    notebooks: Sequence[Path] | None = None,
    overrides: Iterable[tuple[str, str]] = (),
    *,
    jobs: int | None = None,
    force: bool = False,
    progress: Callable[[Outcome, int, int], None] | None = None,
    plan: list[Planned] | None = None,
) -> RunResult:
    """Execute ``notebooks`` (default: every notebook in ``_toc.yml``) through the cache.

    ``overrides`` are ``(name, text)`` pairs from ``-p``; each is parsed and
    checked against every chosen notebook's parameters cell before anything
    runs (:func:`prepare`; pass its result as ``plan`` to skip doing it again).
    ``jobs`` worker processes execute in parallel (default: the machine's
    cores).  ``force`` ignores the cache.  ``progress`` is called after each
    notebook with its outcome, the number done and the total.
    """
    started = time.perf_counter()
    if plan is None:
        plan = prepare(project, notebooks, overrides)
    jobs = max(1, jobs or os.cpu_count() or 1)
    outcomes: dict[Path, Outcome] = {}
    pending: list[tuple[Path, dict[str, Any], int, dict[str, Any], str]] = []
    total = len(plan)
    for item in plan:
        nb_path, params, timeout = item.notebook, item.parameters, item.timeout_s
        rel = project.relative(nb_path)
        output = project.executed_dir / rel
        inputs = cache.static_inputs(project, nb_path, params, KERNEL)
        reason = "forced" if force else cache.stale_reason(project, nb_path, inputs, output)
        if reason is None:
            cache.refresh_markdown(nb_path, output)
            record = cache.load_record(project, nb_path)
            assert record is not None  # stale_reason() found it
            outcome = Outcome(
                notebook=str(rel),
                status="cached",
                duration_s=record.duration_s,
                executed_at=record.executed_at,
                reason="unchanged",
                output=str(project.relative(output)),
                parameters=record.parameters,
            )
            outcomes[nb_path] = outcome
            if progress:
                progress(outcome, len(outcomes), total)
        else:
            pending.append((nb_path, params, timeout, inputs, reason))

    threads = 1 if jobs > 1 else os.cpu_count() or 1
    if pending:
        with cf.ThreadPoolExecutor(max_workers=min(jobs, len(pending))) as pool:
            futures = {}
            for nb_path, params, timeout, inputs, reason in pending:
                rel = project.relative(nb_path)
                cache.drop_record(project, nb_path)
                job = _Job(
                    notebook=str(nb_path),
                    output=str(project.executed_dir / rel),
                    log=str(project.build_dir / "logs" / rel.with_suffix(".log")),
                    deps_log=str(project.cache_dir / rel.with_suffix(".deps")),
                    root=str(project.root),
                    cwd=str(nb_path.parent),
                    parameters=params,
                    timeout_s=timeout,
                    threads=threads,
                )
                futures[pool.submit(_spawn, job)] = (nb_path, job, inputs, reason)
            for future in cf.as_completed(futures):
                nb_path, job, inputs, reason = futures[future]
                outcome = _finish(project, nb_path, job, inputs, reason, future)
                outcomes[nb_path] = outcome
                if progress:
                    progress(outcome, len(outcomes), total)

    result = RunResult([outcomes[p.notebook] for p in plan], time.perf_counter() - started)
    _save_run(project, result)
    return result


def _finish(
    project: Project,
    nb_path: Path,
    job: _Job,
    inputs: dict[str, Any],
    reason: str,
    future: cf.Future,
) -> Outcome:
    rel = project.relative(nb_path)
    try:
        answer = future.result()
    except Exception as exc:  # the worker process itself died
        answer = {
            "duration_s": 0.0,
            "failure": asdict(
                Failure(None, None, type(exc).__name__, f"worker process failed: {exc}")
            ),
        }
    now = _timestamp()
    outcome = Outcome(
        notebook=str(rel),
        status="executed",
        duration_s=answer["duration_s"],
        executed_at=now,
        reason=reason,
        output=str(project.relative(Path(job.output))),
        log=str(project.relative(Path(job.log))),
        parameters=job.parameters,
    )
    if answer["failure"]:
        outcome.status = "failed"
        outcome.failure = Failure(**answer["failure"])
        cache.drop_record(project, nb_path)
        return outcome
    deps = cache.dependency_hashes(project, tracking.read_log(Path(job.deps_log)))
    if not deps:
        # The notebook never imported cloudpad (which always records its own
        # __init__.py), so its reads were not traced: depend on every data file
        # rather than risk a stale result.
        files = sorted(p for p in project.data_dir.rglob("*") if p.is_file())
        deps.update(cache.dependency_hashes(project, files))
    cache.save_record(
        project,
        nb_path,
        cache.Record(
            notebook=str(rel),
            inputs=inputs,
            dependencies=deps,
            duration_s=outcome.duration_s,
            executed_at=now,
            parameters=job.parameters,
        ),
    )
    return outcome


def _save_run(project: Project, result: RunResult) -> None:
    """Keep the last run's outcomes for the execution report (``_build/cache/last-run.json``)."""
    path = project.cache_dir / "last-run.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"elapsed_s": result.elapsed_s, "outcomes": [asdict(o) for o in result.outcomes]}
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")


def load_last_run(project: Project) -> list[Outcome]:
    """The outcomes saved by the last :func:`run` (empty when there was none)."""
    path = project.cache_dir / "last-run.json"
    if not path.exists():
        return []
    data = json.loads(path.read_text(encoding="utf-8"))
    outcomes = []
    for item in data["outcomes"]:
        failure = item.pop("failure")
        outcomes.append(Outcome(**item, failure=Failure(**failure) if failure else None))
    return outcomes


def clean(project: Project) -> None:
    """Remove executed notebooks, cache records, logs and the site (``_build``)."""
    shutil.rmtree(project.build_dir, ignore_errors=True)


def failure_report(result: RunResult) -> str:
    """A plain-text report of every failure: notebook, cell, exception, traceback tail, files."""
    blocks = []
    for o in result.failed:
        assert o.failure is not None
        lines = [f"FAILED {o.notebook}, {o.failure.headline()}"]
        lines += ["    " + line for line in o.failure.traceback]
        lines.append(f"    executed notebook kept for inspection: {o.output}")
        if o.log:
            lines.append(f"    kernel log: {o.log}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _worker_main(job_path: str, answer_path: str) -> None:
    """``python -m cloudpad.runner JOB.json ANSWER.json``: execute one job, write the answer."""
    job = _Job(**json.loads(Path(job_path).read_text(encoding="utf-8")))
    answer = _execute(job)
    tmp = Path(answer_path + ".tmp")
    tmp.write_text(json.dumps(answer), encoding="utf-8")
    tmp.replace(answer_path)


if __name__ == "__main__":
    _worker_main(sys.argv[1], sys.argv[2])
