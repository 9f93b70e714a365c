"""``eks_eni_limits`` from the instance data of Amazon's EKS AMI build (MIT-0).

Source: ``nodeadm/internal/kubelet/instance-info.jsonl`` of ``awslabs/amazon-eks-ami``
at the current commit of ``main`` (regenerated from the EC2 API by the repository's
daily ``sync-eni-max-pods`` workflow); nothing is downloaded when the commit, or
the file's ETag, is the one read last time.  One JSON object per line:
``{"instanceType": "m6i.large", "defaultMaxENIs": 3, "ipv4AddressesPerInterface": 10}``.

Kept: the AWS instance types of ``instance_types`` (the ones the book prices), in
that order; each must be in the file.  A file of fewer than :data:`MIN_TYPES`
types is refused as cut short (the file at the book's first snapshot listed
1,384).
"""

from __future__ import annotations

import json

from cloudpad.refresh.base import (
    Context,
    Fetched,
    Source,
    github_file,
    github_state,
    instance_types,
)
from cloudpad.refresh.http import SourceError

PART = "all"
REPO = "awslabs/amazon-eks-ami"
BRANCH = "main"
PATH = "nodeadm/internal/kubelet/instance-info.jsonl"
HOME = "https://github.com/awslabs/amazon-eks-ami"
SUPERSEDES = (f"{HOME}/blob/",)
#: A file listing fewer instance types than this is taken to be cut short.
MIN_TYPES = 500


def parse(text: str, where: str) -> dict[str, tuple[int, int]]:
    """``instanceType -> (defaultMaxENIs, ipv4AddressesPerInterface)`` of every line."""
    found: dict[str, tuple[int, int]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            name = str(item["instanceType"])
            enis, ips = int(item["defaultMaxENIs"]), int(item["ipv4AddressesPerInterface"])
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise SourceError(
                f"{where}, line {number}: expected a JSON object with instanceType, "
                f"defaultMaxENIs and ipv4AddressesPerInterface ({type(exc).__name__}: {exc}); "
                f"found {line[:80]!r}"
            ) from None
        found[name] = (enis, ips)
    if len(found) < MIN_TYPES:
        raise SourceError(
            f"{where}: only {len(found)} instance types (at least {MIN_TYPES} expected): "
            "the file looks cut short"
        )
    return found


def fetch(ctx: Context) -> Fetched:
    """The ENI limits of the AWS types the book prices; unchanged when the file is."""
    sha, answer = github_file(ctx, REPO, BRANCH, PATH)
    where = f"{REPO}@{sha[:12]}:{PATH}"
    if answer is None:
        source = Source(f"{where} (unchanged)", f"{HOME}/blob/{sha}/{PATH}", f"commit {sha[:7]}")
        return Fetched(None, source, github_state(sha, None, ctx), note=f"{where} unchanged")
    limits = parse(answer.text or "", where)
    types = [t.instance_type for t in instance_types(ctx.data_dir, "aws")]
    absent = [name for name in types if name not in limits]
    if absent:
        raise SourceError(f"{where}: no limits for {', '.join(absent)}")
    rows = [
        {
            "instance_type": name,
            "max_enis": str(limits[name][0]),
            "ipv4_per_eni": str(limits[name][1]),
        }
        for name in types
    ]
    source = Source(
        f"{REPO}@{sha}:{PATH} (fields defaultMaxENIs, ipv4AddressesPerInterface; MIT-0; "
        f"retrieved {ctx.today.isoformat()})",
        f"{HOME}/blob/{sha}/{PATH}",
        f"amazon-eks-ami commit {sha[:7]}",
    )
    return Fetched(rows, source, github_state(sha, answer, ctx), note=f"commit {sha[:12]}")
