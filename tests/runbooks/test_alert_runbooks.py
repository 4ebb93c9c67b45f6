"""Every alert has a runbook page, every page an alert, and every command on a page names real things.

Pages are runbooks/<AlertName>.md (runbooks/dr/ is the disaster-recovery set, not checked here).
Fenced code blocks are parsed: kubectl/argocd/aws/pulumi commands in ``bash`` blocks, PromQL in
``promql`` blocks (one query per line) and in ``promtool query`` commands. Names are checked against
the rendered manifests, the app's metric definitions, the recording rules, alerts/external-metrics.yaml,
the Argo CD applications and the committed prod plan.

Run ``python tests/runbooks/test_alert_runbooks.py`` to rewrite the index in runbooks/README.md.
"""

from __future__ import annotations

import functools
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import promql_parser
import pytest
import yaml

from florai.metrics import EXPORTED
from florai_gitops import manifests
from florai_infra import names
from florai_infra.components.gitops import ROOT_APPLICATION
from florai_infra.offline.plan import Plan

REPO = Path(__file__).resolve().parents[2]
RUNBOOKS = REPO / "runbooks"
ALERTS = REPO / "alerts"
EXTERNAL_METRICS = ALERTS / "external-metrics.yaml"
ARGOCD = REPO / "argocd"
PAGE_STACK = "prod"  # the environment every page's commands address
PLAN = REPO / "platform" / "plans" / f"{PAGE_STACK}.json"
STACKS = ("dev", "staging", "prod")

SECTIONS = ("Meaning", "Impact", "Diagnosis", "Mitigation")
OPTIONAL_SECTIONS = ("Escalation",)
INDEX_START, INDEX_END = "<!-- index:start -->", "<!-- index:end -->"
NODEGROUP_LABEL = "eks.amazonaws.com/nodegroup"
INLINE_TOOLS = {"kubectl", "aws", "argocd", "pulumi", "promtool"}
SHELL_LANGS = {"bash", "sh", "shell", "console"}
# Stands in for a `$(...)` substitution once its inner command has been checked on its own.
SUBSTITUTED = "__SUBSTITUTED__"

# kubectl kind spellings -> the manifest kind they address.
KINDS = {
    "deploy": "Deployment",
    "deployment": "Deployment",
    "deployments": "Deployment",
    "rollout": "Rollout",
    "rollouts": "Rollout",
    "ro": "Rollout",
    "hpa": "HorizontalPodAutoscaler",
    "horizontalpodautoscaler": "HorizontalPodAutoscaler",
    "scaledobject": "ScaledObject",
    "scaledobjects": "ScaledObject",
    "so": "ScaledObject",
    "svc": "Service",
    "service": "Service",
    "ing": "Ingress",
    "ingress": "Ingress",
    "pdb": "PodDisruptionBudget",
    "poddisruptionbudget": "PodDisruptionBudget",
    "cm": "ConfigMap",
    "configmap": "ConfigMap",
    "externalsecret": "ExternalSecret",
    "externalsecrets": "ExternalSecret",
    "es": "ExternalSecret",
    "servicemonitor": "ServiceMonitor",
    "prometheusrule": "PrometheusRule",
    "networkpolicy": "NetworkPolicy",
    "netpol": "NetworkPolicy",
    "sa": "ServiceAccount",
    "serviceaccount": "ServiceAccount",
    "analysistemplate": "AnalysisTemplate",
}
# aws flag -> the set in Inventory.aws it must belong to.
AWS_FLAGS = {
    "--db-instance-identifier": "rds",
    "--source-db-instance-identifier": "rds",
    "--replication-group-id": "redis",
    "--cluster-name": "eks",
    "--nodegroup-name": "nodegroups",
    "--log-group-name": "log_groups",
    "--repository-name": "ecr",
    "--bucket": "buckets",
}
# CloudWatch dimension -> the set its value must belong to.
AWS_DIMENSIONS = {
    "DBInstanceIdentifier": "rds",
    "ReplicationGroupId": "redis",
    "CacheClusterId": "redis_members",
    "ClusterName": "eks",
    "WebACL": "waf",
    "LoadBalancer": None,
}


