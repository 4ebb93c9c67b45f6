"""Reference models: built deterministically, labelled from the catalogue, small, loadable."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

from florai.catalogue import load_catalogue
from florai.contract import TASKS
from florai.models.checksum import file_sha256
from florai.models.manifest import MANIFEST_FILE, ModelManifest
from florai.models.reference import ARTIFACT_FILE, REFERENCE_VERSION

REPO_ROOT = Path(__file__).resolve().parents[3]
MAX_ARTIFACT_BYTES = 5 * 1024 * 1024


def read_manifest(folder: Path) -> ModelManifest:
    return ModelManifest.from_json((folder / MANIFEST_FILE).read_text(encoding="utf-8"))


def test_one_folder_per_task_with_catalogue_labels(reference_models: dict[str, Path]) -> None:
    catalogue = load_catalogue()
    assert set(reference_models) == set(TASKS)
    for task, folder in reference_models.items():
        assert folder.name == task
        manifest = read_manifest(folder)
        assert manifest.task == task
        assert manifest.version == REFERENCE_VERSION
        assert manifest.labels == tuple(catalogue.labels(task))
        assert manifest.sha256 == file_sha256(folder / ARTIFACT_FILE)
        assert (folder / ARTIFACT_FILE).stat().st_size < MAX_ARTIFACT_BYTES


def test_manifest_is_written_with_sorted_keys(reference_models: dict[str, Path]) -> None:
    text = (reference_models[TASKS[0]] / MANIFEST_FILE).read_text(encoding="utf-8")
    data = json.loads(text)
    assert list(data) == sorted(data)
    assert text == json.dumps(data, indent=2, sort_keys=True) + "\n"


def test_artifact_carries_no_checkout_path(reference_models: dict[str, Path]) -> None:
    # Source locations in the graph would make the sha256 depend on where the repo is checked out.
    with zipfile.ZipFile(reference_models[TASKS[0]] / ARTIFACT_FILE) as archive:
        for name in archive.namelist():
            if name.endswith(".json"):
                assert str(REPO_ROOT).encode() not in archive.read(name), name


def test_cli_rebuild_in_a_fresh_process_gives_identical_bytes(
    reference_models: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "again"
    run = subprocess.run(
        [sys.executable, "-m", "florai.models.reference", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    for task, folder in reference_models.items():
        assert task in run.stdout
        assert (out / task / MANIFEST_FILE).read_bytes() == (folder / MANIFEST_FILE).read_bytes()
        assert file_sha256(out / task / ARTIFACT_FILE) == file_sha256(folder / ARTIFACT_FILE)


def test_tasks_get_different_weights(reference_models: dict[str, Path]) -> None:
    digests = {read_manifest(folder).sha256 for folder in reference_models.values()}
    assert len(digests) == len(TASKS)
