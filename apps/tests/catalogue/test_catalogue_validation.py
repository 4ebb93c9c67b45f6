"""The validator catches each kind of bad data on a small fixture catalogue, with a clear message."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from florai.catalogue import CatalogueError, load_catalogue, read_catalogue
from florai.catalogue.loader import DISEASES_FILE, GROWTH_STAGES_FILE, SPECIES_FILE

Documents = dict[str, Any]


def _disease(disease_id: str, label: str, pathogen_type: str = "fungus") -> dict[str, Any]:
    healthy = pathogen_type == "none"
    return {
        "id": disease_id,
        "species_id": "tomato",
        "name": disease_id.replace("-", " "),
        "plantvillage_label": label,
        "pathogen": {
            "type": pathogen_type,
            "scientific_name": None if healthy else "Phytophthora infestans",
            "common_name": None,
            "vector": None,
        },
        "severity": "none" if healthy else "severe",
        "curable": healthy,
        "symptoms": "Symptoms text.",
        "treatment": ["Treatment step."],
        "prevention": ["Prevention step."],
    }


def _stage(stage_id: str, generic: str) -> dict[str, Any]:
    return {
        "id": stage_id,
        "name": stage_id,
        "generic_stage": generic,
        "duration_days": {"min": 5, "max": 10},
        "visual_cues": "Cues.",
        "care": "Care.",
    }


VALID: Documents = {
    SPECIES_FILE: {
        "species": [
            {
                "id": "tomato",
                "common_name": "Tomato",
                "scientific_name": "Solanum lycopersicum",
                "family": "Solanaceae",
                "plant_type": "tomato",
                "description": "Fruiting vegetable.",
                "care": {
                    "light": "Full sun.",
                    "water": "Evenly.",
                    "soil": "Loam.",
                    "temperature_c": {"min": 16, "max": 29},
                    "fertiliser": "Balanced.",
                    "pruning": None,
                },
                "common_issues": {
                    "disease_ids": ["tomato-late-blight"],
                    "pests": ["aphids"],
                    "other_problems": [],
                },
            }
        ]
    },
    DISEASES_FILE: {
        "diseases": [
            _disease("tomato-late-blight", "Tomato___Late_blight", "oomycete"),
            _disease("tomato-healthy", "Tomato___healthy", "none"),
        ]
    },
    GROWTH_STAGES_FILE: {
        "generic_stages": [
            {"id": "germination", "name": "Germination", "description": "Sprouting."},
            {"id": "flowering", "name": "Flowering", "description": "Open flowers."},
        ],
        "plant_types": [
            {
                "id": "tomato",
                "name": "Tomato",
                "stages": [_stage("sprouting", "germination"), _stage("bloom", "flowering")],
            }
        ],
    },
}


def _write(folder: Path, documents: Documents) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, document in documents.items():
        (folder / name).write_text(json.dumps(document), encoding="utf-8")
    return folder


def _species(d: Documents) -> dict[str, Any]:
    return d[SPECIES_FILE]["species"][0]


def _diseases(d: Documents) -> list[dict[str, Any]]:
    return d[DISEASES_FILE]["diseases"]


def _stages(d: Documents) -> list[dict[str, Any]]:
    return d[GROWTH_STAGES_FILE]["plant_types"][0]["stages"]


def test_fixture_is_valid(tmp_path: Path) -> None:
    catalogue = read_catalogue(_write(tmp_path, VALID))
    assert catalogue.labels("identify") == ("tomato",)
    assert catalogue.labels("diagnose") == ("tomato-healthy", "tomato-late-blight")
    assert catalogue.labels("growth-stage") == ("germination", "flowering")


def test_load_catalogue_caches_each_folder_separately(tmp_path: Path) -> None:
    folder = _write(tmp_path / "cat", VALID)
    first = load_catalogue(folder)
    assert load_catalogue(folder) is first
    assert load_catalogue() is not first


MUTATIONS: dict[str, tuple[Callable[[Documents], None], str]] = {
    "duplicate species id": (
        lambda d: d[SPECIES_FILE]["species"].append(copy.deepcopy(_species(d))),
        "duplicate species id 'tomato' (2 times)",
    ),
    "duplicate disease id": (
        lambda d: _diseases(d).append(_disease("tomato-late-blight", "Tomato___Other")),
        "duplicate disease id 'tomato-late-blight'",
    ),
    "duplicate plantvillage label": (
        lambda d: _diseases(d).append(_disease("tomato-mould", "Tomato___Late_blight")),
        "duplicate plantvillage_label 'Tomato___Late_blight'",
    ),
    "dangling common issue": (
        lambda d: _species(d)["common_issues"]["disease_ids"].append("tomato-rust"),
        "common issue 'tomato-rust' is not a disease in the catalogue",
    ),
    "healthy class as issue": (
        lambda d: _species(d)["common_issues"]["disease_ids"].append("tomato-healthy"),
        "common issue 'tomato-healthy' is a healthy class",
    ),
    "disease crop not a species": (
        lambda d: _diseases(d).append({**_disease("okra-blight", "Okra___Blight"), "species_id": "okra"}),
        "disease 'okra-blight': species_id 'okra' is not a species in the catalogue",
    ),
    "disease not linked by its crop": (
        lambda d: _diseases(d).append(_disease("tomato-leaf-mold", "Tomato___Leaf_Mold")),
        "species 'tomato' does not list it in common_issues.disease_ids",
    ),
    "disease id without crop prefix": (
        lambda d: _diseases(d)[1].update(id="healthy-tomato"),
        "disease 'healthy-tomato': id must start with its species id 'tomato'",
    ),
    "two healthy classes": (
        lambda d: _diseases(d).append(_disease("tomato-healthy-2", "Tomato___healthy2", "none")),
        "species 'tomato' has 2 healthy classes",
    ),
    "empty text field": (
        lambda d: _diseases(d)[0].update(symptoms="   "),
        "diseases[0] (tomato-late-blight): field 'symptoms' is empty",
    ),
    "empty list of steps": (
        lambda d: _diseases(d)[0].update(treatment=[]),
        "field 'treatment' is an empty list",
    ),
    "empty step": (
        lambda d: _diseases(d)[0].update(prevention=["Rotate.", ""]),
        "field 'prevention[1]' must be a non-empty string",
    ),
    "missing field": (
        lambda d: _species(d)["care"].pop("light"),
        "species[0] (tomato).care: field 'light' is missing",
    ),
    "unknown field": (
        lambda d: _species(d).update(scientfic_name="typo"),
        "species[0] (tomato): unknown field 'scientfic_name'",
    ),
    "bad id": (
        lambda d: _species(d).update(id="Tomato_Plant"),
        "field 'id' 'Tomato_Plant' is not a kebab-case id",
    ),
    "not a binomial": (
        lambda d: _species(d).update(scientific_name="tomato"),
        "scientific_name 'tomato' is not a binomial",
    ),
    "unknown severity": (
        lambda d: _diseases(d)[0].update(severity="catastrophic"),
        "field 'severity' 'catastrophic' is not one of none, low, moderate, high, severe",
    ),
    "unknown pathogen type": (
        lambda d: _diseases(d)[0]["pathogen"].update(type="alien"),
        "field 'type' 'alien' is not one of fungus, oomycete, bacterium, virus, mite, none",
    ),
    "healthy class naming a pathogen": (
        lambda d: _diseases(d)[1]["pathogen"].update(scientific_name="Phytophthora infestans"),
        "a healthy class (type 'none') must not name a pathogen",
    ),
    "pathogen without a name": (
        lambda d: _diseases(d)[0]["pathogen"].update(scientific_name=None),
        "pathogen: field 'scientific_name' is missing",
    ),
    "curable not a boolean": (
        lambda d: _diseases(d)[0].update(curable="no"),
        "field 'curable' must be true or false",
    ),
    "temperature range reversed": (
        lambda d: _species(d)["care"].update(temperature_c={"min": 30, "max": 10}),
        "care.temperature_c: min 30 is greater than max 10",
    ),
    "duration range reversed": (
        lambda d: _stages(d)[0].update(duration_days={"min": 10, "max": 5}),
        "duration_days: min 10 is greater than max 5",
    ),
    "duration not an integer": (
        lambda d: _stages(d)[0].update(duration_days={"min": 5.5, "max": 10}),
        "field 'min' must be an integer",
    ),
    "stage order": (
        lambda d: _stages(d).reverse(),
        "stage 'sprouting' (germination) is out of order",
    ),
    "unknown generic stage": (
        lambda d: _stages(d)[1].update(generic_stage="harvest"),
        "stage 'bloom' maps to unknown generic stage 'harvest'",
    ),
    "duplicate stage id": (
        lambda d: _stages(d)[1].update(id="sprouting"),
        "plant type 'tomato': duplicate stage id 'sprouting'",
    ),
    "plant type without stages": (
        lambda d: d[GROWTH_STAGES_FILE]["plant_types"][0].update(stages=[]),
        "plant type 'tomato': has no stages",
    ),
    "species plant type without growth stages": (
        lambda d: _species(d).update(plant_type="cactus"),
        "plant_type 'cactus' has no growth stages",
    ),
    "duplicate generic stage": (
        lambda d: d[GROWTH_STAGES_FILE]["generic_stages"].append(
            {"id": "flowering", "name": "Bloom", "description": "Again."}
        ),
        "duplicate generic stage id 'flowering'",
    ),
    "no generic stages": (
        lambda d: d[GROWTH_STAGES_FILE].update(generic_stages=[]),
        "generic_stages is empty",
    ),
    "record is not an object": (
        lambda d: _diseases(d).append("tomato-rust"),
        "diseases.json: diseases[2]: expected an object, got str",
    ),
    "top-level list missing": (
        lambda d: d[SPECIES_FILE].pop("species"),
        "species.json: field 'species' must be a list of records",
    ),
}


@pytest.mark.parametrize("kind", sorted(MUTATIONS))
def test_validator_reports_each_kind_of_error(tmp_path: Path, kind: str) -> None:
    mutate, expected = MUTATIONS[kind]
    documents = copy.deepcopy(VALID)
    mutate(documents)
    with pytest.raises(CatalogueError) as caught:
        read_catalogue(_write(tmp_path, documents))
    assert any(expected in problem for problem in caught.value.problems), caught.value.problems
    assert expected in str(caught.value)


def test_all_problems_are_reported_at_once(tmp_path: Path) -> None:
    documents = copy.deepcopy(VALID)
    _diseases(documents)[0].update(symptoms="")
    _species(documents).update(family="", scientfic_name="typo")
    with pytest.raises(CatalogueError) as caught:
        read_catalogue(_write(tmp_path, documents))
    assert len(caught.value.problems) == 3
    assert "3 problem(s)" in str(caught.value)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "species.json: not valid UTF-8 JSON"),
        ('{"species": [], "species": []}', "duplicate key(s) 'species'"),
        (b"\xff\xfe{}", "species.json: not valid UTF-8 JSON"),
        (None, "species.json: file not found"),
    ],
)
def test_unreadable_files_are_reported(tmp_path: Path, content: str | bytes | None, expected: str) -> None:
    folder = _write(tmp_path, VALID)
    path = folder / SPECIES_FILE
    if content is None:
        path.unlink()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(CatalogueError, match="invalid plant catalogue") as caught:
        read_catalogue(folder)
    assert any(expected in problem for problem in caught.value.problems), caught.value.problems
