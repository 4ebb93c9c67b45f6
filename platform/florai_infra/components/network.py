"""VPC over N AZs: public/private subnets tagged for ELB discovery, NAT, flow logs, VPC endpoints."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from florai_infra.components.iam_documents import document, service_trust_policy
from florai_infra.config import NetworkSettings

# Interface endpoints so nodes pull images, get tokens and ship logs without the NAT.
INTERFACE_ENDPOINT_SERVICES = ("ecr.api", "ecr.dkr", "sts", "logs")
HTTPS_PORT = 443


@dataclass(frozen=True)
class NetworkArgs:
    settings: NetworkSettings
    name_prefix: str
    cluster_name: str
    region: str
    availability_zones: tuple[str, ...]
    log_key_arn: pulumi.Input[str]
    log_retention_days: int
    tags: dict[str, str]


class Network(pulumi.ComponentResource):
    vpc_id: pulumi.Output[str]
    vpc_cidr: str
    private_subnet_ids: list[pulumi.Output[str]]
    public_subnet_ids: list[pulumi.Output[str]]
    nat_gateway_count: int

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("florai:network:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        s = args.settings
        tags = args.tags
        cluster_tag = {f"kubernetes.io/cluster/{args.cluster_name}": "shared"}

        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=s.vpc_cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags={**tags, "Name": args.name_prefix},
            opts=child,
        )
        # The VPC's default group, taken over with no rules: nothing can use it by accident.
        aws.ec2.DefaultSecurityGroup(
            f"{name}-default",
            vpc_id=vpc.id,
            ingress=[],
            egress=[],
            tags={**tags, "Name": f"{args.name_prefix}-default-unused"},
            opts=child,
        )
        igw = aws.ec2.InternetGateway(
            f"{name}-igw", vpc_id=vpc.id, tags={**tags, "Name": args.name_prefix}, opts=child
        )
        public_rt = aws.ec2.RouteTable(
            f"{name}-public",
            vpc_id=vpc.id,
            routes=[{"cidr_block": "0.0.0.0/0", "gateway_id": igw.id}],
            tags={**tags, "Name": f"{args.name_prefix}-public"},
            opts=child,
        )

        public_subnets: list[aws.ec2.Subnet] = []
        private_subnets: list[aws.ec2.Subnet] = []
        for i, az in enumerate(args.availability_zones):
            public = aws.ec2.Subnet(
                f"{name}-public-{az}",
                vpc_id=vpc.id,
                cidr_block=s.public_subnet_cidrs[i],
                availability_zone=az,
                map_public_ip_on_launch=False,
                tags={
                    **tags,
                    **cluster_tag,
                    "Name": f"{args.name_prefix}-public-{az}",
                    "kubernetes.io/role/elb": "1",
                },
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-public-{az}", subnet_id=public.id, route_table_id=public_rt.id, opts=child
            )
            public_subnets.append(public)
            private_subnets.append(
                aws.ec2.Subnet(
                    f"{name}-private-{az}",
                    vpc_id=vpc.id,
                    cidr_block=s.private_subnet_cidrs[i],
                    availability_zone=az,
                    tags={
                        **tags,
                        **cluster_tag,
                        "Name": f"{args.name_prefix}-private-{az}",
                        "kubernetes.io/role/internal-elb": "1",
                    },
                    opts=child,
                )
            )

        # One NAT per AZ keeps egress alive when an AZ fails; dev saves the cost with one.
        nat_azs = args.availability_zones if s.nat_per_az else args.availability_zones[:1]
        nat_ids = []
        for i, az in enumerate(nat_azs):
            eip = aws.ec2.Eip(
                f"{name}-nat-{az}",
                domain="vpc",
                tags={**tags, "Name": f"{args.name_prefix}-nat-{az}"},
                opts=child,
            )
            nat = aws.ec2.NatGateway(
                f"{name}-nat-{az}",
                allocation_id=eip.id,
                subnet_id=public_subnets[i].id,
                tags={**tags, "Name": f"{args.name_prefix}-nat-{az}"},
                opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]),
            )
            nat_ids.append(nat.id)

        private_rts = []
        for i, az in enumerate(args.availability_zones):
            rt = aws.ec2.RouteTable(
                f"{name}-private-{az}",
                vpc_id=vpc.id,
                routes=[{"cidr_block": "0.0.0.0/0", "nat_gateway_id": nat_ids[i % len(nat_ids)]}],
                tags={**tags, "Name": f"{args.name_prefix}-private-{az}"},
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-{az}", subnet_id=private_subnets[i].id, route_table_id=rt.id, opts=child
            )
            private_rts.append(rt)

        self._flow_logs(name, args, vpc)
        self._endpoints(name, args, vpc, private_subnets, private_rts)

        self.vpc_id = vpc.id
        self.vpc_cidr = s.vpc_cidr
        self.private_subnet_ids = [sn.id for sn in private_subnets]
        self.public_subnet_ids = [sn.id for sn in public_subnets]
        self.nat_gateway_count = len(nat_ids)
        self.register_outputs(
            {
                "vpc_id": self.vpc_id,
                "private_subnet_ids": self.private_subnet_ids,
                "public_subnet_ids": self.public_subnet_ids,
            }
        )

    def _flow_logs(self, name: str, args: NetworkArgs, vpc: aws.ec2.Vpc) -> None:
        child = pulumi.ResourceOptions(parent=self)
        group = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs",
            name=f"/aws/vpc/{args.name_prefix}/flow-logs",
            retention_in_days=args.log_retention_days,
            kms_key_id=args.log_key_arn,
            tags=args.tags,
            opts=child,
        )
        role = aws.iam.Role(
            f"{name}-flow-logs",
            name=f"{args.name_prefix}-vpc-flow-logs",
            assume_role_policy=service_trust_policy("vpc-flow-logs.amazonaws.com"),
            tags=args.tags,
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-flow-logs",
            role=role.id,
            policy=document(
                [
                    {
                        "Effect": "Allow",
                        "Action": ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
                        "Resource": [group.arn, group.arn.apply(lambda a: f"{a}:*")],
                    }
                ]
            ),
            opts=child,
        )
        aws.ec2.FlowLog(
            f"{name}-flow-logs",
            vpc_id=vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=60,
            tags=args.tags,
            opts=child,
        )

    def _endpoints(self, name, args: NetworkArgs, vpc, private_subnets, private_rts) -> None:
        child = pulumi.ResourceOptions(parent=self)
        aws.ec2.VpcEndpoint(
            f"{name}-s3",
            vpc_id=vpc.id,
            service_name=f"com.amazonaws.{args.region}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=[rt.id for rt in private_rts],
            tags={**args.tags, "Name": f"{args.name_prefix}-s3"},
            opts=child,
        )
        endpoint_sg = aws.ec2.SecurityGroup(
            f"{name}-endpoints",
            name=f"{args.name_prefix}-vpc-endpoints",
            description="HTTPS from inside the VPC to the interface endpoints",
            vpc_id=vpc.id,
            ingress=[
                {
                    "protocol": "tcp",
                    "from_port": HTTPS_PORT,
                    "to_port": HTTPS_PORT,
                    "cidr_blocks": [args.settings.vpc_cidr],
                    "description": "HTTPS from the VPC",
                }
            ],
            tags=args.tags,
            opts=child,
        )
        for service in INTERFACE_ENDPOINT_SERVICES:
            aws.ec2.VpcEndpoint(
                f"{name}-{service.replace('.', '-')}",
                vpc_id=vpc.id,
                service_name=f"com.amazonaws.{args.region}.{service}",
                vpc_endpoint_type="Interface",
                private_dns_enabled=True,
                subnet_ids=[sn.id for sn in private_subnets],
                security_group_ids=[endpoint_sg.id],
                tags={**args.tags, "Name": f"{args.name_prefix}-{service}"},
                opts=child,
            )
