"""What changed between the committed plan snapshot and this run: resources and input paths."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from florai_infra.offline.plan import Plan, PlannedResource
from florai_infra.preview.style import Style
from florai_infra.preview.values import ABSENT, flatten, show_quoted

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


def render_diff(diff: PlanDiff, style: Style) -> list[str]:
    if diff.empty:
        return ["    no changes against the committed plan"]
    lines = [style.green(f"    + {r.type} {r.name}") for r in diff.added]
    lines += [style.red(f"    - {r.type} {r.name}") for r in diff.removed]
    for resource, changes in diff.changed:
        lines.append(style.yellow(f"    ~ {resource.type} {resource.name}"))
        lines += [f"        {c.path}: {_value(c.old)} -> {_value(c.new)}" for c in changes]
    lines.append(f"    {len(diff.added)} added, {len(diff.removed)} removed, {len(diff.changed)} changed")
    return lines
