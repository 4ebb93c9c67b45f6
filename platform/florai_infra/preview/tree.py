"""The Pulumi-preview-style tree: the stack, its components, their resources, with key settings."""

from __future__ import annotations

import re

from florai_infra.offline.plan import STACK_TYPE, Plan, PlannedResource
from florai_infra.preview.diff import WIDTH
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


def _info_lines(info: str, indent: str) -> list[str]:
    """Key settings under their row, as many ``path=value`` pairs a line as fit the width."""
    lines: list[str] = []
    for pair in info.split("  ") if info else []:
        if lines and len(lines[-1]) + 2 + len(pair) <= WIDTH:
            lines[-1] += f"  {pair}"
        elif len(indent) + len(pair) <= WIDTH:
            lines.append(f"{indent}{pair}")
        else:  # one long value (a JSON map or list): cut it after commas
            lines.append(indent)
            for piece in re.split(r"(?<=,)", pair):
                if len(lines[-1]) + len(piece) > WIDTH and lines[-1].strip():
                    lines.append(indent + "  ")
                lines[-1] += piece
    return lines


def render_tree(plan: Plan, style: Style) -> list[str]:
    # (type column, name, info, the guide its settings continue under, resource options)
    rows: list[tuple[str, str, str, str, str]] = [
        (f"{STACK_TYPE}", f"{plan.project}-{plan.stack}", "", "", "")
    ]

    def walk(children: list[PlannedResource], guide: str) -> None:
        for i, child in enumerate(children):
            last = i == len(children) - 1
            below = guide + ("   " if last else "│  ")
            kids = sorted(plan.children(child.urn), key=_order)
            options = f"[{', '.join(child.options)}]" if child.options else ""
            rows.append(
                (
                    f"{guide}{'└─ ' if last else '├─ '}{child.type}",
                    child.name,
                    key_settings(child),
                    below,
                    options,
                )
            )
            walk(kids, below)

    walk(stack_children(plan), "")
    type_width = min(MAX_TYPE_COLUMN, max(len(row[0]) for row in rows))
    name_width = max(len(row[1]) for row in rows)
    lines = [style.bold(f"    {'Type':<{type_width}}  {'Name':<{name_width}}  Plan")]
    for type_col, name, info, below, options in rows:
        columns = f"{type_col:<{type_width}}  {name:<{name_width}}"
        marker = f"  {style.cyan(options)}" if options else ""
        lines.append(f"{style.green(CREATE)}   {columns}  {style.green('create')}".rstrip() + marker)
        lines += [style.dim(line) for line in _info_lines(info, f"    {below}   ")]
    return lines
