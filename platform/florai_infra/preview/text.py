"""The terminal form of the preview: tree, outputs, summary, policies, cost, diff and guard."""

from __future__ import annotations

from florai_infra.offline.placeholders import mask
from florai_infra.preview.changes import render_guard
from florai_infra.preview.cost import render_cost
from florai_infra.preview.diff import render_diff
from florai_infra.preview.report import render_header, render_outputs, render_summary, render_verdicts
from florai_infra.preview.result import PreviewResult
from florai_infra.preview.style import Style
from florai_infra.preview.tree import render_tree


def render_text(result: PreviewResult, style: Style) -> list[str]:
    plan = result.plan
    lines = render_header(plan, result.region, style)
    lines += ["", *render_tree(plan, style)]
    lines += ["", style.bold("Outputs:"), *render_outputs(plan)]
    lines += ["", style.bold("Resources:"), *render_summary(plan, style)]
    lines += ["", style.bold("Policies:"), *render_verdicts(result.verdicts, style)]
    lines += ["", style.bold("Monthly cost:")]
    if result.cost:
        lines += render_cost(result.cost, style)
    else:
        lines.append(style.yellow(f"    cannot estimate: {result.cost_error}"))
    lines += ["", style.bold(f"Diff against the committed plan {result.snapshot}:")]
    if result.change is None:
        lines.append(f"    no committed plan yet: run `make plan` to write {result.snapshot}")
    else:
        lines += render_diff(result.change.diff, style, result.change.actions)
        guard = render_guard(result.change, style)
        lines += ["", *guard] if guard else []
    return [mask(line) for line in lines]