# CloudWatch exporter labels (snake_case dimensions) -> the plan set their values come from.
PROMQL_AWS_LABELS = {"dbinstance_identifier": "rds", "cache_cluster_id": "redis_members", "web_acl": "waf"}


# --- what exists --------------------------------------------------------------------------------
@dataclass
class Inventory:
    namespaces: set[str] = field(default_factory=set)
    rendered_namespaces: set[str] = field(default_factory=set)  # namespaces the app manifests fill
    objects: set[tuple[str, str, str]] = field(default_factory=set)  # (kind, namespace, name)
    labels: set[tuple[str, str]] = field(default_factory=set)  # (key, value) on objects or pod templates
    metrics: set[str] = field(default_factory=set)
    argocd_apps: set[str] = field(default_factory=set)
    stack_outputs: set[str] = field(default_factory=set)
    aws: dict[str, set[str]] = field(default_factory=dict)

    def has_object(self, kind: str, name: str, namespace: str | None) -> bool:
        return any(k == kind and n == name and namespace in (None, ns) for k, ns, n in self.objects)


def _yaml_docs(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if isinstance(d, dict)]


def _rule_groups(doc: dict) -> list[dict]:
    if doc.get("kind") == "PrometheusRule":
        return (doc.get("spec") or {}).get("groups") or []
    groups = doc.get("groups")
    return groups if isinstance(groups, list) else []


def _rules() -> list[dict]:
    rules = []
    for path in sorted(ALERTS.rglob("*.y*ml")):
        if path.suffix in (".yaml", ".yml"):
            for doc in _yaml_docs(path):
                for group in _rule_groups(doc):
                    rules += [r for r in group.get("rules") or [] if isinstance(r, dict)]
    return rules


def alert_names() -> set[str]:
    return {r["alert"] for r in _rules() if "alert" in r}


def recording_rule_names() -> set[str]:
    return {r["record"] for r in _rules() if "record" in r}


def alert_expression_metrics() -> set[str]:
    """Metric names the alert rules themselves query (the metric contract test checks those)."""
    found: set[str] = set()
    for rule in _rules():
        if "alert" in rule:
            promql_parser.walk(
                promql_parser.parse(str(rule["expr"])), lambda n: found.update(_selector_metric(n))
            )
    return found


def _selector_metric(node: object) -> set[str]:
    if not isinstance(node, promql_parser.VectorSelector):
        return set()
    name = node.name or next((m.value for m in node.matchers.matchers if m.name == "__name__"), None)
    return {name} if name else set()


def _metric_names_in(node: object) -> set[str]:
    """Metric names declared in external-metrics.yaml, whatever its nesting: `name:`/`metric:` values
    and the keys of any `metrics:` mapping."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("name", "metric") and isinstance(value, str):
                found.add(value)
            elif key == "metrics" and isinstance(value, dict):
                found |= {k for k in value if isinstance(k, str)}
            elif key == "metrics" and isinstance(value, list):
                found |= {v for v in value if isinstance(v, str)}
            found |= _metric_names_in(value)
    elif isinstance(node, list):
        for item in node:
            found |= _metric_names_in(item)
    return found


def external_metric_names() -> set[str]:
    if not EXTERNAL_METRICS.exists():
        return set()
    names_found: set[str] = set()
    for doc in yaml.safe_load_all(EXTERNAL_METRICS.read_text()):
        names_found |= _metric_names_in(doc)
    return {n for n in names_found if re.fullmatch(r"[a-zA-Z_:][a-zA-Z0-9_:]*", n)}


def rendered_manifests() -> list[dict]:
    """The prod overlays' objects (API and web UI): pages address prod, like the plan they are checked by."""
    ui = manifests.kustomize(REPO / "apps" / "deploy" / "ui" / "overlays" / PAGE_STACK)
    return list(manifests.rendered(PAGE_STACK)) + ui


