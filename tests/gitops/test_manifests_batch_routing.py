"""Every task's batch reaches the service of that task in the cluster; explain in batch is a 422
(issue 16, finding 7). The ALB's rules are read from the rendered Ingress (florai_gitops.ingress)."""

from __future__ import annotations

import json

import pytest

from florai import contract
from florai_gitops import ingress, manifests

BATCH = f"{contract.API_PREFIX}/batch"


def the_ingress(env: str) -> dict:
    (found,) = [
        o for o in manifests.rendered(env) if o["kind"] == "Ingress" and o["metadata"]["name"] == "florai"
    ]
    return found


def service_of(task: str) -> str:
    (service,) = [s for s in contract.SERVICES if task in s.tasks]
    return f"florai-{service.name}"


@pytest.mark.parametrize("env", manifests.ENVIRONMENTS)
@pytest.mark.parametrize("task", contract.TASKS)
def test_each_task_batch_reaches_the_service_that_serves_it(env, task):
    target = ingress.route(the_ingress(env), BATCH, f"task={task}&k=3")
    assert target == ingress.Target(service=service_of(task))
    # The single-image route of the same task is untouched by the batch conditions.
    assert ingress.route(the_ingress(env), f"{contract.API_PREFIX}/{task}") == ingress.Target(
        service=service_of(task)
    )


@pytest.mark.parametrize("env", manifests.ENVIRONMENTS)
def test_a_batch_without_a_known_task_gets_the_apps_own_422(env):
    # identify answers unknown_task with the list of tasks; the ALB adds no rule of its own.
    assert ingress.route(the_ingress(env), BATCH, "task=flowers") == ingress.Target(
        service=service_of("identify")
    )
    assert ingress.route(the_ingress(env), BATCH) == ingress.Target(service=service_of("identify"))


@pytest.mark.parametrize("env", manifests.ENVIRONMENTS)
@pytest.mark.parametrize("explain", ["true", "1"])
def test_explain_in_batch_is_refused_with_422_in_the_api_error_shape(env, explain):
    target = ingress.route(the_ingress(env), BATCH, f"task=diagnose&explain={explain}")
    assert target.status == 422 and target.service is None
    body = json.loads(target.body)
    assert set(body) == {"detail", "code"} and "explain" in body["detail"]
    assert ingress.route(the_ingress(env), BATCH, "task=diagnose&explain=false").service == service_of(
        "diagnose"
    )


def test_the_rule_reader_refuses_what_it_does_not_model():
    broken = {
        "metadata": {"annotations": {f"{ingress.ANNOTATION}/actions.x": json.dumps({"type": "redirect"})}},
        "spec": {
            "rules": [
                {
                    "http": {
                        "paths": [
                            {
                                "path": "/a",
                                "pathType": "Exact",
                                "backend": {"service": {"name": "x", "port": {"name": "use-annotation"}}},
                            }
                        ]
                    }
                }
            ]
        },
    }
    with pytest.raises(ValueError, match="not modelled"):
        ingress.rules(broken)
