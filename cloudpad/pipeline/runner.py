"""Run the book's notebooks: plan, ask the cache, execute the rest, record the edition.

:func:`run` is the whole pipeline step behind ``cloudpad run``:

1. plan: choose the notebooks (all of ``_toc.yml`` by default) and check each
   one and each ``-p`` override before any kernel starts (:mod:`.plan`);
2. ask the cache (:mod:`.cache`) which results are still good;
3. hand the others to an executor (:mod:`.executors`; by default a pool of
   ``jobs`` local worker processes) as :class:`~.executors.base.Job` data, and
   take each :class:`~.executors.base.JobResult` back as data: write the
   executed notebook (atomically) and its log, and on success a cache record
   with the files the kernel read and the key results it published; on
   failure keep the failed notebook, forget any record;
4. write the run manifest (:mod:`.manifest`).

The edition's run (no overrides) writes ``_build/executed/`` and
``_build/manifest.json``; a run with ``-p`` overrides writes
``_build/runs/<digest>/`` instead, never over the edition's copies.  A failing
notebook never stops the others; an interrupt (Ctrl-C, SIGTERM) stops the
workers and their kernels and leaves only complete files behind.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from cloudpad.exceptions import CloudpadError
from cloudpad.files import write_atomic
from cloudpad.pipeline import cache, distributions, manifest, retention
from cloudpad.pipeline.executors.base import KERNEL, Executor, Job, JobResult
from cloudpad.pipeline.outcomes import Outcome, RunResult
from cloudpad.pipeline.plan import Planned, check_kernel, prepare
from cloudpad.pipeline.project import Project

#: Environment every kernel runs with: reproducible hashes, figures and threads.
KERNEL_ENV: dict[str, str] = {
    "SOURCE_DATE_EPOCH": "0",
    "PYTHONHASHSEED": "0",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    "JUPYTER_PLATFORM_DIRS": "1",
    "MPLBACKEND": "module://matplotlib_inline.backend_inline",
}

Progress = Callable[[Outcome, int, int], None]


def _timestamp() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def output_root(project: Project, parameters: dict[str, Any]) -> Path:
    """Where executed notebooks go: the edition's folder, or the run folder of these overrides."""
    digest = cache.parameters_digest(parameters)
    return project.runs_dir / digest / "executed" if digest else project.executed_dir


def make_job(project: Project, item: Planned, job_id: str = "") -> Job:
    """The executor job for a planned notebook (plain data)."""
    env = {**KERNEL_ENV, "CLOUDPAD_DATA_DIR": str(project.data_dir)}
    return Job(
        notebook=project.relative(item.notebook).as_posix(),
        source=item.notebook.read_text(encoding="utf-8"),
        parameters=item.parameters,
        timeout_s=item.timeout_s,
        env=env,
        root=str(project.root),
        wall_timeout_s=item.wall_timeout_s,
        id=job_id,
    )


def _cached(project: Project, item: Planned, output: Path) -> Outcome:
    cache.refresh_markdown(item.notebook, output)
    record = cache.load_record(project, item.notebook, item.parameters)
    assert record is not None  # stale_reason() found it
    return Outcome(
        notebook=record.notebook,
        status="cached",
        duration_s=record.duration_s,
        executed_at=record.executed_at,
        reason="unchanged",
        output=project.relative(output).as_posix(),
        parameters=record.parameters,
        dependencies=record.dependencies,
        key_results=record.key_results,
        figures=record.figures,
        inputs=record.inputs,
    )