def _argocd_documents() -> list[dict]:
    return [d for p in sorted(ARGOCD.rglob("*.y*ml")) for d in _yaml_docs(p)] if ARGOCD.exists() else []


def _argocd_app_names(docs: list[dict]) -> set[str]:
    """Applications by name; ApplicationSet templates expanded for every environment their cluster
    generator selects (the cluster Secret's `environment` label) and over their list generators."""
    apps = {ROOT_APPLICATION}
    for doc in docs:
        meta, spec = doc.get("metadata") or {}, doc.get("spec") or {}
        if doc.get("kind") == "Application":
            apps.add(meta.get("name", ""))
        elif doc.get("kind") == "ApplicationSet":
            template = ((spec.get("template") or {}).get("metadata") or {}).get("name", "")
            elements = _list_elements(spec) + [
                {"metadata.labels.environment": env}
                for env in STACKS
                if _cluster_generator_selects(spec, env)
            ]
            apps |= {_expand(template, element) for element in elements}
    return {a for a in apps if a and "{{" not in a}


def _cluster_generator_selects(spec: dict, environment: str) -> bool:
    for generator in spec.get("generators") or []:
        selector = ((generator or {}).get("clusters") or {}).get("selector")
        if selector is None:
            continue
        wanted = (selector.get("matchLabels") or {}).get("environment")
        if wanted not in (None, environment):
            continue
        expressions = [e for e in selector.get("matchExpressions") or [] if e.get("key") == "environment"]
        if all((environment in e.get("values", [])) == (e.get("operator") == "In") for e in expressions):
            return True
    return False


def _list_elements(node: object) -> list[dict]:
    if isinstance(node, dict):
        found = [e for e in (node.get("list") or {}).get("elements") or [] if isinstance(e, dict)]
        for key, value in node.items():
            if key != "template":
                found += _list_elements(value)
        return found
    if isinstance(node, list):
        return [e for item in node for e in _list_elements(item)]
    return []


def _expand(template: str, element: dict) -> str:
    return re.sub(r"\{\{\s*\.?([\w.]+)\s*\}\}", lambda m: str(element.get(m.group(1), m.group(0))), template)


def _argocd_namespaces(docs: list[dict]) -> set[str]:
    found: set[str] = set()

    def visit(node: object) -> None:
        if isinstance(node, dict):
            dest = node.get("destination")
            if isinstance(dest, dict) and isinstance(dest.get("namespace"), str):
                found.add(dest["namespace"])
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for item in node:
                visit(item)

    visit(docs)
    return {n for n in found if "{{" not in n}


def _plan_inventory(plan: Plan) -> dict[str, set[str]]:
    def inputs(type_: str, key: str) -> set[str]:
        return {r.inputs[key] for r in plan.by_type(type_) if isinstance(r.inputs.get(key), str)}

    redis = inputs("aws:elasticache/replicationGroup:ReplicationGroup", "replicationGroupId")
    members = {
        f"{r.inputs['replicationGroupId']}-{i:03d}"
        for r in plan.by_type("aws:elasticache/replicationGroup:ReplicationGroup")
        for i in range(1, int(r.inputs.get("numCacheClusters", 1)) + 1)
    }
    return {
        "rds": inputs("aws:rds/instance:Instance", "identifier"),
        "redis": redis,
        "redis_members": members,
        "eks": inputs("aws:eks/cluster:Cluster", "name"),
        "nodegroups": inputs("aws:eks/nodeGroup:NodeGroup", "nodeGroupName"),
        "log_groups": inputs("aws:cloudwatch/logGroup:LogGroup", "name"),
        "ecr": inputs("aws:ecr/repository:Repository", "name"),
        "buckets": inputs("aws:s3/bucket:Bucket", "bucket"),
        "waf": inputs("aws:wafv2/webAcl:WebAcl", "name"),
        "secrets": inputs("aws:secretsmanager/secret:Secret", "name"),
    }


