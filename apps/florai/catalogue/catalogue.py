"""The loaded catalogue: indexes by id, lookups that raise UnknownIdError, and the model labels."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TypeVar

from florai.catalogue.errors import UnknownIdError
from florai.catalogue.records import Disease, GenericStage, PlantGrowth, Species
from florai.contract import TASK_DIAGNOSE, TASK_GROWTH_STAGE, TASK_IDENTIFY

T = TypeVar("T")


class Index(Mapping[str, T]):
    """A read-only id -> record mapping whose misses raise UnknownIdError (a KeyError)."""

    def __init__(self, kind: str, items: dict[str, T]) -> None:
        self.kind = kind
        self._items = dict(sorted(items.items()))

    def __getitem__(self, item_id: str) -> T:
        try:
            return self._items[item_id]
        except KeyError:
            raise UnknownIdError(self.kind, item_id) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Index({self.kind!r}, {len(self)} items)"


@dataclass(frozen=True, eq=False)
class Catalogue:
    """Species, disease classes and growth stages, validated; build it with ``load_catalogue``."""

    species: Index[Species]
    diseases: Index[Disease]
    growth_stages: Index[PlantGrowth]
    generic_stages: tuple[GenericStage, ...]

    def labels(self, task: str) -> tuple[str, ...]:
        """The model label ids of a task (one of contract.TASKS), in the order of the model's outputs."""
        if task == TASK_IDENTIFY:
            return tuple(sorted(self.species))
        if task == TASK_DIAGNOSE:
            return tuple(sorted(self.diseases))
        if task == TASK_GROWTH_STAGE:
            return tuple(g.id for g in self.generic_stages)
        raise UnknownIdError("task", task)

    def species_by_id(self, species_id: str) -> Species:
        return self.species[species_id]

    def disease_by_id(self, disease_id: str) -> Disease:
        return self.diseases[disease_id]

    def stages_of(self, plant_type: str) -> PlantGrowth:
        return self.growth_stages[plant_type]

    def stages_of_species(self, species_id: str) -> PlantGrowth:
        """The growth stages of the plant type a species belongs to."""
        return self.growth_stages[self.species[species_id].plant_type]

    def diseases_of(self, species_id: str) -> tuple[Disease, ...]:
        """Every disease class (healthy class included) whose crop is this species, by id."""
        self.species[species_id]  # raises UnknownIdError for an unknown species
        return tuple(d for d in self.diseases.values() if d.species_id == species_id)

    def healthy_class_of(self, species_id: str) -> Disease | None:
        return next((d for d in self.diseases_of(species_id) if d.healthy), None)
