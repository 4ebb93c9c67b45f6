"""Every FlorAI dashboard, by uid: the one list the generator, the ConfigMaps and the tests read."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

from florai_dashboards.boards import datastores, gitops, gpu, logs, models, overview, slo, ui

BOARDS: tuple[ModuleType, ...] = (overview, models, slo, gpu, datastores, gitops, logs, ui)


def builders() -> dict[str, Callable]:
    """uid -> function returning the dashboard builder."""
    uids = [board.UID for board in BOARDS]
    if len(set(uids)) != len(uids):
        raise ValueError(f"duplicate dashboard uid in {uids}")
    return {board.UID: board.build for board in BOARDS}
