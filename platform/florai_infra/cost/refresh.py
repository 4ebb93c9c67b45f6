"""`make prices`: rewrite platform/upstream/prices/aws-prices.json from the AWS Price List Query API.

Every price the table holds is asked for again (same regions, same instance types and classes:
to price a new type, add its key with any number, then run this). Needs network and AWS
credentials (any identity allowed ``pricing:GetProducts``); without them it fails in one line and
leaves the vendored table as it is.
"""

from __future__ import annotations

import argparse
import datetime
import json
import socket
import sys
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

from florai_infra.cost.prices import PRICES_FILE

API_ENDPOINT = "https://api.pricing.us-east-1.amazonaws.com"
LINUX = {"operatingSystem": "Linux", "tenancy": "Shared", "preInstalledSw": "NA", "capacitystatus": "Used"}


class RefreshError(Exception):
    """Why the table could not be refreshed: one line."""


# path in a region's table -> (service code, filters); a "{key}" filter value takes the leaf's key.
QUERIES: dict[tuple[str, ...], tuple[str, dict[str, str]]] = {
    ("eks", "clusterHour"): ("AmazonEKS", {"usagetype": "{region_prefix}AmazonEKS-Hours:perCluster"}),
    ("eks", "extendedSupportClusterHour"): (
        "AmazonEKS",
        {"usagetype": "{region_prefix}AmazonEKS-Hours:extendedSupport"},
    ),
    ("ec2", "instanceHour", "*"): ("AmazonEC2", {"instanceType": "{key}", **LINUX}),
    ("ec2", "publicIpv4Hour"): ("AmazonVPC", {"usagetype": "{region_prefix}PublicIPv4:InUseAddress"}),
    ("ebs", "gp3GbMonth"): ("AmazonEC2", {"volumeApiName": "gp3", "productFamily": "Storage"}),
    ("nat", "gatewayHour"): ("AmazonEC2", {"usagetype": "{region_prefix}NatGateway-Hours"}),
    ("nat", "processedGb"): ("AmazonEC2", {"usagetype": "{region_prefix}NatGateway-Bytes"}),
    ("vpcEndpoint", "interfaceAzHour"): ("AmazonVPC", {"usagetype": "{region_prefix}VpcEndpoint-Hours"}),
    ("vpcEndpoint", "processedGb"): ("AmazonVPC", {"usagetype": "{region_prefix}VpcEndpoint-Bytes"}),
    ("rds", "postgresInstanceHour", "*"): (
        "AmazonRDS",
        {"instanceType": "{key}", "databaseEngine": "PostgreSQL", "deploymentOption": "Single-AZ"},
    ),
    ("rds", "gp3GbMonth"): (
        "AmazonRDS",
        {
            "volumeType": "General Purpose-GP3",
            "databaseEngine": "PostgreSQL",
            "deploymentOption": "Single-AZ",
        },
    ),
    ("rds", "gp3GbMonthMultiAz"): (
        "AmazonRDS",
        {"volumeType": "General Purpose-GP3", "databaseEngine": "PostgreSQL", "deploymentOption": "Multi-AZ"},
    ),
    ("rds", "backupGbMonth"): ("AmazonRDS", {"usagetype": "{region_prefix}RDS:ChargedBackupUsage"}),
    ("elasticache", "redisNodeHour", "*"): (
        "AmazonElastiCache",
        {"instanceType": "{key}", "cacheEngine": "Redis"},
    ),
    ("waf", "webAclMonth"): ("awswaf", {"usagetype": "{region_prefix}WebACL"}),
    ("waf", "ruleMonth"): ("awswaf", {"usagetype": "{region_prefix}Rule"}),
    ("waf", "millionRequests"): ("awswaf", {"usagetype": "{region_prefix}Request"}),
    ("kms", "keyMonth"): ("awskms", {"usagetype": "{region_prefix}KMS-Keys"}),
    ("kms", "tenThousandRequests"): ("awskms", {"usagetype": "{region_prefix}KMS-Requests"}),
    ("logs", "ingestedGb"): ("AmazonCloudWatch", {"usagetype": "{region_prefix}DataProcessing-Bytes"}),
    ("logs", "storedGbMonth"): ("AmazonCloudWatch", {"usagetype": "{region_prefix}TimedStorage-ByteHrs"}),
    ("s3", "standardGbMonth"): ("AmazonS3", {"usagetype": "{region_prefix}TimedStorage-ByteHrs"}),
    ("secretsManager", "secretMonth"): (
        "AWSSecretsManager",
        {"usagetype": "{region_prefix}AWSSecretsManager-Secrets"},
    ),
    ("ecr", "storedGbMonth"): ("AmazonECR", {"usagetype": "{region_prefix}TimedStorage-ByteHrs"}),
    ("dataTransfer", "interRegionGb"): ("AWSDataTransfer", {"transferType": "InterRegion Outbound"}),
    ("route53", "hostedZoneMonth"): ("AmazonRoute53", {"usagetype": "HostedZone"}),
    ("cloudwatch", "alarmMonth"): ("AmazonCloudWatch", {"usagetype": "{region_prefix}CW:AlarmMonitorUsage"}),
    ("codebuild", "linuxMinute", "*"): ("CodeBuild", {"usagetype": "{region_prefix}Build-Min:Linux:{key}"}),
}
# Billing usage types carry a region prefix, except us-east-1's.
REGION_PREFIX = {"us-east-1": "", "us-west-2": "USW2-"}


