"""What a platform asks of the small team that runs it, as one function of the article's parameters.

:func:`summary` turns the parameters of the small-team article (by name, as in its
``parameters`` cell), the example platform's services, DORA's performance levels and
an instance price into the numbers the article concludes from: pages per week, the
share of time each engineer is on call, the chance that the busiest shift breaks the
SRE book's limit, operational hours against the 50 % cap, the error budget used when
restoring by hand or with automation, the deploys the budget pays for, and the total
cost of self-hosting the stateful components against managed services.

What changed from a plain reading of the SRE book (each a parameter):

* a page costs the book's 6 hours only when it is handled in full with a postmortem
  (``postmortem_share``); the others cost ``hours_without_postmortem``, and the
  incidents a shift can take follow from that mean (``floor(12 h / hours)``);
* DORA's change failure rate counts every change that needed remediation, paged or not:
  ``paged_share_of_failed_changes`` of them page someone;
* a failed change is rolled back first and diagnosed later: its restore time leaves out
  the diagnosis step, and ``failed_change_impact`` (smaller with canaries) is the share
  of requests it fails;
* failed changes come with the deploys, on ``deploy_days_per_week`` working days, so
  the busiest shift is the day shift of a deploy day (:func:`team.busiest_shift_mean`).

Sources: *Site Reliability Engineering* (2016), ch. 11; DORA State of DevOps reports
(the dataset ``dora_performance_levels``); see :mod:`cloudpad.models.team`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
from scipy import stats

from cloudpad.models import availability, cost, team

__all__ = ["summary"]

_STEPS = ("detect", "respond", "diagnose", "mitigate")


def _restore(p: Mapping[str, Any], how: str) -> team.Recovery:
    return team.Recovery(*(float(p[f"{how}_{step}_minutes"]) for step in _STEPS))


def summary(
    p: Mapping[str, Any],
    services: pd.DataFrame,
    levels: pd.DataFrame,
    node_usd_per_hour: float,
) -> dict[str, Any]:
    """The article's conclusion (see the module docstring), keyed as the article glues it.

    ``p`` holds the parameters by name (other keys ignored); ``services`` is the dataset
    ``platform_services`` (one row per service, its ``replicas``), ``levels`` the dataset
    ``dora_performance_levels`` and ``node_usd_per_hour`` the price of one self-hosted
    stateful node.  Managed stateful components are the headline deployment.
    """
    regions = p["regions"]
    stateful = p["stateful_components_per_region"] * regions
    cfr = team.change_failure_rate(levels, p["dora_year"], p["dora_level"])
    deploys = p["deploys_per_service_week"] * len(services)
    infra = {
        "services": (len(services) * regions, p["service_failures_per_year"]),
        "pods": (float(services["replicas"].sum()) * regions, p["pod_failures_per_year"]),
        "zones": (p["zones_per_region"] * regions, p["zone_failures_per_year"]),
        "regions": (regions, p["region_failures_per_year"]),
    }
    hosted = {h: p[f"{h.replace('-', '_')}_failures_per_year"] for h in ("self-hosted", "managed")}
    paged_cfr = cfr * p["paged_share_of_failed_changes"]
    sources = team.incident_sources(
        infra | {"stateful": (stateful, hosted["managed"])}, deploys, paged_cfr
    )
    rate, changes = float(sources.sum()), float(sources["changes"])
    other = rate - changes

    page_hours = float(team.hours_per_page(p["postmortem_share"], p["hours_without_postmortem"]))
    limit = team.incidents_per_shift_limit(page_hours)
    busiest = float(team.busiest_shift_mean(other, changes, p["deploy_days_per_week"]))
    scale = team.max_shift_mean(p["tolerated_overload_share"], limit) / busiest

    service_toil = p["service_toil_hours_per_week"] * len(services)
    toil = {
        "self-hosted": service_toil + p["self_hosted_toil_hours_per_week"] * stateful,
        "managed": service_toil + p["managed_toil_hours_per_week"] * stateful,
    }
    stateful_pages = {h: stateful * f / team.WEEKS_PER_YEAR for h, f in hosted.items()}
    pages = {h: rate - stateful_pages["managed"] + stateful_pages[h] for h in hosted}
    ops = {h: pages[h] * page_hours + toil[h] for h in hosted}

    month_weeks = availability.PERIOD_HOURS["month"] / team.WEEK_HOURS
    budget = float(availability.downtime_minutes(p["slo"], "month"))
    out: dict[str, Any] = {
        "incidents_per_week": rate,
        "change_incidents_per_week": changes,
        "cfr_percent": 100 * cfr,
        "on_call_share": float(team.on_call_share(p["engineers"], team.SRE_ON_CALL_AT_ONCE)),
        "hours_per_page": page_hours,
        "incidents_per_shift_limit": limit,
        "busiest_shift_mean": busiest,
        "p_overload_busiest": float(stats.poisson.sf(limit, busiest)),
        "busiest_ceiling_per_week": scale * rate,
        "busiest_ceiling_ratio": scale,
        "ops_hours": ops["managed"],
        "ops_share": float(team.ops_share(ops["managed"], p["engineers"])),
        "ops_share_self": float(team.ops_share(ops["self-hosted"], p["engineers"])),
        "budget_minutes": budget,
        "sources": sources,
        "pages": pages,
        "toil": toil,
        "ops": ops,
        "restore": {how: _restore(p, how) for how in ("manual", "automated")},
    }
    for how, tag in (("manual", "manual"), ("automated", "auto")):
        steps = _restore(p, how)
        full = steps.total_minutes
        rollback = full - steps.diagnose_minutes  # roll back first, diagnose afterwards
        lost = other * full * p["impact"] + changes * rollback * p["failed_change_impact"]
        used = lost * month_weeks / budget  # minutes of full outage a month over the budget
        other_minutes = other * month_weeks * full * p["impact"]
        per_failed = rollback * p["failed_change_impact"]
        out[f"{tag}_minutes"] = full
        out[f"{tag}_rollback_minutes"] = rollback
        out[f"budget_used_{tag}"] = used
        out[f"allowed_{tag}"] = float(
            team.deploys_allowed(p["slo"], paged_cfr, per_failed, other_minutes)
        )
    out["planned_month"] = deploys * month_weeks

    nodes = p["nodes_per_stateful_cluster"] * stateful
    bill_self = float(cost.monthly_cost(node_usd_per_hour, nodes))
    hours = {
        h: float(
            team.engineer_hours_per_month(stateful_pages[h] * page_hours + toil[h] - service_toil)
        )
        for h in hosted
    }
    wage = p["usd_per_engineer_hour"]
    bill = {"self-hosted": bill_self, "managed": p["managed_price_factor"] * bill_self}
    total = {h: float(team.total_cost_usd_per_month(bill[h], hours[h], wage)) for h in hosted}
    out |= {
        "nodes_total": nodes,
        "bill_self": bill["self-hosted"],
        "bill_managed": bill["managed"],
        "hours_self": hours["self-hosted"],
        "hours_managed": hours["managed"],
        "total_self": total["self-hosted"],
        "total_managed": total["managed"],
        "break_even": team.break_even_usd_per_hour(
            bill["self-hosted"], hours["self-hosted"], bill["managed"], hours["managed"]
        ),
        "break_even_price_factor": team.break_even_price_factor(
            bill_self, hours["self-hosted"], hours["managed"], wage
        ),
        "bill": bill,
        "hours": hours,
        "total": total,
        "cheaper_option": min(total, key=total.get),
        "saving": abs(total["managed"] - total["self-hosted"]),
    }
    return out
