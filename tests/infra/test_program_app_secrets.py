"""The app's signing-keys secret: created by the stack under the name the overlays' ExternalSecret
reads, KMS-encrypted with the secrets key, generated once, readable by the external-secrets role."""

from __future__ import annotations

import fnmatch
import json
from pathlib import Path

import pytest
from google.protobuf import json_format

from florai_infra import names
from florai_infra.components.app_secrets import (
    API_KEY_PEPPER_LENGTH,
    API_KEY_PEPPER_PROPERTY,
    JWT_KEY_LENGTH,
    JWT_KEY_PROPERTY,
)
from florai_infra.offline import engine

REPO = Path(__file__).resolve().parents[2]
SECRET = "aws:secretsmanager/secret:Secret"
VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
SECRET_SIG = "4dabf18193072939515e22adb298388d"  # Pulumi's marker of a secret value on the wire


def _signing_keys(plan):
    name = names.app_signing_keys_secret(plan.stack)
    return next(r for r in plan.by_type(SECRET) if r.inputs["name"] == name)


def _overlay_app_keys(stack: str) -> dict:
    """The ExternalSecret florai-app-keys as the stack's Argo CD Application renders it."""
    from florai_gitops import manifests

    return next(
        d
        for d in manifests.rendered(stack)
        if d["kind"] == "ExternalSecret" and d["metadata"]["name"] == "florai-app-keys"
    )


class _CapturingMonitor(engine.RecordingMonitor):
    """Also keeps what the plan leaves out: ignore_changes and the unmasked inputs."""

    def __init__(self, mocks):
        super().__init__(mocks)
        self.ignore_changes: dict[str, list[str]] = {}
        self.raw_inputs: dict[str, dict] = {}

    def RegisterResource(self, request):  # noqa: N802 (gRPC method name)
        response = super().RegisterResource(request)
        self.ignore_changes[response.urn] = list(request.ignoreChanges)
        self.raw_inputs[response.urn] = json_format.MessageToDict(request.object)
        return response


@pytest.fixture(scope="module")
def captured():
    """One extra offline run of prod whose monitor keeps options and secret values."""
    monitors: list[_CapturingMonitor] = []

    def monitor(mocks):
        monitors.append(_CapturingMonitor(mocks))
        return monitors[-1]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(engine, "RecordingMonitor", monitor)
        plan = engine.run_stack("prod")
    return plan, monitors[-1]


def test_secret_is_the_one_the_app_overlay_reads(plan):
    secret = _signing_keys(plan)
    external = _overlay_app_keys(plan.stack)
    refs = {d["remoteRef"]["key"] for d in external["spec"]["data"]}
    properties = {d["remoteRef"]["property"] for d in external["spec"]["data"]}
    assert refs == {secret.inputs["name"]} == {f"florai/{plan.stack}/app/signing-keys"}
    assert properties == {API_KEY_PEPPER_PROPERTY, JWT_KEY_PROPERTY}


def test_secret_is_encrypted_with_the_secrets_key_and_exported(plan):
    secret = _signing_keys(plan)
    secrets_key = next(k for k in plan.by_type("aws:kms/key:Key") if k.inputs["tags"]["purpose"] == "secrets")
    assert secrets_key.urn in secret.dependencies
    assert secret.inputs["kmsKeyId"].startswith(f"arn:aws:kms:{plan.outputs['awsRegion']}:")
    arn = plan.outputs["appSigningKeysSecretArn"]
    assert arn.startswith(f"arn:aws:secretsmanager:{plan.outputs['awsRegion']}:")
    assert arn.split(":secret:", 1)[1].rsplit("-", 1)[0] == secret.inputs["name"]
    assert secret.inputs["recoveryWindowInDays"] == (0 if plan.stack == "dev" else 7)


def test_version_holds_a_masked_value_of_this_secret(plan):
    secret = _signing_keys(plan)
    (version,) = [v for v in plan.by_type(VERSION) if secret.urn in v.dependencies]
    assert version.inputs["secretString"] == "[secret]"


