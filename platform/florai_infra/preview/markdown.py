"""``--format markdown``: the pull request summary (CI appends it to the job summary)."""

from __future__ import annotations

from florai_infra.offline.placeholders import mask
from florai_infra.preview.cost import cost_basis, usd
from florai_infra.preview.result import PreviewResult
from florai_infra.replacements.guard import ALLOW_VARIABLE, PROTECTED_NOTE


def _cost(result: PreviewResult) -> list[str]:
    cost = result.cost
    if cost is None:
        return [f"Cost: cannot estimate ({result.cost_error})", ""]
    lines = [f"**Monthly cost: {usd(cost.current.total)}**", ""]
    if cost.delta is not None:
        lines[0] += f" ({usd(cost.delta, signed=True)} against the committed plan)"
    lines += ["| component | monthly | change |", "| --- | ---: | ---: |"]
    now = cost.current.by_component()
    for label, delta in cost.component_deltas().items():
        lines.append(
            f"| `{label}` | {usd(now.get(label, 0.0))} | {usd(delta, signed=True) if delta else ''} |"
        )
    return [*lines, "", f"_{cost_basis()}_", ""]


def _changes(result: PreviewResult) -> list[str]:
    change = result.change
    if change is None:
        return ["No committed plan yet: run `make plan`.", ""]
    if change.diff.empty and not change.actions:
        return ["No changes against the committed plan.", ""]
    lines = ["| | resource | why |", "| --- | --- | --- |"]
    lines += [f"| + | `{r.type}` {r.name} | created |" for r in change.diff.added]
    lines += [f"| - | `{r.type}` {r.name} | deleted |" for r in change.diff.removed]
    for action in change.actions.values():
        mark = action.kind.mark if not action.replaces else f"{action.kind.mark} {action.kind.value}"
        why = "; ".join(action.causes).replace("|", "\\|") or "inputs change"
        lines.append(f"| {mark} | `{action.resource.type}` {action.resource.name} | {why} |")
    return [*lines, ""]


def _guard(result: PreviewResult) -> list[str]:
    change = result.change
    if change is None or not change.guarded:
        return []
    lines = [
        "> [!CAUTION]" if change.blocked else "> [!WARNING]",
        "> Stateful resources replaced or deleted:",
    ]
    for g in change.guarded:
        state = "acknowledged" if g.acknowledged else f"**not acknowledged**: `{ALLOW_VARIABLE}={g.category}`"
        state += f"; {PROTECTED_NOTE}" if g.protected else ""
        lines.append(f"> - {g.verb} {g.category}: `{g.resource.type}` {g.resource.name} ({state})")
    return [*lines, ""]


def render_markdown(result: PreviewResult) -> str:
    plan = result.plan
    blocking = sum(len(v.violations) for v in result.verdicts if v.blocking)
    passed = sum(1 for v in result.verdicts if v.passed)
    replaced = len(result.change.replaced) if result.change else 0
    protected = sum(1 for r in plan.resources if r.protect)
    retained = sum(1 for r in plan.resources if r.retain_on_delete)
    lines = [
        f"### Infrastructure preview: `{plan.project}/{plan.stack}` ({result.region})",
        "",
        *_guard(result),
        f"{len(plan.resources)} resources ({protected} protected, {retained} retained on delete); "
        f"policies {passed}/{len(result.verdicts)} passed, {blocking} mandatory violations; "
        f"{replaced} replaced.",
        "",
        *_cost(result),
        "#### Changes against the committed plan",
        "",
        *_changes(result),
        "_Offline preview: ids, ARNs and endpoints are placeholders._",
    ]
    return "\n".join(mask(line) for line in lines) + "\n"
