"""Multi-window, multi-burn-rate rules from SLOs (Google SRE workbook, chapter 5, 30-day budget)."""

from __future__ import annotations

from dataclasses import dataclass

from florai_alerts.labels import SERVICE_LABEL
from florai_alerts.slo import SLO

# Every window an alert below reads; each gets one recording rule per SLO.
RATIO_WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
RECORD_PREFIX = "florai:slo_error_ratio:rate"


@dataclass(frozen=True)
class BurnRateCondition:
    factor: float  # times the rate that exactly spends the budget over the SLO window
    long_window: str
    short_window: str


@dataclass(frozen=True)
class BurnRatePolicy:
    severity: str
    conditions: tuple[BurnRateCondition, ...]


POLICIES = (
    # 2% of the budget in 1 hour or 5% in 6 hours: someone must act now.
    BurnRatePolicy("page", (BurnRateCondition(14.4, "1h", "5m"), BurnRateCondition(6, "6h", "30m"))),
    # 10% in 1 day or the whole budget over 3 days: fix it this week.
    BurnRatePolicy("ticket", (BurnRateCondition(3, "1d", "2h"), BurnRateCondition(1, "3d", "6h"))),
)


def record_name(window: str) -> str:
    return f"{RECORD_PREFIX}{window}"


def alert_name(slo: SLO) -> str:
    return f"Florai{slo.name.capitalize()}BudgetBurn"


def _number(value: float) -> str:
    return format(value, ".10g")


def _selector(slo: SLO) -> str:
    return f'{{{SERVICE_LABEL}="{slo.service_label}", slo="{slo.name}"}}'


def recording_rules(slo: SLO) -> list[dict]:
    labels = {SERVICE_LABEL: slo.service_label, "slo": slo.name}
    return [
        {"record": record_name(window), "expr": slo.error_ratio_query(window), "labels": dict(labels)}
        for window in RATIO_WINDOWS
    ]


def _condition_expr(slo: SLO, condition: BurnRateCondition) -> str:
    threshold = f"({_number(condition.factor)} * {_number(slo.error_budget)})"
    return (
        f"(\n  {record_name(condition.long_window)}{_selector(slo)} > {threshold}\n"
        f"  and\n  {record_name(condition.short_window)}{_selector(slo)} > {threshold}\n)"
    )


def alerting_rule(slo: SLO, policy: BurnRatePolicy) -> dict:
    windows = ", ".join(
        f"{_number(c.factor)}x over {c.long_window} and {c.short_window}" for c in policy.conditions
    )
    return {
        "alert": alert_name(slo),
        "expr": "\nor\n".join(_condition_expr(slo, c) for c in policy.conditions),
        "labels": {"severity": policy.severity, SERVICE_LABEL: slo.service_label, "slo": slo.name},
        "annotations": {
            "summary": f"{slo.service_label} is burning its {slo.name} error budget ({policy.severity}).",
            "description": (
                f"{slo.description} Objective {_number(slo.objective * 100)}% over {slo.window}; "
                f"the error ratio has exceeded the {policy.severity} burn rates ({windows}). "
                "Current long-window error ratio: {{ $value | humanizePercentage }}."
            ),
        },
    }


def slo_group(service: str, slos: list[SLO]) -> dict:
    """One rule group per service: its ratio recordings, then its alerts."""
    rules: list[dict] = []
    for slo in slos:
        rules += recording_rules(slo)
    for slo in slos:
        rules += [alerting_rule(slo, policy) for policy in POLICIES]
    return {"name": f"florai-slo-{service}", "rules": rules}