def _finish(
    project: Project, item: Planned, result: JobResult, inputs: dict[str, Any], reason: str
) -> Outcome:
    """Write what ``result`` brought back; cache it if it succeeded."""
    rel = project.relative(item.notebook)
    output = output_root(project, item.parameters) / rel
    digest = cache.parameters_digest(item.parameters)  # a -p run or sweep keeps its own logs
    logs = project.runs_dir / digest / "logs" if digest else project.build_dir / "logs"
    log = logs / rel.with_suffix(".log")
    if result.executed:
        write_atomic(output, result.executed)
    write_atomic(log, result.log)
    now = _timestamp()
    outcome = Outcome(
        notebook=rel.as_posix(),
        status="executed" if result.ok else "failed",
        duration_s=result.duration_s,
        executed_at=now,
        reason=reason,
        output=project.relative(output).as_posix(),
        log=project.relative(log).as_posix(),
        failure=result.failure,
        parameters=item.parameters,
        key_results=result.key_results,
        figures=result.figures,
        inputs=inputs,
    )
    if not result.ok:
        cache.drop_record(project, item.notebook, item.parameters)
        return outcome
    deps = {**result.reads, **distributions.as_dependencies(result.packages)}
    if not result.reads:
        # The notebook never imported cloudpad (which always records its own
        # __init__.py), so its reads and imports were not traced: depend on every
        # data file and every installed distribution rather than risk a stale result.
        files = sorted(p for p in project.data_dir.rglob("*") if p.is_file())
        deps = {
            **cache.dependency_hashes(project, files),
            **distributions.as_dependencies(distributions.all_installed()),
        }
    outcome.dependencies = deps
    record = cache.Record(
        notebook=outcome.notebook,
        inputs=inputs,
        dependencies=deps,
        duration_s=result.duration_s,
        executed_at=now,
        parameters=item.parameters,
        key_results=result.key_results,
        figures=result.figures,
    )
    cache.save_record(project, item.notebook, record)
    return outcome


def run(
    project: Project,
    notebooks: Sequence[Path] | None = None,
    overrides: Iterable[tuple[str, str]] = (),
    *,
    jobs: int | None = None,
    force: bool = False,
    progress: Progress | None = None,
    plan: list[Planned] | None = None,
    executor: Executor | None = None,
) -> RunResult:
    """Execute ``notebooks`` (default: every notebook in ``_toc.yml``) through the cache.

    ``overrides`` are ``(name, text)`` pairs from ``-p``, checked against every
    chosen notebook before anything runs (:func:`~.plan.prepare`; pass its
    result as ``plan`` to skip doing it again, or a plan of several parameter
    sets, as a sweep does).  ``executor`` runs the jobs (default: a local pool
    of ``jobs`` processes).  ``force`` ignores the cache.  ``progress`` is called
    after each notebook with its outcome, the number done and the total.
    """
    started = time.perf_counter()
    if plan is None:
        plan = prepare(project, notebooks, overrides)
    outcomes: dict[int, Outcome] = {}
    pending: dict[str, tuple[int, Planned, dict[str, Any], str]] = {}
    notes: list[str] = []
    for index, item in enumerate(plan):
        output = output_root(project, item.parameters) / project.relative(item.notebook)
        inputs = cache.static_inputs(project, item.notebook, item.parameters, KERNEL)
        stale = cache.stale_reason(project, item.notebook, inputs, output, item.parameters)
        reason = "forced" if force else stale
        if stale is not None and stale.startswith(cache.DAMAGED):
            notes.append(f"{project.relative(item.notebook).as_posix()}: {stale}; executed again")
        if reason is None:
            outcomes[index] = _cached(project, item, output)
            if progress:
                progress(outcomes[index], len(outcomes), len(plan))
        else:
            key = f"{index}:{project.relative(item.notebook).as_posix()}"
            pending[key] = (index, item, inputs, reason)
    if pending:
        check_kernel()  # before any kernel starts; a run served from the cache needs none
        outcomes.update(_execute(project, pending, plan, jobs, executor, progress, outcomes))
    result = RunResult([outcomes[i] for i in range(len(plan))], time.perf_counter() - started)
    result.notes = notes
    result.notes += _write_manifests(project, result, plan)
    eviction = retention.evict(project, {cache.parameters_digest(p.parameters) for p in plan})
    if eviction is not None:
        result.notes.append(eviction.note())
    return result


