"""Cluster bootstrap: Argo CD (Helm), the root app-of-apps and the GitOps-bridge cluster Secret."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from florai_infra import names
from florai_infra.config import GitOpsSettings

ARGOCD_CHART = "argo-cd"
ARGOCD_CHART_REPO = "https://argoproj.github.io/argo-helm"
IN_CLUSTER_SERVER = "https://kubernetes.default.svc"
ROOT_APPLICATION = "root"
CLUSTER_SECRET_LABEL = "argocd.argoproj.io/secret-type"
# Add-ons the ApplicationSets install on this cluster, selected by these cluster-secret labels.
ADDON_LABELS = {
    "enable_aws_load_balancer_controller": "true",
    "enable_external_secrets": "true",
    "enable_cluster_autoscaler": "true",
    "enable_kube_prometheus_stack": "true",
    "enable_argo_rollouts": "true",
    "enable_keda": "true",
    "enable_metrics_server": "true",
    "enable_blackbox_exporter": "true",
    "enable_external_dns": "true",
    "enable_cloudwatch_exporter": "true",
    "enable_otel_collector": "true",
    "enable_tempo": "true",
    "enable_fluent_bit": "true",
}


@dataclass(frozen=True)
class BootstrapArgs:
    settings: GitOpsSettings
    environment: str
    cluster_name: pulumi.Input[str]
    kubeconfig: pulumi.Input[str]
    gpu_enabled: bool
    # Annotation name -> value: the stack outputs the in-cluster side reads (ARNs, endpoints).
    bridge_annotations: dict[str, pulumi.Input[str]] = field(default_factory=dict)
    bridge_labels: dict[str, str] = field(default_factory=dict)


def cluster_secret_labels(args: BootstrapArgs) -> dict[str, str]:
    gpu = "true" if args.gpu_enabled else "false"
    return {
        CLUSTER_SECRET_LABEL: "cluster",
        "environment": args.environment,
        **args.bridge_labels,
        **ADDON_LABELS,
        "enable_gpu": gpu,
        "enable_nvidia_device_plugin": gpu,
        "enable_dcgm_exporter": gpu,
    }


class Bootstrap(pulumi.ComponentResource):
    provider: k8s.Provider

    def __init__(self, name: str, args: BootstrapArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("florai:gitops:Bootstrap", name, None, opts)
        self.provider = k8s.Provider(
            f"{name}-eks",
            kubeconfig=args.kubeconfig,
            enable_server_side_apply=True,
            opts=pulumi.ResourceOptions(parent=self),
        )
        on_cluster = pulumi.ResourceOptions(parent=self, provider=self.provider)
        argocd = k8s.helm.v3.Release(
            f"{name}-argocd",
            name="argocd",
            chart=ARGOCD_CHART,
            version=args.settings.argocd_chart_version,
            repository_opts={"repo": ARGOCD_CHART_REPO},
            namespace=names.NAMESPACE_ARGOCD,
            create_namespace=True,
            atomic=True,
            values={
                "dex": {"enabled": False},
                "configs": {"cm": {"application.resourceTrackingMethod": "annotation"}},
                "global": {"logging": {"format": "json"}},
            },
            opts=on_cluster,
        )
        after_argocd = pulumi.ResourceOptions(parent=self, provider=self.provider, depends_on=[argocd])
        secret = k8s.core.v1.Secret(
            f"{name}-cluster",
            metadata={
                "name": "in-cluster",
                "namespace": names.NAMESPACE_ARGOCD,
                "labels": cluster_secret_labels(args),
                "annotations": args.bridge_annotations,
            },
            string_data={
                "name": args.cluster_name,
                "server": IN_CLUSTER_SERVER,
                "config": '{"tlsClientConfig":{}}',
            },
            opts=after_argocd,
        )
        k8s.apiextensions.CustomResource(
            f"{name}-root",
            api_version="argoproj.io/v1alpha1",
            kind="Application",
            metadata={
                "name": ROOT_APPLICATION,
                "namespace": names.NAMESPACE_ARGOCD,
                "finalizers": ["resources-finalizer.argocd.argoproj.io"],
            },
            spec={
                "project": "default",
                "source": {
                    "repoURL": args.settings.repo_url,
                    "targetRevision": args.settings.target_revision,
                    "path": names.GITOPS_ROOT_PATH,
                    "directory": {"recurse": True},
                },
                "destination": {"server": IN_CLUSTER_SERVER, "namespace": names.NAMESPACE_ARGOCD},
                "syncPolicy": {"automated": {"prune": True, "selfHeal": True}},
            },
            opts=pulumi.ResourceOptions(parent=self, provider=self.provider, depends_on=[argocd, secret]),
        )
        self.register_outputs({})
