"""Export a plan as Terraform-plan JSON (the shape `terraform show -json` prints).

Pulumi's names become Terraform's: camelCase to snake_case, list blocks singular again where the
provider's schema says so (``rules`` -> ``rule``), single blocks as one-item lists. An input that
holds another resource's id, ARN or name becomes a reference (``aws_kms_key.kms_rds``) in the
configuration section, as Terraform records it, so settings made through separate resources
(a bucket's encryption, its public access block) are linked to what they configure.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from florai_infra.offline.engine import ACCOUNT_ID
from florai_infra.offline.outputs import fabricate_outputs, physical_id
from florai_infra.offline.plan import Plan, PlannedResource
from florai_infra.preview.values import flatten
from florai_infra.replacements.regions import resource_regions
from florai_infra.replacements.rules import is_covered_type, load_rules

FORMAT_VERSION = "1.2"
TERRAFORM_VERSION = "1.9.8"
PROVIDER = "registry.terraform.io/hashicorp/aws"
MAP_FIELDS = {"tags", "tagsAll", "labels", "parameters", "variables", "environment"}  # user keys, kept as-is
MIN_LINK = 8  # shorter strings ("true", "gp3") are never links


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def tf_key(name: str, attributes: set[str]) -> str:
    """A Pulumi input name as the provider's schema spells it (the bridge pluralises list blocks)."""
    snake = _snake(name)
    if snake in attributes or not attributes:
        return snake
    for plural, singular in (("ies", "y"), ("s", "")):
        if snake.endswith(plural) and snake[: -len(plural)] + singular in attributes:
            return snake[: -len(plural)] + singular
    return snake


def _address_names(plan: Plan, tf_types: dict[str, str]) -> dict[str, str]:
    """URN -> ``aws_x.name``, unique per Terraform type."""
    taken: set[str] = set()
    out = {}
    for resource in plan.resources:
        if resource.urn not in tf_types:
            continue
        base = re.sub(r"[^A-Za-z0-9_-]", "_", resource.name)
        base = base if base[:1].isalpha() or base[:1] == "_" else f"r_{base}"
        name, n = base, 1
        while f"{tf_types[resource.urn]}.{name}" in taken:
            n += 1
            name = f"{base}_{n}"
        taken.add(f"{tf_types[resource.urn]}.{name}")
        out[resource.urn] = f"{tf_types[resource.urn]}.{name}"
    return out


_ARN_ACCOUNT = re.compile(r"arn:aws[\w-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12}):")


def plan_account_id(plan: Plan) -> str:
    """The stack's account, as the run named it in ARNs (the commonest); the engine's default without any."""
    counts: Counter[str] = Counter()
    for resource in plan.resources:
        for value in flatten(resource.inputs).values():
            if isinstance(value, str):
                counts.update(_ARN_ACCOUNT.findall(value))
    return counts.most_common(1)[0][0] if counts else ACCOUNT_ID


def link_targets(
    plan: Plan, addresses: dict[str, str], regions: dict[str, str | None]
) -> dict[str, dict[str, str]]:
    """URN -> every id, ARN or name that resource is known by -> its address (``aws_s3_bucket.models``)."""
    targets: dict[str, dict[str, str]] = {}
    account = plan_account_id(plan)  # ids and ARNs as the run made them, in the stack's own account
    for resource in plan.resources:
        address = addresses.get(resource.urn)
        if not address:
            continue
        region = regions.get(resource.urn) or ""
        rid = physical_id(resource.type, resource.name, resource.inputs, region=region, account_id=account)
        outputs = fabricate_outputs(
            resource.type, resource.name, resource.inputs, rid, region=region, account_id=account
        )
        known = targets.setdefault(resource.urn, {})
        for key in ("id", "arn", "name", "bucket", "identifier", "keyId"):
            value = outputs.get(key)
            if isinstance(value, str) and len(value) >= MIN_LINK:
                known.setdefault(value, address)
    return targets


