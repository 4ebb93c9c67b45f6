"""The canary analysis never passes on no data (issue 16, finding 9): its conditions on real results."""

from __future__ import annotations

import math

import pytest

from florai_gitops import analysis, manifests

ENVS = ("staging", "prod")


def templates(env: str) -> dict[str, dict[str, dict]]:
    """Every AnalysisTemplate the environment deploys (the API's and the web UI's): name -> metrics."""
    found = {
        o["metadata"]["name"]: {m["name"]: m for m in o["spec"]["metrics"]}
        for o in manifests.rendered_everything(env)
        if o["kind"] == "AnalysisTemplate"
    }
    assert set(found) == {"florai-canary", "florai-ui-canary"}
    return found


def metrics(env: str) -> dict[str, dict]:
    return templates(env)["florai-canary"]


@pytest.mark.parametrize("env", ENVS)
@pytest.mark.parametrize("result", [[], [math.nan]])
def test_no_data_is_never_a_success(env, result):
    for template, found in templates(env).items():
        for name, metric in found.items():
            assert analysis.phase(metric, result) == analysis.INCONCLUSIVE, (template, name)
            # Inconclusive pauses the rollout at once for a person to judge.
            assert metric.get("inconclusiveLimit", 0) == 0, (template, name)


@pytest.mark.parametrize("env", ENVS)
def test_good_and_bad_measurements_pass_and_fail(env):
    found = metrics(env)
    assert analysis.phase(found["success-rate"], [0.999]) == analysis.SUCCESSFUL
    assert analysis.phase(found["success-rate"], [0.95]) == analysis.FAILED
    assert analysis.phase(found["p95-latency"], [0.2]) == analysis.SUCCESSFUL
    assert analysis.phase(found["p95-latency"], [2.5]) == analysis.FAILED


def test_the_old_condition_passed_on_an_empty_result():
    """The evaluator reproduces the bug it guards against, as the controller would have decided it."""
    old = {"successCondition": "len(result) == 0 || result[0] >= 0.99"}
    assert analysis.phase(old, []) == analysis.SUCCESSFUL


def test_conditions_outside_the_subset_are_refused():
    with pytest.raises(ValueError, match="outside the supported subset"):
        analysis.condition("result[0] > 0 && os.system('x')", [1.0])
