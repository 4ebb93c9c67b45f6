"""Deterministic answers to the data-source calls (invokes) the program makes offline."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from florai_infra import upstream

IAM_POLICY_VERSION = "2012-10-17"


class UnansweredCallError(RuntimeError):
    """The program called a data source the offline engine does not know how to answer."""


def _ami_id(seed: str) -> str:
    return "ami-" + hashlib.sha256(seed.encode()).hexdigest()[:17]


def _one_or_list(values: list[str] | None) -> str | list[str] | None:
    if not values:
        return None
    ordered = sorted(set(values))
    return ordered[0] if len(ordered) == 1 else ordered


def render_policy_document(args: dict[str, Any]) -> str:
    """Render ``aws.iam.get_policy_document`` arguments as the IAM JSON AWS would receive."""
    statements = []
    for stmt in args.get("statements") or []:
        out: dict[str, Any] = {}
        if stmt.get("sid"):
            out["Sid"] = stmt["sid"]
        out["Effect"] = stmt.get("effect") or "Allow"
        for key, wire in (
            ("actions", "Action"),
            ("notActions", "NotAction"),
            ("resources", "Resource"),
            ("notResources", "NotResource"),
        ):
            value = _one_or_list(stmt.get(key))
            if value is not None:
                out[wire] = value
        for key, wire in (("principals", "Principal"), ("notPrincipals", "NotPrincipal")):
            principals = stmt.get(key) or []
            if principals:
                block: dict[str, Any] = {}
                for p in principals:
                    ids = block.setdefault(p["type"], [])
                    ids.extend(p.get("identifiers") or [])
                out[wire] = {k: _one_or_list(v) for k, v in sorted(block.items())}
        conditions = stmt.get("conditions") or []
        if conditions:
            cond: dict[str, dict[str, Any]] = {}
            for c in conditions:
                cond.setdefault(c["test"], {})[c["variable"]] = _one_or_list(c.get("values"))
            out["Condition"] = {k: dict(sorted(v.items())) for k, v in sorted(cond.items())}
        statements.append(out)
    doc: dict[str, Any] = {"Version": args.get("version") or IAM_POLICY_VERSION}
    if args.get("policyId"):
        doc["Id"] = args["policyId"]
    doc["Statement"] = statements
    return json.dumps(doc, indent=2)


def _policy_document(args, region, account_id):
    rendered = render_policy_document(args)
    minified = json.dumps(json.loads(rendered), separators=(",", ":"))
    return {
        "id": hashlib.sha256(minified.encode()).hexdigest()[:10],
        "json": rendered,
        "minifiedJson": minified,
    }


def _availability_zones(args, region, account_id):
    # Zone names are invented (a..f); the region is not: an unknown one fails here as it would in AWS.
    if region not in upstream.aws_regions():
        raise UnansweredCallError(f"{region!r} is not an AWS region: no availability zones to answer with")
    letters = "abcdef"
    return {
        "id": region,
        "names": [f"{region}{c}" for c in letters],
        "zoneIds": [f"use1-az{i + 1}" for i in range(len(letters))],
        "groupNames": [region] * len(letters),
        "state": args.get("state", "available"),
    }


def _caller_identity(args, region, account_id):
    return {
        "id": account_id,
        "accountId": account_id,
        "arn": f"arn:aws:iam::{account_id}:user/offline-preview",
        "userId": "AIDAOFFLINEPREVIEW",
    }


def _region(args, region, account_id):
    name = args.get("region") or args.get("name") or region
    return {
        "id": name,
        "name": name,
        "region": name,
        "description": name,
        "endpoint": f"ec2.{name}.amazonaws.com",
    }


def _partition(args, region, account_id):
    return {
        "id": "aws",
        "partition": "aws",
        "dnsSuffix": "amazonaws.com",
        "reverseDnsPrefix": "com.amazonaws",
    }


def _ssm_parameter(args, region, account_id):
    name = args["name"]
    value = _ami_id(f"{region}:{name}") if "/ami" in name or "image_id" in name else f"offline:{name}"
    return {
        "id": name,
        "name": name,
        "value": value,
        "insecureValue": value,
        "type": "String",
        "arn": f"arn:aws:ssm:{region}::parameter{name}",
        "version": 1,
        "withDecryption": args.get("withDecryption", True),
    }


def _eks_addon_version(args, region, account_id):
    """Answered from the pinned table the program uses (platform/upstream/eks/addon-versions.yaml)."""
    addon = args["addonName"]
    k8s = args.get("kubernetesVersion")
    version = upstream.addon_versions().get(k8s, {}).get(addon)
    if version is None:
        raise UnansweredCallError(f"no pinned version of EKS add-on {addon} for Kubernetes {k8s}")
    return {
        "id": addon,
        "addonName": addon,
        "kubernetesVersion": k8s,
        "version": version,
        "mostRecent": args.get("mostRecent", False),
    }


def _random_password(args, region, account_id):
    """A stand-in password, stable per request so offline plans never change between runs."""
    length = int(args.get("passwordLength") or 32)
    seed = json.dumps({"args": args, "region": region, "account": account_id}, sort_keys=True)
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
    stream = b""
    counter = 0
    while len(stream) < length:
        stream += hashlib.sha256(f"{seed}/{counter}".encode()).digest()
        counter += 1
    password = "".join(alphabet[b % len(alphabet)] for b in stream[:length])
    return {"id": region, "randomPassword": password, "passwordLength": length}


HANDLERS: dict[str, Callable[[dict[str, Any], str, str], dict[str, Any]]] = {
    "aws:iam/getPolicyDocument:getPolicyDocument": _policy_document,
    "aws:index/getAvailabilityZones:getAvailabilityZones": _availability_zones,
    "aws:index/getCallerIdentity:getCallerIdentity": _caller_identity,
    "aws:index/getRegion:getRegion": _region,
    "aws:index/getPartition:getPartition": _partition,
    "aws:ssm/getParameter:getParameter": _ssm_parameter,
    "aws:eks/getAddonVersion:getAddonVersion": _eks_addon_version,
    "aws:secretsmanager/getRandomPassword:getRandomPassword": _random_password,
}


def answer_call(token: str, args: dict[str, Any], *, region: str, account_id: str) -> dict:
    handler = HANDLERS.get(token)
    if handler is None:
        raise UnansweredCallError(
            f"offline engine has no answer for data source {token}; add one to florai_infra/offline/calls.py"
        )
    return handler(args, region, account_id)
