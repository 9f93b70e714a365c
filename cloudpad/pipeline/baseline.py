"""The edition baseline: the key results a reviewer accepted, and what moved since.

``results/baseline.json`` is committed with the book.  ``cloudpad accept``
writes it from the latest edition run (``_build/manifest.json``), ``cloudpad
diff`` and the generated page "What changed in this edition" compare the latest
run with it, and :func:`unexplained_drift` is the test that fails when a number
moved although nothing behind it changed.  Format ``cloudpad-baseline/1``::

    {
      "format": "cloudpad-baseline/1",
      "accepted_at": "2026-11-26T15:00:00+00:00",     # UTC, when it was accepted
      "default_tolerance": 0.001,                    # for results new to the baseline
      "data_package": {"name": "...", "version": "..."},
      "notebooks": {
        "notebooks/part/article.ipynb": {
          "parameters": {"fanout": 100, ...},        # every parameter's value in that run
          "code": "<sha256>",                        # code cells but the parameters cell
          "environment": {"python": "3.11.7", "kernel": "python3"},
          "dependencies": {"data/x.csv": "<sha256>", "cloudpad/models/y.py": "<sha256>",
                           "package:numpy": "2.3.4", ...},   # libraries by version
          "results": {"replicas_needed": {"value": 7, "tolerance": 0.001}, ...}
        }
      }
    }

A result *moved* when a number changed by more than its relative
``tolerance`` (``|new - old| > tolerance * |old|``; from 0 any change counts),
or any other value (text, a flag) is no longer equal.  Edit a result's
``tolerance`` by hand to loosen or tighten it; ``accept`` keeps it.

What can explain a move, per article: its code cells, its parameters (the
values in the parameters cell and any override), the files its kernel read
(data resources, by dataset name; ``cloudpad`` modules), the libraries its
kernel imported (by version), Python and the kernel.  A move with none of those
changed is *unexplained*: a hidden input or nondeterminism.  (Baselines
accepted before libraries were tracked hold a ``requirements`` hash in
``environment``; it is no longer compared.)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cloudpad.exceptions import CloudpadError, StateFileError
from cloudpad.files import write_atomic
from cloudpad.pipeline import distributions, manifest, notebooks, statefiles
from cloudpad.pipeline.outcomes import Outcome
from cloudpad.pipeline.project import Project

FORMAT = statefiles.format_tag("baseline", 1)
#: Relative tolerance of a result that has none of its own (0.1 %).
DEFAULT_TOLERANCE = 0.001
#: The baseline's place in the book.
BASELINE_FILE = Path("results") / "baseline.json"
#: Parts of a run's environment that can move a result (see ``cache.static_inputs``).
ENVIRONMENT_KEYS: tuple[str, ...] = ("python", "kernel")
#: The data package descriptor, which ``cloudpad.data.load`` reads for every dataset.
DESCRIPTOR = "data/datapackage.json"


class EditionError(CloudpadError):
    """No run to compare or accept, a failed run, or an unreadable baseline (says which)."""


def baseline_path(project: Project) -> Path:
    """``results/baseline.json`` of ``project``."""
    return project.root / BASELINE_FILE


def load(project: Project) -> dict[str, Any] | None:
    """The committed baseline, or ``None`` when there is none.

    A baseline that cannot be read as one is refused (:class:`StateFileError`)
    naming the file and the line and column of a JSON error, or the article and
    result whose entry is wrong, or the format found; nothing but a successful
    ``accept`` ever writes the file, and ``accept`` refuses while it is damaged.
    """
    path = baseline_path(project)
    name = BASELINE_FILE.as_posix()
    try:
        data = statefiles.read_json(path, name)
        check(name, data)
    except FileNotFoundError:
        return None
    except StateFileError as exc:
        raise StateFileError(
            f"{exc}; fix it by hand or restore it (git checkout {name}): `cloudpad accept` "
            "does not replace a baseline it cannot read"
        ) from None
    except OSError as exc:
        raise StateFileError(f"{name}: cannot be read: {exc.strerror or exc}") from None
    return data


#: The baseline's fields, an article's, and a result's (``format`` and ``notebooks`` required).
FIELDS: dict[str, Any] = {
    "format": str,
    "accepted_at": str,
    "default_tolerance": float,
    "data_package": dict[str, Any],
    "notebooks": dict[str, Any],
}
ARTICLE_FIELDS: dict[str, Any] = {
    "parameters": dict[str, Any],
    "code": str | None,
    "environment": dict[str, str],
    "dependencies": dict[str, str],
    "results": dict[str, Any],
}
RESULT_FIELDS: dict[str, Any] = {"value": Any, "tolerance": float}


def check(name: str, data: Any) -> None:
    """Refuse a baseline of another format or shape, naming the article and result at fault."""
    statefiles.check_format(name, data, FORMAT)
    statefiles.check_fields(name, "the baseline", data, FIELDS, {"format", "notebooks"})
    _check_tolerance(name, "default_tolerance", data.get("default_tolerance", DEFAULT_TOLERANCE))
    for notebook, entry in data["notebooks"].items():
        statefiles.check_fields(name, f"article {notebook}", entry, ARTICLE_FIELDS, {"results"})
        for result, item in entry["results"].items():
            where = f"result {result!r} of {notebook}"
            statefiles.check_fields(name, where, item, RESULT_FIELDS, {"value"})
            _check_tolerance(name, f"{where}: tolerance", item.get("tolerance", 0.0))


def _check_tolerance(name: str, where: str, value: float) -> None:
    if not (math.isfinite(value) and value >= 0):
        raise StateFileError(f"{name}: {where} must be a number >= 0, got {value!r}")


# --- values and tolerances -----------------------------------------------------------


def is_number(value: Any) -> bool:
    """An int or float result (a bool is a flag, not a number)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def moved(old: Any, new: Any, tolerance: float) -> bool:
    """Whether a result moved from ``old`` to ``new`` beyond its relative ``tolerance``."""
    if is_number(old) and is_number(new):
        if math.isnan(old) or math.isnan(new):
            return not (math.isnan(old) and math.isnan(new))
        if math.isinf(old) or math.isinf(new):
            return old != new
        return abs(new - old) > tolerance * abs(old)
    return type(old) is not type(new) or old != new


