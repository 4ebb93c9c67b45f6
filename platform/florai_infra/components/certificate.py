"""The API's TLS certificate: ACM, validated through a record in the stack's Route 53 hosted zone.

The zone exists before the stack (config florai:dns); the ALB's own records are ExternalDNS's
(its IRSA role may change only this zone). The Ingress finds the certificate by host name.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from florai_infra.config import DnsSettings


@dataclass(frozen=True)
class CertificateArgs:
    dns: DnsSettings
    tags: dict[str, str]


def _validation(options, field: str) -> str | None:
    """The one DNS-validation value ACM asks for (None while the certificate is not created yet)."""
    return getattr(options[0], field) if options else None


class Certificate(pulumi.ComponentResource):
    arn: pulumi.Output[str]

    def __init__(self, name: str, args: CertificateArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("florai:edge:Certificate", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        certificate = aws.acm.Certificate(
            name,
            domain_name=args.dns.api_hostname,
            validation_method="DNS",
            key_algorithm="EC_prime256v1",
            tags={**args.tags, "Name": args.dns.api_hostname},
            # A new certificate exists before the old one goes, so the listener never lacks one.
            opts=pulumi.ResourceOptions(parent=self, delete_before_replace=False),
        )
        options = certificate.domain_validation_options
        record = aws.route53.Record(
            f"{name}-validation",
            zone_id=args.dns.hosted_zone_id,
            name=options.apply(lambda o: _validation(o, "resource_record_name")),
            type=options.apply(lambda o: _validation(o, "resource_record_type")),
            records=[options.apply(lambda o: _validation(o, "resource_record_value"))],
            ttl=300,
            allow_overwrite=True,  # ACM reuses the record for a re-issued certificate
            opts=child,
        )
        validation = aws.acm.CertificateValidation(
            name, certificate_arn=certificate.arn, validation_record_fqdns=[record.fqdn], opts=child
        )
        self.arn = validation.certificate_arn
        self.register_outputs({"arn": self.arn})
