"""Write the rendered files, or list the committed ones that differ (stale, missing or left over)."""

from __future__ import annotations

from pathlib import Path

from florai_alerts.layout import GENERATED_DIR
from florai_alerts.render import render


def committed_generated(generated_dir: Path = GENERATED_DIR) -> set[Path]:
    return set(generated_dir.rglob("*.yaml")) if generated_dir.exists() else set()


def stale_paths(outputs: dict[Path, str], committed: set[Path]) -> list[Path]:
    """Rendered files whose committed text differs or is missing, plus committed files no longer rendered."""
    stale = {path for path, text in outputs.items() if not path.exists() or path.read_text() != text}
    return sorted(stale | (committed - set(outputs)))


def stale_files() -> list[Path]:
    return stale_paths(render(), committed_generated())


def write_all() -> list[Path]:
    outputs = render()
    for leftover in committed_generated() - set(outputs):
        leftover.unlink()
    for path, text in outputs.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return sorted(outputs)
