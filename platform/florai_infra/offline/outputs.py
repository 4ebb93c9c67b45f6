"""Deterministic, plausible outputs (ids, ARNs, endpoints) for mocked resources."""

from __future__ import annotations

import hashlib
from typing import Any

from florai_infra.offline.placeholders import remember, remember_outputs


def _digest(*parts: str, length: int = 17) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


# Prefixes AWS uses for the ids of common EC2-style resources.
_ID_PREFIX = {
    "aws:ec2/vpc:Vpc": "vpc-",
    "aws:ec2/subnet:Subnet": "subnet-",
    "aws:ec2/securityGroup:SecurityGroup": "sg-",
    "aws:ec2/internetGateway:InternetGateway": "igw-",
    "aws:ec2/natGateway:NatGateway": "nat-",
    "aws:ec2/eip:Eip": "eipalloc-",
    "aws:ec2/routeTable:RouteTable": "rtb-",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce-",
    "aws:ec2/flowLog:FlowLog": "fl-",
    "aws:ec2/launchTemplate:LaunchTemplate": "lt-",
    "aws:kms/key:Key": "",
}


BACKUPS_REPLICATION = "aws:rds/instanceAutomatedBackupsReplication:InstanceAutomatedBackupsReplication"


def physical_id(
    type_: str, name: str, inputs: dict[str, Any], *, region: str = "us-east-1", account_id: str = ""
) -> str:
    """A stable id unique per (type, name), shaped like the real one where that is cheap."""
    if type_ == BACKUPS_REPLICATION:  # its id is the ARN of the replicated backups in the DR region
        return f"arn:aws:rds:{region}:{account_id}:auto-backup:ab-{_digest(type_, name, length=30)}"
    if type_ in _ID_PREFIX:
        prefix = _ID_PREFIX[type_]
        if type_ == "aws:kms/key:Key":
            d = _digest(type_, name, length=32)
            return f"{d[:8]}-{d[8:12]}-{d[12:16]}-{d[16:20]}-{d[20:32]}"
        return prefix + _digest(type_, name)
    for key in ("name", "bucket", "clusterName", "replicationGroupId", "identifier"):
        value = inputs.get(key)
        if isinstance(value, str) and value:
            return value
    return f"{name}-{_digest(type_, name, length=8)}"


def _service(type_: str) -> str:
    package, module, _ = type_.split(":")
    return module.split("/")[0] if package == "aws" else package


def _kind(type_: str) -> str:
    resource = type_.split(":")[2]
    return resource[0].lower() + resource[1:]


def fabricate_outputs(
    type_: str, name: str, inputs: dict[str, Any], rid: str, *, region: str, account_id: str
) -> dict[str, Any]:
    """Inputs echoed back plus the computed outputs programs commonly read (remembered as invented)."""
    out = _fabricate(type_, name, inputs, rid, region=region, account_id=account_id)
    remember_outputs(name, inputs, out, known=(account_id,))  # the account is the stack's (or <account>)
    if rid not in {v for v in inputs.values() if isinstance(v, str)}:
        remember(rid, f"<id of {name}>")
    return out


def _fabricate(
    type_: str, name: str, inputs: dict[str, Any], rid: str, *, region: str, account_id: str
) -> dict[str, Any]:
    out = dict(inputs)
    out.setdefault("id", rid)
    if type_.startswith("aws:"):
        service = _service(type_)
        regional = "" if service in {"iam", "s3", "wafv2"} and service != "wafv2" else region
        acct = "" if service == "s3" else account_id
        out.setdefault("arn", f"arn:aws:{service}:{regional}:{acct}:{_kind(type_)}/{rid}")
        out.setdefault("tagsAll", inputs.get("tags") or {})
    extra = _SPECIFIC.get(type_)
    if extra:
        out.update(extra(name, inputs, rid, region, account_id))
    return out


def _kms_key(name, inputs, rid, region, account):
    return {"keyId": rid, "arn": f"arn:aws:kms:{region}:{account}:key/{rid}"}


def _iam_role(name, inputs, rid, region, account):
    role = inputs.get("name") or rid
    return {
        "name": role,
        "arn": f"arn:aws:iam::{account}:role/{role}",
        "uniqueId": "AROA" + _digest(rid, length=16).upper(),
    }


def _iam_policy(name, inputs, rid, region, account):
    policy = inputs.get("name") or rid
    return {"name": policy, "arn": f"arn:aws:iam::{account}:policy/{policy}"}


def _eks_cluster(name, inputs, rid, region, account):
    d = _digest("eks", rid, length=32).upper()
    return {
        "name": inputs.get("name") or rid,
        "arn": f"arn:aws:eks:{region}:{account}:cluster/{rid}",
        "endpoint": f"https://{d}.gr7.{region}.eks.amazonaws.com",
        "certificateAuthority": {"data": "TFMwdExTMUNSVWRKVGlCRFJWSlVTVVpKUTBGVVJTMHRMUzB0Q2c9PQ=="},
        "identities": [{"oidcs": [{"issuer": f"https://oidc.eks.{region}.amazonaws.com/id/{d}"}]}],
        "platformVersion": "eks.1",
        "status": "ACTIVE",
        "vpcConfig": {**(inputs.get("vpcConfig") or {}), "clusterSecurityGroupId": "sg-" + d[:17].lower()},
    }


