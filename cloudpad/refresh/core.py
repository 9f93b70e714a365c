"""Refresh datasets from their sources: fetch, compare, check, validate, write, record.

:data:`DATASETS` says which datasets are refreshable and from which adapters;
the others are curated by hand (SLA pages, DORA levels, published GC figures,
regions, authored examples) and keep their ``retrieved`` date and
``valid_for_days`` in the descriptor.

For each dataset :func:`refresh` runs every adapter of the dataset.  A part
whose source fails keeps its old rows and is reported **not refreshed** with
the reason; a part whose source is unchanged (same version, commit or ETag, or
the same values) keeps its old rows and is **confirmed**.  When some part has
new values, the new file is checked (:mod:`cloudpad.refresh.gates`, plus the
references the articles rely on: every Azure region of the round trips has
coordinates in ``cloud_regions``, every AWS type priced has ENI limits),
validated against its schema by :func:`cloudpad.data.load` in a scratch folder,
and only then written, with its descriptor entry and the package version
(:mod:`cloudpad.refresh.descriptor`).  A refused dataset keeps its file byte
for byte and its parts keep their last state, so the change is proposed again
next time.  The status of every dataset tried goes to ``refresh-status.json``
(:mod:`cloudpad.refresh.status`).
"""

from __future__ import annotations

import copy
import datetime as dt
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from cloudpad import data
from cloudpad.exceptions import CloudpadError, DataError
from cloudpad.files import write_atomic
from cloudpad.refresh import (
    aws_prices,
    azure_prices,
    azure_rtt,
    descriptor,
    eks_eni,
    gates,
    gcp_prices,
    status,
)
from cloudpad.refresh.base import Context, Fetched
from cloudpad.refresh.http import Client

Row = dict[str, str]


@dataclass(frozen=True)
class Dataset:
    """A refreshable dataset: its adapters and how its rows are compared."""

    name: str
    adapters: tuple[ModuleType, ...]
    values: tuple[str, ...]  # columns checked for a move of more than 3x
    part_column: str | None = None  # the column naming each adapter's part
    provenance: tuple[str, ...] = ()  # columns saying where/when, not what
    retrieved_column: str | None = None  # the resource's date is the oldest of this column


#: Refreshable datasets, in the order they are refreshed (ENI limits before the prices
#: whose AWS types need them).
DATASETS: dict[str, Dataset] = {
    d.name: d
    for d in (
        Dataset("eks_eni_limits", (eks_eni,), ("max_enis", "ipv4_per_eni")),
        Dataset(
            "instance_prices",
            (aws_prices, azure_prices, gcp_prices),
            ("price_per_hour_usd",),
            part_column="provider",
            provenance=("source", "retrieved"),
            retrieved_column="retrieved",
        ),
        Dataset("azure_rtt_p95_ms", (azure_rtt,), ("rtt_p95_ms",)),
    )
}


@dataclass
class PartResult:
    """What one adapter did: ``status`` is refreshed, unchanged or not refreshed."""

    part: str
    status: str
    reason: str = ""
    note: str = ""
    url: str = ""


@dataclass
class DatasetResult:
    """What the refresh did to one dataset."""

    name: str
    status: str  # one of status.STATUSES
    reason: str = ""
    parts: list[PartResult] = field(default_factory=list)
    changes: gates.Changes = field(default_factory=lambda: gates.Changes(0, 0, 0))
    rows_before: int = 0
    rows_after: int = 0
    written: bool = False

    @property
    def ok(self) -> bool:
        return self.status in ("refreshed", "unchanged")

    def sentence(self) -> str:
        """One sentence for the command line and the report."""
        if self.status == "refreshed":
            c = self.changes
            return (
                f"{self.name}: refreshed: {c.added} rows added, {c.removed} removed, {c.changed} "
                f"changed ({self.rows_before} -> {self.rows_after} rows)"
            )
        if self.status == "unchanged":
            return f"{self.name}: unchanged: " + "; ".join(
                f"{p.part}: {p.note}" if p.part != "all" else p.note for p in self.parts if p.note
            )
        if self.status == "partly refreshed":
            c = self.changes
            return (
                f"{self.name}: partly refreshed ({c.added} added, {c.removed} removed, "
                f"{c.changed} changed); not refreshed: {self.reason}"
            )
        return f"{self.name}: {self.status}, the file is kept as it was: {self.reason}"


