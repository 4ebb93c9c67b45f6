"""What changed between the committed plan snapshot and this run: resources and input paths."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from typing import Any

from florai_infra.offline.plan import Plan, PlannedResource
from florai_infra.preview.style import Style
from florai_infra.preview.values import ABSENT, flatten, show_quoted
from florai_infra.replacements.classify import Action, Kind

MISSING = object()  # a path present on one side only


@dataclass(frozen=True)
class Change:
    path: str
    old: Any
    new: Any


@dataclass
class PlanDiff:
    added: list[PlannedResource] = field(default_factory=list)
    removed: list[PlannedResource] = field(default_factory=list)
    changed: list[tuple[PlannedResource, list[Change]]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


def _comparable(resource: PlannedResource) -> dict[str, Any]:
    """What a change can touch: the inputs, plus where the resource sits in the tree."""
    return {**flatten(resource.inputs, "inputs"), "parent": resource.parent}


def resource_changes(old: PlannedResource, new: PlannedResource) -> list[Change]:
    before, after = _comparable(old), _comparable(new)
    changes = []
    for path in sorted(set(before) | set(after)):
        a, b = before.get(path, MISSING), after.get(path, MISSING)
        if a != b:
            changes.append(Change(path.removeprefix("inputs."), a, b))
    return changes


def diff_plans(committed: Plan, current: Plan) -> PlanDiff:
    old = {r.urn: r for r in committed.resources}
    new = {r.urn: r for r in current.resources}
    result = PlanDiff(
        added=[new[u] for u in sorted(new.keys() - old.keys())],
        removed=[old[u] for u in sorted(old.keys() - new.keys())],
    )
    for urn in sorted(old.keys() & new.keys()):
        changes = resource_changes(old[urn], new[urn])
        if changes:
            result.changed.append((new[urn], changes))
    return result


def _value(value: Any) -> str:
    return ABSENT if value is MISSING else show_quoted(value)


WIDTH = 100  # terminal lines wrap here


def _head(mark: str, resource: PlannedResource, note: str = "") -> str:
    return f"    {mark} {resource.type} {resource.name}" + (f"  ({note})" if note else "")


def _why(causes: list[str]) -> list[str]:
    if not causes:
        return []
    return textwrap.wrap(
        "why: " + "; ".join(causes),
        WIDTH,
        initial_indent=" " * 8,
        subsequent_indent=" " * 13,
        break_on_hyphens=False,
    )


def render_diff(diff: PlanDiff, style: Style, actions: dict[str, Action] | None = None) -> list[str]:
    """Added, removed, then each changed resource as an update (~) or a replacement (+-), with why."""
    if diff.empty and not actions:
        return ["    no changes against the committed plan"]
    actions = actions or {}
    lines = [style.green(_head("+", r)) for r in diff.added]
    lines += [style.red(_head("-", r)) for r in diff.removed]
    changed = {resource.urn: changes for resource, changes in diff.changed}
    for urn in sorted(changed.keys() | actions.keys()):
        action = actions.get(urn)
        resource = action.resource if action else next(r for r, _ in diff.changed if r.urn == urn)
        if action and action.replaces:
            lines.append(style.red(_head(action.kind.mark, resource, action.kind.value)))
        else:
            lines.append(style.yellow(_head("~", resource)))
        lines += _why(action.causes if action else [])
        lines += [f"        {c.path}: {_value(c.old)} -> {_value(c.new)}" for c in changed.get(urn, [])]
    replaced = [a for a in actions.values() if a.replaces]
    updated = len(set(changed) | set(actions)) - len(replaced)
    first = sum(a.kind is Kind.DELETE_BEFORE_REPLACE for a in replaced)
    tally = (
        f"{len(diff.added)} added, {len(diff.removed)} removed, {updated} updated, {len(replaced)} replaced"
    )
    lines.append(f"    {tally}" + (f" ({first} deleting first)" if first else ""))
    return lines
