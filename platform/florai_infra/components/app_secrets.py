"""The app's signing keys in Secrets Manager: the API-key pepper and the JWT signing key."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from florai_infra.components.generated_secret import generated_password

# JSON properties of the secret; the ExternalSecret florai-app-keys maps them to the app's env vars.
API_KEY_PEPPER_PROPERTY = "api_key_pepper"
JWT_KEY_PROPERTY = "jwt_key"
API_KEY_PEPPER_LENGTH = 48
# HS256 wants a key of at least 32 bytes; 96 characters also cover HS512's 64.
JWT_KEY_LENGTH = 96


@dataclass(frozen=True)
class AppSecretsArgs:
    secret_name: str
    receivers_secret_name: str
    ui_credentials_secret_name: str
    environment: str
    secret_key_arn: pulumi.Input[str]
    tags: dict[str, str]


class AppSecrets(pulumi.ComponentResource):
    signing_keys_arn: pulumi.Output[str]

    def __init__(self, name: str, args: AppSecretsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("florai:secrets:AppSecrets", name, None, opts)
        secret = self._secret(
            f"{name}-signing-keys", args.secret_name, "FlorAI API-key pepper and JWT signing key", args
        )
        value = pulumi.Output.all(
            generated_password(API_KEY_PEPPER_LENGTH), generated_password(JWT_KEY_LENGTH)
        ).apply(
            lambda keys: json.dumps(
                {API_KEY_PEPPER_PROPERTY: keys[0], JWT_KEY_PROPERTY: keys[1]}, sort_keys=True
            )
        )
        aws.secretsmanager.SecretVersion(
            f"{name}-signing-keys",
            secret_id=secret.id,
            secret_string=pulumi.Output.secret(value),
            # Written once: the invoke answers anew on every run, and rotating the pepper voids every API key.
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["secretString"]),
        )
        self.signing_keys_arn = secret.arn
        # The pager and chat credentials: created empty, filled once by a person (no value in git or
        # in the state); the alertmanager-receivers ExternalSecret reads it.
        receivers = self._secret(
            f"{name}-alerting-receivers",
            args.receivers_secret_name,
            "Alertmanager receivers: PagerDuty routing key and Slack webhook URL (set by hand)",
            args,
        )
        self.receivers_arn = receivers.arn
        # The web UI's credentials toward the API (a service key, or its OIDC client): created empty,
        # filled once by a person; the florai-ui-credentials ExternalSecret reads it.
        ui_credentials = self._secret(
            f"{name}-ui-credentials",
            args.ui_credentials_secret_name,
            "FlorAI web UI: FLORAI_UI_API_KEY or FLORAI_UI_OIDC_* settings as JSON (set by hand)",
            args,
        )
        self.ui_credentials_arn = ui_credentials.arn
        self.register_outputs(
            {
                "signing_keys_arn": self.signing_keys_arn,
                "receivers_arn": self.receivers_arn,
                "ui_credentials_arn": self.ui_credentials_arn,
            }
        )

    def _secret(self, resource: str, name: str, description: str, args: AppSecretsArgs):
        """A secret of the stack, encrypted with its secrets key; dev's go at once when deleted."""
        return aws.secretsmanager.Secret(
            resource,
            name=name,
            description=description,
            kms_key_id=args.secret_key_arn,
            recovery_window_in_days=0 if args.environment == "dev" else 7,
            tags=args.tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
