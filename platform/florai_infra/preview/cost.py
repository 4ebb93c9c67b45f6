"""The preview's cost section: monthly estimate per component and in total, and the change's delta."""

from __future__ import annotations

from dataclasses import dataclass

from florai_infra.cost.estimate import Estimate, estimate
from florai_infra.cost.prices import ASSUMPTIONS_FILE, price_table
from florai_infra.offline.plan import Plan
from florai_infra.preview.style import Style


@dataclass(frozen=True)
class CostChange:
    current: Estimate
    committed: Estimate | None

    @property
    def delta(self) -> float | None:
        return None if self.committed is None else round(self.current.total - self.committed.total, 2)

    def component_deltas(self) -> dict[str, float]:
        now = self.current.by_component()
        before = self.committed.by_component() if self.committed else {}
        return {k: round(now.get(k, 0.0) - before.get(k, 0.0), 2) for k in sorted(now.keys() | before.keys())}


def usd(amount: float, signed: bool = False) -> str:
    sign = ("+" if amount >= 0 else "-") if signed else ("-" if amount < 0 else "")
    return f"{sign}${abs(amount):,.2f}"


def cost_basis() -> str:
    return (
        f"on-demand list prices of {price_table()['retrieved']}, "
        f"usage assumptions from platform/{ASSUMPTIONS_FILE.name}"
    )


def render_cost(change: CostChange, style: Style) -> list[str]:
    now = change.current.by_component()
    deltas = change.component_deltas()
    labels = sorted(deltas)
    width = max([len(label) for label in labels] + [len("total")])
    lines = [style.dim(f"    {cost_basis()}")]
    for label in labels:
        delta = f"  ({usd(deltas[label], signed=True)})" if change.committed and deltas[label] else ""
        lines.append(f"    {label:<{width}}  {usd(now.get(label, 0.0)):>11}/month{delta}")
    lines.append(style.bold(f"    {'total':<{width}}  {usd(change.current.total):>11}/month"))
    if change.delta is not None:
        before = usd(change.committed.total) if change.committed else ""
        line = f"    change against the committed plan: {usd(change.delta, signed=True)}/month (was {before})"
        lines.append(style.yellow(line) if change.delta else line)
    return lines


def plan_cost(plan: Plan, committed: Plan | None) -> CostChange:
    """Both plans priced with the current run's providers (a committed plan does not record them)."""
    providers = {r.urn: r.provider for r in plan.resources if r.provider}
    before = estimate(committed, plan.stack, providers) if committed else None
    return CostChange(estimate(plan, plan.stack, providers), before)