@functools.cache
def inventory() -> Inventory:
    inv = Inventory()
    for doc in rendered_manifests():
        meta = doc.get("metadata") or {}
        ns = meta.get("namespace") or ""
        if doc.get("kind") == "Namespace":
            inv.namespaces.add(meta.get("name", ""))
        if ns:
            inv.rendered_namespaces.add(ns)
        inv.objects.add((doc.get("kind", ""), ns, meta.get("name", "")))
        template_labels = (((doc.get("spec") or {}).get("template") or {}).get("metadata") or {}).get(
            "labels"
        )
        for labels in (meta.get("labels"), template_labels):
            inv.labels |= set((labels or {}).items())
    argocd_docs = _argocd_documents()
    inv.namespaces |= (
        inv.rendered_namespaces
        | {
            names.NAMESPACE_ARGOCD,
            names.NAMESPACE_APPS,
            names.NAMESPACE_KUBE_SYSTEM,
            names.NAMESPACE_EXTERNAL_SECRETS,
        }
        | _argocd_namespaces(argocd_docs)
    )
    inv.argocd_apps = _argocd_app_names(argocd_docs)
    inv.metrics = (
        set(EXPORTED) | recording_rule_names() | external_metric_names() | alert_expression_metrics()
    )
    plan = Plan.loads(PLAN.read_text())
    inv.stack_outputs = set(plan.outputs)
    inv.aws = _plan_inventory(plan)
    return inv


# --- pages ----------------------------------------------------------------------------------------
def page_paths() -> dict[str, Path]:
    return {p.stem: p for p in sorted(RUNBOOKS.glob("*.md")) if p.name != "README.md"}


def sections(text: str) -> list[str]:
    return re.findall(r"^## +(.+?)\s*$", text, flags=re.M)


def code_blocks(text: str) -> list[tuple[str, str]]:
    return [
        (m.group(1).lower(), m.group(2))
        for m in re.finditer(r"^```(\w*)[^\n]*\n(.*?)^```", text, re.M | re.S)
    ]


def section_errors(text: str) -> list[str]:
    found = sections(text)
    expected = list(SECTIONS) + [s for s in OPTIONAL_SECTIONS if s in found]
    return [] if found == expected else [f"sections {found}, expected {expected}"]


def _commands(script: str) -> list[str]:
    joined = re.sub(r"\\\n\s*", " ", script)
    return [line.strip() for line in joined.splitlines() if line.strip() and not line.strip().startswith("#")]


# --- command checks -------------------------------------------------------------------------------
def check_page(text: str, inv: Inventory) -> list[str]:
    errors = section_errors(text)
    for lang, body in code_blocks(text):
        if lang == "promql":
            for query in _commands(body):
                errors += check_promql(query, inv)
        elif lang in SHELL_LANGS:
            for line in _commands(body):
                errors += check_shell_line(line, inv)
        else:
            errors.append(f"code block language {lang!r}: use bash or promql so it is checked")
    # Commands quoted inline in the prose (Mitigation steps) are checked like the blocks.
    for span in re.findall(r"(?<!`)`([^`\n]+)`(?!`)", text):
        if span.split(" ", 1)[0] in INLINE_TOOLS:
            errors += check_shell_line(span, inv)
    return errors


