"""The refresh status of each dataset, ``data/refresh-status.json``, and how fresh each dataset is.

The refresh writes, per dataset it tried, when it last checked, the outcome and
(when not refreshed) the reason in one sentence, and per part (a provider of
``instance_prices``, or ``all``) the same plus what it needs to skip an unchanged
source next time (an offer version, a commit, ``ETag``, ``Last-Modified``) and
the date the source last **confirmed** the snapshot (it was read and found equal,
or it was written from it).  Format ``cloudpad-refresh-status/1``::

    {"format": "cloudpad-refresh-status/1",
     "datasets": {"instance_prices": {
         "checked": "2026-12-07", "status": "partly refreshed",
         "reason": "gcp: no API key: ...",
         "changes": {"date": "2026-12-07", "added": 18, "removed": 0, "changed": 3},
         "parts": {"aws": {"status": "unchanged", "checked": "2026-12-07",
                           "confirmed": "2026-12-07", "url": "...", "version": "..."}}}}}

The file sits beside ``datapackage.json`` but the articles never read it, so a
new status does not re-execute them.  The site reads it through :func:`freshness`:
a dataset is **current** while its retrieval date, or the last date every one of
its parts was confirmed, is within its ``valid_for_days``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cloudpad import data
from cloudpad.exceptions import DataError
from cloudpad.files import write_atomic

FILE = "refresh-status.json"
FORMAT = "cloudpad-refresh-status/1"
STATUSES = ("refreshed", "unchanged", "partly refreshed", "not refreshed", "refused")
#: The datasets ``cloudpad data refresh`` reads from their sources, and from where (the
#: adapters are in :data:`cloudpad.refresh.core.DATASETS`); the others are curated by hand.
REFRESHABLE = {
    "eks_eni_limits": "awslabs/amazon-eks-ami (nodeadm instance data)",
    "instance_prices": "AWS Price List bulk API, Azure Retail Prices API, Cloud Billing Catalog",
    "azure_rtt_p95_ms": "Microsoft Learn's latency page (MicrosoftDocs/azure-docs Markdown)",
}


def path(data_dir: Path) -> Path:
    return Path(data_dir) / FILE


def load(data_dir: Path) -> dict[str, Any]:
    """The status file (an empty one when there is none); :class:`DataError` if malformed."""
    file = path(data_dir)
    if not file.exists():
        return {"format": FORMAT, "datasets": {}}
    try:
        status = json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(f"{file}: not valid JSON at line {exc.lineno}: {exc.msg}") from None
    if not isinstance(status, dict) or status.get("format") != FORMAT:
        raise DataError(f"{file}: not a refresh status: 'format' must be {FORMAT!r}")
    if not isinstance(status.get("datasets"), dict):
        raise DataError(f"{file}: 'datasets' must be an object of dataset name -> status")
    return status


def save(data_dir: Path, status: Mapping[str, Any]) -> None:
    """Write the status file whole (datasets in name order)."""
    ordered = {**status, "datasets": dict(sorted(status["datasets"].items()))}
    write_atomic(path(data_dir), json.dumps(ordered, indent=2, ensure_ascii=False) + "\n")


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


def _edited(folder: Path, res: Mapping[str, Any]) -> bool:
    """The file no longer has the ``hash`` its descriptor records (edited by hand since)."""
    import hashlib

    recorded = res.get("hash")
    file = folder / str(res.get("path"))
    if not recorded or not str(recorded).startswith("sha256:") or not file.is_file():
        return False
    return "sha256:" + hashlib.sha256(file.read_bytes()).hexdigest() != recorded


@dataclass(frozen=True)
class Freshness:
    """How fresh one dataset is on ``today``, and what its last refresh said."""

    name: str
    retrieved: dt.date | None
    confirmed: dt.date | None  # the last day every part's source confirmed the snapshot
    valid_for_days: int | None
    age_days: int | None  # days since the later of retrieved and confirmed
    stale: bool
    status: str | None  # the last refresh's outcome; None: never refreshed by the tool
    checked: dt.date | None
    reason: str | None
    sources: tuple[str, ...]  # where the refresh read it (URLs of its parts)
    edited: bool  # the file differs from the one the refresh wrote (its descriptor hash)

    @property
    def refreshable(self) -> bool:
        return self.name in REFRESHABLE

    @property
    def not_refreshed(self) -> bool:
        """The last refresh kept (part of) the old snapshot: a source failed or was refused."""
        return self.status in ("not refreshed", "partly refreshed", "refused")


def freshness(data_dir: Path, today: dt.date | None = None) -> dict[str, Freshness]:
    """Every resource's :class:`Freshness`, from the descriptor and the status file."""
    today = today or dt.date.today()
    folder = data.data_folder(data_dir)
    stale = {s.name: s for s in data.stale_resources(today, folder)}
    datasets = load(folder)["datasets"]
    out = {}
    for res in data.read_descriptor(folder)["resources"]:
        name = res["name"]
        entry = datasets.get(name) or {}
        parts = entry.get("parts") or {}
        confirmed = [_date(p.get("confirmed")) for p in parts.values()]
        last = min(confirmed) if parts and all(confirmed) else None
        retrieved = _date(res.get("retrieved"))
        newest = max(d for d in (retrieved, last) if d) if (retrieved or last) else None
        life = res.get("valid_for_days")
        age = (today - newest).days if newest else None
        out[name] = Freshness(
            name=name,
            retrieved=retrieved,
            confirmed=last,
            valid_for_days=life,
            age_days=age,
            stale=name in stale and (age is None or life is None or age > life),
            status=entry.get("status"),
            checked=_date(entry.get("checked")),
            reason=entry.get("reason"),
            sources=tuple(str(p["url"]) for p in parts.values() if p.get("url")),
            edited=_edited(folder, res),
        )
    return out