def _execute(
    project: Project,
    pending: dict[str, tuple[int, Planned, dict[str, Any], str]],
    plan: list[Planned],
    jobs: int | None,
    executor: Executor | None,
    progress: Progress | None,
    done: dict[int, Outcome],
) -> dict[int, Outcome]:
    from cloudpad.pipeline.executors.local import ProcessPoolExecutor

    own = executor is None
    runner = executor if executor is not None else ProcessPoolExecutor(jobs)
    job_list = [make_job(project, item, key) for key, (_, item, _, _) in pending.items()]
    finished: dict[int, Outcome] = {}
    try:
        for result in runner.run(job_list):
            if result.id not in pending:
                raise RuntimeError(f"executor returned a result for unknown job {result.id!r}")
            index, item, inputs, reason = pending[result.id]
            finished[index] = _finish(project, item, result, inputs, reason)
            if progress:
                progress(finished[index], len(done) + len(finished), len(plan))
    except BaseException:
        if hasattr(runner, "terminate"):
            runner.terminate()
        raise
    finally:
        if own:
            runner.close()
    return finished


def _write_manifests(project: Project, result: RunResult, plan: list[Planned]) -> list[str]:
    """The edition's manifest for runs without overrides; one per override set otherwise.

    Returns a note for each damaged manifest that was replaced.
    """
    order = [project.relative(p).as_posix() for p in _toc_notebooks(project)]
    groups: dict[str, list[Outcome]] = {}
    for outcome in result.outcomes:
        groups.setdefault(cache.parameters_digest(outcome.parameters), []).append(outcome)
    notes = []
    for digest, outcomes in groups.items():
        path = project.runs_dir / digest / "manifest.json" if digest else project.manifest_path
        name = project.relative(path).as_posix()
        run = RunResult(outcomes, result.elapsed_s)
        note = manifest.write(path, run, project.data_dir, order, name)
        if note:
            notes.append(note)
    return notes


def _toc_notebooks(project: Project) -> list[Path]:
    try:
        return project.notebooks()
    except CloudpadError:  # a broken toc was reported when the plan was made
        return []


def _outputs(text: str) -> list[Any]:
    """Each code cell's outputs, without the timing metadata Papermill adds."""
    import nbformat

    nb = nbformat.reads(text, as_version=4)
    return [cell.get("outputs", []) for cell in nb.cells if cell.cell_type == "code"]


def check_deterministic(project: Project, plan: list[Planned], executor: Executor) -> list[str]:
    """Execute every planned notebook again; name each cell whose outputs differ.

    Compares with the executed copies the run just wrote (nothing is written or
    cached by the second execution).  Returns one line per notebook that
    changed: ``notebook: cell N (In [k]) output differs between two runs``.
    """
    problems = []
    jobs = [make_job(project, item, str(i)) for i, item in enumerate(plan)]
    for result in executor.run(jobs):
        item = plan[int(result.id)]
        rel = project.relative(item.notebook)
        first = (output_root(project, item.parameters) / rel).read_text(encoding="utf-8")
        if not result.ok:
            problems.append(f"{rel}: failed on the second run: {result.failure.headline()}")
            continue
        code_cells = [i for i, c in enumerate(_cells(first)) if c.cell_type == "code"]
        for index, (a, b) in enumerate(
            zip(_outputs(first), _outputs(result.executed), strict=False)
        ):
            if a != b:
                cell = code_cells[index] + 1
                problems.append(f"{rel}: cell {cell} output differs between two runs")
                break
    return problems


def _cells(text: str) -> list[Any]:
    import nbformat

    return nbformat.reads(text, as_version=4).cells


def default_jobs() -> int:
    """Notebooks executed at once by default: the machine's cores."""
    return os.cpu_count() or 1
