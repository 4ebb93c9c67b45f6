"""Run every policy over a recorded plan: the offline half of the policy pack."""

from __future__ import annotations

from dataclasses import dataclass

from florai_infra.offline.plan import Plan
from florai_infra.policies import RESOURCE_POLICIES, STACK_POLICIES
from florai_infra.policies.model import Enforcement, ResourcePolicy, StackPolicy, StackResource


@dataclass(frozen=True)
class Violation:
    message: str
    urn: str | None  # None: the stack as a whole
    resource: str | None  # "<type> <name>" for people


@dataclass(frozen=True)
class Verdict:
    policy: ResourcePolicy | StackPolicy
    violations: tuple[Violation, ...]

    @property
    def passed(self) -> bool:
        return not self.violations

    @property
    def blocking(self) -> bool:
        return not self.passed and self.policy.enforcement is Enforcement.MANDATORY


def stack_resources(plan: Plan) -> list[StackResource]:
    return [
        StackResource(
            type=r.type,
            name=r.name,
            urn=r.urn,
            props=r.inputs,
            dependencies=r.dependencies,
            protect=r.protect,
            retain_on_delete=r.retain_on_delete,
        )
        for r in plan.custom_resources
    ]


def _check_resources(policy: ResourcePolicy, plan: Plan) -> tuple[Violation, ...]:
    found: list[Violation] = []
    for resource in plan.custom_resources:
        if not policy.applies_to(resource.type):
            continue
        label = f"{resource.type} {resource.name}"
        report = lambda m, r=resource, lb=label: found.append(Violation(m, r.urn, lb))  # noqa: E731
        policy.validate(resource.inputs, report)
    return tuple(found)


def _check_stack(policy: StackPolicy, plan: Plan) -> tuple[Violation, ...]:
    labels = {r.urn: f"{r.type} {r.name}" for r in plan.resources}
    found: list[Violation] = []
    report = lambda m, urn=None: found.append(Violation(m, urn, labels.get(urn)))  # noqa: E731
    policy.validate(stack_resources(plan), report)
    return tuple(found)


def evaluate(plan: Plan) -> list[Verdict]:
    """One verdict per policy, in pack order, violations in URN order (deterministic)."""
    verdicts = [Verdict(p, _check_resources(p, plan)) for p in RESOURCE_POLICIES]
    verdicts += [Verdict(p, _check_stack(p, plan)) for p in STACK_POLICIES]
    return [Verdict(v.policy, tuple(sorted(v.violations, key=_violation_order))) for v in verdicts]


def _violation_order(violation: Violation) -> tuple[str, str]:
    return (violation.urn or "", violation.message)


def has_blocking(verdicts: list[Verdict]) -> bool:
    return any(v.blocking for v in verdicts)
