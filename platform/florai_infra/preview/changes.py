"""The change against the committed plan: the diff, what AWS does with it, and the stateful guard."""

from __future__ import annotations

from dataclasses import dataclass, field

from florai_infra.offline.plan import Plan
from florai_infra.preview.diff import PlanDiff, diff_plans
from florai_infra.preview.style import Style
from florai_infra.replacements.classify import Action, classify
from florai_infra.replacements.guard import (
    ALLOW_VARIABLE,
    PROTECTED_NOTE,
    GuardedChange,
    blocking,
    guarded_changes,
)


@dataclass
class Change:
    diff: PlanDiff
    actions: dict[str, Action] = field(default_factory=dict)
    guarded: list[GuardedChange] = field(default_factory=list)

    @property
    def replaced(self) -> list[Action]:
        return [a for a in self.actions.values() if a.replaces]

    @property
    def blocked(self) -> bool:
        return blocking(self.guarded)


def plan_change(committed: Plan, current: Plan, allowed: set[str]) -> Change:
    diff = diff_plans(committed, current)
    actions = classify(committed, current, diff)
    replaced = [a.resource for a in actions.values() if a.replaces]
    protected = frozenset(r.urn for r in committed.resources if r.protect)
    return Change(diff, actions, guarded_changes(replaced, diff.removed, allowed, protected))


def render_guard(change: Change, style: Style) -> list[str]:
    """The block at the end of the preview: each stateful replacement or deletion, acknowledged or not."""
    if not change.guarded:
        return []
    lines = [style.bold("Stateful resources replaced or deleted:")]
    for g in change.guarded:
        state = "acknowledged" if g.acknowledged else f"NOT acknowledged: set {ALLOW_VARIABLE}={g.category}"
        state += f"; {PROTECTED_NOTE}" if g.protected else ""
        line = f"    {g.verb} {g.category}: {g.resource.type} {g.resource.name} ({state})"
        lines.append(style.yellow(line) if g.acknowledged else style.red(line))
    if change.blocked:
        names = ",".join(sorted({g.category for g in change.guarded if not g.acknowledged}))
        lines.append(style.red(f"    data would be lost: review, then rerun with {ALLOW_VARIABLE}={names}"))
    return lines