def refreshable(names: Sequence[str]) -> list[Dataset]:
    """The datasets named (all refreshable ones when none), in refresh order.

    :class:`DataError` naming a name that is not a refreshable dataset.
    """
    for name in names:
        if name not in DATASETS:
            raise DataError(
                f"dataset {name!r} cannot be refreshed: the refreshable datasets are "
                f"{', '.join(DATASETS)}; the others are curated by hand (see data/README.md)"
            )
    return [d for d in DATASETS.values() if not names or d.name in names]


def _part_of(dataset: Dataset, adapter: ModuleType, row: Row) -> bool:
    return dataset.part_column is None or row[dataset.part_column] == adapter.PART


def _fetch(adapter: ModuleType, ctx: Context) -> Fetched | str:
    """The adapter's result, or why its source could not be used (one sentence)."""
    try:
        return adapter.fetch(ctx)
    except CloudpadError as exc:  # SourceError, or a curated table that fails to load
        return str(exc).rstrip(".")
    except (KeyError, TypeError, ValueError, AttributeError) as exc:  # an answer of another shape
        return f"the answer has an unexpected shape ({type(exc).__name__}: {exc})"


def _references(dataset: Dataset, rows: Sequence[Row], folder: Path) -> list[gates.Problem]:
    """Problems the articles would hit: regions without coordinates, types without ENI limits."""
    if dataset.name == "azure_rtt_p95_ms":
        regions = data.load("cloud_regions", folder).query("provider == 'azure'")
        known = set(regions["display_name"])
        names = {r["source_region"] for r in rows} | {r["destination_region"] for r in rows}
        unknown = sorted(names - known)
        if unknown:
            return [
                gates.Problem(
                    "reference",
                    f"regions without coordinates in cloud_regions: {', '.join(unknown[:10])} "
                    "(add them there first; the placement article joins the two)",
                    False,
                )
            ]
    if dataset.name == "instance_prices":
        limits = set(data.load("eks_eni_limits", folder)["instance_type"])
        aws = sorted({r["instance_type"] for r in rows if r["provider"] == "aws"} - limits)
        if aws:
            return [
                gates.Problem(
                    "reference",
                    f"AWS types without ENI limits in eks_eni_limits: {', '.join(aws)} "
                    "(refresh eks_eni_limits first; the Kubernetes article needs them)",
                    False,
                )
            ]
    return []


def _validate(name: str, desc: Mapping[str, Any], file_name: str, text: str) -> str | None:
    """None if ``text`` passes :func:`cloudpad.data.load` with ``desc``; else the error."""
    with tempfile.TemporaryDirectory(prefix="cloudpad-refresh-") as tmp:
        (Path(tmp) / data.DESCRIPTOR).write_text(descriptor.descriptor_text(desc), encoding="utf-8")
        (Path(tmp) / file_name).write_text(text, encoding="utf-8", newline="")
        try:
            data.load(name, tmp)
        except DataError as exc:
            return str(exc).replace(tmp, "data").replace("\n", " ")
    return None


