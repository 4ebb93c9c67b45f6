"""The catalogue's records: frozen dataclasses built from the data files and never changed."""

from __future__ import annotations

from dataclasses import dataclass

# Kinds of causal agent a disease class may name; "none" marks the healthy classes.
PATHOGEN_TYPES = ("fungus", "oomycete", "bacterium", "virus", "mite", "none")
# How much harm a class does to an untreated crop, least first; "none" is for healthy classes.
SEVERITIES = ("none", "low", "moderate", "high", "severe")


@dataclass(frozen=True)
class TemperatureRange:
    """Comfortable growing temperature in degrees Celsius."""

    min_c: float
    max_c: float


@dataclass(frozen=True)
class Care:
    """How to grow a species well."""

    light: str
    water: str
    soil: str
    temperature: TemperatureRange
    fertiliser: str
    pruning: str | None


@dataclass(frozen=True)
class CommonIssues:
    """What usually goes wrong: catalogue disease ids, plus pests and other problems named in text."""

    disease_ids: tuple[str, ...]
    pests: tuple[str, ...]
    other_problems: tuple[str, ...]


@dataclass(frozen=True)
class Species:
    """A plant the identify model can name (its id is the model label)."""

    id: str
    common_name: str
    scientific_name: str
    family: str
    plant_type: str
    description: str
    care: Care
    common_issues: CommonIssues


@dataclass(frozen=True)
class Pathogen:
    """The causal agent of a disease class; ``scientific_name`` is None for healthy classes."""

    type: str
    scientific_name: str | None
    common_name: str | None
    vector: str | None


@dataclass(frozen=True)
class Disease:
    """A PlantVillage class the diagnose model can name (its id is the model label)."""

    id: str
    species_id: str
    name: str
    plantvillage_label: str
    pathogen: Pathogen
    severity: str
    curable: bool
    symptoms: str
    treatment: tuple[str, ...]
    prevention: tuple[str, ...]

    @property
    def healthy(self) -> bool:
        return self.pathogen.type == "none"


@dataclass(frozen=True)
class DurationDays:
    """Typical length of a growth stage in days, as a range."""

    min: int
    max: int


@dataclass(frozen=True)
class GenericStage:
    """One of the shared growth-stage ids the growth-stage model predicts."""

    id: str
    name: str
    description: str


@dataclass(frozen=True)
class GrowthStage:
    """One stage in the life or season of a plant type, mapped to a generic stage."""

    id: str
    name: str
    generic_stage: str
    duration_days: DurationDays
    visual_cues: str
    care: str


@dataclass(frozen=True)
class PlantGrowth:
    """The ordered growth stages of one plant type."""

    plant_type: str
    name: str
    stages: tuple[GrowthStage, ...]

    def stages_for(self, generic_stage: str) -> tuple[GrowthStage, ...]:
        """The plant-specific stages that a generic stage prediction covers."""
        return tuple(s for s in self.stages if s.generic_stage == generic_stage)
