"""End to end on a real Prometheus: an injected model failure fires its alert into the webhook receiver,
and every dashboard query over app metrics runs and returns series.

The stack is `make up`'s (florai_testkit.live_stack) with 1 s scrape and evaluation intervals and
the committed rule files, where only FloraiModelNotLoaded's ``for`` is shortened (derived copy).
The failure: the growth-stage model artifact is corrupted, so it fails its sha256 check at start.
"""

from __future__ import annotations

import io
import shutil
import time

import httpx
import pytest
from PIL import Image

from florai import contract
from florai.metrics import EXPORTED
from florai_alerts import alertmanager
from florai_alerts.labels import APP_NAMESPACE
from florai_alerts.runbooks import runbook_url
from florai_dashboards.queries import dashboard_queries, metric_names, resolve_variables
from florai_testkit.live_stack import LiveStack
from florai_ui import contract as ui_contract

ALERT = "FloraiModelNotLoaded"
BROKEN_TASK = contract.TASK_GROWTH_STAGE
INTERVAL_S = 1.0
SHORT_FOR = "3s"
# Four scrapes per window: enough samples for rate() at a 1 s scrape interval.
RATE_INTERVAL = "8s"
DEADLINE_S = 40.0


def _png(colour: tuple[int, int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (96, 96), colour).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def stack(reference_models, tmp_path_factory):
    models = tmp_path_factory.mktemp("live-models")
    for task, folder in reference_models.items():
        shutil.copytree(folder, models / task)
    with (models / BROKEN_TASK / "model.pt2").open("ab") as artifact:
        artifact.write(b"tampered")  # the manifest's sha256 no longer matches
    with LiveStack(models, interval_s=INTERVAL_S, for_overrides={ALERT: SHORT_FOR}, ui=True) as live:
        yield live


def _drive_traffic(api: str, key: str) -> dict[str, int]:
    """Good, cached, failing and rejected requests; returns the status seen per kind.

    One connection per request: an error answered before the upload is read closes it.
    """
    headers = {contract.API_KEY_HEADER: key}

    def post(task: str, colour: tuple[int, int, int]) -> int:
        files = {"file": ("a.png", _png(colour), "image/png")}
        return httpx.post(f"{api}/{task}", files=files, headers=headers, timeout=30).status_code

    seen = {}
    for i in range(3):
        for task in (contract.TASK_IDENTIFY, contract.TASK_DIAGNOSE):
            seen[task] = post(task, (10 * i, 90, 40))
    seen["cached"] = post(contract.TASK_IDENTIFY, (0, 90, 40))
    seen["broken"] = post(BROKEN_TASK, (1, 2, 3))
    seen["no key"] = httpx.get(f"{api}/consent", timeout=10).status_code
    return seen


def _query(prometheus: str, expr: str) -> dict:
    r = httpx.get(f"{prometheus}/api/v1/query", params={"query": expr}, timeout=10)
    return r.json()


def _alert_states(prometheus: str) -> set[str]:
    alerts = httpx.get(f"{prometheus}/api/v1/alerts", timeout=5).json()["data"]["alerts"]
    return {a["state"] for a in alerts if a["labels"].get("alertname") == ALERT}


def test_injected_model_failure_alerts_pending_firing_and_reaches_the_receiver(stack):
    started = time.monotonic()
    seen = _drive_traffic(stack.urls["api"], stack.api.api_key)
    assert seen[contract.TASK_IDENTIFY] == 200 and seen[contract.TASK_DIAGNOSE] == 200, seen
    assert seen["broken"] >= 500 and seen["no key"] == 401, seen
    states: list[str] = []
    while time.monotonic() - started < DEADLINE_S and "firing" not in states:
        for state in sorted(_alert_states(stack.prometheus.url)):
            if not states or states[-1] != state:
                states.append(state)
        time.sleep(0.2)
    assert states[:2] == ["pending", "firing"], states
    received: list[dict] = []
    while time.monotonic() - started < DEADLINE_S and not received:
        received = [a for a in stack.receiver.alerts() if a["labels"]["alertname"] == ALERT]
        time.sleep(0.2)
    assert received, f"no {ALERT} at the webhook receiver"
    alert = received[0]
    # The cluster's routing tree: a page goes to the pager receiver.
    assert alert["status"] == "firing" and alert["receiver"] == alertmanager.PAGER
    assert alert["annotations"]["runbook_url"] == runbook_url(ALERT)
    assert alert["labels"]["namespace"] == "florai" and alert["labels"]["severity"] == "page"
    assert alert["labels"]["service"].startswith("florai-")


def test_every_dashboard_query_runs_and_those_over_app_metrics_return_series(stack):
    queries = dashboard_queries()
    app_queries = [q for q in queries if metric_names(resolve_variables(q.expr)) <= EXPORTED]
    assert len(app_queries) >= 20
    _drive_traffic(stack.urls["api"], stack.api.api_key)
    time.sleep(3 * INTERVAL_S)  # two scrapes after the traffic: rate() has its samples
    empty, failed = [], []
    for query in queries:
        expr = resolve_variables(query.expr, {"__rate_interval": RATE_INTERVAL})
        answer = _query(stack.prometheus.url, expr)
        if answer.get("status") != "success":
            failed.append(f"{query.where}: {answer.get('error')}")
        elif query in app_queries and not answer["data"]["result"]:
            empty.append(f"{query.where}: {expr}")
    assert failed == [], failed
    assert empty == [], empty


def _counter(prometheus: str, expr: str) -> list[dict]:
    return _query(prometheus, expr)["data"]["result"]


def test_one_process_is_scraped_once_and_one_request_counts_once(stack):
    """make up used to scrape the one API process once per service job: every request counted four times."""
    targets = httpx.get(f"{stack.prometheus.url}/api/v1/targets", timeout=5).json()["data"]["activeTargets"]
    api_targets = [t["scrapeUrl"] for t in targets if t["labels"]["job"] != ui_contract.APP_NAME]
    assert api_targets == [stack.urls["metrics"]]
    route = f"{contract.API_PREFIX}/growth-stages/{{plant_type}}"  # a route no other test calls
    selector = f'florai_http_requests_total{{route="{route}"}}'
    assert _counter(stack.prometheus.url, selector) == []
    headers = {contract.API_KEY_HEADER: stack.api.api_key}
    httpx.get(f"{stack.urls['api']}/growth-stages/tomato", headers=headers, timeout=10)
    deadline = time.monotonic() + DEADLINE_S
    series: list[dict] = []
    while not series and time.monotonic() < deadline:
        series = _counter(stack.prometheus.url, selector)
        time.sleep(0.2)
    time.sleep(3 * INTERVAL_S)  # later scrapes must not add to it
    series = _counter(stack.prometheus.url, selector)
    assert [float(s["value"][1]) for s in series] == [1.0]
    # The series carries the service the Ingress routes it to in the cluster.
    assert series[0]["metric"]["service"] == "florai-growth-stage"


def test_make_up_serves_the_web_ui_and_scrapes_it_once(stack):
    assert httpx.get(stack.urls["web ui"] + ui_contract.HEALTH_PATH, timeout=10).status_code == 200
    selector = f'up{{job="{ui_contract.APP_NAME}"}}'
    deadline = time.monotonic() + DEADLINE_S
    series: list[dict] = []
    while not series and time.monotonic() < deadline:
        series = _query(stack.prometheus.url, selector)["data"]["result"]
        time.sleep(0.2)
    assert [float(s["value"][1]) for s in series] == [1.0]
    assert series[0]["metric"]["service"] == ui_contract.APP_NAME
    assert series[0]["metric"]["namespace"] == APP_NAMESPACE
