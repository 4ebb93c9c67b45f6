"""runbooks/dr/: targets stated and within limits, an index, and commands naming things that exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from florai import contract
from florai_infra import STACKS
from florai_infra.offline import engine
from florai_infra.offline.plan import Plan
from florai_ops import restore

ROOT = Path(__file__).resolve().parents[2]
DR = ROOT / "runbooks" / "dr"
PAGES = sorted(p for p in DR.glob("*.md") if p.name != "README.md")
PROD = Plan.loads((ROOT / "platform" / "plans" / "prod.json").read_text())
REGIONAL_RTO_MIN = 30
# Where a runbook names the AWS account id (on-call fills it in).
ACCOUNT = "<account>"
REGIONAL_RPO_MIN = 60
REQUIRED = {
    "database-pitr.md",
    "database-az-failure.md",
    "cache-failover.md",
    "gpu-capacity-loss.md",
    "bad-deploy.md",
    "region-loss.md",
    "leaked-secret.md",
}
TARGET = re.compile(r"^- (RTO|RPO) target: (.+)$", re.MULTILINE)
DURATION = re.compile(r"^(\d+) (min|h)\b")
APPS = {f"florai-{s.name}" for s in contract.SERVICES}


def _minutes(text: str) -> int | None:
    if text.startswith("0"):
        return 0
    match = DURATION.match(text)
    if match is None:
        return None
    return int(match.group(1)) * (60 if match.group(2) == "h" else 1)


def _inputs(type_: str, key: str) -> set[str]:
    return {r.inputs[key] for r in PROD.by_type(type_)}


def _all_text() -> str:
    return "\n".join(p.read_text() for p in PAGES)


def test_every_scenario_has_a_page_and_the_index_links_each_page() -> None:
    assert {p.name for p in PAGES} == REQUIRED
    index = (DR / "README.md").read_text()
    linked = set(re.findall(r"\]\(([\w-]+\.md)\)", index))
    assert linked == REQUIRED


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_each_page_states_rto_and_rpo_targets_and_ordered_steps(page: Path) -> None:
    text = page.read_text()
    targets = dict(TARGET.findall(text))
    assert set(targets) == {"RTO", "RPO"}, page.name
    assert _minutes(targets["RTO"]) is not None, targets["RTO"]
    assert re.search(r"^1\. ", text, re.MULTILINE) and re.search(r"^2\. ", text, re.MULTILINE), page.name


def test_regional_targets_are_at_least_as_strict_as_30_min_and_1_h() -> None:
    targets = dict(TARGET.findall((DR / "region-loss.md").read_text()))
    assert _minutes(targets["RTO"]) <= REGIONAL_RTO_MIN
    assert _minutes(targets["RPO"]) <= REGIONAL_RPO_MIN


def test_aws_names_in_commands_exist_in_the_prod_plan() -> None:
    text = _all_text()
    checks = {
        r"--db-instance-identifier (\S+)": _inputs("aws:rds/instance:Instance", "identifier"),
        r"--replication-group-id (\S+)": _inputs(
            "aws:elasticache/replicationGroup:ReplicationGroup", "replicationGroupId"
        ),
        r"--cluster-name (\S+)": _inputs("aws:eks/cluster:Cluster", "name"),
        r"--nodegroup-name (\S+)": _inputs("aws:eks/nodeGroup:NodeGroup", "nodeGroupName"),
        r"--bucket (\S+)": _inputs("aws:s3/bucket:Bucket", "bucket"),
        r"s3://([a-z0-9.-]+)": _inputs("aws:s3/bucket:Bucket", "bucket"),
        r"--secret-id (florai/\S+)": _inputs("aws:secretsmanager/secret:Secret", "name"),
        r"--repository-name (\S+)": _inputs("aws:ecr/repository:Repository", "name"),
        r"alias/(florai-[\w-]+)": {a.removeprefix("alias/") for a in _inputs("aws:kms/alias:Alias", "name")},
    }
    # Names that embed the account: the program's naming rule with `<account>` where the id goes,
    # never the offline engine's account.
    checks = {
        pattern: {name.replace(engine.ACCOUNT_ID, ACCOUNT) for name in known}
        for pattern, known in checks.items()
    }
    checks[r"s3://([a-z0-9.<>-]+)"] = checks.pop(r"s3://([a-z0-9.-]+)")
    assert engine.ACCOUNT_ID not in text
    for pattern, known in checks.items():
        # New instances the runbooks create beside the stack's: <id>-restore-<time>, <id>-dr, <id>-old.
        used = {re.sub(r"-(restore-[\w-]+|dr|old)$", "", u) for u in re.findall(pattern, text)}
        assert used, pattern
        assert used <= known, (pattern, used - known)
    outputs = set(re.findall(r"pulumi stack output --stack prod (\w+)", text))
    assert outputs and outputs <= set(PROD.outputs)


def test_kubernetes_names_in_commands_exist_in_the_manifests() -> None:
    text = _all_text()
    workloads = set(re.findall(r"(?:deployment|rollout)/(florai-[\w-]+)", text))
    workloads |= set(re.findall(r"kubectl argo rollouts \w+ (florai-[\w-]+)", text))
    workloads |= set(re.findall(r"for app in ((?:florai-[\w-]+ ?)+);", text)[0].split())
    assert workloads and workloads <= APPS, workloads - APPS
    external = {
        d["metadata"]["name"]
        for d in yaml.safe_load_all((ROOT / "apps/deploy/base/external-secrets.yaml").read_text())
    }
    used = set(re.findall(r"externalsecret (\S+)", text))
    assert used and used <= external
    assert set(re.findall(r" -n ([\w-]+)", text)) <= {"florai", "kube-system", "argocd"}
    apps = set(re.findall(r"argocd app \w+ (florai-[\w-]+)", text))
    assert apps <= {f"florai-{s}" for s in STACKS} | {f"florai-{s}-dr" for s in STACKS}


def test_pitr_runbook_calls_the_restore_script_with_its_real_flags_and_shows_drill_numbers() -> None:
    text = (DR / "database-pitr.md").read_text()
    calls = re.findall(r"python -m florai_ops\.restore (.+)", text)
    assert calls
    for call in calls:
        flags = set(re.findall(r"(--[\w-]+)", call))
        assert flags <= {"--env", "--target-time", "--dry-run", "--region", "--no-wait"}
        target = re.search(r"--target-time (\S+)", call).group(1)
        restore.parse_target_time(target)  # the example time is one the script accepts
    assert restore.restore_identifier("prod", restore.parse_target_time("2026-11-23T03:00:00Z")) in text
    assert "RPO (data): committed changes lost | 0" in text and "make drill" in text