@dataclass
class Refresh:
    """One refresh of a data folder (see :func:`refresh`)."""

    folder: Path
    client: Client
    today: dt.date
    now: dt.datetime
    env: Mapping[str, str]
    accept_large_change: bool = False
    desc: dict[str, Any] = field(init=False)
    state: dict[str, Any] = field(init=False)
    bumped: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        self.desc = data.read_descriptor(self.folder)
        self.state = status.load(self.folder)

    def dataset(self, dataset: Dataset) -> DatasetResult:
        res = descriptor.resource(self.desc, dataset.name)
        fields = [f["name"] for f in res["schema"]["fields"]]
        key = res["schema"].get("primaryKey") or fields
        key = [key] if isinstance(key, str) else list(key)
        file = self.folder / res["path"]
        old_text = file.read_text(encoding="utf-8") if file.exists() else ""
        _header, old = descriptor.read_rows(file)
        entry = self.state["datasets"].setdefault(dataset.name, {})
        part_state = entry.setdefault("parts", {})
        result = DatasetResult(dataset.name, "unchanged", rows_before=len(old), rows_after=len(old))
        new_parts: dict[str, list[Row]] = {}
        fresh: dict[str, Fetched] = {}
        for adapter in dataset.adapters:
            before = [r for r in old if _part_of(dataset, adapter, r)]
            ctx = Context(
                self.client, self.folder, self.today, self.now,
                dict(part_state.get(adapter.PART, {}).get("state", {})), self.env,
            )  # fmt: skip
            got = _fetch(adapter, ctx)
            if isinstance(got, str):
                result.parts.append(PartResult(adapter.PART, "not refreshed", reason=got))
                continue
            url = got.source.path
            same = got.unchanged or (
                len(got.rows or []) == len(before)
                and gates.changes(before, got.rows or [], key, dataset.provenance).any is False
            )
            if same:
                result.parts.append(PartResult(adapter.PART, "unchanged", note=got.note, url=url))
            else:
                result.parts.append(PartResult(adapter.PART, "refreshed", note=got.note, url=url))
                new_parts[adapter.PART] = list(got.rows or [])
            fresh[adapter.PART] = got
        failed = [p for p in result.parts if p.status == "not refreshed"]
        if new_parts:
            self._propose(dataset, res, fields, key, file, old, old_text, new_parts, fresh, result)
        if result.status in ("unchanged", "refreshed") and failed:
            reason = "; ".join(
                (f"{p.part}: " if p.part != "all" else "") + p.reason for p in failed
            )
            if result.status == "refreshed":
                result.status, result.reason = "partly refreshed", reason
            else:
                result.status, result.reason = "not refreshed", reason
        self._record(dataset, result, fresh)
        return result

    def _propose(
        self,
        dataset: Dataset,
        res: dict[str, Any],
        fields: list[str],
        key: list[str],
        file: Path,
        old: list[Row],
        old_text: str,
        new_parts: dict[str, list[Row]],
        fresh: dict[str, Fetched],
        result: DatasetResult,
    ) -> None:
        """Check, validate and write the dataset with ``new_parts`` in place of the old ones."""
        order = [a.PART for a in dataset.adapters]
        rows: list[Row] = []
        for part in order:
            adapter = next(a for a in dataset.adapters if a.PART == part)
            rows += new_parts.get(part) or [r for r in old if _part_of(dataset, adapter, r)]
        rows += [r for r in old if dataset.part_column and r[dataset.part_column] not in order]
        if dataset.part_column:  # keep the file's order of parts
            first = {r[dataset.part_column]: i for i, r in reversed(list(enumerate(old)))}
            rows.sort(key=lambda r: first.get(r[dataset.part_column], len(old)))
        problems = gates.check(
            old, rows, fields=fields, key=key, values=dataset.values,
            part_column=dataset.part_column,
        )  # fmt: skip
        if not any(p.rule == "columns" for p in problems):
            problems += _references(dataset, rows, self.folder)
        blocking = [p for p in problems if not (p.overridable and self.accept_large_change)]
        result.changes = gates.changes(old, rows, key, dataset.provenance)
        if blocking:
            result.status = "refused"
            result.reason = "; ".join(p.text for p in blocking) + (
                " (review, then --accept-large-change to write it)"
                if all(p.overridable for p in blocking)
                else ""
            )
            self._refuse(result)
            return
        text = descriptor.csv_text(fields, rows)
        candidate = descriptor.resource(self.desc, dataset.name)
        retrieved = self.today
        if dataset.retrieved_column:
            retrieved = min(dt.date.fromisoformat(r[dataset.retrieved_column]) for r in rows)
        sources = [fresh[p].source.entry() for p in order if p in new_parts]
        supersedes = [s for a in dataset.adapters if a.PART in new_parts for s in a.SUPERSEDES]
        backup = copy.deepcopy(self.desc)
        descriptor.update_resource(
            candidate, retrieved=retrieved, digest=descriptor.sha256(text), sources=sources,
            supersedes=supersedes,
        )  # fmt: skip
        invalid = _validate(dataset.name, self.desc, res["path"], text)
        if invalid:
            self.desc = backup
            result.status, result.reason = "refused", f"the new file fails its schema: {invalid}"
            self._refuse(result)
            return
        result.rows_after = len(rows)
        result.status = "refreshed"
        if text != old_text:  # the file, then at once its descriptor (the hash must match)
            if not self.bumped:
                self.desc["version"] = descriptor.next_version(self.desc.get("version"), self.today)
                self.bumped = True
            write_atomic(file, text)
            write_atomic(self.folder / data.DESCRIPTOR, descriptor.descriptor_text(self.desc))
            result.written = True
        else:
            self.desc = backup

    def _refuse(self, result: DatasetResult) -> None:
        """A refused dataset: the parts that had new rows are reported as refused."""
        for part in result.parts:
            if part.status == "refreshed":
                part.status, part.reason = "refused", result.reason

    def _record(self, dataset: Dataset, result: DatasetResult, fresh: dict[str, Fetched]) -> None:
        entry = self.state["datasets"][dataset.name]
        entry.update(checked=self.today.isoformat(), status=result.status)
        entry.pop("reason", None)
        if result.reason:
            entry["reason"] = result.reason
        if result.written:
            c = result.changes
            entry["changes"] = {
                "date": self.today.isoformat(), "added": c.added, "removed": c.removed,
                "changed": c.changed,
            }  # fmt: skip
        parts = entry["parts"]
        for part in result.parts:
            item = parts.setdefault(part.part, {})
            item.update(status=part.status, checked=self.today.isoformat())
            item.pop("reason", None)
            if part.reason:
                item["reason"] = part.reason
            if part.status in ("refreshed", "unchanged"):
                item["confirmed"] = self.today.isoformat()
                item["url"] = part.url
                item["state"] = {k: v for k, v in fresh[part.part].state.items() if v is not None}

    def finish(self) -> None:
        """Write the refresh status of every dataset tried."""
        status.save(self.folder, self.state)


def refresh(
    names: Sequence[str] = (),
    *,
    data_dir: Path | None = None,
    client: Client | None = None,
    today: dt.date | None = None,
    now: dt.datetime | None = None,
    env: Mapping[str, str] | None = None,
    accept_large_change: bool = False,
) -> list[DatasetResult]:
    """Refresh the datasets ``names`` (default: every refreshable one) in ``data_dir``.

    ``today`` dates the rows and the descriptor (default: the UTC date), ``now``
    is the instant prices are resolved at (default: the current UTC time),
    ``env`` the environment read for keys (default: ``os.environ``).  Returns one
    :class:`DatasetResult` per dataset, in refresh order.
    """
    import os

    folder = data.data_folder(data_dir)
    datasets = refreshable(list(names))
    now = now or dt.datetime.now(dt.UTC)
    run = Refresh(
        folder,
        client or Client(),
        today or now.date(),
        now,
        os.environ if env is None else env,
        accept_large_change,
    )
    try:
        results = [run.dataset(d) for d in datasets]
    finally:
        if client is None:
            run.client.close()
    run.finish()
    return results
