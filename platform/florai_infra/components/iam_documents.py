"""IAM policy documents as deterministic JSON (sorted keys), built from plain values or Outputs."""

from __future__ import annotations

import json
from typing import Any

import pulumi

IAM_VERSION = "2012-10-17"


def document(statements: list[dict[str, Any]]) -> pulumi.Output[str]:
    """A policy document whose statements may hold Outputs (ARNs not known yet)."""
    return pulumi.Output.from_input({"Version": IAM_VERSION, "Statement": statements}).apply(
        lambda doc: json.dumps(doc, sort_keys=True)
    )


def service_trust_policy(*services: str) -> str:
    """Trust policy letting AWS services assume a role."""
    principal = sorted(services)
    return json.dumps(
        {
            "Version": IAM_VERSION,
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": principal[0] if len(principal) == 1 else principal},
                    "Action": "sts:AssumeRole",
                }
            ],
        },
        sort_keys=True,
    )


def irsa_trust_policy(
    oidc_provider_arn: pulumi.Input[str], oidc_issuer_host: pulumi.Input[str], subject: str
) -> pulumi.Output[str]:
    """Trust policy for one Kubernetes service account through the cluster's OIDC provider."""
    return pulumi.Output.all(oidc_provider_arn, oidc_issuer_host).apply(
        lambda args: json.dumps(
            {
                "Version": IAM_VERSION,
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Federated": args[0]},
                        "Action": "sts:AssumeRoleWithWebIdentity",
                        "Condition": {
                            "StringEquals": {
                                f"{args[1]}:aud": "sts.amazonaws.com",
                                f"{args[1]}:sub": subject,
                            }
                        },
                    }
                ],
            },
            sort_keys=True,
        )
    )


def managed_policy_arn(partition: str, name: str) -> str:
    return f"arn:{partition}:iam::aws:policy/{name}"


def web_identity_trust_policy(
    provider_arn: pulumi.Input[str], issuer_host: str, audience: str, subjects: list[str]
) -> pulumi.Output[str]:
    """Trust policy for tokens of one OIDC issuer whose ``sub`` is exactly one of ``subjects``."""
    return pulumi.Output.from_input(provider_arn).apply(
        lambda arn: json.dumps(
            {
                "Version": IAM_VERSION,
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Federated": arn},
                        "Action": "sts:AssumeRoleWithWebIdentity",
                        "Condition": {
                            "StringEquals": {
                                f"{issuer_host}:aud": audience,
                                f"{issuer_host}:sub": subjects[0] if len(subjects) == 1 else sorted(subjects),
                            }
                        },
                    }
                ],
            },
            sort_keys=True,
        )
    )


def deny_insecure_transport(bucket_arn: pulumi.Input[str]) -> dict[str, Any]:
    """Bucket-policy statement refusing every request to the bucket that is not over TLS."""
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, pulumi.Output.concat(bucket_arn, "/*")],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
