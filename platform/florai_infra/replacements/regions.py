"""Which AWS region each planned resource lives in: the stack's, or its explicit provider's."""

from __future__ import annotations

import re
from collections import Counter

from florai_infra.offline.plan import Plan
from florai_infra.preview.values import flatten

AWS_PROVIDER = "pulumi:providers:aws"
_ARN_REGION = re.compile(r"arn:aws[\w-]*:[a-z0-9-]+:([a-z]{2}(?:-[a-z]+)+-\d):")


def explicit_regions(plan: Plan) -> dict[str, str]:
    """URN of each explicit AWS provider -> its region."""
    return {r.urn: str(r.inputs["region"]) for r in plan.by_type(AWS_PROVIDER) if r.inputs.get("region")}


def stack_region(plan: Plan, providers: dict[str | None, str] | None = None) -> str | None:
    """The default provider's region: the commonest region in ARNs of resources without an explicit one.

    ``providers`` (urn -> provider urn, from the current run) tells which resources use an explicit
    provider; a committed plan does not record it.
    """
    explicit = explicit_regions(plan)
    counts: Counter[str] = Counter()
    for resource in plan.resources:
        if (providers or {}).get(resource.urn) in explicit:
            continue
        for value in flatten(resource.inputs).values():
            if isinstance(value, str):
                counts.update(_ARN_REGION.findall(value))
    return counts.most_common(1)[0][0] if counts else None


def resource_regions(plan: Plan, providers: dict[str | None, str]) -> dict[str, str | None]:
    """URN -> region, for every resource of ``plan``."""
    explicit = explicit_regions(plan)
    default = stack_region(plan, providers)
    return {r.urn: explicit.get(providers.get(r.urn) or "", default) for r in plan.resources}