def check_promql(query: str, inv: Inventory) -> list[str]:
    try:
        expr = promql_parser.parse(query)
    except Exception as exc:  # the parser raises a plain ValueError/RuntimeError with the position
        return [f"PromQL does not parse: {query!r}: {exc}"]
    errors: list[str] = []

    def visit(node: object) -> None:
        if not isinstance(node, promql_parser.VectorSelector):
            return
        for metric in _selector_metric(node) - inv.metrics:
            errors.append(f"metric {metric!r} is not exported, recorded or declared external")
        for m in node.matchers.matchers:
            known = _promql_label_values(m.name, inv)
            if known is not None and str(m.op) == "MatchOp.Equal" and m.value not in known:
                errors.append(f"PromQL {m.name}={m.value!r} names nothing that exists")

    promql_parser.walk(expr, visit)
    return errors


def _promql_label_values(label: str, inv: Inventory) -> set[str] | None:
    """Values a label may take when it names a platform object (None: any value)."""
    if label == "namespace":
        return inv.namespaces
    if label == "service":  # the Kubernetes Service the ServiceMonitor scrapes through
        return {name for kind, _, name in inv.objects if kind == "Service"}
    kind = PROMQL_AWS_LABELS.get(label)
    return inv.aws[kind] if kind else None


def check_shell_line(line: str, inv: Inventory) -> list[str]:
    errors: list[str] = []
    # Check each `$(...)` on its own, innermost first, then read the line with a placeholder.
    while match := re.search(r"\$\(([^()]*)\)", line):
        errors += check_shell_line(match.group(1), inv)
        line = line[: match.start()] + SUBSTITUTED + line[match.end() :]
    try:
        tokens = shlex.split(line, comments=True)
    except ValueError as exc:
        return errors + [f"shell line does not parse: {line!r}: {exc}"]
    for command in _split_pipeline(tokens):
        errors += check_command(command, inv)
    return errors


def _split_pipeline(tokens: list[str]) -> list[list[str]]:
    commands: list[list[str]] = [[]]
    for tok in tokens:
        if tok in ("|", "&&", "||", ";"):
            commands.append([])
        else:
            commands[-1].append(tok)
    return [c for c in commands if c]


def _flag_values(args: list[str], *flags: str) -> list[str]:
    values = []
    for i, tok in enumerate(args):
        for flag in flags:
            if tok == flag and i + 1 < len(args):
                values.append(args[i + 1])
            elif tok.startswith(flag + "=") and flag.startswith("--"):
                values.append(tok.split("=", 1)[1])
    return values


def _checkable(value: str) -> bool:
    return SUBSTITUTED not in value and "$" not in value


def check_command(args: list[str], inv: Inventory) -> list[str]:
    tool = Path(args[0]).name
    if tool == "kubectl":
        return check_kubectl(args, inv)
    if tool == "argocd":
        return check_argocd(args, inv)
    if tool == "aws":
        return check_aws(args, inv)
    if tool == "pulumi":
        return check_pulumi(args, inv)
    if tool == "promtool" and args[1:3] == ["query", "instant"]:
        positional = [a for a in args[3:] if not a.startswith("-")]
        return (
            check_promql(positional[-1], inv) if len(positional) >= 2 else ["promtool query without a query"]
        )
    return []


def check_kubectl(args: list[str], inv: Inventory) -> list[str]:
    errors: list[str] = []
    namespaces = _flag_values(args, "-n", "--namespace")
    for ns in namespaces:
        if _checkable(ns) and ns not in inv.namespaces:
            errors.append(f"namespace {ns!r} does not exist")
    namespace = namespaces[0] if namespaces else None
    # Add-on namespaces hold Helm releases, not rendered manifests: only their name is checked there.
    if namespace is not None and namespace not in inv.rendered_namespaces:
        return errors
    positional = _positional(args[1:])
    if any(p in ("node", "nodes", "no") for p in positional[:2]):
        return errors + _node_selector_errors(_flag_values(args, "-l", "--selector"), inv)
    for selector in _flag_values(args, "-l", "--selector"):
        for term in selector.split(","):
            key, sep, value = re.split(r"(!=|==|=)", term, maxsplit=1) if "=" in term else (term, "", "")
            if not sep and not any(k == key for k, _ in inv.labels):
                errors.append(f"label key {key!r} is on no object")
            elif sep and (key, value) not in inv.labels:
                errors.append(f"label {key}={value} is on no object")
    for kind, name in _kubectl_objects(args):
        if _checkable(name) and not inv.has_object(kind, name, namespace):
            where = f" in namespace {namespace!r}" if namespace else ""
            errors.append(f"{kind} {name!r} does not exist{where}")
    return errors


