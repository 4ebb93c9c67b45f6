"""The Deployment gives a stopping pod the time its drain needs: a preStop pause while the endpoints
update, then FLORAI_DRAIN_DELAY_S of serving while not ready, then the graceful shutdown and the
batchers' drain, all inside terminationGracePeriodSeconds."""

from __future__ import annotations

from pathlib import Path

import yaml

from florai.settings import Settings

BASE = Path(__file__).resolve().parents[2] / "deploy" / "base"
# Seconds kube-proxy and the load balancer controller take to see an endpoint go, at most.
ENDPOINT_PROPAGATION_S = 5
MARGIN_S = 5


def test_prestop_and_grace_period_cover_the_drain():
    deployment = yaml.safe_load((BASE / "workload" / "deployment.yaml").read_text())
    config = yaml.safe_load((BASE / "configmap.yaml").read_text())["data"]
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    pause = container["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert pause >= ENDPOINT_PROPAGATION_S
    delay = float(config.get("FLORAI_DRAIN_DELAY_S", Settings.model_fields["drain_delay_s"].default))
    drain = float(config["FLORAI_DRAIN_TIMEOUT_S"])
    # uvicorn waits for open connections up to the drain timeout (+1 s), then the lifespan drains the
    # batchers for up to the drain timeout again.
    needed = pause + delay + (drain + 1) + drain + MARGIN_S
    assert pod["terminationGracePeriodSeconds"] >= needed
