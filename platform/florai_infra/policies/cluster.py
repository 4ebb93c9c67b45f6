"""EKS control plane: secrets envelope-encrypted, every log type on, no open public endpoint."""

from __future__ import annotations

from florai_infra.policies.model import Enforcement, Props, ReportResource, ResourcePolicy
from florai_infra.policies.props import as_list, dig, is_prod
from florai_infra.policies.resource_types import EKS_CLUSTER

CONTROL_PLANE_LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
OPEN_CIDRS = ("0.0.0.0/0", "::/0")


def _secrets_encrypted(props: Props, report: ReportResource) -> None:
    configs = as_list(props.get("encryptionConfig"))
    covered = [c for c in configs if "secrets" in as_list(dig(c, "resources"))]
    if not covered:
        report("encryptionConfig does not cover 'secrets': Kubernetes Secrets sit unencrypted in etcd")
    elif not any(dig(c, "provider", "keyArn") for c in covered):
        report("encryptionConfig.provider.keyArn is not set: secrets need a KMS key")


def _all_log_types(props: Props, report: ReportResource) -> None:
    enabled = set(as_list(props.get("enabledClusterLogTypes")))
    missing = [t for t in CONTROL_PLANE_LOG_TYPES if t not in enabled]
    if missing:
        report(f"enabledClusterLogTypes lacks {', '.join(missing)}: control-plane activity goes unaudited")


def _endpoint_not_open(props: Props, report: ReportResource) -> None:
    vpc = props.get("vpcConfig") or {}
    public = dig(vpc, "endpointPublicAccess")
    public_on = public is not False  # AWS turns the public endpoint on when this is unset
    if is_prod(props) and public_on:
        report("vpcConfig.endpointPublicAccess is not false in prod: reach the API through the VPC")
    if not public_on:
        return
    cidrs = as_list(dig(vpc, "publicAccessCidrs"))
    if not cidrs:
        report("vpcConfig.publicAccessCidrs is unset with a public endpoint: AWS opens it to 0.0.0.0/0")
    open_cidrs = [c for c in cidrs if c in OPEN_CIDRS]
    if open_cidrs:
        report(
            f"vpcConfig.publicAccessCidrs contains {', '.join(open_cidrs)}: the API is open to the internet"
        )


CLUSTER_POLICIES = (
    ResourcePolicy(
        name="eks-secrets-encrypted",
        description="EKS envelope-encrypts Kubernetes Secrets with a KMS key.",
        enforcement=Enforcement.MANDATORY,
        resource_types=(EKS_CLUSTER,),
        validate=_secrets_encrypted,
    ),
    ResourcePolicy(
        name="eks-control-plane-logs",
        description="EKS sends every control-plane log type to CloudWatch.",
        enforcement=Enforcement.MANDATORY,
        resource_types=(EKS_CLUSTER,),
        validate=_all_log_types,
    ),
    ResourcePolicy(
        name="eks-endpoint-not-open",
        description="The EKS API is private in prod and never open to 0.0.0.0/0.",
        enforcement=Enforcement.MANDATORY,
        resource_types=(EKS_CLUSTER,),
        validate=_endpoint_not_open,
    ),
)
