"""The three analyses a person can choose, with the words the page uses for each."""

from __future__ import annotations

from dataclasses import dataclass

from florai import contract as api_contract


@dataclass(frozen=True)
class Analysis:
    task: str
    label: str
    explains: bool  # the API can add a Grad-CAM heat map


ANALYSES = (
    Analysis(api_contract.TASK_IDENTIFY, "Identify the plant", False),
    Analysis(api_contract.TASK_DIAGNOSE, "Diagnose a disease", True),
    Analysis(api_contract.TASK_GROWTH_STAGE, "Estimate the growth stage", False),
)
BY_LABEL = {a.label: a for a in ANALYSES}
BY_TASK = {a.task: a for a in ANALYSES}
