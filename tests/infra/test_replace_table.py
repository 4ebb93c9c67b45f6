"""The vendored replace table: covers every declared AWS type and agrees with the pinned pulumi-aws SDK."""

from __future__ import annotations

import importlib.metadata
import io
import json
from pathlib import Path

import pytest
import yaml

from florai_infra import STACKS
from florai_infra.offline.engine import run_stack
from florai_infra.preview.cli import main
from florai_infra.preview.snapshots import read_snapshot, write_snapshot
from florai_infra.replacements.generate import attr_name, name_field, schema_paths
from florai_infra.replacements.rules import (
    RULES_FILE,
    UncoveredTypeError,
    is_covered_type,
    load_rules,
    rule_for,
)
from florai_infra.replacements.sdk_fields import sdk_fields, sdk_types
from florai_infra.replacements.types import WANTED_TYPES

SOURCE = yaml.safe_load((RULES_FILE.parent / "SOURCE.yaml").read_text())
# Types the issue names as the program's next ones: the table must have them before the program does.
PLAUSIBLE = [
    "aws:acm/certificate:Certificate",
    "aws:acm/certificateValidation:CertificateValidation",
    "aws:route53/record:Record",
    "aws:route53/zone:Zone",
    "aws:eks/accessEntry:AccessEntry",
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
    "aws:eks/podIdentityAssociation:PodIdentityAssociation",
    "aws:cloudwatch/logGroup:LogGroup",
    "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
    "aws:s3/bucketLoggingV2:BucketLoggingV2",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
    "aws:codebuild/project:Project",
    "aws:codebuild/sourceCredential:SourceCredential",
    "aws:iam/role:Role",
    "aws:iam/policy:Policy",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
]


@pytest.mark.parametrize("stack", STACKS)
def test_every_declared_aws_type_has_a_rule(stack):
    plan = read_snapshot(stack)
    for type_ in sorted({r.type for r in plan.resources if is_covered_type(r.type)}):
        assert rule_for(type_).type == type_


def test_the_plausible_next_types_are_covered():
    assert set(PLAUSIBLE) <= set(load_rules())
    assert set(load_rules()) == set(WANTED_TYPES)


def test_an_uncovered_type_fails_with_the_fix():
    with pytest.raises(UncoveredTypeError, match=r"aws:sns/topic:Topic has no replace rule .* regenerate"):
        rule_for("aws:sns/topic:Topic")


def test_table_matches_the_installed_pulumi_aws():
    """The table was derived for this pulumi-aws: same version, and every input it names is a real one."""
    assert SOURCE["pulumi_aws"] == importlib.metadata.version("pulumi_aws")
    assert set(load_rules()) <= sdk_types()
    for token, rule in load_rules().items():
        fields = sdk_fields(token)
        for path in [*rule.replace_on_changes, *([rule.name_field] if rule.name_field else [])]:
            assert path.split(".")[0] in fields, (token, path)


def test_source_says_where_the_table_comes_from():
    assert SOURCE["version"].startswith("v6.")
    assert SOURCE["url"].startswith("https://github.com/hashicorp/terraform-provider-aws/tree/")
    assert SOURCE["generator"] == "platform/florai_infra/replacements/generate.py"
    assert RULES_FILE.stat().st_size < 5_000_000
    assert json.loads(RULES_FILE.read_text())["aws:ec2/vpc:Vpc"]["terraform"] == "aws_vpc"


def test_well_known_provider_rules():
    assert rule_for("aws:ec2/vpc:Vpc").forces_replacement("cidrBlock")
    assert rule_for("aws:ec2/subnet:Subnet").forces_replacement("vpcId")
    rds = rule_for("aws:rds/instance:Instance")
    assert rds.forces_replacement("username") and rds.forces_replacement("kmsKeyId")
    assert not rds.forces_replacement("instanceClass") and not rds.forces_replacement("tags.owner")
    assert rule_for("aws:eks/nodeGroup:NodeGroup").forces_replacement("subnetIds[2]")
    assert not rule_for("aws:iam/role:Role").regional
    assert rds.name_field == "identifier"


GO_SCHEMA = """
func resourceThing() *schema.Resource {
	return &schema.Resource{
		SchemaFunc: func() map[string]*schema.Schema {
			return map[string]*schema.Schema{
				names.AttrVPCID: {
					Type:     schema.TypeString,
					Required: true,
					ForceNew: true,
				},
				names.AttrName: {Type: schema.TypeString, Optional: true},
				"name_prefix": {Type: schema.TypeString, Optional: true},
				"settings": {
					Type: schema.TypeList,
					Elem: &schema.Resource{
						Schema: map[string]*schema.Schema{
							"mode": {Type: schema.TypeString, Optional: true, ForceNew: true},
							"size": {Type: schema.TypeInt, Optional: true},
						},
					},
				},
			}
		},
	}
}
func (r *otherResource) Schema(ctx context.Context, req SchemaRequest, resp *SchemaResponse) {
	resp.Schema = schema.Schema{
		Attributes: map[string]schema.Attribute{
			"namespace": schema.StringAttribute{
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"policy": schema.StringAttribute{
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplaceIfConfigured()},
			},
		},
	}
}
"""


def test_generator_reads_force_new_and_requires_replace():
    force, maybe = schema_paths(GO_SCHEMA)
    assert force == {"vpc_id", "settings.mode", "namespace"}
    assert maybe == {"policy"}
    assert name_field(GO_SCHEMA) == "name"
    assert [attr_name(c) for c in ("VPCID", "SubnetIDs", "IPv6CIDRBlock", "KMSKeyID")] == [
        "vpc_id",
        "subnet_ids",
        "ipv6_cidr_block",
        "kms_key_id",
    ]


def test_preview_names_an_uncovered_type_in_one_line(tmp_path):
    """A changed resource of a type without a rule: the preview says which, in one line, exit 2."""
    program = Path(__file__).parent / "programs" / "uncovered_type.py"
    config = {"aws:region": "us-east-1"}
    write_snapshot(run_stack("dev", config=config, program=program), tmp_path)
    changed = tmp_path / "Pulumi.dev.yaml"
    changed.write_text(yaml.safe_dump({"config": {**config, "florai:topicName": "florai-pages"}}))
    argv = [
        "--stack",
        "dev",
        "--program",
        str(program),
        "--config",
        str(changed),
        "--plans-dir",
        str(tmp_path),
    ]
    out, err = io.StringIO(), io.StringIO()
    assert main([*argv, "--allow-replace", ""], out=out, err=err) == 2
    assert err.getvalue().startswith("error: aws:sns/topic:Topic has no replace rule in replace-rules.json")
    assert err.getvalue().count("\n") == 1
