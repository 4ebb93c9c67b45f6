"""The sections of the offline preview around the tree: header, outputs, summary, policies."""

from __future__ import annotations

from florai_infra.offline.plan import Plan, PlannedResource
from florai_infra.policies.evaluate import Verdict
from florai_infra.policies.model import Enforcement
from florai_infra.preview.diff import WIDTH
from florai_infra.preview.style import Style
from florai_infra.preview.tree import stack_children
from florai_infra.preview.values import show_quoted

OFFLINE_NOTE = "offline: no cloud calls, computed values are placeholders"


def render_header(plan: Plan, region: str, style: Style) -> list[str]:
    return [
        style.bold(f"Previewing stack {plan.project}/{plan.stack}"),
        f"    project: {plan.project}   stack: {plan.stack}   region: {region}",
        style.dim(f"    {OFFLINE_NOTE}"),
    ]


def render_outputs(plan: Plan) -> list[str]:
    """One line per output; a map or list too wide for the terminal, one line per item."""
    if not plan.outputs:
        return ["    (none)"]
    width = max(len(k) for k in plan.outputs)
    lines = []
    for key in sorted(plan.outputs):
        value = plan.outputs[key]
        line = f"    {key + ':':<{width + 1}} {show_quoted(value)}"
        if len(line) <= WIDTH or not isinstance(value, dict | list):
            lines.append(line)
            continue
        lines.append(f"    {key}:")
        items = sorted(value.items()) if isinstance(value, dict) else [("-", v) for v in value]
        lines += [f"        {k}{':' if isinstance(value, dict) else ''} {show_quoted(v)}" for k, v in items]
    return lines


def _descendants(plan: Plan, resource: PlannedResource) -> int:
    children = plan.children(resource.urn)
    return len(children) + sum(_descendants(plan, c) for c in children)


def render_summary(plan: Plan, style: Style) -> list[str]:
    total = len(plan.resources) + 1  # the stack itself, as `pulumi preview` counts it
    top = stack_children(plan)
    components = [r for r in top if r.is_component]
    loose = [r for r in top if r.custom]
    lines = [style.green(f"    + {total} to create"), "    by component:"]
    labels = [(f"{r.type} {r.name}", 1 + _descendants(plan, r)) for r in components]
    if loose:
        labels.append(("(directly in the stack)", len(loose)))
    width = max((len(label) for label, _ in labels), default=0)
    lines += [f"      {label:<{width}}  {count:>4}" for label, count in labels]
    return lines


def render_verdicts(verdicts: list[Verdict], style: Style) -> list[str]:
    lines = []
    for verdict in verdicts:
        policy = verdict.policy
        level = policy.enforcement.value
        if verdict.passed:
            lines.append(f"    {style.green('pass')}  {policy.name} ({level})")
            continue
        mandatory = policy.enforcement is Enforcement.MANDATORY
        mark = style.red("FAIL") if mandatory else style.yellow("warn")
        lines.append(f"    {mark}  {policy.name} ({level}): {policy.description}")
        for v in verdict.violations:
            lines.append(f"          {v.resource or 'stack'}: {v.message}")
    blocking = sum(len(v.violations) for v in verdicts if v.blocking)
    advisory = sum(len(v.violations) for v in verdicts if not v.passed and not v.blocking)
    passed = sum(1 for v in verdicts if v.passed)
    result = (
        f"    {passed}/{len(verdicts)} policies passed, "
        f"{blocking} mandatory and {advisory} advisory violations"
    )
    lines.append(style.red(result) if blocking else style.green(result))
    return lines
