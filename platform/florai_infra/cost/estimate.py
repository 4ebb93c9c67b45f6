"""A plan's monthly estimate: line items per resource, summed per component and in total."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from florai_infra.cost.items import FREE, PRICED, Context, LineItem
from florai_infra.cost.prices import MissingPriceError, assumptions
from florai_infra.offline.plan import Plan, PlannedResource
from florai_infra.replacements.regions import resource_regions
from florai_infra.replacements.rules import is_covered_type

DIRECT = "(directly in the stack)"


class UnpricedTypeError(MissingPriceError):
    """An AWS type that is neither priced nor known free."""


@dataclass
class Estimate:
    items: list[LineItem] = field(default_factory=list)
    components: dict[str, str] = field(default_factory=dict)  # resource urn -> component label

    @property
    def total(self) -> float:
        return round(sum(i.monthly for i in self.items), 2)

    def by_component(self) -> dict[str, float]:
        sums: dict[str, float] = defaultdict(float)
        for item in self.items:
            sums[self.components[item.resource.urn]] += item.monthly
        return {k: round(v, 2) for k, v in sorted(sums.items())}


def component_of(plan: Plan, resource: PlannedResource) -> str:
    """The top-level component a resource belongs to, as ``type name``."""
    known = {r.urn: r for r in plan.resources}
    top = None
    parent = resource.parent
    while parent in known:
        top = known[parent]
        parent = top.parent
    return f"{top.type} {top.name}" if top else DIRECT


def pricer_for(type_: str):
    if type_ in PRICED:
        return PRICED[type_]
    if type_ in FREE:
        return None
    raise UnpricedTypeError(
        f"{type_} is neither priced nor listed free in florai_infra/cost/items.py: price it before it ships"
    )


def estimate(plan: Plan, stack: str, providers: dict[str, str] | None = None) -> Estimate:
    usage = assumptions(stack)
    regions = resource_regions(plan, providers or {})
    result = Estimate()
    for resource in plan.resources:
        if not (resource.custom and is_covered_type(resource.type)):
            continue
        pricer = pricer_for(resource.type)
        if pricer is None:
            continue
        context = Context(plan, regions.get(resource.urn) or "us-east-1", usage)
        result.items += pricer(resource, context)
        result.components[resource.urn] = component_of(plan, resource)
    return result
