"""What a deployment asks of the small team that runs it: incidents, on-call, toil, cost, releases.

Sources
-------
* Google, *Site Reliability Engineering* (Beyer, Jones, Petoff, Murphy, eds., O'Reilly 2016),
  ch. 11 "Being On-Call" (A. Spadaccini, https://sre.google/sre-book/being-on-call/):
  operational work capped at 50 % of an SRE's time, "no more than 25% can be spent on-call";
  with "two people on-call (primary and secondary)" and "week-long shifts" the minimum
  single-site team is eight, a dual-site team six per site; an incident takes 6 hours to deal
  with, so "the maximum number of incidents per day is 2 per 12-hour on-call shift".
* The same book, ch. 1 "Introduction" (B. Treynor Sloss): "roughly 70% of outages are due to
  changes in a live system"; a playbook gives "roughly a 3x improvement in MTTR".
* DORA / State of DevOps reports (dora.dev): change failure rate bands per performance level;
  a level's rate is the mean of its band (2018 report p. 19).  The bands are the dataset
  ``dora_performance_levels``.

Conventions
-----------
Time periods are those of :mod:`cloudpad.models.availability` (365-day year, 30-day month, the
SRE book's availability table): a year has ``8760 / 168 = 52.14`` weeks and an error budget "per
month" is one of the 720-hour SLA month (``availability.SLA_MONTH_HOURS``).  Money per month uses
the 730-hour billing month of :mod:`cloudpad.models.cost` (``cost.BILLING_MONTH_HOURS``, the
providers' pricing calculators), so ``engineer hours per month = hours per week * 730 / 168``.
Rates are per unit in the name (``_per_week``, ``_per_year``); shares are fractions in [0, 1].
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

from cloudpad.exceptions import InputError
from cloudpad.models import availability, checks, cost, numeric

#: Hours in a week and weeks in a 365-day year (the SRE book's availability-table conventions).
WEEK_HOURS: float = availability.PERIOD_HOURS["week"]
WEEKS_PER_YEAR: float = availability.PERIOD_HOURS["year"] / WEEK_HOURS
#: Weeks in the 730-hour billing month of :mod:`cloudpad.models.cost`.
WEEKS_PER_BILLING_MONTH: float = cost.BILLING_MONTH_HOURS / WEEK_HOURS

#: SRE book ch. 11: an on-call incident (root cause, remediation, postmortem, bugs) takes 6 hours.
SRE_HOURS_PER_INCIDENT: float = 6.0
#: SRE book ch. 11: the on-call shift over which the incident limit is stated, hours.
SRE_SHIFT_HOURS: float = 12.0
#: SRE book ch. 11: "the maximum number of incidents per day is 2 per 12-hour on-call shift".
SRE_MAX_INCIDENTS_PER_SHIFT: int = 2
#: SRE book ch. 11: "no more than 25% can be spent on-call".
SRE_MAX_ON_CALL_SHARE: float = 0.25
#: SRE book ch. 11: "We cap the amount of time SREs spend on purely operational work at 50%".
SRE_MAX_OPS_SHARE: float = 0.50
#: SRE book ch. 11: two people on call at once, primary and secondary.
SRE_ON_CALL_AT_ONCE: int = 2
#: SRE book ch. 11: minimum single-site rotation ("eight") and dual-site team per site ("six").
SRE_MIN_ROTATION_SINGLE_SITE: int = 8
SRE_MIN_ROTATION_PER_SITE_DUAL: int = 6


# --------------------------------------------------------------------------- incidents
@dataclass(frozen=True)
class Component:
    """A kind of component of a deployment: how many there are and how often each pages.

    ``failures_per_year`` counts the failures of ONE unit per year that need a human (a page);
    failures that redundancy and automation absorb without anyone (a restarted pod, a replica
    replaced by the autoscaler) do not count.
    """

    count: float
    failures_per_year: float


def incident_sources(
    components: Mapping[str, Component | tuple[float, float]],
    deploys_per_week: float = 0.0,
    change_failure_rate: float = 0.0,
) -> pd.Series:
    """Incidents per week from each source: every component kind, and the changes.

    Formula: ``count * failures_per_year / WEEKS_PER_YEAR`` for each component kind, plus
    ``deploys_per_week * change_failure_rate`` for the row ``"changes"`` (DORA's change failure
    rate: the share of changes to production that degrade service and need remediation).
    Returns a Series named ``incidents_per_week`` indexed by source.
    """
    rows: dict[str, float] = {}
    for name, comp in components.items():
        c = comp if isinstance(comp, Component) else Component(*comp)
        n = float(checks.non_negative(f"{name} count", c.count))
        rate = float(checks.non_negative(f"{name} failures_per_year", c.failures_per_year))
        rows[str(name)] = n * rate / WEEKS_PER_YEAR
    if "changes" in rows:
        raise InputError("component name 'changes' is reserved for change-induced incidents")
    deploys = float(checks.non_negative("deploys_per_week", deploys_per_week))
    cfr = float(checks.probability("change_failure_rate", change_failure_rate))
    rows["changes"] = deploys * cfr
    return pd.Series(rows, name="incidents_per_week", dtype=float)


def incidents_per_week(
    components: Mapping[str, Component | tuple[float, float]],
    deploys_per_week: float = 0.0,
    change_failure_rate: float = 0.0,
) -> float:
    """Incidents per week of a deployment: the sum of :func:`incident_sources`.

    Formula: ``sum_i count_i * failures_per_year_i / 52.14 + deploys_per_week * CFR``.
    """
    return float(incident_sources(components, deploys_per_week, change_failure_rate).sum())


def change_failure_rate(levels: pd.DataFrame, year: int, level: str) -> float:
    """DORA change failure rate of a performance ``level`` in a report ``year``, as a fraction.

    Formula: the mean of the level's printed band, ``(low + high) / 2 / 100``, as DORA computes
    it ("The mean between these two ranges shows a 7.5 percent change failure rate for elite
    performers and 53 percent for low performers", 2018 report p. 19).  ``levels`` is the
    dataset ``dora_performance_levels``.
    """
    row = levels[(levels["report_year"] == year) & (levels["level"] == level)]
    if row.empty:
        known = ", ".join(
            f"{y} {lv}" for y, lv in zip(levels["report_year"], levels["level"], strict=True)
        )
        raise InputError(f"no DORA level {level!r} in {year}; the data has: {known}")
    low = float(row["change_failure_rate_low_percent"].iloc[0])
    high = float(row["change_failure_rate_high_percent"].iloc[0])
    return (low + high) / 200.0


# --------------------------------------------------------------------------- on-call shifts
def incidents_per_shift_limit(
    hours_per_incident: float = SRE_HOURS_PER_INCIDENT, shift_hours: float = SRE_SHIFT_HOURS
) -> int:
    """Most incidents one engineer can handle in a shift: ``floor(shift / hours_per_incident)``.

    SRE book ch. 11: 6 hours per incident, so 2 per 12-hour shift.
    """
    per = float(checks.positive("hours_per_incident", hours_per_incident))
    shift = float(checks.positive("shift_hours", shift_hours))
    return math.floor(shift / per + 1e-12)


def shift_incident_mean(
    incidents_per_week: ArrayLike, shift_hours: float = SRE_SHIFT_HOURS
) -> float | np.ndarray:
    """Mean incidents in one shift: ``incidents_per_week * shift_hours / 168``."""
    rate = checks.non_negative("incidents_per_week", incidents_per_week)
    shift = float(checks.positive("shift_hours", shift_hours))
    return numeric.scalar_or_array(np.asarray(rate) * shift / WEEK_HOURS)


def shift_overload_probability(
    incidents_per_week: ArrayLike,
    shift_hours: float = SRE_SHIFT_HOURS,
    limit: int = SRE_MAX_INCIDENTS_PER_SHIFT,
) -> float | np.ndarray:
    """Probability that a shift has more than ``limit`` incidents.

    Model: incidents arrive as a Poisson process at a constant rate (no daily or weekly cycle,
    no clustering), so the count in a shift is Poisson with mean
    :func:`shift_incident_mean`; the result is ``P(N > limit) = 1 - sum_{k<=limit} e^-m m^k/k!``
    (``scipy.stats.poisson.sf``).  Real incidents cluster (a bad deploy, a provider outage), so
    this is a lower bound on how often shifts are overloaded.
    """
    k = checks.whole("limit", limit, minimum=0)
    m = shift_incident_mean(incidents_per_week, shift_hours)
    return numeric.scalar_or_array(stats.poisson.sf(k, m))


def overloaded_shifts_per_year(
    incidents_per_week: ArrayLike,
    shift_hours: float = SRE_SHIFT_HOURS,
    limit: int = SRE_MAX_INCIDENTS_PER_SHIFT,
) -> float | np.ndarray:
    """Expected shifts per year with more than ``limit`` incidents.

    Formula: ``shift_overload_probability * 8760 / shift_hours`` (shifts back to back all year).
    """
    p = shift_overload_probability(incidents_per_week, shift_hours, limit)
    return numeric.scalar_or_array(np.asarray(p) * availability.PERIOD_HOURS["year"] / shift_hours)


def max_incidents_per_week(
    overload_probability: float,
    shift_hours: float = SRE_SHIFT_HOURS,
    limit: int = SRE_MAX_INCIDENTS_PER_SHIFT,
) -> float:
    """Highest incident rate per week at which at most ``overload_probability`` of shifts exceed
    ``limit`` incidents: the inverse of :func:`shift_overload_probability` (bisection).
    """
    p = float(checks.in_range("overload_probability", overload_probability, 0.0, 1.0, closed=False))
    checks.whole("limit", limit, minimum=0)
    hi = WEEK_HOURS / float(checks.positive("shift_hours", shift_hours)) * (limit + 50.0)
    top = numeric.bisect(lambda r: shift_overload_probability(r, shift_hours, limit) <= p, 0.0, hi)
    return float(top)


# --------------------------------------------------------------------------- rotation
def on_call_share(
    engineers: ArrayLike, on_call_at_once: int = SRE_ON_CALL_AT_ONCE
) -> float | np.ndarray:
    """Share of each engineer's time on call: ``on_call_at_once / engineers``.

    ``on_call_at_once`` positions (primary and secondary: 2) are staffed around the clock and
    shared evenly by the rotation.  The share is the same with one site or two: with two sites
    each is on call for half of each day ("follow the sun"), which removes night shifts, not
    hours.  With 8 engineers and week-long shifts, each is on call one week in four (25 %),
    the SRE book's single-site minimum.
    """
    k = checks.whole("on_call_at_once", on_call_at_once, minimum=1)
    n = np.asarray(checks.positive("engineers", engineers), dtype=float)
    if np.any(n < k):
        raise InputError(f"engineers must be >= on_call_at_once = {k}, got {engineers!r}")
    return numeric.scalar_or_array(k / n)


def weeks_on_call_per_year(
    engineers: ArrayLike, on_call_at_once: int = SRE_ON_CALL_AT_ONCE
) -> float | np.ndarray:
    """Weeks per year each engineer holds a pager: ``on_call_share * 52.14``."""
    share = on_call_share(engineers, on_call_at_once)
    return numeric.scalar_or_array(np.asarray(share) * WEEKS_PER_YEAR)


def min_rotation(
    max_share: float = SRE_MAX_ON_CALL_SHARE,
    on_call_at_once: int = SRE_ON_CALL_AT_ONCE,
    sites: int = 1,
) -> int:
    """Fewest engineers per site for a 24/7 rotation within ``max_share`` of time on call.

    Formula: each of ``sites`` sites covers ``1 / sites`` of the day with ``on_call_at_once``
    people, so a site of ``n`` spends ``on_call_at_once / (sites * n)`` of its time on call:
    ``n = ceil(on_call_at_once / (sites * max_share))``.  One site, two on call, 25 %: 8 (the
    SRE book's figure).  Two sites: 4 per site from the 25 % rule alone; the book asks for 6 per
    site "both to honor the 25% rule and to ensure a substantial and critical mass of engineers"
    (:data:`SRE_MIN_ROTATION_PER_SITE_DUAL`).
    """
    share = float(checks.in_range("max_share", max_share, 0.0, 1.0, closed=False))
    k = checks.whole("on_call_at_once", on_call_at_once, minimum=1)
    s = checks.whole("sites", sites, minimum=1)
    return math.ceil(k / (s * share) - 1e-9)


# --------------------------------------------------------------------------- workload
def ops_hours_per_week(
    incidents_per_week: ArrayLike,
    toil_hours_per_week: ArrayLike = 0.0,
    hours_per_incident: float = SRE_HOURS_PER_INCIDENT,
) -> float | np.ndarray:
    """Operational hours per week: ``incidents_per_week * hours_per_incident + toil``.

    ``hours_per_incident`` (6 h, SRE book ch. 11) covers the whole incident: root cause,
    remediation, postmortem and follow-up bugs.  Toil is recurring manual work (patching,
    upgrades, certificate and key rotation, access requests, restores, capacity changes).
    """
    inc = checks.non_negative("incidents_per_week", incidents_per_week)
    toil = checks.non_negative("toil_hours_per_week", toil_hours_per_week)
    per = float(checks.positive("hours_per_incident", hours_per_incident))
    return numeric.scalar_or_array(np.asarray(inc) * per + np.asarray(toil))


def ops_share(
    ops_hours_per_week: ArrayLike, engineers: ArrayLike, hours_per_engineer_week: float = 40.0
) -> float | np.ndarray:
    """Share of the team's working hours that operations takes: ``ops_hours / (engineers * h)``.

    Compare with :data:`SRE_MAX_OPS_SHARE` (50 %).  Above 1 the work does not fit at all.
    """
    ops = checks.non_negative("ops_hours_per_week", ops_hours_per_week)
    n = checks.positive("engineers", engineers)
    h = float(checks.positive("hours_per_engineer_week", hours_per_engineer_week))
    return numeric.scalar_or_array(np.asarray(ops) / (np.asarray(n) * h))


def min_team_for_ops(
    ops_hours_per_week: float,
    max_share: float = SRE_MAX_OPS_SHARE,
    hours_per_engineer_week: float = 40.0,
) -> int:
    """Fewest engineers who keep operations within ``max_share`` of their time:
    ``ceil(ops_hours / (max_share * hours_per_engineer_week))`` (at least 1).
    """
    ops = float(checks.non_negative("ops_hours_per_week", ops_hours_per_week))
    share = float(checks.in_range("max_share", max_share, 0.0, 1.0, closed=False))
    h = float(checks.positive("hours_per_engineer_week", hours_per_engineer_week))
    return max(1, math.ceil(ops / (share * h) - 1e-9))


# --------------------------------------------------------------------------- recovery
@dataclass(frozen=True)
class Recovery:
    """Time to restore service as the sum of its steps, minutes.

    ``detect`` (until an alert fires), ``respond`` (until a human acknowledges and starts;
    the SRE book gives 5 minutes as a typical paging response for user-facing services and 30
    for less time-sensitive ones), ``diagnose`` (until the cause or a mitigation is known) and
    ``mitigate`` (until users are served again: rollback, failover, restart).  Automation
    shortens terms: burn-rate alerts shorten ``detect``, dashboards and playbooks ``diagnose``
    (the SRE book's ch. 1 reports "roughly a 3x improvement in MTTR" from playbooks), automated
    rollback and failover ``mitigate``, and a step a machine does needs no ``respond``.
    """

    detect_minutes: float
    respond_minutes: float
    diagnose_minutes: float
    mitigate_minutes: float

    def __post_init__(self) -> None:
        for name in ("detect_minutes", "respond_minutes", "diagnose_minutes", "mitigate_minutes"):
            checks.non_negative(name, getattr(self, name))

    @classmethod
    def from_minutes(cls, steps: list[float] | tuple[float, ...]) -> Recovery:
        """From ``[detect, respond, diagnose, mitigate]`` in minutes."""
        if len(steps) != 4:
            raise InputError(f"steps must be [detect, respond, diagnose, mitigate], got {steps!r}")
        return cls(*(float(x) for x in steps))

    @property
    def steps(self) -> pd.Series:
        """The four steps as a Series in minutes."""
        return pd.Series(
            {
                "detect": self.detect_minutes,
                "respond": self.respond_minutes,
                "diagnose": self.diagnose_minutes,
                "mitigate": self.mitigate_minutes,
            },
            name="minutes",
        )

    @property
    def total_minutes(self) -> float:
        """Mean time to restore, minutes: the sum of the steps."""
        return float(self.steps.sum())


def availability_from_incidents(
    incidents_per_week: ArrayLike, restore_minutes: ArrayLike, impact: ArrayLike = 1.0
) -> float | np.ndarray:
    """Availability seen by users when incidents arrive at a rate and each takes a while to fix.

    Formula: :func:`cloudpad.models.availability.from_mtbf` with ``MTBF = 168 /
    incidents_per_week`` hours (mean time up between incidents) and an equivalent full outage
    ``MTTR = restore_minutes * impact / 60`` hours, ``impact`` being the share of requests that
    fail during an incident (one service of many, one region of two, a partial degradation).
    ``A = MTBF / (MTBF + MTTR)``, the availability of an alternating renewal process.
    """
    inc = np.asarray(checks.non_negative("incidents_per_week", incidents_per_week), dtype=float)
    mins = np.asarray(checks.non_negative("restore_minutes", restore_minutes), dtype=float)
    imp = np.asarray(checks.probability("impact", impact), dtype=float)
    mtbf_hours = WEEK_HOURS / np.where(inc > 0, inc, 1.0)  # placeholder where no incidents
    a = availability.from_mtbf(mtbf_hours, mins * imp / 60.0)
    return numeric.scalar_or_array(np.where(inc > 0, a, 1.0))


def budget_share_used(achieved: ArrayLike, slo: ArrayLike) -> float | np.ndarray:
    """Share of the error budget an availability ``achieved`` uses: ``(1 - achieved) / (1 - slo)``.

    Above 1 the SLO is missed.  Any period: both are fractions of time.
    """
    a = checks.probability("achieved", achieved)
    s = np.asarray(checks.probability("slo", slo), dtype=float)
    if np.any(s >= 1):
        raise InputError(f"slo must be < 1 (a 100 % target has no budget), got {slo!r}")
    return numeric.scalar_or_array((1.0 - np.asarray(a)) / (1.0 - s))


# --------------------------------------------------------------------------- releases
def deploys_allowed(
    slo: ArrayLike,
    change_failure_rate: ArrayLike,
    minutes_lost_per_failure: ArrayLike,
    other_minutes: ArrayLike = 0.0,
    period: str = "month",
) -> float | np.ndarray:
    """Deploys per ``period`` the error budget allows once other incidents have taken their share.

    Formula: ``max(B - other, 0) / (change_failure_rate * minutes_lost_per_failure)`` with the
    budget ``B = (1 - slo) * period`` in minutes (:func:`cloudpad.models.availability.
    downtime_minutes`, 30-day month), ``minutes_lost_per_failure`` the equivalent full-outage
    minutes of one failed change (time to restore times the share of requests failing) and
    ``other_minutes`` the budget already spent by incidents not caused by changes.  A change
    failure rate of 0 allows unlimited deploys (``inf``).
    """
    budget = np.asarray(availability.downtime_minutes(slo, period), dtype=float)
    cfr = np.asarray(checks.probability("change_failure_rate", change_failure_rate), dtype=float)
    lost = np.asarray(
        checks.non_negative("minutes_lost_per_failure", minutes_lost_per_failure), dtype=float
    )
    other = np.asarray(checks.non_negative("other_minutes", other_minutes), dtype=float)
    per_deploy = cfr * lost
    left = np.maximum(budget - other, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(per_deploy > 0, left / np.where(per_deploy > 0, per_deploy, 1.0), np.inf)
    return numeric.scalar_or_array(out)


# --------------------------------------------------------------------------- managed or not
def engineer_hours_per_month(hours_per_week: ArrayLike) -> float | np.ndarray:
    """Hours per 730-hour billing month: ``hours_per_week * 730 / 168``."""
    h = checks.non_negative("hours_per_week", hours_per_week)
    return numeric.scalar_or_array(np.asarray(h) * WEEKS_PER_BILLING_MONTH)


def total_cost_usd_per_month(
    service_usd_per_month: ArrayLike, engineer_hours_per_month: ArrayLike, usd_per_hour: ArrayLike
) -> float | np.ndarray:
    """Total monthly cost of running something: ``service price + engineer hours * loaded cost``.

    ``service_usd_per_month`` is the provider's bill (instances for self-hosted, the managed
    service's price otherwise); ``usd_per_hour`` is the fully loaded cost of an engineer hour
    (salary, taxes, benefits, overhead), an assumption of the reader's.
    """
    bill = checks.non_negative("service_usd_per_month", service_usd_per_month)
    hours = checks.non_negative("engineer_hours_per_month", engineer_hours_per_month)
    rate = checks.non_negative("usd_per_hour", usd_per_hour)
    return numeric.scalar_or_array(np.asarray(bill) + np.asarray(hours) * np.asarray(rate))


def break_even_usd_per_hour(
    self_hosted_usd_per_month: float,
    self_hosted_hours_per_month: float,
    managed_usd_per_month: float,
    managed_hours_per_month: float,
) -> float:
    """Loaded engineer cost per hour at which self-hosting and a managed service cost the same.

    Formula: ``(managed_usd - self_hosted_usd) / (self_hosted_hours - managed_hours)``.  Below
    it self-hosting is cheaper in total, above it the managed service.  ``inf`` if self-hosting
    takes no more hours (then it is cheaper whenever its bill is); negative if the managed
    service is cheaper even with free engineers.
    """
    su = float(checks.non_negative("self_hosted_usd_per_month", self_hosted_usd_per_month))
    sh = float(checks.non_negative("self_hosted_hours_per_month", self_hosted_hours_per_month))
    mu = float(checks.non_negative("managed_usd_per_month", managed_usd_per_month))
    mh = float(checks.non_negative("managed_hours_per_month", managed_hours_per_month))
    if sh <= mh:
        return math.inf
    return (mu - su) / (sh - mh)


# --------------------------------------------------------------------------- what a page costs
def hours_per_page(
    postmortem_share: ArrayLike,
    hours_without_postmortem: ArrayLike,
    hours_per_incident: float = SRE_HOURS_PER_INCIDENT,
) -> float | np.ndarray:
    """Mean engineer hours of one page: ``s * hours_per_incident + (1 - s) * hours_without``.

    The SRE book's 6 hours are those of an incident handled in full: "root-cause analysis,
    remediation, and follow-up activities like writing a postmortem and fixing bugs" (ch. 11).
    Many pages need no postmortem (a failover that worked and needed a look, a rollback of a
    change caught early); ``postmortem_share`` is the share that does and
    ``hours_without_postmortem`` the hours of the rest (both the reader's assumptions).
    """
    s = np.asarray(checks.probability("postmortem_share", postmortem_share), dtype=float)
    short = np.asarray(
        checks.non_negative("hours_without_postmortem", hours_without_postmortem), dtype=float
    )
    full = float(checks.positive("hours_per_incident", hours_per_incident))
    return numeric.scalar_or_array(s * full + (1.0 - s) * short)


# --------------------------------------------------------------------------- the busiest shift
def busiest_shift_mean(
    other_per_week: ArrayLike,
    change_per_week: ArrayLike,
    deploy_days_per_week: float,
    shift_hours: float = SRE_SHIFT_HOURS,
) -> float | np.ndarray:
    """Mean incidents in the day shift of a deploy day, when failed changes come with deploys.

    Incidents from components arrive at any hour (``other_per_week * shift / 168``); failed
    changes arrive with the deploys, which a team makes in working hours on
    ``deploy_days_per_week`` days, all inside one day shift (``change_per_week /
    deploy_days``).  Spreading the changes over the whole week, as a single Poisson rate does,
    understates how loaded that shift is.
    """
    other = np.asarray(checks.non_negative("other_per_week", other_per_week), dtype=float)
    change = np.asarray(checks.non_negative("change_per_week", change_per_week), dtype=float)
    days = float(checks.in_range("deploy_days_per_week", deploy_days_per_week, 0.0, 7.0))
    if days <= 0:
        raise InputError(f"deploy_days_per_week must be > 0, got {deploy_days_per_week!r}")
    shift = float(checks.positive("shift_hours", shift_hours))
    return numeric.scalar_or_array(other * shift / WEEK_HOURS + change / days)


def max_shift_mean(overload_probability: float, limit: int = SRE_MAX_INCIDENTS_PER_SHIFT) -> float:
    """Largest mean incidents per shift with ``P(N > limit) <= overload_probability`` (Poisson).

    The inverse of ``scipy.stats.poisson.sf(limit, m)`` in ``m``, by bisection.
    """
    p = float(checks.in_range("overload_probability", overload_probability, 0.0, 1.0, closed=False))
    k = checks.whole("limit", limit, minimum=0)
    return float(numeric.bisect(lambda m: stats.poisson.sf(k, m) <= p, 0.0, k + 60.0))


# --------------------------------------------------------------------------- managed or not, 2
def break_even_price_factor(
    self_hosted_usd_per_month: float,
    self_hosted_hours_per_month: float,
    managed_hours_per_month: float,
    usd_per_hour: float,
) -> float:
    """Managed price, as a multiple of the self-hosted instances' bill, at which both cost the same.

    Formula: ``1 + (self_hosted_hours - managed_hours) * usd_per_hour / self_hosted_usd``: the
    managed service is cheaper in total whenever its price is below this multiple of the
    instances (same instances, same redundancy).
    """
    bill = float(checks.positive("self_hosted_usd_per_month", self_hosted_usd_per_month))
    sh = float(checks.non_negative("self_hosted_hours_per_month", self_hosted_hours_per_month))
    mh = float(checks.non_negative("managed_hours_per_month", managed_hours_per_month))
    wage = float(checks.non_negative("usd_per_hour", usd_per_hour))
    return 1.0 + (sh - mh) * wage / bill