# --- the inputs of one result -------------------------------------------------------


def code_digest(executed: Path) -> str | None:
    """SHA-256 of an executed notebook's code cells but its parameters cells (None: unreadable).

    Leaving out the ``parameters`` cell and Papermill's ``injected-parameters``
    cell makes a changed default show as a changed parameter, not as changed code.
    """
    try:
        nb = notebooks.read(executed, mutable=False)
    except (OSError, ValueError):
        return None
    digest = hashlib.sha256()
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if cell.cell_type == "code" and not {"parameters", "injected-parameters"} & set(tags):
            digest.update(cell.source.encode("utf-8") + b"\x00")
    return digest.hexdigest()


def effective_parameters(executed: Path, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Every parameter's value in a run: the executed notebook's defaults, then the overrides."""
    from cloudpad.pipeline.parameters import notebook_parameters

    try:
        defaults = {n: p.default for n, p in notebook_parameters(executed).items()}
    except (CloudpadError, OSError, ValueError):  # an unreadable copy: the overrides only
        defaults = {}
    return {**defaults, **overrides}


def _package_dir(project: Project, paths: list[Path]) -> Path:
    """The ``cloudpad`` package folder the kernel imported, from the files it recorded.

    The audit hook always records the package's ``__init__.py`` and
    ``pipeline/tracking.py`` (:mod:`.tracking`); without them, this process's package.
    """
    found = set(paths)
    for path in paths:
        folder = path.parent
        if path.name == "__init__.py" and folder / "pipeline" / "tracking.py" in found:
            return folder
    import cloudpad

    return Path(cloudpad.__file__).resolve().parent


def normalise_dependencies(project: Project, dependencies: Mapping[str, str]) -> dict[str, str]:
    """Dependency paths in one form, wherever the book, its data and ``cloudpad`` are.

    Files of the data folder become ``data/<file>`` (also with ``CLOUDPAD_DATA_DIR``),
    files of the ``cloudpad`` package ``cloudpad/<module path>`` (also when the
    package is installed outside the book); other paths stay as recorded.
    """
    paths = {
        dep: (Path(dep) if Path(dep).is_absolute() else project.root / dep).resolve()
        for dep in dependencies
    }
    folders = (
        (project.data_dir.resolve(), "data/"),
        (_package_dir(project, list(paths.values())), "cloudpad/"),
    )
    out = {}
    for dep, digest in dependencies.items():
        key = dep
        if distributions.package_name(dep) is not None:  # a library, by version
            out[key] = digest
            continue
        for folder, prefix in folders:
            if paths[dep].is_relative_to(folder):
                key = prefix + paths[dep].relative_to(folder).as_posix()
                break
        out[key] = digest
    return dict(sorted(out.items()))


def dataset_names(project: Project) -> dict[str, str]:
    """``data/<file>`` -> dataset name, from the data package descriptor ({} if unreadable)."""
    from cloudpad.data import read_descriptor

    try:
        resources = read_descriptor(project.data_dir)["resources"]
    except CloudpadError:
        return {}
    return {f"data/{res.get('path')}": res["name"] for res in resources if res.get("path")}


@dataclass
class Inputs:
    """What one article's results depended on in one run."""

    parameters: dict[str, Any]
    code: str | None
    environment: dict[str, str]
    dependencies: dict[str, str]

    @classmethod
    def of(cls, project: Project, outcome: Outcome) -> Inputs:
        executed = project.root / outcome.output
        return cls(
            parameters=effective_parameters(executed, outcome.parameters),
            code=code_digest(executed),
            environment={
                k: str(outcome.inputs[k]) for k in ENVIRONMENT_KEYS if k in outcome.inputs
            },
            dependencies=normalise_dependencies(project, outcome.dependencies),
        )

    @classmethod
    def from_entry(cls, entry: Mapping[str, Any]) -> Inputs:
        return cls(
            parameters=dict(entry.get("parameters") or {}),
            code=entry.get("code"),
            environment=dict(entry.get("environment") or {}),
            dependencies=dict(entry.get("dependencies") or {}),
        )


# --- the comparison ------------------------------------------------------------------


@dataclass(frozen=True)
class ResultChange:
    """One key result that moved: ``kind`` is "changed", "added" or "removed"."""

    name: str
    kind: str
    old: Any = None
    new: Any = None
    tolerance: float = DEFAULT_TOLERANCE

    @property
    def relative(self) -> float | None:
        """``(new - old) / |old|`` for a changed number (None otherwise, or from 0)."""
        if self.kind != "changed" or not (is_number(self.old) and is_number(self.new)):
            return None
        if self.old == 0 or not (math.isfinite(self.old) and math.isfinite(self.new)):
            return None
        return (self.new - self.old) / abs(self.old)


@dataclass(frozen=True)
class InputChange:
    """One input that changed between the baseline and this run.

    ``kind``: "code", "parameter", "dataset", "descriptor", "module", "file" or
    "environment"; ``change``: "changed", "added" (newly read or set) or
    "removed" (no longer read).
    """

    kind: str
    name: str
    change: str = "changed"
    old: Any = None
    new: Any = None
    path: str = ""

    def describe(self) -> str:
        """One line for a reader, e.g. ``dataset prices (data/prices.csv) changed``."""
        if self.kind == "code":
            return "the article's code changed"
        if self.kind == "parameter":
            if self.change == "changed":
                return f"parameter {self.name}: {self.old!r} → {self.new!r}"
            return f"parameter {self.name} {self.change}"
        if self.kind == "environment":
            return f"{self.name}: {self.old} → {self.new}"
        if self.kind == "package":
            if self.change == "changed":
                return f"{self.name} {self.old} → {self.new}"
            if self.change == "added":
                return f"{self.name} {self.new} newly imported"
            return f"{self.name} no longer imported"
        label = {
            "dataset": f"dataset {self.name} ({self.path})",
            "descriptor": f"data package descriptor ({self.path})",
            "module": f"module {self.name}",
        }.get(self.kind, f"file {self.path}")
        verb = {"added": "newly read", "removed": "no longer read"}.get(self.change, "changed")
        return f"{label} {verb}"


@dataclass
class ArticleDiff:
    """One article compared with the baseline.

    ``state``: "compared", "new" (not in the baseline), "missing" (in the
    baseline, not in this run) or "failed" (this run failed).
    """

    notebook: str
    state: str
    results: list[ResultChange] = field(default_factory=list)
    inputs: list[InputChange] = field(default_factory=list)
    unchanged: int = 0  # results within tolerance

    @property
    def drifted(self) -> bool:
        """Something differs from the accepted edition."""
        return self.state != "compared" or bool(self.results)

    @property
    def unexplained(self) -> bool:
        """Results moved while none of the article's inputs changed."""
        return self.state == "compared" and bool(self.results) and not self.inputs


@dataclass
class EditionDiff:
    """The latest run compared with the baseline, article by article."""

    accepted_at: str
    baseline_data_package: dict[str, Any]
    data_package: dict[str, Any]
    articles: list[ArticleDiff]

    @property
    def drifted(self) -> bool:
        return any(a.drifted for a in self.articles)

    @property
    def changed(self) -> list[ArticleDiff]:
        """Articles whose results moved, appeared, went missing or failed."""
        return [a for a in self.articles if a.drifted]

    @property
    def inputs_only(self) -> list[ArticleDiff]:
        """Articles whose inputs changed while every result stayed within its tolerance."""
        return [a for a in self.articles if not a.drifted and a.inputs]


def _module_name(path: str) -> str | None:
    if not (path.startswith("cloudpad/") and path.endswith(".py")):
        return None
    parts = path.removesuffix(".py").split("/")
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _dependency_change(
    path: str, change: str, datasets: Mapping[str, str], old: Any = None, new: Any = None
) -> InputChange:
    package = distributions.package_name(path)
    if package is not None:
        return InputChange("package", package, change, old, new, path=path)
    if path == DESCRIPTOR:
        return InputChange("descriptor", "datapackage.json", change, path=path)
    if path in datasets:
        return InputChange("dataset", datasets[path], change, path=path)
    module = _module_name(path)
    if module:
        return InputChange("module", module, change, path=path)
    return InputChange("file", path, change, path=path)


def input_changes(
    old: Inputs, new: Inputs, datasets: Mapping[str, str] | None = None
) -> list[InputChange]:
    """Every input that differs between two runs of one article (``datasets``: path -> name)."""
    changes: list[InputChange] = []
    if old.code is not None and new.code is not None and old.code != new.code:
        changes.append(InputChange("code", "code"))
    for name in sorted(set(old.parameters) | set(new.parameters)):
        if name not in new.parameters:
            changes.append(InputChange("parameter", name, "removed", old.parameters[name]))
        elif name not in old.parameters:
            changes.append(InputChange("parameter", name, "added", None, new.parameters[name]))
        elif old.parameters[name] != new.parameters[name] or type(old.parameters[name]) is not type(
            new.parameters[name]
        ):
            changes.append(
                InputChange(
                    "parameter", name, "changed", old.parameters[name], new.parameters[name]
                )
            )
    for key in ENVIRONMENT_KEYS:
        before, after = old.environment.get(key), new.environment.get(key)
        if before is not None and after is not None and before != after:
            changes.append(InputChange("environment", key, "changed", before, after))
    for path in sorted(set(old.dependencies) | set(new.dependencies)):
        before, after = old.dependencies.get(path), new.dependencies.get(path)
        if before == after:
            continue
        change = "added" if before is None else "removed" if after is None else "changed"
        changes.append(_dependency_change(path, change, datasets or {}, before, after))
    return changes


def result_changes(
    accepted: Mapping[str, Mapping[str, Any]], current: Mapping[str, Any], default_tolerance: float
) -> tuple[list[ResultChange], int]:
    """Results that moved beyond tolerance, appeared or disappeared; and how many held."""
    changes: list[ResultChange] = []
    held = 0
    for name, entry in accepted.items():
        tolerance = float(entry.get("tolerance", default_tolerance))
        if name not in current:
            changes.append(ResultChange(name, "removed", entry.get("value"), None, tolerance))
        elif moved(entry.get("value"), current[name], tolerance):
            changes.append(
                ResultChange(name, "changed", entry.get("value"), current[name], tolerance)
            )
        else:
            held += 1
    for name, value in current.items():
        if name not in accepted:
            changes.append(ResultChange(name, "added", None, value, default_tolerance))
    return changes, held


def compare(
    baseline: Mapping[str, Any],
    current: Mapping[str, tuple[Outcome, Inputs]],
    *,
    datasets: Mapping[str, str] | None = None,
    data_package: Mapping[str, Any] | None = None,
    order: Sequence[str] = (),
) -> EditionDiff:
    """Compare ``current`` (notebook -> its outcome and inputs) with ``baseline``.

    Articles come in ``order`` (e.g. the toc), then any others by name.
    """
    accepted = baseline.get("notebooks") or {}
    default = float(baseline.get("default_tolerance", DEFAULT_TOLERANCE))
    names = list(dict.fromkeys([*order, *sorted(set(accepted) | set(current))]))
    articles = []
    for notebook in names:
        entry, now = accepted.get(notebook), current.get(notebook)
        if entry is None and now is None:
            continue
        if now is None:
            articles.append(ArticleDiff(notebook, "missing"))
            continue
        outcome, inputs = now
        if outcome.status == "failed":
            articles.append(ArticleDiff(notebook, "failed"))
            continue
        if entry is None:
            added = [
                ResultChange(n, "added", None, v, default) for n, v in outcome.key_results.items()
            ]
            articles.append(ArticleDiff(notebook, "new", added))
            continue
        results, held = result_changes(entry.get("results") or {}, outcome.key_results, default)
        changed_inputs = input_changes(Inputs.from_entry(entry), inputs, datasets)
        articles.append(ArticleDiff(notebook, "compared", results, changed_inputs, held))
    return EditionDiff(
        accepted_at=str(baseline.get("accepted_at", "")),
        baseline_data_package=dict(baseline.get("data_package") or {}),
        data_package=dict(data_package or {}),
        articles=articles,
    )


def unexplained_drift(
    baseline: Mapping[str, Any], current: Mapping[str, tuple[Outcome, Inputs]]
) -> list[tuple[str, ResultChange]]:
    """``(notebook, change)`` for every result that moved while none of its inputs changed.

    Inputs are the article's code, parameters, the files it read (data and
    ``cloudpad`` modules, by hash), the libraries its kernel imported (by
    version), Python and the kernel.
    An empty list means every move since the baseline has a reason.
    """
    found = []
    for article in compare(baseline, current).articles:
        if article.unexplained:
            found.extend((article.notebook, change) for change in article.results)
    return found


def project_drift(project: Project) -> list[tuple[str, ResultChange]]:
    """:func:`unexplained_drift` of the latest edition run against the committed baseline."""
    baseline = load(project)
    if baseline is None:
        raise EditionError(f"no baseline yet: {BASELINE_FILE} is missing; run `cloudpad accept`")
    outcomes = manifest.outcomes(latest_manifest(project))
    return unexplained_drift(baseline, current_run(project, outcomes))


def describe_drift(drift: Sequence[tuple[str, ResultChange]]) -> str:
    """One line per unexplained move, naming the article, the result and both values."""
    return "\n".join(
        f"{notebook}: {c.name} {c.kind}: accepted {c.old!r}, now {c.new!r} "
        "(no data file, parameter, model source or code behind it changed)"
        for notebook, c in drift
    )


# --- for readers ------------------------------------------------------------------------


def show(value: Any) -> str:
    """A result's value for a reader: thousands separators, six significant digits."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value == 0:
            return "0"
        if abs(value) >= 1e9 or abs(value) < 1e-3:
            return f"{value:.6g}"
        decimals = max(0, 5 - math.floor(math.log10(abs(value))))
        text = f"{value:,.{decimals}f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    return repr(value)


def change_text(change: ResultChange) -> str:
    """``+12.5 %``, ``added``, ``removed`` or ``changed``."""
    if change.kind != "changed":
        return change.kind
    rel = change.relative
    return "changed" if rel is None else f"{rel:+.2%}".replace("%", " %")


# --- the project: latest run, diff, accept -------------------------------------------


def _toc_order(project: Project) -> list[str] | None:
    try:
        return [project.relative(p).as_posix() for p in project.notebooks()]
    except CloudpadError:
        return None


def current_run(project: Project, outcomes: Sequence[Outcome]) -> dict[str, tuple[Outcome, Inputs]]:
    """The edition's outcomes (toc notebooks only, when the toc is readable) with their inputs."""
    toc = _toc_order(project)
    keep = set(toc) if toc is not None else None
    return {
        o.notebook: (o, Inputs.of(project, o))
        for o in outcomes
        if (keep is None or o.notebook in keep) and not o.parameters
    }


def latest_manifest(project: Project) -> dict[str, Any]:
    """The edition's manifest; :class:`EditionError` when there is none yet, or
    :class:`StateFileError` naming the file and what is wrong when it is damaged."""
    name = project.relative(project.manifest_path).as_posix()
    try:
        return manifest.read(project.manifest_path, name)
    except FileNotFoundError:
        raise EditionError(
            f"no edition run to compare: {name} is missing; run `cloudpad run` first"
        ) from None
    except StateFileError as exc:
        raise StateFileError(f"{exc}; `cloudpad run` writes a new one") from None
    except OSError as exc:
        raise StateFileError(f"{name}: cannot be read: {exc.strerror or exc}") from None


def compare_outcomes(
    project: Project, baseline: Mapping[str, Any], outcomes: Sequence[Outcome]
) -> EditionDiff:
    """``outcomes`` of an edition run compared with ``baseline`` (for the diff and the page)."""
    return compare(
        baseline,
        current_run(project, outcomes),
        datasets=dataset_names(project),
        data_package=manifest.data_package(project.data_dir),
        order=_toc_order(project) or (),
    )


def diff(project: Project) -> EditionDiff:
    """The latest edition run (``_build/manifest.json``) compared with the committed baseline.

    :class:`EditionError` when there is no run yet or no baseline.
    """
    data = latest_manifest(project)
    baseline = load(project)
    if baseline is None:
        raise EditionError(
            f"no baseline yet: {BASELINE_FILE} is missing; review the run, then `cloudpad accept`"
        )
    result = compare_outcomes(project, baseline, manifest.outcomes(data))
    result.data_package = dict(data.get("data_package") or {})
    return result


@dataclass
class Accepted:
    """What ``accept`` wrote."""

    path: Path
    notebooks: int
    results: int
    data_package: dict[str, Any]
    accepted_at: str
    previous: EditionDiff | None  # the run compared with the baseline it replaced


def build(
    project: Project, outcomes: Sequence[Outcome], previous: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The baseline of an edition run's ``outcomes``, keeping ``previous`` tolerances."""
    previous = previous or {}
    default = float(previous.get("default_tolerance", DEFAULT_TOLERANCE))
    old_notebooks = previous.get("notebooks") or {}
    notebooks = {}
    for notebook, (outcome, inputs) in current_run(project, outcomes).items():
        old_results = (old_notebooks.get(notebook) or {}).get("results") or {}
        results = {
            name: {
                "value": value,
                "tolerance": float((old_results.get(name) or {}).get("tolerance", default)),
            }
            for name, value in outcome.key_results.items()
        }
        notebooks[notebook] = {
            "parameters": inputs.parameters,
            "code": inputs.code,
            "environment": inputs.environment,
            "dependencies": inputs.dependencies,
            "results": results,
        }
    return {
        "format": FORMAT,
        "accepted_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "default_tolerance": default,
        "data_package": manifest.data_package(project.data_dir),
        "notebooks": notebooks,
    }


def accept(project: Project) -> Accepted:
    """Write ``results/baseline.json`` from the latest edition run.

    Refuses (:class:`EditionError`) when there is no run, when a notebook of the
    book failed in it or was never run.
    """
    data = latest_manifest(project)
    outcomes = manifest.outcomes(data)
    toc = _toc_order(project)
    edition = [o for o in outcomes if toc is None or o.notebook in toc]
    failed = [o.notebook for o in edition if o.status == "failed"]
    if failed:
        raise EditionError(
            f"not accepting a failed run: {', '.join(failed)} failed in the latest run; "
            "fix and `cloudpad run` again"
        )
    missing = sorted(set(toc or ()) - {o.notebook for o in edition})
    if missing:
        raise EditionError(
            f"not accepting a partial edition: {', '.join(missing)} not run yet; run `cloudpad run`"
        )
    previous = load(project)
    before = compare_outcomes(project, previous, edition) if previous else None
    baseline = build(project, edition, previous)
    baseline["data_package"] = data.get("data_package") or baseline["data_package"]
    path = baseline_path(project)
    write_atomic(path, json.dumps(baseline, indent=1, ensure_ascii=False) + "\n")
    return Accepted(
        path=path,
        notebooks=len(baseline["notebooks"]),
        results=sum(len(n["results"]) for n in baseline["notebooks"].values()),
        data_package=baseline["data_package"],
        accepted_at=baseline["accepted_at"],
        previous=before,
    )
