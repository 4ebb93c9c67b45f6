"""The committed plans (platform/plans/<stack>.json) match the program, and every stack passes the pack."""

from __future__ import annotations

import pytest

from florai_infra import STACKS
from florai_infra.offline.engine import run_stack
from florai_infra.offline.plan import Plan
from florai_infra.policies.evaluate import evaluate
from florai_infra.preview.diff import diff_plans, render_diff
from florai_infra.preview.snapshots import snapshot_path
from florai_infra.preview.style import Style


@pytest.fixture(scope="session")
def real_plans() -> dict[str, Plan]:
    """Each real stack run once per test session (the program takes seconds under mocks)."""
    return {stack: run_stack(stack) for stack in STACKS}


@pytest.mark.parametrize("stack", STACKS)
def test_committed_plan_is_current(real_plans, stack):
    path = snapshot_path(stack)
    assert path.exists(), f"{path} is missing: run `make plan` and commit platform/plans/"
    current = real_plans[stack]
    committed = path.read_text()
    if current.dumps() != committed:
        changes = "\n".join(render_diff(diff_plans(Plan.loads(committed), current), Style()))
        pytest.fail(f"{path.name} is stale: run `make plan` and commit platform/plans/\n{changes}")


@pytest.mark.parametrize("stack", STACKS)
def test_stack_passes_every_mandatory_policy(real_plans, stack):
    verdicts = [v for v in evaluate(real_plans[stack]) if v.blocking]
    blocking = [f"{v.policy.name}: {x.resource}: {x.message}" for v in verdicts for x in v.violations]
    assert blocking == []
