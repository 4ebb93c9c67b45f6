"""The loader: lookups, label order, caching, speed, import weight and the canonical file form."""

from __future__ import annotations

import fnmatch
import json
import subprocess
import sys
import time
import tomllib

import pytest

from florai.catalogue import DATA_DIR, Catalogue, UnknownIdError, load_catalogue, read_catalogue
from florai.catalogue.canonical import canonical_text, non_canonical_files
from florai.catalogue.loader import DATA_FILES
from florai.contract import TASK_DIAGNOSE, TASK_GROWTH_STAGE, TASK_IDENTIFY, TASKS

# The loader runs at every service start; the brief's budget for it.
LOAD_BUDGET_SECONDS = 0.1


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


def test_load_is_cached_per_folder(catalogue: Catalogue) -> None:
    assert load_catalogue() is catalogue
    assert load_catalogue(DATA_DIR) is catalogue
    assert load_catalogue(str(DATA_DIR)) is catalogue


def test_labels_follow_the_data_in_a_fixed_order(catalogue: Catalogue) -> None:
    assert catalogue.labels(TASK_IDENTIFY) == tuple(sorted(s.id for s in catalogue.species.values()))
    assert catalogue.labels(TASK_DIAGNOSE) == tuple(sorted(d.id for d in catalogue.diseases.values()))
    assert catalogue.labels(TASK_GROWTH_STAGE) == tuple(g.id for g in catalogue.generic_stages)
    fresh = read_catalogue(DATA_DIR)
    assert fresh is not catalogue
    for task in TASKS:
        labels = catalogue.labels(task)
        assert labels == fresh.labels(task)
        assert len(labels) == len(set(labels)) > 1
        assert all(isinstance(label, str) and label for label in labels)


def test_unknown_task_is_refused(catalogue: Catalogue) -> None:
    with pytest.raises(UnknownIdError, match="unknown task id 'segment'"):
        catalogue.labels("segment")


def test_lookups_return_records_and_raise_unknown_id_error(catalogue: Catalogue) -> None:
    tomato = catalogue.species["tomato"]
    assert tomato.scientific_name == "Solanum lycopersicum"
    assert catalogue.species_by_id("tomato") is tomato
    assert catalogue.disease_by_id("tomato-late-blight").pathogen.scientific_name == "Phytophthora infestans"
    assert catalogue.stages_of_species("tomato") is catalogue.growth_stages[tomato.plant_type]
    assert catalogue.healthy_class_of("tomato").id == "tomato-healthy"
    assert {d.species_id for d in catalogue.diseases_of("potato")} == {"potato"}
    for lookup, kind in (
        (lambda: catalogue.species["dragon-fruit"], "species"),
        (lambda: catalogue.diseases_of("dragon-fruit"), "species"),
        (lambda: catalogue.disease_by_id("tomato-rust"), "disease"),
        (lambda: catalogue.stages_of("cactus"), "plant type"),
    ):
        with pytest.raises(UnknownIdError) as caught:
            lookup()
        assert isinstance(caught.value, KeyError)
        assert caught.value.kind == kind
        assert str(caught.value).startswith(f"unknown {kind} id ")
    assert "dragon-fruit" not in catalogue.species
    assert catalogue.species.get("dragon-fruit") is None


def test_records_are_frozen(catalogue: Catalogue) -> None:
    with pytest.raises(AttributeError):
        catalogue.species["tomato"].common_name = "Love apple"  # type: ignore[misc]
    with pytest.raises(TypeError):
        catalogue.species["tomato-2"] = catalogue.species["tomato"]  # type: ignore[index]


def test_load_is_fast() -> None:
    # Best of three uncached loads, so a busy shared machine does not fail the budget by chance.
    timings = []
    for _ in range(3):
        start = time.perf_counter()
        read_catalogue(DATA_DIR)
        timings.append(time.perf_counter() - start)
    assert min(timings) < LOAD_BUDGET_SECONDS, timings


def test_import_and_load_do_not_import_torch() -> None:
    code = (
        "import sys; from florai.catalogue import load_catalogue; load_catalogue(); "
        "print(sorted(m for m in ('torch', 'numpy', 'pydantic', 'yaml') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_data_files_are_canonical_utf8_json() -> None:
    assert non_canonical_files(DATA_DIR) == []
    for name in DATA_FILES:
        raw = (DATA_DIR / name).read_bytes()
        text = raw.decode("utf-8")
        assert text == canonical_text(name, json.loads(text))
        assert len(raw) < 300_000, f"{name} is {len(raw)} bytes"


def test_data_files_ship_as_package_data() -> None:
    # The image installs florai from a wheel; without this glob the JSON would be left behind.
    pyproject = tomllib.loads((DATA_DIR.parents[2] / "pyproject.toml").read_text(encoding="utf-8"))
    globs = pyproject["tool"]["setuptools"]["package-data"]["florai.catalogue"]
    for name in DATA_FILES:
        assert any(fnmatch.fnmatch(f"data/{name}", pattern) for pattern in globs), name