def linked_values(
    resource: PlannedResource, plan: Plan, targets: dict[str, dict[str, str]]
) -> dict[str, list[str]]:
    """Value -> addresses of the dependencies known by it, the one the others build on first.

    A bucket's versioning shares the bucket's name; what points at that name points at the bucket.
    """
    by_urn = {r.urn: r for r in plan.resources}
    found: dict[str, list[str]] = {}
    candidates: dict[str, list[str]] = {}
    for dep in resource.dependencies:
        for value in targets.get(dep, {}):
            candidates.setdefault(value, []).append(dep)
    for value, deps in candidates.items():
        roots = [d for d in deps if not set(by_urn[d].dependencies) & set(deps)] if len(deps) > 1 else deps
        ordered = roots + [d for d in deps if d not in roots]
        found[value] = [targets[d][value] for d in ordered]
    return found


class _Converter:
    def __init__(self, attributes: set[str], targets: dict[str, list[str]], own: str, name_field: str | None):
        self.attributes = attributes
        self.targets = targets  # of the resources this one depends on: a link is always a dependency
        self.own = own
        self.name_field = name_field

    def _refs(self, value: Any) -> list[str]:
        items = value if isinstance(value, list) else [value]
        found = [ref for v in items if isinstance(v, str) for ref in self.targets.get(v, [])]
        return [ref for ref in dict.fromkeys(found) if ref != self.own]

    def block(self, inputs: dict[str, Any], top: bool) -> tuple[dict[str, Any], dict[str, Any]]:
        """(values, expressions) of one block: linked values become references."""
        values: dict[str, Any] = {}
        expressions: dict[str, Any] = {}
        for name, value in inputs.items():
            key = tf_key(name, self.attributes)
            if name in MAP_FIELDS:
                values[key] = value
                continue
            if isinstance(value, dict):
                value = [value]  # a single block is a one-item list in Terraform's JSON
            if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
                pairs = [self.block(v, top=False) for v in value]
                values[key] = [v for v, _ in pairs]
                if any(e for _, e in pairs):
                    expressions[key] = [e for _, e in pairs]
                continue
            refs = self._refs(value) if not (top and name == self.name_field) else []
            if refs:
                expressions[key] = {"references": [r for ref in refs for r in (f"{ref}.id", ref)]}
                values[key] = None if top else value  # unknown until apply, as Terraform plans it
            else:
                values[key] = value
        return values, expressions


def export(plan: Plan, providers: dict[str, str] | None = None) -> dict[str, Any]:
    """The Terraform-plan JSON document of ``plan``'s AWS resources."""
    rules = load_rules()
    aws = [r for r in plan.resources if r.custom and is_covered_type(r.type) and r.type in rules]
    tf_types = {r.urn: rules[r.type].terraform for r in aws}
    addresses = _address_names(plan, tf_types)
    targets = link_targets(plan, addresses, resource_regions(plan, providers or {}))
    planned, changes, configured = [], [], []
    for resource in sorted(aws, key=lambda r: addresses[r.urn]):
        address = addresses[resource.urn]
        tf_type, name = address.split(".", 1)
        rule = rules[resource.type]
        linked = linked_values(resource, plan, targets)
        converter = _Converter(set(rule.terraform_attributes), linked, address, rule.name_field)
        values, expressions = converter.block(resource.inputs, top=True)
        common = {"address": address, "mode": "managed", "type": tf_type, "name": name}
        planned.append({**common, "provider_name": PROVIDER, "schema_version": 0, "values": values})
        changes.append(
            {
                **common,
                "provider_name": PROVIDER,
                "change": {"actions": ["create"], "before": None, "after": values, "after_unknown": {}},
            }
        )
        configured.append({**common, "provider_config_key": "aws", "expressions": expressions})
    return {
        "format_version": FORMAT_VERSION,
        "terraform_version": TERRAFORM_VERSION,
        "planned_values": {"root_module": {"resources": planned}},
        "resource_changes": changes,
        "configuration": {
            "provider_config": {"aws": {"name": "aws", "full_name": PROVIDER}},
            "root_module": {"resources": configured},
        },
    }


def urn_of(plan: Plan, address: str) -> PlannedResource | None:
    """The planned resource an exported address stands for (for reports)."""
    rules = load_rules()
    aws = [r for r in plan.resources if r.custom and is_covered_type(r.type) and r.type in rules]
    addresses = _address_names(plan, {r.urn: rules[r.type].terraform for r in aws})
    return next((r for r in aws if addresses[r.urn] == address), None)
