"""Everything one offline preview finds, before it is printed as text, JSON or markdown."""

from __future__ import annotations

from dataclasses import dataclass

from florai_infra.offline.plan import Plan
from florai_infra.policies.evaluate import Verdict, has_blocking
from florai_infra.preview.changes import Change
from florai_infra.preview.cost import CostChange

EXIT_POLICY = 1
EXIT_GUARDED = 3


@dataclass
class PreviewResult:
    plan: Plan
    region: str
    verdicts: list[Verdict]
    snapshot: str  # the committed plan's path, as printed
    committed: Plan | None
    change: Change | None  # None without a committed plan
    cost: CostChange | None
    cost_error: str | None
    ran_seconds: float

    @property
    def exit_code(self) -> int:
        if has_blocking(self.verdicts):
            return EXIT_POLICY
        return EXIT_GUARDED if self.change and self.change.blocked else 0
