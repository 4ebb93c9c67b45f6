"""Every taggable AWS resource carries the ownership and cost tags (tagging.REQUIRED_TAG_KEYS)."""

from __future__ import annotations

from florai_infra.policies.model import Enforcement, Props, ReportResource, ResourcePolicy
from florai_infra.policies.props import tags_of
from florai_infra.policies.taggable import is_taggable
from florai_infra.tagging import REQUIRED_TAG_KEYS


def _required_tags(props: Props, report: ReportResource) -> None:
    tags = tags_of(props)
    missing = [k for k in REQUIRED_TAG_KEYS if not tags.get(k)]
    if missing:
        report(f"missing required tags: {', '.join(missing)}")


TAG_POLICIES = (
    ResourcePolicy(
        name="required-tags",
        description=f"Taggable AWS resources carry the tags {', '.join(REQUIRED_TAG_KEYS)}.",
        enforcement=Enforcement.MANDATORY,
        applies=is_taggable,
        validate=_required_tags,
    ),
)