def _node_selector_errors(selectors: list[str], inv: Inventory) -> list[str]:
    """Nodes carry their EKS node group's name; other node labels come from the node itself."""
    groups = [
        t.split("=", 1)[1] for s in selectors for t in s.split(",") if t.startswith(NODEGROUP_LABEL + "=")
    ]
    return [
        f"node group {g!r} is not in the plan"
        for g in groups
        if _checkable(g) and g not in inv.aws["nodegroups"]
    ]


def _kubectl_objects(args: list[str]) -> list[tuple[str, str]]:
    """(kind, name) pairs a kubectl line addresses: kind/name tokens, `<verb> <kind> <name>` and the
    Argo Rollouts plugin's `kubectl argo rollouts <verb> <rollout>`."""
    positional = _positional(args[1:])
    if positional[:2] == ["argo", "rollouts"]:
        rest = positional[3:]  # after the verb: `get rollout NAME` or `undo NAME`
        rest = rest[1:] if rest[:1] in (["rollout"], ["rollouts"]) else rest
        return [("Rollout", rest[0])] if rest and positional[2] != "list" else []
    found = []
    for tok in positional:
        kind, sep, name = tok.partition("/")
        if sep and kind.lower() in KINDS and name:
            found.append((KINDS[kind.lower()], name))
    if len(positional) >= 3 and "/" not in positional[1] and positional[1].lower() in KINDS:
        found.append((KINDS[positional[1].lower()], positional[2]))
    return found


# kubectl/argocd flags that take a value (so the value is not read as a positional argument).
VALUE_FLAGS = {
    "-n", "--namespace", "-l", "--selector", "-o", "--output", "-c", "--container", "--since",
    "--tail", "--field-selector", "--sort-by", "--replicas", "--to-revision", "--revision", "-p",
    "--timeout", "--server", "--grpc-web-root-path", "--type", "--patch", "--context",
}  # fmt: skip


def _positional(args: list[str]) -> list[str]:
    out, skip = [], False
    for tok in args:
        if skip:
            skip = False
        elif tok.startswith("-"):
            skip = tok in VALUE_FLAGS
        else:
            out.append(tok)
    return out


def check_argocd(args: list[str], inv: Inventory) -> list[str]:
    errors = []
    for ns in _flag_values(args, "-n", "--app-namespace"):
        if _checkable(ns) and ns not in inv.namespaces:
            errors.append(f"namespace {ns!r} does not exist")
    positional = _positional(args[1:])
    app_verbs = {
        "get",
        "sync",
        "diff",
        "history",
        "rollback",
        "manifests",
        "wait",
        "terminate-op",
        "resources",
    }
    if len(positional) >= 3 and positional[0] == "app" and positional[1] in app_verbs:
        app = positional[2]
        if _checkable(app) and app not in inv.argocd_apps:
            errors.append(f"Argo CD application {app!r} does not exist (known: {sorted(inv.argocd_apps)})")
    return errors


