"""Checks across records: unique ids, references that resolve, stage order, name shapes."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from florai.catalogue.records import Disease, GenericStage, PlantGrowth, Species

# Genus, an optional hybrid sign ("x"), then the epithet; cultivar groups may follow.
BINOMIAL_PATTERN = re.compile(r"^[A-Z][a-z]+ (?:x )?[a-z][a-z-]+(?: .+)?$")


def _duplicates(where: str, kind: str, ids: Iterable[str]) -> list[str]:
    counts = Counter(ids)
    return [f"{where}: duplicate {kind} {i!r} ({n} times)" for i, n in sorted(counts.items()) if n > 1]


def validate(
    species: list[Species],
    diseases: list[Disease],
    generic_stages: list[GenericStage],
    plants: list[PlantGrowth],
) -> list[str]:
    """Every cross-record problem, in a stable order; an empty list means the catalogue is sound."""
    problems: list[str] = []
    problems += _duplicates("species.json", "species id", (s.id for s in species))
    problems += _duplicates("diseases.json", "disease id", (d.id for d in diseases))
    problems += _duplicates("diseases.json", "plantvillage_label", (d.plantvillage_label for d in diseases))
    problems += _duplicates("growth_stages.json", "generic stage id", (g.id for g in generic_stages))
    problems += _duplicates("growth_stages.json", "plant type", (p.plant_type for p in plants))

    disease_by_id = {d.id: d for d in diseases}
    plant_types = {p.plant_type for p in plants}
    generic_order = {g.id: i for i, g in enumerate(generic_stages)}
    if not generic_stages:
        problems.append("growth_stages.json: generic_stages is empty (the growth-stage model labels)")

    for s in species:
        where = f"species.json: species {s.id!r}"
        if s.scientific_name and not BINOMIAL_PATTERN.match(s.scientific_name):
            problems.append(f"{where}: scientific_name {s.scientific_name!r} is not a binomial")
        if s.plant_type and s.plant_type not in plant_types:
            problems.append(f"{where}: plant_type {s.plant_type!r} has no growth stages")
        problems += _duplicates(where, "common issue", s.common_issues.disease_ids)
        for disease_id in s.common_issues.disease_ids:
            disease = disease_by_id.get(disease_id)
            if disease is None:
                problems.append(f"{where}: common issue {disease_id!r} is not a disease in the catalogue")
            elif disease.healthy:
                problems.append(f"{where}: common issue {disease_id!r} is a healthy class, not an issue")

    species_by_id = {s.id: s for s in species}
    healthy_per_species = Counter(d.species_id for d in diseases if d.healthy)
    for d in diseases:
        where = f"diseases.json: disease {d.id!r}"
        crop = species_by_id.get(d.species_id)
        if crop is None:
            problems.append(f"{where}: species_id {d.species_id!r} is not a species in the catalogue")
            continue
        if not d.id.startswith(f"{d.species_id}-"):
            problems.append(f"{where}: id must start with its species id {d.species_id!r}")
        if not d.healthy and d.id not in crop.common_issues.disease_ids:
            problems.append(f"{where}: species {crop.id!r} does not list it in common_issues.disease_ids")
    for species_id, n in sorted(healthy_per_species.items()):
        if n > 1:
            problems.append(f"diseases.json: species {species_id!r} has {n} healthy classes (at most one)")

    for p in plants:
        where = f"growth_stages.json: plant type {p.plant_type!r}"
        if not p.stages:
            problems.append(f"{where}: has no stages")
        problems += _duplicates(where, "stage id", (s.id for s in p.stages))
        previous = -1
        for stage in p.stages:
            position = generic_order.get(stage.generic_stage)
            if position is None:
                problems.append(
                    f"{where}: stage {stage.id!r} maps to unknown generic stage {stage.generic_stage!r}"
                )
                continue
            if position < previous:
                problems.append(
                    f"{where}: stage {stage.id!r} ({stage.generic_stage}) is out of order: "
                    f"it comes after a later generic stage ({generic_stages[previous].id})"
                )
            previous = max(previous, position)
    return problems
