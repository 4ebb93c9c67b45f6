"""The API returns catalogue records as response models: every record must serialise through pydantic."""

from __future__ import annotations

import json

from pydantic import TypeAdapter

from florai.catalogue import Disease, PlantGrowth, Species, load_catalogue


def test_every_record_round_trips_through_pydantic_json() -> None:
    catalogue = load_catalogue()
    for record_type, records in (
        (Species, catalogue.species.values()),
        (Disease, catalogue.diseases.values()),
        (PlantGrowth, catalogue.growth_stages.values()),
    ):
        adapter = TypeAdapter(record_type)
        assert adapter.json_schema()["type"] == "object"
        for record in records:
            payload = json.loads(adapter.dump_json(record))
            assert adapter.validate_python(payload) == record


def test_serialised_disease_carries_the_fields_clients_read() -> None:
    hlb = TypeAdapter(Disease).dump_python(load_catalogue().diseases["orange-huanglongbing"], mode="json")
    assert hlb["plantvillage_label"] == "Orange___Haunglongbing_(Citrus_greening)"
    assert hlb["pathogen"]["type"] == "bacterium"
    assert hlb["curable"] is False
    assert isinstance(hlb["treatment"], list) and hlb["treatment"]
