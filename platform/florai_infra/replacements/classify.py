"""What each change does on AWS: update in place, replace, or replace deleting first.

A resource is replaced when a changed input is one the provider replaces on, when its region
moves, when an input references the id or ARN of a replaced resource and that input forces
replacement (otherwise that input just changes), or when its provider is replaced.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

from florai_infra.offline.engine import ACCOUNT_ID
from florai_infra.offline.outputs import fabricate_outputs, physical_id
from florai_infra.offline.plan import Plan, PlannedResource
from florai_infra.preview.values import flatten
from florai_infra.replacements.regions import resource_regions
from florai_infra.replacements.rules import is_covered_type, rule_for

if TYPE_CHECKING:
    from florai_infra.preview.diff import PlanDiff

_INDEX = re.compile(r"\[\d+\]")


class Kind(Enum):
    UPDATE = "update"
    REPLACE = "replace"
    DELETE_BEFORE_REPLACE = "delete-before-replace"

    @property
    def mark(self) -> str:
        return "~" if self is Kind.UPDATE else "+-"


@dataclass
class Action:
    resource: PlannedResource
    kind: Kind
    causes: list[str] = field(default_factory=list)  # why: forcing inputs, region, a replaced dependency

    @property
    def replaces(self) -> bool:
        return self.kind is not Kind.UPDATE


def _fields(paths: list[str]) -> str:
    """``subnetIds[0], subnetIds[1]`` -> ``subnetIds``: the inputs, not each list item."""
    return ", ".join(dict.fromkeys(_INDEX.sub("", p) for p in paths))


def _forcing(resource: PlannedResource, paths: list[str]) -> list[str]:
    if not is_covered_type(resource.type):
        return [p for p in paths if p in ("metadata.name", "metadata.namespace")]  # Kubernetes' own rule
    rule = rule_for(resource.type)
    return [p for p in paths if rule.forces_replacement(p)]


def _replace_kind(resource: PlannedResource) -> Kind:
    """Pulumi deletes first when the physical name is set explicitly: two cannot share it."""
    if is_covered_type(resource.type):
        name = rule_for(resource.type).name_field
        if name and resource.inputs.get(name):
            return Kind.DELETE_BEFORE_REPLACE
    return Kind.REPLACE


def new_identity(resource: PlannedResource, region: str | None) -> set[str]:
    """The id and ARN-like outputs that change when ``resource`` is replaced (not its own name)."""
    rid = physical_id(
        resource.type, resource.name, resource.inputs, region=region or "", account_id=ACCOUNT_ID
    )
    own = {v for v in flatten(resource.inputs).values() if isinstance(v, str)}
    if rid in own:  # its id is a name the program sets: the replacement keeps it
        return set()
    outputs = fabricate_outputs(
        resource.type, resource.name, resource.inputs, rid, region=region or "", account_id=ACCOUNT_ID
    )
    return {v for k, v in outputs.items() if isinstance(v, str) and rid in v and k not in resource.inputs}


def _references(dependent: PlannedResource, identity: set[str], names: Collection[str] = ()) -> list[str]:
    """Input paths holding one of ``identity`` (ids, ARNs: also inside a policy) or exactly a name."""
    if not identity and not names:
        return []
    return [
        path
        for path, value in flatten(dependent.inputs).items()
        if isinstance(value, str) and (value in names or any(ident in value for ident in identity))
    ]


def _deleted_first_name(resource: PlannedResource, kind: Kind) -> set[str]:
    """Deleting first, Pulumi treats inputs that name the resource as unknown too: its name may move."""
    if kind is not Kind.DELETE_BEFORE_REPLACE:
        return set()
    name = resource.inputs.get(rule_for(resource.type).name_field or "")
    return {name} if isinstance(name, str) else set()


def classify(committed: Plan, current: Plan, diff: PlanDiff) -> dict[str, Action]:
    """URN -> action for every resource the change updates or replaces (added/removed excluded)."""
    providers = {r.urn: r.provider for r in current.resources if r.provider}
    old_regions = resource_regions(committed, providers)
    new_regions = resource_regions(current, providers)
    old = {r.urn: r for r in committed.resources}
    actions: dict[str, Action] = {}

    def replace(resource: PlannedResource, cause: str) -> bool:
        action = actions.get(resource.urn)
        if action and action.replaces:
            action.causes.append(cause)
            return False
        kind = _replace_kind(resource)
        actions[resource.urn] = Action(resource, kind, [*(action.causes if action else []), cause])
        return True

    for resource, changes in diff.changed:
        forcing = _forcing(resource, [c.path for c in changes])
        if forcing:
            replace(resource, f"{_fields(forcing)} forces replacement")
        else:
            actions[resource.urn] = Action(resource, Kind.UPDATE)
    for resource in current.resources:
        was, now = old_regions.get(resource.urn), new_regions.get(resource.urn)
        regional = resource.custom and is_covered_type(resource.type) and rule_for(resource.type).regional
        if resource.urn in old and regional and was and now and was != now:
            replace(resource, f"region {was} -> {now}")

    pending = [urn for urn, a in actions.items() if a.replaces]
    by_dependency: dict[str, list[PlannedResource]] = {}
    for resource in current.resources:
        for dep in resource.dependencies:
            by_dependency.setdefault(dep, []).append(resource)
        if resource.provider:
            by_dependency.setdefault(resource.provider, []).append(resource)
    while pending:
        urn = pending.pop(0)
        replaced = old.get(urn) or actions[urn].resource
        identity = new_identity(replaced, old_regions.get(urn))
        names = _deleted_first_name(replaced, actions[urn].kind)
        for dependent in by_dependency.get(urn, []):
            if dependent.urn not in old or not dependent.custom:
                continue
            if dependent.provider == urn or dependent.type.startswith("pulumi:providers:"):
                role = "provider" if dependent.provider == urn else "input"
                if replace(dependent, f"its {role} {replaced.name} is replaced"):
                    pending.append(dependent.urn)
                continue
            paths = _references(dependent, identity, names)
            forcing = _forcing(dependent, paths)
            if forcing:
                if replace(dependent, f"{_fields(forcing)} references {replaced.name} (replaced)"):
                    pending.append(dependent.urn)
            elif paths and dependent.urn not in actions:
                actions[dependent.urn] = Action(
                    dependent, Kind.UPDATE, [f"{_fields(paths)}: new id of {replaced.name}"]
                )
    for action in actions.values():
        action.causes = merged(action.causes)
    return dict(sorted(actions.items()))


def merged(causes: list[str]) -> list[str]:
    """``x references a (replaced)``, ``x references b (replaced)`` -> ``x references a, b (replaced)``."""
    out: dict[str, list[str]] = {}
    for cause in causes:
        head, sep, tail = cause.partition(" references ")
        if sep and tail.endswith(" (replaced)"):
            out.setdefault(f"{head} references", []).append(tail.removesuffix(" (replaced)"))
        else:
            out.setdefault(cause, [])
    return [f"{k} {', '.join(v)} (replaced)" if v else k for k, v in out.items()]
