"""Write the rendered files, or list the committed ones that differ (stale, missing or left over)."""

from __future__ import annotations

from pathlib import Path

from florai_alerts.layout import GENERATED_DIR
from florai_alerts.render import render


def _committed_generated() -> set[Path]:
    return {p for p in GENERATED_DIR.rglob("*.yaml")} if GENERATED_DIR.exists() else set()


def stale_files() -> list[Path]:
    outputs = render()
    stale = {path for path, text in outputs.items() if not path.exists() or path.read_text() != text}
    stale |= _committed_generated() - set(outputs)
    return sorted(stale)


def write_all() -> list[Path]:
    outputs = render()
    for leftover in _committed_generated() - set(outputs):
        leftover.unlink()
    for path, text in outputs.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return sorted(outputs)
