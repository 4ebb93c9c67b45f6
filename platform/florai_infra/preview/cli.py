"""`python -m florai_infra.preview`: offline preview, plan snapshots, JSON plan, or the live preview.

Exit status: 0 clean, 1 a mandatory policy violation, 2 a config error, an unknown stack
or (``--live``) a missing Pulumi CLI or AWS credentials, 3 a stateful resource (database,
cache, bucket, key, cluster, registry) replaced or deleted without ``ALLOW_REPLACE=<category>``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from florai_infra import STACKS
from florai_infra.config import ConfigError
from florai_infra.cost.prices import MissingPriceError
from florai_infra.offline.engine import PROGRAM, load_stack_config, read_config_file, run_stack
from florai_infra.offline.plan import Plan
from florai_infra.policies.evaluate import evaluate
from florai_infra.preview.changes import plan_change
from florai_infra.preview.cost import plan_cost
from florai_infra.preview.live import run_live
from florai_infra.preview.machine import preview_json
from florai_infra.preview.markdown import render_markdown
from florai_infra.preview.result import EXIT_GUARDED, PreviewResult
from florai_infra.preview.snapshots import PLANS_DIR, read_snapshot, snapshot_path, write_snapshot
from florai_infra.preview.style import Style
from florai_infra.preview.text import render_text
from florai_infra.replacements.guard import ALLOW_VARIABLE, acknowledged_names
from florai_infra.replacements.rules import UncoveredTypeError

__all__ = ["EXIT_GUARDED", "main", "offline_preview"]

DEFAULT_REGION = "us-east-1"
ELAPSED_PREFIX = "Elapsed:"  # the one line that differs between two runs


class PreviewError(Exception):
    """A problem the user fixes (config, stack name): one line, exit 2, no traceback."""


def is_config_error(exc: BaseException) -> bool:
    """A ConfigError, recognised by name: a program may raise its own (see programs/config_error.py)."""
    return any(cls.__name__ == "ConfigError" for cls in type(exc).__mro__)


def one_line(message: str) -> str:
    """A multi-line problem list ("...:\n  - a\n  - b") as one line ("...: a; b")."""
    head, *items = [line.strip() for line in message.splitlines() if line.strip()]
    return f"{head} {'; '.join(item.removeprefix('- ') for item in items)}".strip() if items else head


def config_problem(exc: BaseException) -> PreviewError:
    return PreviewError(f"config error: {one_line(str(exc))}")


def _run(stack: str, config: dict[str, Any] | None, program: Path) -> Plan:
    try:
        return run_stack(stack, config=config, program=program)
    except Exception as exc:
        if is_config_error(exc):
            raise config_problem(exc) from exc
        raise


def _stack_config(stack: str, config: dict[str, Any] | None) -> dict[str, Any]:
    if config is not None:
        return config
    if stack not in STACKS:
        raise PreviewError(f"unknown stack {stack!r}; known stacks: {', '.join(STACKS)}")
    try:
        return load_stack_config(stack)
    except FileNotFoundError as exc:
        raise PreviewError(f"unknown stack {stack!r} ({exc}); known stacks: {', '.join(STACKS)}") from exc
    except ConfigError as exc:  # a YAML syntax error: the file and line, in one line
        raise config_problem(exc) from exc


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def build_result(
    stack: str,
    *,
    config: dict[str, Any] | None = None,
    program: Path = PROGRAM,
    plans_dir: Path = PLANS_DIR,
    allow_replace: str | None = None,
) -> PreviewResult:
    """Run the program offline and judge the plan: policies, cost, change and guard."""
    started = time.perf_counter()
    config = _stack_config(stack, config)
    plan = _run(stack, config, program)
    ran = time.perf_counter() - started
    committed = read_snapshot(stack, plans_dir)
    cost, cost_error = None, None
    try:
        cost = plan_cost(plan, committed)
    except MissingPriceError as exc:
        cost_error = str(exc)
    change = None
    if committed is not None:
        acknowledged = os.environ.get(ALLOW_VARIABLE) if allow_replace is None else allow_replace
        try:
            change = plan_change(committed, plan, acknowledged_names(acknowledged))
        except UncoveredTypeError as exc:
            raise PreviewError(str(exc)) from exc
    return PreviewResult(
        plan=plan,
        region=str(config.get("aws:region", DEFAULT_REGION)),
        verdicts=evaluate(plan),
        snapshot=_relative(snapshot_path(stack, plans_dir)),
        committed=committed,
        change=change,
        cost=cost,
        cost_error=cost_error,
        ran_seconds=ran,
    )


def offline_preview(
    stack: str,
    out: TextIO,
    *,
    style: Style | None = None,
    config: dict[str, Any] | None = None,
    program: Path = PROGRAM,
    plans_dir: Path = PLANS_DIR,
    allow_replace: str | None = None,
    output_format: str = "text",
) -> int:
    """Print the whole offline preview of ``stack`` in ``output_format``; return the exit status."""
    started = time.perf_counter()
    result = build_result(
        stack, config=config, program=program, plans_dir=plans_dir, allow_replace=allow_replace
    )
    if output_format == "json":
        out.write(json.dumps(preview_json(result), indent=2, sort_keys=True) + "\n")
    elif output_format == "markdown":
        out.write(render_markdown(result))
    else:
        lines = render_text(result, style or Style())
        total = time.perf_counter() - started
        lines += ["", f"{ELAPSED_PREFIX} {total:.2f}s (program under mocks {result.ran_seconds:.2f}s)"]
        print("\n".join(lines), file=out)
    return result.exit_code


def write_plans(
    stacks: list[str],
    out: TextIO,
    *,
    config: dict[str, Any] | None = None,
    program: Path = PROGRAM,
    plans_dir: Path = PLANS_DIR,
) -> int:
    for stack in stacks:
        plan = _run(stack, _stack_config(stack, config), program)
        path = write_snapshot(plan, plans_dir)
        print(f"wrote {_relative(path)} ({len(plan.resources)} resources)", file=out)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m florai_infra.preview", description=__doc__)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--stack", help=f"stack to preview ({', '.join(STACKS)})")
    mode.add_argument("--write-plans", nargs="+", metavar="STACK", help="rewrite platform/plans/<stack>.json")
    parser.add_argument("--live", action="store_true", help="`pulumi preview --diff` with the policy pack")
    parser.add_argument("--json", action="store_true", help="print the recorded plan as JSON")
    parser.add_argument(
        "--allow-replace",
        metavar="NAMES",
        help=f"stateful categories or resource names acknowledged as replaced (default: ${ALLOW_VARIABLE})",
    )
    parser.add_argument(
        "--format",
        choices=("text", "json", "markdown"),
        default="text",
        help="text for a terminal, json for machines, markdown for a pull request summary",
    )
    parser.add_argument("--no-color", action="store_true", help="never colour the output")
    parser.add_argument("--program", type=Path, default=PROGRAM, help="Pulumi program (default: platform/)")
    parser.add_argument("--config", type=Path, help="config file to use instead of Pulumi.<stack>.yaml")
    parser.add_argument("--plans-dir", type=Path, default=PLANS_DIR, help="where the plan snapshots live")
    return parser


def _config_file(path: Path | None, stack: str) -> dict[str, Any] | None:
    """The ``config:`` map of a Pulumi.<stack>.yaml-style file."""
    if path is None:
        return None
    if not path.is_file():
        raise PreviewError(f"config file {path} does not exist")
    try:
        return read_config_file(path, stack)
    except ConfigError as exc:
        raise config_problem(exc) from exc


def main(argv: list[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    args = _parser().parse_args(argv)
    try:
        config = _config_file(args.config, args.stack)
        if args.write_plans:
            return write_plans(
                args.write_plans, out, config=config, program=args.program, plans_dir=args.plans_dir
            )
        if args.live:
            _stack_config(args.stack, config)  # an unknown stack fails before any cloud call
            return run_live(args.stack, err)
        if args.json:
            out.write(_run(args.stack, _stack_config(args.stack, config), args.program).dumps())
            return 0
        style = Style.for_stream(out, args.no_color)
        return offline_preview(
            args.stack,
            out,
            style=style,
            config=config,
            program=args.program,
            plans_dir=args.plans_dir,
            allow_replace=args.allow_replace,
            output_format=args.format,
        )
    except PreviewError as exc:
        print(f"error: {exc}", file=err)
        return 2
