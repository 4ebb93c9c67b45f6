"""``--format json``: the preview for machines (CI, dashboards); invented values listed as such."""

from __future__ import annotations

from typing import Any

from florai_infra.offline.placeholders import invented
from florai_infra.preview.result import PreviewResult


def _cost(result: PreviewResult) -> dict[str, Any]:
    if result.cost is None:
        return {"error": result.cost_error}
    cost = result.cost
    return {
        "currency": "USD",
        "monthlyTotal": cost.current.total,
        "byComponent": cost.current.by_component(),
        "committedMonthlyTotal": cost.committed.total if cost.committed else None,
        "monthlyDelta": cost.delta,
        "items": [
            {"urn": i.resource.urn, "what": i.what, "monthly": i.monthly}
            for i in sorted(cost.current.items, key=lambda i: (i.resource.urn, i.what))
        ],
    }


def _change(result: PreviewResult) -> dict[str, Any] | None:
    change = result.change
    if change is None:
        return None
    return {
        "added": [r.urn for r in change.diff.added],
        "removed": [r.urn for r in change.diff.removed],
        "changes": [
            {"urn": urn, "action": a.kind.value, "why": a.causes} for urn, a in sorted(change.actions.items())
        ],
        "guarded": [
            {
                "urn": g.resource.urn,
                "category": g.category,
                "verb": g.verb,
                "acknowledged": g.acknowledged,
                "protected": g.protected,
            }
            for g in change.guarded
        ],
    }


def preview_json(result: PreviewResult) -> dict[str, Any]:
    plan = result.plan
    used = {value for value in invented() if value in plan.dumps()}
    return {
        "stack": plan.stack,
        "project": plan.project,
        "region": result.region,
        "exitCode": result.exit_code,
        "resources": len(plan.resources),
        "policies": [
            {
                "name": v.policy.name,
                "enforcement": v.policy.enforcement.value,
                "passed": v.passed,
                "violations": [{"resource": x.resource, "message": x.message} for x in v.violations],
            }
            for v in result.verdicts
        ],
        "cost": _cost(result),
        "change": _change(result),
        "placeholders": {value: label for value, label in invented().items() if value in used},
    }