def test_external_secrets_role_can_read_and_decrypt_it(plan):
    arn = plan.outputs["appSigningKeysSecretArn"]
    role = next(
        r
        for r in plan.by_type("aws:iam/role:Role")
        if r.inputs["name"] == f"florai-{plan.stack}-external-secrets"
    )
    policy = next(p for p in plan.by_type("aws:iam/rolePolicy:RolePolicy") if role.urn in p.dependencies)
    statements = {s["Sid"]: s for s in json.loads(policy.inputs["policy"])["Statement"]}
    read = statements["ReadFloraiSecrets"]
    assert "secretsmanager:GetSecretValue" in read["Action"]
    assert any(fnmatch.fnmatchcase(arn, pattern) for pattern in read["Resource"])
    # The grant is the stack's prefix, not every secret: another stack's key does not match.
    other = arn.replace(f":secret:florai/{plan.stack}/", ":secret:florai/other/")
    assert not any(fnmatch.fnmatchcase(other, pattern) for pattern in read["Resource"])
    secrets_key = _signing_keys(plan).inputs["kmsKeyId"]
    assert statements["DecryptFloraiSecrets"]["Resource"] == secrets_key


def test_generated_keys_are_written_once_and_never_overwritten(captured):
    plan, monitor = captured
    secret = _signing_keys(plan)
    (version,) = [v for v in plan.by_type(VERSION) if secret.urn in v.dependencies]
    assert monitor.ignore_changes[version.urn] == ["secretString"]
    wire = monitor.raw_inputs[version.urn]["secretString"]
    assert wire[SECRET_SIG]  # marked secret, so state and previews mask it
    keys = json.loads(wire["value"])
    assert set(keys) == {API_KEY_PEPPER_PROPERTY, JWT_KEY_PROPERTY}
    assert len(keys[API_KEY_PEPPER_PROPERTY]) == API_KEY_PEPPER_LENGTH
    assert len(keys[JWT_KEY_PROPERTY]) == JWT_KEY_LENGTH >= 32
    assert keys[API_KEY_PEPPER_PROPERTY] not in keys[JWT_KEY_PROPERTY]


def test_redis_token_and_app_keys_are_distinct_generated_values(captured):
    plan, monitor = captured
    secret = _signing_keys(plan)
    (app_version,) = [v for v in plan.by_type(VERSION) if secret.urn in v.dependencies]
    redis_version = next(v for v in plan.by_type(VERSION) if "redis/auth-token" in v.inputs["secretId"])
    token = monitor.raw_inputs[redis_version.urn]["secretString"]["value"]
    keys = json.loads(monitor.raw_inputs[app_version.urn]["secretString"]["value"])
    assert token not in keys.values()
    assert monitor.ignore_changes[redis_version.urn] == ["secretString"]


def _filled_by_a_person(plan, name: str) -> str:
    """Checks a secret the program creates empty (a person puts its value once) that the External
    Secrets role can read; returns its name as the ApplicationSets template it."""
    (secret,) = [r for r in plan.by_type(SECRET) if r.inputs["name"] == name]
    assert not [v for v in plan.by_type(VERSION) if secret.urn in v.dependencies]
    assert secret.inputs["kmsKeyId"] == _signing_keys(plan).inputs["kmsKeyId"]
    role = next(
        r
        for r in plan.by_type("aws:iam/role:Role")
        if r.inputs["name"] == f"florai-{plan.stack}-external-secrets"
    )
    policy = next(p for p in plan.by_type("aws:iam/rolePolicy:RolePolicy") if role.urn in p.dependencies)
    read = {s["Sid"]: s for s in json.loads(policy.inputs["policy"])["Statement"]}["ReadFloraiSecrets"]
    region, account = plan.outputs["awsRegion"], plan.outputs["awsAccountId"]
    arn = f"arn:aws:secretsmanager:{region}:{account}:secret:{name}-AbCdEf"
    assert any(fnmatch.fnmatchcase(arn, pattern) for pattern in read["Resource"])
    return name.replace(f"/{plan.stack}/", "/{{metadata.labels.environment}}/")


def test_the_alerting_receivers_secret_exists_empty_where_the_alertmanager_secret_reads_it(plan):
    # The pager key and the chat webhook are put by a person, once.
    template = _filled_by_a_person(plan, names.alerting_receivers_secret(plan.stack))
    # The observability ApplicationSet's ExternalSecret reads exactly this name (its template form).
    appset = (REPO / "argocd" / "observability" / "observability.yaml").read_text()
    assert f'value: "{template}"' in appset


def test_the_ui_credentials_secret_exists_empty_where_the_ui_external_secret_reads_it(plan):
    # The UI's service key (or its OIDC client) is put by a person, once.
    template = _filled_by_a_person(plan, names.ui_credentials_secret(plan.stack))
    appset = (REPO / "argocd" / "apps" / "florai-ui.yaml").read_text()
    assert appset.count(f'value: "{template}"') == 2  # dev/staging and prod ApplicationSets
