"""What a run produced: per notebook an :class:`Outcome`, for the run a :class:`RunResult`.

Outcomes are plain data (JSON-serialisable through :func:`dataclasses.asdict`):
the run manifest, the generated pages and the command line read them, and
nothing downstream reads cache internals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Lines of traceback kept per failure.
TRACEBACK_LINES = 12
#: Exceptions that mean the input was refused with a message of its own (no traceback needed).
INPUT_ERRORS: frozenset[str] = frozenset({"ParameterError", "DataError", "InputError"})


@dataclass
class Failure:
    """Where and how a notebook failed."""

    cell: int | None  # 1-based position among all cells of the executed notebook
    execution_count: int | None
    exception: str
    message: str
    traceback: list[str] = field(default_factory=list)

    @property
    def refused_input(self) -> bool:
        """The notebook refused its input (a parameter, a data file) with its own message."""
        return self.exception in INPUT_ERRORS

    def headline(self) -> str:
        """``cell 4 (In [3]): ValueError: ...`` — one line naming the cell and the error."""
        where = "before any cell ran" if self.cell is None else f"cell {self.cell}"
        if self.execution_count is not None:
            where += f" (In [{self.execution_count}])"
        return f"{where}: {self.exception}: {self.message}"


@dataclass
class Outcome:
    """What happened to one notebook in a run.

    ``status`` is ``"executed"``, ``"cached"`` or ``"failed"``; ``dependencies``
    maps each file the kernel read (project-relative when inside the project) to
    its SHA-256 and each library it imported (``package:<name>``) to its
    version; ``key_results`` are the values the notebook published (glued),
    ``figures`` the names of the figures it glued.
    """

    notebook: str  # relative to the project root
    status: str
    duration_s: float
    executed_at: str
    reason: str  # why it was executed, or "unchanged" for a cache hit
    output: str  # the executed notebook, relative to the project root
    log: str = ""
    failure: Failure | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    dependencies: dict[str, str] = field(default_factory=dict)
    key_results: dict[str, Any] = field(default_factory=dict)
    figures: list[str] = field(default_factory=list)
    # What the result depends on besides its dependencies: the code cells' digest ("code"),
    # the parameters, "python", "kernel" (cache.static_inputs).
    inputs: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Outcome:
        """The inverse of :func:`dataclasses.asdict` (for manifests read back from JSON)."""
        data = dict(data)
        failure = data.pop("failure", None)
        return cls(**data, failure=Failure(**failure) if failure else None)


@dataclass
class RunResult:
    """All outcomes of a run, in the order the notebooks were given."""

    outcomes: list[Outcome]
    elapsed_s: float
    nondeterministic: list[str] = field(default_factory=list)  # from --check-deterministic
    # What the user is told once: a damaged cache record or manifest replaced, runs evicted.
    notes: list[str] = field(default_factory=list)

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


def failure_report(result: RunResult, verbose: bool = False) -> str:
    """A plain-text report of every failure: notebook, cell, exception, traceback tail, files.

    Refused input (a parameter or data file the notebook rejected) is one
    sentence; its traceback is shown only when ``verbose``.
    """
    blocks = []
    for o in result.failed:
        assert o.failure is not None
        if o.failure.refused_input and not verbose:
            blocks.append(f"REFUSED {o.notebook}, {o.failure.headline()}")
            continue
        lines = [f"FAILED {o.notebook}, {o.failure.headline()}"]
        lines += ["    " + line for line in o.failure.traceback]
        lines.append(f"    executed notebook kept for inspection: {o.output}")
        if o.log:
            lines.append(f"    kernel log: {o.log}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
