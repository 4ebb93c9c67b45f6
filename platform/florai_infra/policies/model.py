"""The policy vocabulary: declarative policy objects over resource props in camelCase wire names.

The same objects run in the offline preview (over a recorded ``Plan``) and in the CrossGuard
pack (``platform/policy-pack``), so a verdict never depends on where it was computed.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Props = Mapping[str, Any]
ReportResource = Callable[[str], None]
ReportStack = Callable[[str, "str | None"], None]


class Enforcement(enum.Enum):
    MANDATORY = "mandatory"  # blocks the preview / update
    ADVISORY = "advisory"  # printed, never blocks


@dataclass(frozen=True)
class StackResource:
    """What a stack policy sees of one resource (built from a plan or from CrossGuard args)."""

    type: str
    name: str
    urn: str
    props: Props
    dependencies: tuple[str, ...] = ()
    # Resource options; None where the engine that recorded the resource does not report them.
    protect: bool | None = None
    retain_on_delete: bool | None = None


@dataclass(frozen=True)
class ResourcePolicy:
    """Checks one resource; ``resource_types`` lists type tokens, or ``applies`` decides."""

    name: str
    description: str
    enforcement: Enforcement
    validate: Callable[[Props, ReportResource], None]
    resource_types: tuple[str, ...] = ()
    applies: Callable[[str], bool] | None = None

    def applies_to(self, resource_type: str) -> bool:
        if self.applies is not None:
            return self.applies(resource_type)
        return resource_type in self.resource_types


@dataclass(frozen=True)
class StackPolicy:
    """Checks relations between resources (e.g. every bucket has a public access block)."""

    name: str
    description: str
    enforcement: Enforcement
    validate: Callable[[Sequence[StackResource], ReportStack], None]
