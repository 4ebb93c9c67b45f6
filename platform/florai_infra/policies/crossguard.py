"""Wrap the FlorAI policies as pulumi_policy objects for the CrossGuard pack.

Only wraps: ``PolicyPack`` (which starts a gRPC server and never returns) is created in
``platform/policy-pack/__main__.py``, so tests can import and call everything here.
"""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from florai_infra.policies import RESOURCE_POLICIES, STACK_POLICIES
from florai_infra.policies.model import Enforcement, ResourcePolicy, StackPolicy, StackResource

PACK_NAME = "florai"
ENFORCEMENT_LEVELS = {
    Enforcement.MANDATORY: EnforcementLevel.MANDATORY,
    Enforcement.ADVISORY: EnforcementLevel.ADVISORY,
}


def resource_validation_policy(policy: ResourcePolicy) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if policy.applies_to(args.resource_type):
            policy.validate(args.props, lambda message: report_violation(message, None))

    return ResourceValidationPolicy(
        name=policy.name,
        description=policy.description,
        enforcement_level=ENFORCEMENT_LEVELS[policy.enforcement],
        validate=validate,
    )


def stack_validation_policy(policy: StackPolicy) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        resources = [
            StackResource(
                type=r.resource_type,
                name=r.name,
                urn=r.urn,
                props=r.props,
                dependencies=tuple(d.urn for d in (r.dependencies or [])),
                protect=getattr(r.opts, "protect", None),
                retain_on_delete=getattr(r.opts, "retain_on_delete", None),
            )
            for r in args.resources
        ]
        policy.validate(resources, lambda message, urn=None: report_violation(message, urn))

    return StackValidationPolicy(
        name=policy.name,
        description=policy.description,
        enforcement_level=ENFORCEMENT_LEVELS[policy.enforcement],
        validate=validate,
    )


def pack_policies() -> list[ResourceValidationPolicy | StackValidationPolicy]:
    return [resource_validation_policy(p) for p in RESOURCE_POLICIES] + [
        stack_validation_policy(p) for p in STACK_POLICIES
    ]
