"""Derive the replace table (platform/upstream/aws-provider/replace-rules.json) from the AWS provider.

Reads the Terraform AWS provider's source as indexed per release by
lonegunmanb/terraform-provider-aws-index (one Go function per file, tagged like upstream):
each service package's generated registry names a resource's schema function (SDKv2) or
struct (plugin framework); in its schema, ``ForceNew: true`` or ``RequiresReplace()`` marks
an attribute whose change replaces the resource, ``RequiresReplaceIf...`` one that may.
Attribute names become Pulumi's (camelCase) as the bridge names them.

    python -m florai_infra.replacements.generate --index-git DIR --ref v6.58.0
"""

from __future__ import annotations

import argparse
import datetime
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from florai_infra.replacements.sdk_fields import sdk_fields
from florai_infra.replacements.types import FIELD_RENAMES, WANTED_TYPES, tf_name_candidates

OUT_DIR = Path(__file__).resolve().parents[2] / "upstream" / "aws-provider"
INDEX_URL = "https://github.com/lonegunmanb/terraform-provider-aws-index"
UPSTREAM_URL = "https://github.com/hashicorp/terraform-provider-aws"

# A map entry whose value has a body: `"cidr_block": {` or `names.AttrName: schema.StringAttribute{`.
_KEY = re.compile(r'(?:"([a-z0-9_]+)"|names\.Attr(\w+))\s*:\s*(?:[\w.&*\[\]]*)\{')
_FORCE = re.compile(
    r"ForceNew:\s*true|planmodifier\.RequiresReplace\(\)|\w+planmodifier\.RequiresReplace\(\)"
)
_MAYBE = re.compile(r"\w*planmodifier\.RequiresReplaceIf\w*\(")
# names.Attr constants keep initialisms upper-case: AttrVPCID is vpc_id, AttrSubnetIDs subnet_ids.
_INITIALISMS = (
    "IPv4", "IPv6", "IDs", "ARNs", "CIDR", "VPC", "KMS", "ARN", "ID", "DB", "IAM", "IP", "URL", "URI",
    "DNS", "AMI", "EBS", "ACL", "AZ", "SSE", "TLS", "SSL", "SNS", "SQS", "API", "HTTP", "JSON", "ECR",
    "EKS", "RDS", "MFA", "OIDC", "SSM", "WAF", "TTL", "SSH",
)  # fmt: skip
_FACTORY = re.compile(r"Factory:\s*(\w+),\s*\n\s*TypeName:\s*\"(aws_\w+)\"")
_SCHEMA_REF = re.compile(r"(?:SchemaFunc|Schema):\s*(\w+)\(?\)?,")


class GenerateError(Exception):
    """The index lacks what the table needs: one line."""


def attr_name(const: str) -> str:
    """``names.AttrCIDRBlock`` -> ``cidr_block`` (the constants are the snake_case name in Go case)."""
    for initialism in _INITIALISMS:
        const = const.replace(initialism, initialism[0] + initialism[1:].lower())
    words = re.findall(r"[A-Z][a-z0-9]*", const)
    return "_".join(w.lower() for w in words)


def camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def attribute_names(go: str) -> list[str]:
    """Every attribute and block name of the schema, at any depth (the Terraform-plan export's names)."""
    return sorted({m.group(1) or attr_name(m.group(2)) for m in _KEY.finditer(go)})


def name_field(go: str) -> str | None:
    """The physical-name attribute: the one with a ``<name>_prefix`` twin (Pulumi auto-names it)."""
    keys = {m.group(1) or attr_name(m.group(2)) for m in _KEY.finditer(go)}
    named = sorted(k for k in keys if f"{k}_prefix" in keys)
    return camel(named[0]) if named else None


