"""Keeping a managed Kubernetes cluster current: support windows, upgrade cadence, fees, hours.

Kubernetes ships three minor versions a year (KEP-2572, from 1.22: "change the current
Kubernetes release cadence from 4 down to 3 releases per year"), one every four months.
Each managed service supports a minor version for a standard window and, for a higher
control-plane fee, an extended one (the dataset ``kubernetes_support``: EKS 14 + 12 months,
GKE 14 + ~10 on its Extended channel, AKS 12 + 12 with long-term support on the Premium
tier).  A control plane moves one minor version at a time (eksctl: "Control plane version
upgrades must be done for one minor version at a time"; AKS: "AKS cluster upgrades must be
performed sequentially through each minor Kubernetes version").

A team that upgrades every ``U`` months, each time to the newest minor version that has been
out at least ``D`` months, runs a version whose age goes from ``a0 + D`` to ``a0 + D + U``,
where ``a0`` is how old the newest release is on upgrade day, spread evenly over one release
interval ``P`` (:func:`support_shares` averages over it).  The version is in standard support
while its age is below ``S``, in extended support up to ``S + E`` and unsupported after (EKS
and GKE then upgrade the cluster themselves).  Whatever the cadence, staying supported takes
``12 / P`` minor upgrades a year: a slower cadence only bundles them into fewer, bigger
maintenance windows of ``U / P`` minors each.

Months are calendar months of the providers' windows; a year has 8,760 hours (fees per
cluster-hour times 8,760).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cloudpad.exceptions import InputError
from cloudpad.models import checks

#: Minor releases a year (KEP-2572, SIG Release, 2021: 3 per year from Kubernetes 1.22).
RELEASES_PER_YEAR: int = 3
#: Hours in a 365-day year, for per-hour fees.
YEAR_HOURS: float = 8760.0


@dataclass(frozen=True)
class SupportShares:
    """Shares of time a cluster's version spends in each support state (they sum to 1)."""

    standard: float
    extended: float
    unsupported: float


def support_shares(
    upgrade_every_months: float,
    standard_months: float,
    extended_months: float,
    *,
    release_every_months: float = 12.0 / RELEASES_PER_YEAR,
    adopt_after_months: float = 0.0,
    samples: int = 4000,
) -> SupportShares:
    """Share of time in standard, extended and no support for an upgrade cadence.

    Formula: with ``a`` the age of the version installed on upgrade day,
    ``a = a0 + D`` and ``a0`` uniform on ``[0, P)``, the version is ``x`` months old ``x`` in
    ``[a, a + U)``; the shares are the expected lengths of that interval's overlap with
    ``[0, S)``, ``[S, S + E)`` and ``[S + E, inf)``, divided by ``U``.  The expectation over
    ``a0`` is a midpoint rule with ``samples`` points (exact to about ``1 / samples**2``).
    Worked example: ``U = 12``, ``P = 4``, ``S = 14``, ``D = 0``: the age reaches ``a0 + 12``,
    past 14 months only for ``a0`` in ``[2, 4)``, on average ``(4 - 2)^2 / 2 / 4 = 0.5``
    month a year, a share of ``0.5 / 12``.
    """
    u = float(checks.positive("upgrade_every_months", upgrade_every_months))
    s = float(checks.positive("standard_months", standard_months))
    e = float(checks.non_negative("extended_months", extended_months))
    p = float(checks.positive("release_every_months", release_every_months))
    d = float(checks.non_negative("adopt_after_months", adopt_after_months))
    n = checks.whole("samples", samples, minimum=1)
    start = (np.arange(n) + 0.5) / n * p + d
    end = start + u

    def overlap(lo: float, hi: float) -> float:
        return float(np.mean(np.clip(np.minimum(end, hi) - np.maximum(start, lo), 0.0, None)))

    std, ext = overlap(0.0, s), overlap(s, s + e)
    return SupportShares(std / u, ext / u, max(0.0, 1.0 - (std + ext) / u))


