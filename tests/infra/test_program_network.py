"""Network: subnets over the configured AZs with ELB tags, NAT per stack, flow logs, endpoints."""

from __future__ import annotations

NAT = "aws:ec2/natGateway:NatGateway"
SUBNET = "aws:ec2/subnet:Subnet"
ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint"


def test_subnets_span_the_azs_with_elb_discovery_tags(plan):
    subnets = plan.by_type(SUBNET)
    public = [s for s in subnets if s.inputs["tags"].get("kubernetes.io/role/elb") == "1"]
    private = [s for s in subnets if s.inputs["tags"].get("kubernetes.io/role/internal-elb") == "1"]
    assert len(public) == len(private) == 3
    assert len({s.inputs["availabilityZone"] for s in private}) == 3
    for subnet in subnets:
        assert subnet.inputs["tags"][f"kubernetes.io/cluster/florai-{plan.stack}"] in ("shared", "owned")
    assert not any(s.inputs.get("mapPublicIpOnLaunch") for s in public)


def test_prod_and_staging_run_one_nat_per_az(prod_plan, staging_plan):
    for plan in (prod_plan, staging_plan):
        nats = plan.by_type(NAT)
        assert len(nats) == 3
        assert len({n.inputs["subnetId"] for n in nats}) == 3


def test_dev_runs_a_single_nat(dev_plan):
    assert len(dev_plan.by_type(NAT)) == 1
    routes = [
        r.inputs["routes"][0]
        for r in dev_plan.by_type("aws:ec2/routeTable:RouteTable")
        if r.inputs["routes"][0].get("natGatewayId")
    ]
    assert len(routes) == 3 and len({r["natGatewayId"] for r in routes}) == 1


def test_flow_logs_go_to_an_encrypted_log_group_with_retention(plan):
    flow_log = plan.one("aws:ec2/flowLog:FlowLog")
    assert flow_log.inputs["trafficType"] == "ALL"
    group = next(
        g for g in plan.by_type("aws:cloudwatch/logGroup:LogGroup") if "flow-logs" in g.inputs["name"]
    )
    assert group.inputs["kmsKeyId"].startswith("arn:aws:kms:")
    assert group.inputs["retentionInDays"] > 0
    assert flow_log.inputs["logDestination"].endswith(group.inputs["name"])


def test_vpc_endpoints_keep_image_pulls_and_tokens_private(plan):
    endpoints = {e.inputs["serviceName"].split(".", 3)[3]: e.inputs for e in plan.by_type(ENDPOINT)}
    assert endpoints["s3"]["vpcEndpointType"] == "Gateway"
    for service in ("ecr.api", "ecr.dkr", "sts", "logs"):
        assert endpoints[service]["vpcEndpointType"] == "Interface"
        assert endpoints[service]["privateDnsEnabled"] is True
        assert endpoints[service]["securityGroupIds"]


def test_default_security_group_is_managed_with_no_rules(plan):
    (default,) = plan.by_type("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert plan.one("aws:ec2/vpc:Vpc").urn in default.dependencies
    assert default.inputs.get("ingress", []) == [] and default.inputs.get("egress", []) == []