def schema_paths(go: str) -> tuple[set[str], set[str]]:
    """Attribute paths (dotted, Terraform names) that force and that may force replacement."""
    force: set[str] = set()
    maybe: set[str] = set()
    stack: list[tuple[int, str]] = []  # (brace depth of the entry's body, name)
    depth = 0
    events = sorted(
        [(m.end() - 1, "key", m) for m in _KEY.finditer(go)]
        + [(m.start(), "force", m) for m in _FORCE.finditer(go)]
        + [(m.start(), "maybe", m) for m in _MAYBE.finditer(go)],
        key=lambda e: e[0],
    )
    keys_at = {pos: m for pos, kind, m in events if kind == "key"}
    marks = {pos: kind for pos, kind, _ in events if kind != "key"}
    for i, ch in enumerate(go):
        if i in marks and stack:
            path = ".".join(name for _, name in stack)
            (force if marks[i] == "force" else maybe).add(path)
        if ch == "{":
            depth += 1
            if i in keys_at:
                m = keys_at[i]
                stack.append((depth, m.group(1) or attr_name(m.group(2))))
        elif ch == "}":
            if stack and stack[-1][0] == depth:
                stack.pop()
            depth -= 1
    return force, maybe - force


@dataclass
class IndexRepo:
    git_dir: Path
    ref: str

    def read(self, path: str) -> str:
        done = subprocess.run(
            ["git", f"--git-dir={self.git_dir}", "show", f"{self.ref}:{path}"],
            capture_output=True,
            text=True,
        )
        if done.returncode:
            raise FileNotFoundError(path)
        return done.stdout

    def listing(self, folder: str) -> list[str]:
        done = subprocess.run(
            ["git", f"--git-dir={self.git_dir}", "ls-tree", "--name-only", f"{self.ref}:{folder}"],
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.split()


def _service_dir(meta: dict) -> str:
    return "index/internal/service/" + meta["namespace"].rsplit("/service/", 1)[1]


def _factories(repo: IndexRepo, folder: str) -> dict[str, tuple[str, str]]:
    """TypeName -> (kind, factory) from the service package's generated registries."""
    found: dict[str, tuple[str, str]] = {}
    for kind in ("SDKResources", "FrameworkResources"):
        try:
            text = repo.read(f"{folder}/method.servicePackage.{kind}.goindex")
        except FileNotFoundError:
            continue
        for m in _FACTORY.finditer(text):
            found[m.group(2)] = (kind, m.group(1))
    return found


def _regional(repo: IndexRepo, folder: str, tf_name: str) -> bool:
    for kind in ("SDKResources", "FrameworkResources"):
        try:
            text = repo.read(f"{folder}/method.servicePackage.{kind}.goindex")
        except FileNotFoundError:
            continue
        at = text.find(f'TypeName: "{tf_name}"')
        if at >= 0:
            entry = text[at : text.find("\n\t\t},", at)]
            return "ResourceRegionDefault" in entry
    return True


def _framework_schema(repo: IndexRepo, folder: str, files: dict[str, str], struct: str, factory: str):
    """The Schema method of the resource's struct, or of the struct it embeds (shared schemas)."""
    structs = [struct] if struct else []
    if factory and f"func.{factory}.goindex".lower() in files:
        structs += re.findall(r"&(\w+)\{", repo.read(f"{folder}/{files[f'func.{factory}.goindex'.lower()]}"))
    for name in structs:
        found = files.get(f"method.{name}.schema.goindex".lower())
        if found:
            return found
        kind = files.get(f"type.{name}.goindex".lower())
        embedded = re.findall(r"^\t(\w+)$", repo.read(f"{folder}/{kind}"), re.M) if kind else []
        for inner in embedded:
            found = files.get(f"method.{inner}.schema.goindex".lower())
            if found:
                return found
    return None


def schema_source(repo: IndexRepo, tf_name: str) -> tuple[str, bool]:
    meta = json.loads(repo.read(f"index/resources/{tf_name}.json"))
    folder = _service_dir(meta)
    kind, factory = _factories(repo, folder).get(tf_name, ("", ""))
    files = {name.lower(): name for name in repo.listing(folder)}
    if kind == "FrameworkResources" or meta.get("struct_type"):
        name = _framework_schema(repo, folder, files, meta.get("struct_type") or "", factory)
    else:
        name = files.get(f"func.{factory}.goindex".lower())
    if not name:
        raise GenerateError(f"{tf_name}: no schema in the index ({kind or meta.get('sdk_type')} {factory})")
    text = repo.read(f"{folder}/{name}")
    for ref in _SCHEMA_REF.findall(text):  # a schema built by a helper of the same package
        helper = files.get(f"func.{ref}.goindex".lower()) or files.get(f"var.{ref}.goindex".lower())
        if helper:
            text += "\n" + repo.read(f"{folder}/{helper}")
    return text, _regional(repo, folder, tf_name)


def resolve(repo: IndexRepo, token: str) -> str:
    for candidate in tf_name_candidates(token):
        try:
            repo.read(f"index/resources/{candidate}.json")
            return candidate
        except FileNotFoundError:
            continue
    raise GenerateError(f"{token}: no Terraform resource among {tf_name_candidates(token)}")


def pulumi_path(token: str, tf_path: str, fields: set[str]) -> str:
    """A Terraform attribute path in Pulumi's names: camelCase, list blocks plural, a few renamed."""
    head, *rest = [camel(part) for part in tf_path.split(".")]
    head = FIELD_RENAMES.get((token, head), head)
    if head not in fields and f"{head}s" in fields:
        head = f"{head}s"  # the bridge pluralises list blocks: validation_option -> validationOptions
    if fields and head not in fields:
        raise GenerateError(f"{token}: {tf_path} has no Pulumi input in pulumi_aws (add it to FIELD_RENAMES)")
    return ".".join([head, *rest])


def build(repo: IndexRepo, tokens: list[str]) -> dict[str, dict]:
    table = {}
    for token in sorted(set(tokens)):
        tf_name = resolve(repo, token)
        go, regional = schema_source(repo, tf_name)
        force, maybe = schema_paths(go)
        fields = sdk_fields(token)
        if not fields:
            raise GenerateError(f"{token}: the installed pulumi_aws SDK does not declare it")
        table[token] = {
            "terraform": tf_name,
            "replaceOnChanges": sorted({pulumi_path(token, path, fields) for path in force}),
            "mayReplaceOnChanges": sorted({pulumi_path(token, path, fields) for path in maybe}),
            "regional": regional,
            "nameField": name_field(go) and pulumi_path(token, name_field(go), fields),
            "terraformAttributes": attribute_names(go),
        }
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m florai_infra.replacements.generate", description=__doc__)
    parser.add_argument(
        "--index-git", type=Path, required=True, help="git dir of terraform-provider-aws-index"
    )
    parser.add_argument("--ref", required=True, help="the upstream release tag, e.g. v6.58.0")
    parser.add_argument("--pulumi-aws", required=True, help="the pinned pulumi-aws version it stands for")
    parser.add_argument("--note", default="", help="a line on how the release was chosen")
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args(argv)
    try:
        table = build(IndexRepo(args.index_git, args.ref), list(WANTED_TYPES))
    except GenerateError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "replace-rules.json").write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")
    source = (
        f"url: {UPSTREAM_URL}/tree/{args.ref}/internal/service\n"
        f"index: {INDEX_URL}/tree/{args.ref}\n"
        f"version: {args.ref}\n"
        f"pulumi_aws: {args.pulumi_aws}\n"
        f"retrieved: {datetime.date.today().isoformat()}\n"
        "generator: platform/florai_infra/replacements/generate.py\n"
        "regenerate: python -m florai_infra.replacements.generate --index-git <git dir of the index>"
        f" --ref <release> --pulumi-aws <pinned pulumi-aws>\n"
        + (f"note: {json.dumps(args.note)}\n" if args.note else "")
    )
    (args.out / "SOURCE.yaml").write_text(source)
    print(f"wrote {len(table)} resource types to {args.out / 'replace-rules.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