def check_aws(args: list[str], inv: Inventory) -> list[str]:
    errors = []
    service = args[1] if len(args) > 1 else ""
    checks = dict(AWS_FLAGS)
    if service == "eks":
        checks["--name"] = "eks"
    if service == "wafv2":
        checks["--name"] = "waf"
    if service == "secretsmanager":
        checks["--secret-id"] = "secrets"
    if service == "elasticache":
        checks["--cache-cluster-id"] = "redis_members"
    for flag, kind in checks.items():
        for value in _flag_values(args, flag):
            if _checkable(value) and value not in inv.aws[kind]:
                errors.append(f"aws {flag} {value!r} is not in the plan ({sorted(inv.aws[kind])})")
    for uri in (a for a in args if a.startswith("s3://")):
        bucket = uri[5:].split("/", 1)[0]
        if _checkable(bucket) and bucket not in inv.aws["buckets"]:
            errors.append(f"bucket {bucket!r} is not in the plan")
    for dims in _flag_values(args, "--dimensions"):
        for name, value in re.findall(r"Name=(\w+),Value=([^\s,]+)", dims):
            kind = AWS_DIMENSIONS.get(name)
            if kind and _checkable(value) and value not in inv.aws[kind]:
                errors.append(f"CloudWatch dimension {name}={value} is not in the plan")
    return errors


def check_pulumi(args: list[str], inv: Inventory) -> list[str]:
    if args[1:3] != ["stack", "output"]:
        return []
    rest, i = args[3:], 0
    while i < len(rest) and rest[i].startswith("-"):
        i += 2 if rest[i] in ("-s", "--stack", "-C", "--cwd") else 1
    if i < len(rest) and rest[i] not in inv.stack_outputs:
        return [f"stack output {rest[i]!r} does not exist (outputs: {sorted(inv.stack_outputs)})"]
    return []


# --- the index in runbooks/README.md ----------------------------------------------------------------
def first_sentence(text: str) -> str:
    meaning = text.split("## Meaning", 1)[1].split("\n## ", 1)[0]
    paragraph = " ".join(meaning.strip().split("\n\n", 1)[0].split())
    return re.split(r"(?<=\.)\s", paragraph, maxsplit=1)[0]


def expected_index() -> str:
    rows = ["| Alert | Meaning |", "| --- | --- |"]
    rows += [f"| [{n}]({p.name}) | {first_sentence(p.read_text())} |" for n, p in page_paths().items()]
    return "\n".join([INDEX_START, *rows, INDEX_END])


def readme_with_index(readme: str) -> str:
    start, end = readme.index(INDEX_START), readme.index(INDEX_END) + len(INDEX_END)
    return readme[:start] + expected_index() + readme[end:]


# --- tests ----------------------------------------------------------------------------------------
def test_every_alert_has_a_page_and_every_page_an_alert():
    alerts, pages = alert_names(), set(page_paths())
    assert not alerts - pages, f"alerts without a runbook page: {sorted(alerts - pages)}"
    assert not pages - alerts, f"pages without an alert in alerts/: {sorted(pages - alerts)}"


@pytest.mark.parametrize("name", sorted(page_paths()))
def test_page_sections_and_commands_name_real_things(name):
    text = page_paths()[name].read_text()
    assert text.startswith(f"# {name}\n"), "a page starts with '# <AlertName>'"
    assert any(lang in SHELL_LANGS | {"promql"} for lang, _ in code_blocks(text)), "Diagnosis has commands"
    assert check_page(text, inventory()) == []


@pytest.mark.parametrize("name", sorted(page_paths()))
def test_page_links_resolve(name):
    path = page_paths()[name]
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", path.read_text())
    missing = [link for link in links if "://" not in link and not (path.parent / link).exists()]
    assert missing == []


def test_readme_commands_name_real_things():
    readme = (RUNBOOKS / "README.md").read_text()
    errors = [
        e
        for lang, body in code_blocks(readme)
        for line in _commands(body)
        for e in check_shell_line(line, inventory())
    ]
    assert errors == []


def test_readme_index_lists_every_page():
    readme = (RUNBOOKS / "README.md").read_text()
    assert readme == readme_with_index(readme), (
        "stale index: run python tests/runbooks/test_alert_runbooks.py"
    )
    for name in page_paths():
        assert f"]({name}.md)" in readme


