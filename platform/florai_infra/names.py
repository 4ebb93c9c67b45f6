"""Kubernetes namespaces and service accounts shared by the Pulumi program and the GitOps side.

IRSA trust policies are scoped to ``system:serviceaccount:<namespace>:<name>``; the Argo CD
add-ons and app overlays must create exactly these service accounts, so both sides import them.
"""

from __future__ import annotations

from dataclasses import dataclass

NAMESPACE_ARGOCD = "argocd"
NAMESPACE_APPS = "florai"
NAMESPACE_KUBE_SYSTEM = "kube-system"
NAMESPACE_EXTERNAL_SECRETS = "external-secrets"

# Path of the app-of-apps inside this repository, synced by the root Application.
GITOPS_ROOT_PATH = "argocd"


@dataclass(frozen=True)
class ServiceAccount:
    """A Kubernetes service account that assumes an IAM role through IRSA."""

    key: str  # stable identifier used in stack outputs and cluster-secret annotations
    namespace: str
    name: str

    @property
    def subject(self) -> str:
        return f"system:serviceaccount:{self.namespace}:{self.name}"


INFERENCE = ServiceAccount("inference", NAMESPACE_APPS, "florai-inference")
LOAD_BALANCER_CONTROLLER = ServiceAccount(
    "aws-load-balancer-controller", NAMESPACE_KUBE_SYSTEM, "aws-load-balancer-controller"
)
EXTERNAL_SECRETS = ServiceAccount("external-secrets", NAMESPACE_EXTERNAL_SECRETS, "external-secrets")
CLUSTER_AUTOSCALER = ServiceAccount("cluster-autoscaler", NAMESPACE_KUBE_SYSTEM, "cluster-autoscaler")
EBS_CSI = ServiceAccount("ebs-csi", NAMESPACE_KUBE_SYSTEM, "ebs-csi-controller-sa")
# Exports the age of the latest RDS backup/snapshot so a stale backup pages before a restore needs it.
BACKUP_EXPORTER = ServiceAccount("backup-exporter", NAMESPACE_APPS, "florai-backup-exporter")

IRSA_SERVICE_ACCOUNTS: tuple[ServiceAccount, ...] = (
    INFERENCE,
    LOAD_BALANCER_CONTROLLER,
    EXTERNAL_SECRETS,
    CLUSTER_AUTOSCALER,
    EBS_CSI,
    BACKUP_EXPORTER,
)


def resource_prefix(environment: str) -> str:
    """Prefix of every physical AWS name of a stack, e.g. ``florai-prod``."""
    return f"florai-{environment}"


def secret_prefix(environment: str) -> str:
    """Secrets Manager path under which every FlorAI secret of a stack lives."""
    return f"florai/{environment}/"


def app_signing_keys_secret(environment: str) -> str:
    """Secret (JSON: api_key_pepper, jwt_key) the app overlays' ExternalSecret florai-app-keys reads."""
    return f"{secret_prefix(environment)}app/signing-keys"


def image_repository(environment: str) -> str:
    """ECR repository of the inference image of a stack, e.g. ``florai-prod/inference``."""
    return f"{resource_prefix(environment)}/inference"


# Where each environment's image comes from: CI pushes into dev, promotion copies dev -> staging -> prod.
PROMOTED_FROM = {"staging": "dev", "prod": "staging"}