def yearly_costs(
    support: pd.DataFrame,
    upgrade_every_months: float,
    *,
    hours_per_minor_upgrade: float,
    hours_per_window: float,
    usd_per_engineer_hour: float,
    release_every_months: float = 12.0 / RELEASES_PER_YEAR,
    adopt_after_months: float = 0.0,
    clusters: int = 1,
) -> pd.DataFrame:
    """What keeping ``clusters`` clusters current costs a year on each provider of ``support``.

    ``support`` has the columns of the dataset ``kubernetes_support``.  Per provider:

    * the support shares of :func:`support_shares`;
    * the control-plane fee, ``8760 * (standard fee * (1 - x) + extended fee * x)`` with ``x``
      the extended share where the extended fee applies only then (``during_extended``:
      EKS, GKE), or ``8760 * extended fee`` all year once any extended support is needed
      where it applies to the whole plan (``whole_plan``: AKS's Premium tier); time past
      extended support is billed as extended (the provider upgrades the cluster then);
    * engineer hours: ``12 / P`` minor upgrades a year at ``hours_per_minor_upgrade`` each,
      plus ``12 / U`` maintenance windows at ``hours_per_window``, priced at
      ``usd_per_engineer_hour``.

    Returns one row per provider with ``standard_share``, ``extended_share``,
    ``unsupported_share``, ``minors_per_window``, ``fee_usd``, ``hours``, ``people_usd`` and
    ``total_usd`` (per year, all clusters), in the order of ``support``.
    """
    u = float(checks.positive("upgrade_every_months", upgrade_every_months))
    p = float(checks.positive("release_every_months", release_every_months))
    per_minor = float(checks.non_negative("hours_per_minor_upgrade", hours_per_minor_upgrade))
    per_window = float(checks.non_negative("hours_per_window", hours_per_window))
    rate = float(checks.non_negative("usd_per_engineer_hour", usd_per_engineer_hour))
    n = checks.whole("clusters", clusters, minimum=1)
    needed = {"provider", "standard_months", "extended_months", "standard_usd_per_hour"}
    needed |= {"extended_usd_per_hour", "extended_fee_applies"}
    missing = sorted(needed - set(support.columns))
    if missing:
        raise InputError(f"support must have the columns of kubernetes_support, missing {missing}")
    rows = []
    for r in support.itertuples(index=False):
        window = {"release_every_months": p, "adopt_after_months": adopt_after_months}
        sh = support_shares(u, r.standard_months, r.extended_months, **window)
        beyond = sh.extended + sh.unsupported
        if r.extended_fee_applies == "whole_plan":
            hourly = r.extended_usd_per_hour if beyond > 0 else r.standard_usd_per_hour
        else:
            hourly = r.standard_usd_per_hour * sh.standard + r.extended_usd_per_hour * beyond
        hours = 12.0 / p * per_minor + 12.0 / u * per_window
        fee = n * YEAR_HOURS * hourly
        rows.append(
            {
                "provider": r.provider,
                "standard_share": sh.standard,
                "extended_share": sh.extended,
                "unsupported_share": sh.unsupported,
                "minors_per_window": u / p,
                "fee_usd": fee,
                "hours": n * hours,
                "people_usd": n * hours * rate,
                "total_usd": fee + n * hours * rate,
            }
        )
    return pd.DataFrame(rows)


def longest_standard_cadence(
    standard_months: float,
    *,
    release_every_months: float = 12.0 / RELEASES_PER_YEAR,
    adopt_after_months: float = 0.0,
) -> float:
    """Longest upgrade interval (months) that never leaves standard support: ``S - P - D``.

    The oldest version a cadence runs is ``P + D + U`` months old just before an upgrade
    (the newest release can be almost ``P`` old on upgrade day); it must not exceed ``S``.
    Returns 0 if even continuous upgrading cannot stay within ``S``.
    """
    s = float(checks.positive("standard_months", standard_months))
    p = float(checks.positive("release_every_months", release_every_months))
    d = float(checks.non_negative("adopt_after_months", adopt_after_months))
    return max(0.0, s - p - d)
