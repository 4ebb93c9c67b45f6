"""The Pulumi-preview-style tree: the stack, its components, their resources, with key settings."""

from __future__ import annotations

from florai_infra.offline.plan import STACK_TYPE, Plan, PlannedResource
from florai_infra.preview.settings import key_settings
from florai_infra.preview.style import Style

CREATE = "+"
MAX_TYPE_COLUMN = 64  # longer type tokens push their row right instead of widening every row


def _order(resource: PlannedResource) -> tuple[bool, str, str]:
    return (resource.custom, resource.type, resource.name)  # components first, then by type and name


def stack_children(plan: Plan) -> list[PlannedResource]:
    """Resources parented to the stack itself (their parent is not a recorded resource)."""
    known = {r.urn for r in plan.resources}
    return sorted((r for r in plan.resources if r.parent not in known), key=_order)


def render_tree(plan: Plan, style: Style) -> list[str]:
    rows: list[tuple[str, str, str]] = [(f"{STACK_TYPE}", f"{plan.project}-{plan.stack}", "")]

    def walk(children: list[PlannedResource], guide: str) -> None:
        for i, child in enumerate(children):
            last = i == len(children) - 1
            rows.append((f"{guide}{'└─ ' if last else '├─ '}{child.type}", child.name, key_settings(child)))
            walk(sorted(plan.children(child.urn), key=_order), guide + ("   " if last else "│  "))

    walk(stack_children(plan), "")
    type_width = min(MAX_TYPE_COLUMN, max(len(t) for t, _, _ in rows))
    name_width = max(len(n) for _, n, _ in rows)
    lines = [style.bold(f"    {'Type':<{type_width}}  {'Name':<{name_width}}  Plan    Info")]
    for type_col, name, info in rows:
        columns = f"{type_col:<{type_width}}  {name:<{name_width}}"
        line = f"{style.green(CREATE)}   {columns}  {style.green('create')}"
        lines.append(f"{line}  {style.dim(info)}".rstrip() if info else line.rstrip())
    return lines
