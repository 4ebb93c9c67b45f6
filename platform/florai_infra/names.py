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

# Service accounts of the day-one add-ons (issues 15 and 16); each gets its IRSA role in the
# program (IRSA_SERVICE_ACCOUNTS) and its add-on in argocd/addons (the VPC CNI is an EKS add-on).
VPC_CNI = ServiceAccount("vpc-cni", NAMESPACE_KUBE_SYSTEM, "aws-node")
NAMESPACE_EXTERNAL_DNS = "external-dns"
EXTERNAL_DNS = ServiceAccount("external-dns", NAMESPACE_EXTERNAL_DNS, "external-dns")
NAMESPACE_MONITORING = "monitoring"
CLOUDWATCH_EXPORTER = ServiceAccount("cloudwatch-exporter", NAMESPACE_MONITORING, "yace-cloudwatch-exporter")
NAMESPACE_LOGGING = "logging"
LOG_SHIPPER = ServiceAccount("log-shipper", NAMESPACE_LOGGING, "fluent-bit")
# Grafana (kube-prometheus-stack's subchart) reads CloudWatch metrics and the pods' logs.
GRAFANA = ServiceAccount("grafana", NAMESPACE_MONITORING, "kube-prometheus-stack-grafana")

IRSA_SERVICE_ACCOUNTS: tuple[ServiceAccount, ...] = (
    INFERENCE,
    LOAD_BALANCER_CONTROLLER,
    EXTERNAL_SECRETS,
    CLUSTER_AUTOSCALER,
    EBS_CSI,
    BACKUP_EXPORTER,
    VPC_CNI,
    EXTERNAL_DNS,
    CLOUDWATCH_EXPORTER,
    LOG_SHIPPER,
    GRAFANA,
)


def resource_prefix(environment: str) -> str:
    """Prefix of every physical AWS name of a stack, e.g. ``florai-prod``."""
    return f"florai-{environment}"


def secret_prefix(environment: str) -> str:
    """Secrets Manager path under which every FlorAI secret of a stack lives."""
    return f"florai/{environment}/"


def alerting_receivers_secret(environment: str) -> str:
    """Secret (JSON: pagerduty_routing_key, slack_webhook_url) the Alertmanager receivers read.

    The program creates it empty; a person puts the values once (README, Running for real).
    """
    return f"{secret_prefix(environment)}alerting/receivers"


def ui_credentials_secret(environment: str) -> str:
    """Secret (JSON of FLORAI_UI_* settings: FLORAI_UI_API_KEY, or the FLORAI_UI_OIDC_* sign-in) the UI's
    ExternalSecret florai-ui-credentials reads; created empty, filled once by a person (README)."""
    return f"{secret_prefix(environment)}ui/credentials"


def app_signing_keys_secret(environment: str) -> str:
    """Secret (JSON: api_key_pepper, jwt_key) the app overlays' ExternalSecret florai-app-keys reads."""
    return f"{secret_prefix(environment)}app/signing-keys"


def ui_image_repository(environment: str) -> str:
    """ECR repository of the web UI image (apps/ui), e.g. ``florai-prod/ui``."""
    return f"{resource_prefix(environment)}/ui"


def image_repositories(environment: str) -> tuple[str, ...]:
    """Every ECR repository of a stack: CI pushes to each, promotion copies each."""
    return (image_repository(environment), ui_image_repository(environment))


def image_repository(environment: str) -> str:
    """ECR repository of the inference image of a stack, e.g. ``florai-prod/inference``."""
    return f"{resource_prefix(environment)}/inference"


# Where each environment's image comes from: CI pushes into dev, promotion copies dev -> staging -> prod.
PROMOTED_FROM = {"staging": "dev", "prod": "staging"}


# The GitOps bridge: annotation names on the Argo CD cluster Secret that the program writes and
# the ApplicationSets read (as {{metadata.annotations.<name>}}). Every IRSA role is also there as
# role_arn_annotation(account).
BRIDGE_AWS_ACCOUNT_ID = "aws_account_id"
BRIDGE_AWS_REGION = "aws_region"
BRIDGE_CLUSTER_NAME = "aws_cluster_name"
BRIDGE_VPC_ID = "aws_vpc_id"
BRIDGE_VPC_CIDR = "aws_vpc_cidr"
BRIDGE_WAF_ACL_ARN = "waf_acl_arn"
BRIDGE_DATABASE_ENDPOINT = "database_endpoint"
BRIDGE_DATABASE_SECRET_ARN = "database_secret_arn"
BRIDGE_REDIS_ENDPOINT = "redis_endpoint"
BRIDGE_REDIS_AUTH_SECRET_ARN = "redis_auth_secret_arn"
BRIDGE_MODEL_BUCKET_NAME = "model_bucket_name"
BRIDGE_ECR_REPOSITORY_URL = "ecr_repository_url"  # the inference images (florai, florai-cuda)
BRIDGE_UI_ECR_REPOSITORY_URL = "ui_ecr_repository_url"  # the web UI image (florai-ui)
BRIDGE_HOSTED_ZONE_ID = "hosted_zone_id"
BRIDGE_DOMAIN_NAME = "domain_name"
BRIDGE_API_HOSTNAME = "api_hostname"
BRIDGE_CERTIFICATE_ARN = "certificate_arn"
BRIDGE_LOG_GROUP_NAME = "log_group_name"
BRIDGE_IMAGE_RETENTION_DAYS = "image_retention_days"  # days a kept consented image lives (issue 17)


def role_arn_annotation(account: ServiceAccount) -> str:
    """Bridge annotation carrying the IRSA role ARN of ``account``, e.g. ``inference_role_arn``."""
    return f"{account.key.replace('-', '_')}_role_arn"
