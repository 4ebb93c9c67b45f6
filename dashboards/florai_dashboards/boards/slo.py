"""SLO and error budget, from the ALERTS generator's recording rules and the SLO specs themselves.

Objectives and recorded series come from florai_alerts (alerts/slos/*.yaml, burn_rate.py), so a
new SLO or a changed objective shows up here at the next `generate`.
"""

from __future__ import annotations

from florai_alerts.burn_rate import POLICIES, record_name
from florai_alerts.slo import SLO, SLO_WINDOW, load_slos
from florai_dashboards.panels import Query, graph, label_variable, new_dashboard, row, single

UID = "florai-slo"
SELECTED = 'service=~"$service", slo=~"$slo"'
# The fastest page condition's long window: what an on-call engineer compares against first.
FAST_WINDOW = POLICIES[0].conditions[0].long_window
SLOW_WINDOW = POLICIES[-1].conditions[-1].long_window


def _one(slo: SLO) -> str:
    return f'service="{slo.service_label}", slo="{slo.name}"'


def _burn_rate(slo: SLO, window: str) -> Query:
    return Query(
        f"max({record_name(window)}{{{_one(slo)}}}) / {format(slo.error_budget, '.10g')}",
        f"{slo.service} {slo.name}",
    )


def _budget_left(slo: SLO) -> Query:
    # Mean of the hourly error ratio over the SLO window ~ the window's error ratio.
    spent = f"avg_over_time({record_name(FAST_WINDOW)}{{{_one(slo)}}}[{SLO_WINDOW}])"
    return Query(f"1 - max({spent}) / {format(slo.error_budget, '.10g')}", f"{slo.service} {slo.name}")


def build():
    slos = load_slos()
    fast = record_name(FAST_WINDOW)
    factors = ", ".join(f"{c.factor:g}x over {c.long_window}" for p in POLICIES for c in p.conditions)
    return (
        new_dashboard(
            UID,
            "FlorAI / SLOs and error budgets",
            f"Availability and latency SLOs of every FlorAI service over {SLO_WINDOW}: error ratio, "
            "burn rate and the error budget left (alerts/slos/*.yaml).",
            [
                label_variable("service", "service", fast),
                label_variable("slo", "slo", fast, 'service=~"$service"'),
            ],
        )
        .with_row(row("Error budget"))
        .with_panel(
            single(
                f"Error budget left ({SLO_WINDOW})",
                f"Share of the {SLO_WINDOW} error budget not yet spent, per SLO (below 0: SLO missed).",
                "percentunit",
                *[_budget_left(slo) for slo in slos],
                width=24,
                height=6,
            )
        )
        .with_row(row("Burn rate"))
        .with_panel(
            graph(
                f"Burn rate over {FAST_WINDOW}",
                f"Error ratio over {FAST_WINDOW} in multiples of the budget rate (1 = budget spent "
                f"exactly over {SLO_WINDOW}); alerts page or ticket at {factors}.",
                "short",
                *[_burn_rate(slo, FAST_WINDOW) for slo in slos],
            )
        )
        .with_panel(
            graph(
                f"Burn rate over {SLOW_WINDOW}",
                f"Error ratio over {SLOW_WINDOW} in multiples of the budget rate.",
                "short",
                *[_burn_rate(slo, SLOW_WINDOW) for slo in slos],
            )
        )
        .with_panel(
            graph(
                f"Error ratio over {FAST_WINDOW}",
                "Share of failing events (server errors, or requests slower than the latency target).",
                "percentunit",
                Query(f"max by (service, slo) ({fast}{{{SELECTED}}})", "{{service}} {{slo}}"),
                width=24,
            )
        )
    )