GOOD_PAGE = """# FlorAIExample

## Meaning
Something.

## Impact
Users wait.

## Diagnosis
```bash
kubectl -n florai describe rollout/florai-identify
kubectl -n florai get pods -l app.kubernetes.io/component=identify
aws rds describe-db-instances --db-instance-identifier florai-prod
aws wafv2 get-web-acl --name florai-prod --scope REGIONAL \\
  --id "$(pulumi stack output wafAclArn | cut -d/ -f4)"
```
```promql
sum by (route) (rate(florai_http_requests_total{status=~"5.."}[5m]))
```

## Mitigation
1. Roll back.
"""


@pytest.mark.parametrize(
    ("good", "bad", "complaint"),
    [
        ("kubectl -n florai describe", "kubectl -n florai-apps describe", "namespace 'florai-apps'"),
        ("rollout/florai-identify", "rollout/florai-identity", "Rollout 'florai-identity'"),
        ("component=identify", "component=identity", "label app.kubernetes.io/component=identity"),
        ("florai_http_requests_total", "florai_http_request_total", "metric 'florai_http_request_total'"),
        ('{status=~"5.."}', '{service="florai-identity"}', "service='florai-identity'"),
        ('{status=~"5.."}', '{namespace="florai-apps"}', "namespace='florai-apps'"),
        ("stack output wafAclArn", "stack output wafArn", "stack output 'wafArn'"),
        ("identifier florai-prod", "identifier florai-production", "'florai-production' is not in the plan"),
        ("--name florai-prod", "--name florai-waf", "'florai-waf' is not in the plan"),
        ("## Impact", "## Effect", "sections"),
        ("1. Roll back.", "1. `kubectl -n florai scale deploy/florai-x --replicas=2`", "'florai-x'"),
        ("1. Roll back.", "1. `kubectl argo rollouts undo florai-idenify -n florai`", "'florai-idenify'"),
        ("1. Roll back.", "1. `argocd app rollback florai-production 3`", "application 'florai-production'"),
    ],
)
def test_checker_rejects_a_wrong_name(good, bad, complaint):
    inv = inventory()
    assert check_page(GOOD_PAGE, inv) == []
    assert good in GOOD_PAGE
    errors = check_page(GOOD_PAGE.replace(good, bad, 1), inv)
    assert any(complaint in e for e in errors), errors


def test_checker_rejects_sections_out_of_order_and_unparsable_promql():
    swapped = GOOD_PAGE.replace("## Impact\nUsers wait.\n", "").replace(
        "## Mitigation", "## Impact\nx\n\n## Mitigation"
    )
    assert section_errors(swapped) != []
    assert check_promql("rate(florai_http_requests_total[5m]", inventory())[0].startswith(
        "PromQL does not parse"
    )


def test_alert_rules_are_read_from_plain_and_prometheusrule_files(tmp_path, monkeypatch):
    rule = {"alert": "X", "expr": "vector(1)"}
    (tmp_path / "a.yaml").write_text(yaml.safe_dump({"groups": [{"name": "g", "rules": [rule]}]}))
    spec = {"groups": [{"name": "h", "rules": [{"alert": "Y", "expr": "1"}, {"record": "r:z", "expr": "1"}]}]}
    (tmp_path / "b.yaml").write_text(yaml.safe_dump({"kind": "PrometheusRule", "spec": spec}))
    (tmp_path / "t.yaml").write_text(yaml.safe_dump({"rule_files": ["a.yaml"], "tests": []}))
    monkeypatch.setitem(globals(), "ALERTS", tmp_path)
    assert alert_names() == {"X", "Y"}
    assert recording_rule_names() == {"r:z"}


if __name__ == "__main__":
    readme_path = RUNBOOKS / "README.md"
    readme_path.write_text(readme_with_index(readme_path.read_text()))
    print(f"wrote the index of {len(page_paths())} pages into {readme_path.relative_to(REPO)}")
