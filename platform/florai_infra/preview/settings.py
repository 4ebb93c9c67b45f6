"""The few inputs worth seeing per resource type in the preview tree (paths into the inputs)."""

from __future__ import annotations

from florai_infra.offline.plan import PlannedResource
from florai_infra.preview.values import pluck, show

SSE_ALGORITHM = "rules[*].applyServerSideEncryptionByDefault.sseAlgorithm"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
SSE_V2 = "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2"

KEY_SETTINGS: dict[str, tuple[str, ...]] = {
    "aws:ec2/vpc:Vpc": ("cidrBlock",),
    "aws:ec2/subnet:Subnet": ("cidrBlock", "availabilityZone", "mapPublicIpOnLaunch"),
    "aws:ec2/natGateway:NatGateway": ("connectivityType",),
    "aws:ec2/launchTemplate:LaunchTemplate": (
        "instanceType",
        "metadataOptions.httpTokens",
        "blockDeviceMappings[*].ebs.volumeSize",
    ),
    "aws:ec2/securityGroupRule:SecurityGroupRule": ("type", "protocol", "fromPort", "toPort", "cidrBlocks"),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": ("ipProtocol", "fromPort", "toPort"),
    "aws:eks/cluster:Cluster": (
        "version",
        "upgradePolicy.supportType",
        "vpcConfig.endpointPublicAccess",
        "vpcConfig.publicAccessCidrs",
        "enabledClusterLogTypes",
    ),
    # The VPC CNI's enableNetworkPolicy lives in configurationValues; each add-on runs on its IRSA role.
    "aws:eks/addon:Addon": ("addonName", "addonVersion", "configurationValues", "serviceAccountRoleArn"),
    "aws:eks/accessEntry:AccessEntry": ("principalArn", "type"),
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation": ("policyArn", "accessScope.type"),
    "aws:acm/certificate:Certificate": ("domainName", "validationMethod"),
    "aws:route53/record:Record": ("type", "zoneId"),
    "aws:eks/nodeGroup:NodeGroup": (
        "instanceTypes",
        "amiType",
        "releaseVersion",
        "capacityType",
        "scalingConfig",
        "taints",
        "labels",
    ),
    "aws:rds/instance:Instance": (
        "engine",
        "engineVersion",
        "instanceClass",
        "allocatedStorage",
        "maxAllocatedStorage",
        "multiAz",
        "backupRetentionPeriod",
        "deletionProtection",
    ),
    "aws:rds/parameterGroup:ParameterGroup": ("family",),
    "aws:elasticache/replicationGroup:ReplicationGroup": (
        "engine",
        "engineVersion",
        "nodeType",
        "numCacheClusters",
        "automaticFailoverEnabled",
        "multiAzEnabled",
    ),
    "aws:wafv2/webAcl:WebAcl": ("scope", "rules[*].name", "rules[*].statement.rateBasedStatement.limit"),
    "aws:ecr/repository:Repository": ("name", "imageTagMutability", "imageScanningConfiguration.scanOnPush"),
    "aws:s3/bucket:Bucket": ("bucket",),
    "aws:s3/bucketV2:BucketV2": ("bucket",),
    SSE: (SSE_ALGORITHM,),
    SSE_V2: (SSE_ALGORITHM,),
    "aws:s3/bucketVersioning:BucketVersioning": ("versioningConfiguration.status",),
    "aws:s3/bucketVersioningV2:BucketVersioningV2": ("versioningConfiguration.status",),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": ("rules[*].id",),
    "aws:kms/key:Key": ("enableKeyRotation", "deletionWindowInDays"),
    "aws:iam/role:Role": ("name",),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": ("policyArn",),
    "aws:secretsmanager/secret:Secret": ("name", "recoveryWindowInDays"),
    "aws:cloudwatch/logGroup:LogGroup": ("name", "retentionInDays"),
    "kubernetes:helm.sh/v3:Release": ("chart", "version", "namespace", "repositoryOpts.repo"),
    "kubernetes:core/v1:Namespace": ("metadata.name",),
    "kubernetes:core/v1:Secret": ("metadata.name", "metadata.namespace", "metadata.labels"),
    "kubernetes:core/v1:LimitRange": ("spec.limits",),
    "kubernetes:core/v1:ResourceQuota": ("spec.hard",),
    "kubernetes:argoproj.io/v1alpha1:Application": ("spec.source.repoURL", "spec.source.path"),
}


def key_settings(resource: PlannedResource) -> str:
    """``path=value`` pairs for the settings the type declares, skipping those not set."""
    pairs = []
    for path in KEY_SETTINGS.get(resource.type, ()):
        value = pluck(resource.inputs, path)
        if "[*]" in path and isinstance(value, list):
            value = [v for v in value if v is not None]  # elements that lack the field say nothing
        if value is None or value == []:
            continue
        pairs.append(f"{path.replace('[*]', '')}={show(value)}")
    return "  ".join(pairs)
