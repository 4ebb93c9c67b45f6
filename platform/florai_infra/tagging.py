"""Cost and ownership tags every AWS resource carries (checked by the required-tags policy)."""

from __future__ import annotations

TAG_ENVIRONMENT = "environment"
TAG_OWNER = "owner"
TAG_COST_CENTRE = "cost-centre"
TAG_PROJECT = "project"
TAG_MANAGED_BY = "managed-by"

REQUIRED_TAG_KEYS: tuple[str, ...] = (TAG_ENVIRONMENT, TAG_OWNER, TAG_COST_CENTRE)


def base_tags(environment: str, owner: str, cost_centre: str, project: str = "florai") -> dict[str, str]:
    """The tags set explicitly on every taggable resource.

    Explicit (not only provider ``default_tags``) so that policies, which see resource
    inputs, can check them in the offline preview and in CrossGuard alike.
    """
    return {
        TAG_ENVIRONMENT: environment,
        TAG_OWNER: owner,
        TAG_COST_CENTRE: cost_centre,
        TAG_PROJECT: project,
        TAG_MANAGED_BY: "pulumi",
    }