def _oidc_provider(name, inputs, rid, region, account):
    url = (inputs.get("url") or "").removeprefix("https://")
    return {"arn": f"arn:aws:iam::{account}:oidc-provider/{url}"}


def _rds_instance(name, inputs, rid, region, account):
    ident = inputs.get("identifier") or rid
    host = f"{ident}.{_digest('rds', ident, length=12)}.{region}.rds.amazonaws.com"
    port = int(inputs.get("port") or 5432)  # numbers reach the mocks as floats
    out = {
        "address": host,
        "endpoint": f"{host}:{port}",
        "port": port,
        "arn": f"arn:aws:rds:{region}:{account}:db:{ident}",
        "resourceId": "db-" + _digest(ident).upper(),
    }
    if inputs.get("manageMasterUserPassword"):
        out["masterUserSecrets"] = [
            {
                "secretArn": (
                    f"arn:aws:secretsmanager:{region}:{account}:secret:rds!db-{_digest(ident, length=8)}"
                ),
                "secretStatus": "active",
                "kmsKeyId": inputs.get("masterUserSecretKmsKeyId", ""),
            }
        ]
    return out


def _redis_group(name, inputs, rid, region, account):
    ident = inputs.get("replicationGroupId") or rid
    short_region = f"{region[:2]}{region.split('-')[1][0]}{region[-1]}"  # eu-west-1 -> euw1
    base = f"{ident}.{_digest('redis', ident, length=6)}.{short_region}.cache.amazonaws.com"
    return {
        "primaryEndpointAddress": f"master.{base}",
        "readerEndpointAddress": f"replica.{base}",
        "port": int(inputs.get("port") or 6379),
        "arn": f"arn:aws:elasticache:{region}:{account}:replicationgroup:{ident}",
    }


def _bucket(name, inputs, rid, region, account):
    bucket = inputs.get("bucket") or rid
    return {
        "bucket": bucket,
        "arn": f"arn:aws:s3:::{bucket}",
        "bucketRegionalDomainName": f"{bucket}.s3.{region}.amazonaws.com",
    }


def _ecr_repo(name, inputs, rid, region, account):
    repo = inputs.get("name") or rid
    return {
        "name": repo,
        "arn": f"arn:aws:ecr:{region}:{account}:repository/{repo}",
        "repositoryUrl": f"{account}.dkr.ecr.{region}.amazonaws.com/{repo}",
        "registryId": account,
    }


def _web_acl(name, inputs, rid, region, account):
    acl = inputs.get("name") or rid
    return {
        "arn": f"arn:aws:wafv2:{region}:{account}:regional/webacl/{acl}/{_digest(acl, length=36)}",
        "capacity": 1200,
    }


def _log_group(name, inputs, rid, region, account):
    group = inputs.get("name") or rid
    return {"name": group, "arn": f"arn:aws:logs:{region}:{account}:log-group:{group}"}


def _secret(name, inputs, rid, region, account):
    secret = inputs.get("name") or rid
    return {
        "name": secret,
        "arn": f"arn:aws:secretsmanager:{region}:{account}:secret:{secret}-{_digest(secret, length=6)}",
    }


def _security_group(name, inputs, rid, region, account):
    return {"arn": f"arn:aws:ec2:{region}:{account}:security-group/{rid}"}


def _launch_template(name, inputs, rid, region, account):
    return {"latestVersion": 1, "defaultVersion": 1}


def _node_group(name, inputs, rid, region, account):
    cluster = inputs.get("clusterName", "cluster")
    group = inputs.get("nodeGroupName") or rid
    return {
        "arn": f"arn:aws:eks:{region}:{account}:nodegroup/{cluster}/{group}/{_digest(group, length=8)}",
        "status": "ACTIVE",
        "resources": [{"autoscalingGroups": [{"name": f"eks-{group}"}]}],
    }


_SPECIFIC = {
    "aws:kms/key:Key": _kms_key,
    "aws:iam/role:Role": _iam_role,
    "aws:iam/policy:Policy": _iam_policy,
    "aws:eks/cluster:Cluster": _eks_cluster,
    "aws:eks/nodeGroup:NodeGroup": _node_group,
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": _oidc_provider,
    "aws:rds/instance:Instance": _rds_instance,
    "aws:elasticache/replicationGroup:ReplicationGroup": _redis_group,
    "aws:s3/bucket:Bucket": _bucket,
    "aws:s3/bucketV2:BucketV2": _bucket,
    "aws:ecr/repository:Repository": _ecr_repo,
    "aws:wafv2/webAcl:WebAcl": _web_acl,
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
    "aws:secretsmanager/secret:Secret": _secret,
    "aws:ec2/securityGroup:SecurityGroup": _security_group,
    "aws:ec2/launchTemplate:LaunchTemplate": _launch_template,
}