def first_on_demand_usd(product_json: str) -> float:
    """The first tier's USD price of one GetProducts PriceList entry."""
    product = json.loads(product_json)
    for term in product["terms"]["OnDemand"].values():
        tiers = sorted(term["priceDimensions"].values(), key=lambda d: float(d.get("beginRange") or 0))
        for tier in tiers:
            usd = float(tier["pricePerUnit"]["USD"])
            if usd > 0:
                return usd
    raise RefreshError(f"no on-demand USD price in {product['product'].get('sku')}")


def reachable(endpoint: str, timeout: float = 5.0) -> None:
    url = urlparse(endpoint)
    try:
        socket.create_connection((url.hostname, url.port or 443), timeout=timeout).close()
    except OSError as exc:
        raise RefreshError(
            f"cannot reach the AWS Price List API at {endpoint} ({exc.strerror or exc}); "
            f"{PRICES_FILE.name} is unchanged"
        ) from exc


def _filters(template: dict[str, str], region: str, key: str) -> list[dict[str, str]]:
    values = {"key": key, "region_prefix": REGION_PREFIX.get(region, "")}
    found = [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": region}]
    found += [{"Type": "TERM_MATCH", "Field": f, "Value": v.format(**values)} for f, v in template.items()]
    return found


def refreshed(
    table: dict[str, Any], fetch: Callable[[str, list[dict[str, str]]], list[str]]
) -> dict[str, Any]:
    """A copy of ``table`` with every price asked again through ``fetch(service, filters)``."""
    out = json.loads(json.dumps(table))
    for region, prices in out["regions"].items():
        for path, (service, template) in QUERIES.items():
            *parents, leaf = path
            node = prices
            for part in parents:
                node = node.setdefault(part, {})
            keys = list(node) if leaf == "*" else [leaf]
            for key in keys:
                answers = fetch(service, _filters(template, region, key))
                if not answers:
                    raise RefreshError(
                        f"the Price List API has no {service} price for {'/'.join(path)} {key}"
                    )
                node[key] = first_on_demand_usd(answers[0])
    out["retrieved"] = datetime.date.today().isoformat()
    return out


def boto3_fetch(endpoint: str) -> Callable[[str, list[dict[str, str]]], list[str]]:
    import boto3
    import botocore.exceptions

    client = boto3.client("pricing", region_name="us-east-1", endpoint_url=endpoint)

    def fetch(service: str, filters: list[dict[str, str]]) -> list[str]:
        try:
            return client.get_products(ServiceCode=service, Filters=filters, MaxResults=10)["PriceList"]
        except botocore.exceptions.NoCredentialsError as exc:
            raise RefreshError("the Price List API needs AWS credentials (pricing:GetProducts)") from exc
        except botocore.exceptions.BotoCoreError as exc:
            raise RefreshError(f"the Price List API failed: {exc}") from exc

    return fetch


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m florai_infra.cost.refresh", description=__doc__)
    parser.add_argument("--endpoint", default=API_ENDPOINT, help="Price List Query API endpoint")
    args = parser.parse_args(argv)
    try:
        reachable(args.endpoint)
        table = refreshed(json.loads(PRICES_FILE.read_text()), boto3_fetch(args.endpoint))
    except RefreshError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    PRICES_FILE.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")
    print(f"wrote {PRICES_FILE} (retrieved {table['retrieved']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
