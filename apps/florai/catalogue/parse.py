"""Turn the raw JSON of the data files into records, collecting every shape problem on the way.

Each problem names its file, record id and field so a data editor can fix it at once.
"""

from __future__ import annotations

import re
from typing import Any

from florai.catalogue.records import (
    PATHOGEN_TYPES,
    SEVERITIES,
    Care,
    CommonIssues,
    Disease,
    DurationDays,
    GenericStage,
    GrowthStage,
    Pathogen,
    PlantGrowth,
    Species,
    TemperatureRange,
)

# Stable ids are lower-case kebab-case: they are URL path segments and model labels.
ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class _Fields:
    """Reads one JSON object, recording a problem (instead of raising) for each bad field."""

    def __init__(self, raw: Any, where: str, problems: list[str], allowed: frozenset[str]) -> None:
        self.where = where
        self.problems = problems
        self.ok = isinstance(raw, dict)
        self.raw: dict[str, Any] = raw if self.ok else {}
        if not self.ok:
            problems.append(f"{where}: expected an object, got {type(raw).__name__}")
            return
        for unknown in sorted(set(self.raw) - allowed):
            problems.append(f"{where}: unknown field {unknown!r}")

    def _problem(self, key: str, message: str) -> None:
        self.problems.append(f"{self.where}: field {key!r} {message}")

    def text(self, key: str, optional: bool = False) -> str:
        value = self.raw.get(key)
        if value is None and optional:
            return None  # type: ignore[return-value]
        if not isinstance(value, str):
            self._problem(key, "is missing" if value is None else "must be a string")
            return ""
        if not value.strip():
            self._problem(key, "is empty")
        return value

    def identifier(self, key: str) -> str:
        value = self.text(key)
        if value and not ID_PATTERN.match(value):
            self._problem(key, f"{value!r} is not a kebab-case id")
        return value

    def texts(self, key: str, allow_empty: bool = True) -> tuple[str, ...]:
        value = self.raw.get(key)
        if not isinstance(value, list):
            self._problem(key, "is missing" if value is None else "must be a list of strings")
            return ()
        if not value and not allow_empty:
            self._problem(key, "is an empty list")
        out = []
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                self._problem(f"{key}[{i}]", "must be a non-empty string")
            else:
                out.append(item)
        return tuple(out)

    def number(self, key: str, integer: bool = False) -> float:
        value = self.raw.get(key)
        kinds = (int,) if integer else (int, float)
        if isinstance(value, bool) or not isinstance(value, kinds):
            self._problem(key, "must be an integer" if integer else "must be a number")
            return 0
        return value

    def flag(self, key: str) -> bool:
        value = self.raw.get(key)
        if not isinstance(value, bool):
            self._problem(key, "must be true or false")
            return False
        return value

    def choice(self, key: str, choices: tuple[str, ...]) -> str:
        value = self.text(key)
        if value and value not in choices:
            self._problem(key, f"{value!r} is not one of {', '.join(choices)}")
        return value

    def child(self, key: str, allowed: frozenset[str]) -> _Fields:
        return _Fields(self.raw.get(key), f"{self.where}.{key}", self.problems, allowed)

    def records(self, key: str) -> list[Any]:
        value = self.raw.get(key)
        if not isinstance(value, list):
            self._problem(key, "must be a list of records")
            return []
        return value


def _label(raw: Any, index: int) -> str:
    rid = raw.get("id") if isinstance(raw, dict) else None
    return f"[{index}] ({rid})" if isinstance(rid, str) else f"[{index}]"


def _range(parent: _Fields, key: str, low: str, high: str, integer: bool) -> tuple[float, float]:
    fields = parent.child(key, frozenset({low, high}))
    lo, hi = fields.number(low, integer), fields.number(high, integer)
    if lo > hi:
        parent.problems.append(f"{fields.where}: {low} {lo} is greater than {high} {hi}")
    if lo < 0 and integer:
        parent.problems.append(f"{fields.where}: {low} must not be negative")
    return lo, hi


_SPECIES_FIELDS = frozenset(
    {"id", "common_name", "scientific_name", "family", "plant_type", "description", "care", "common_issues"}
)
_CARE_FIELDS = frozenset({"light", "water", "soil", "temperature_c", "fertiliser", "pruning"})
_ISSUE_FIELDS = frozenset({"disease_ids", "pests", "other_problems"})


def parse_species(document: Any, problems: list[str]) -> list[Species]:
    top = _Fields(document, "species.json", problems, frozenset({"species"}))
    out = []
    for i, raw in enumerate(top.records("species")):
        f = _Fields(raw, f"species.json: species{_label(raw, i)}", problems, _SPECIES_FIELDS)
        if not f.ok:
            continue
        care = f.child("care", _CARE_FIELDS)
        low, high = _range(care, "temperature_c", "min", "max", integer=False)
        issues = f.child("common_issues", _ISSUE_FIELDS)
        out.append(
            Species(
                id=f.identifier("id"),
                common_name=f.text("common_name"),
                scientific_name=f.text("scientific_name"),
                family=f.text("family"),
                plant_type=f.identifier("plant_type"),
                description=f.text("description"),
                care=Care(
                    light=care.text("light"),
                    water=care.text("water"),
                    soil=care.text("soil"),
                    temperature=TemperatureRange(min_c=low, max_c=high),
                    fertiliser=care.text("fertiliser"),
                    pruning=care.text("pruning", optional=True),
                ),
                common_issues=CommonIssues(
                    disease_ids=issues.texts("disease_ids"),
                    pests=issues.texts("pests"),
                    other_problems=issues.texts("other_problems"),
                ),
            )
        )
    return out


_DISEASE_FIELDS = frozenset(
    {
        "id",
        "species_id",
        "name",
        "plantvillage_label",
        "pathogen",
        "severity",
        "curable",
        "symptoms",
        "treatment",
        "prevention",
    }
)
_PATHOGEN_FIELDS = frozenset({"type", "scientific_name", "common_name", "vector"})


def parse_diseases(document: Any, problems: list[str]) -> list[Disease]:
    top = _Fields(document, "diseases.json", problems, frozenset({"diseases"}))
    out = []
    for i, raw in enumerate(top.records("diseases")):
        f = _Fields(raw, f"diseases.json: diseases{_label(raw, i)}", problems, _DISEASE_FIELDS)
        if not f.ok:
            continue
        p = f.child("pathogen", _PATHOGEN_FIELDS)
        pathogen_type = p.choice("type", PATHOGEN_TYPES)
        healthy = pathogen_type == "none"
        scientific = p.text("scientific_name", optional=healthy)
        if healthy and scientific is not None:
            problems.append(f"{p.where}: a healthy class (type 'none') must not name a pathogen")
        out.append(
            Disease(
                id=f.identifier("id"),
                species_id=f.identifier("species_id"),
                name=f.text("name"),
                plantvillage_label=f.text("plantvillage_label"),
                pathogen=Pathogen(
                    type=pathogen_type,
                    scientific_name=scientific,
                    common_name=p.text("common_name", optional=True),
                    vector=p.text("vector", optional=True),
                ),
                severity=f.choice("severity", SEVERITIES),
                curable=f.flag("curable"),
                symptoms=f.text("symptoms"),
                treatment=f.texts("treatment", allow_empty=False),
                prevention=f.texts("prevention", allow_empty=False),
            )
        )
    return out


_GENERIC_FIELDS = frozenset({"id", "name", "description"})
_PLANT_TYPE_FIELDS = frozenset({"id", "name", "stages"})
_STAGE_FIELDS = frozenset({"id", "name", "generic_stage", "duration_days", "visual_cues", "care"})


def parse_growth(document: Any, problems: list[str]) -> tuple[list[GenericStage], list[PlantGrowth]]:
    top = _Fields(document, "growth_stages.json", problems, frozenset({"generic_stages", "plant_types"}))
    generic = []
    for i, raw in enumerate(top.records("generic_stages")):
        f = _Fields(raw, f"growth_stages.json: generic_stages{_label(raw, i)}", problems, _GENERIC_FIELDS)
        if f.ok:
            generic.append(GenericStage(f.identifier("id"), f.text("name"), f.text("description")))
    plants = []
    for i, raw in enumerate(top.records("plant_types")):
        f = _Fields(raw, f"growth_stages.json: plant_types{_label(raw, i)}", problems, _PLANT_TYPE_FIELDS)
        if not f.ok:
            continue
        stages = []
        for j, raw_stage in enumerate(f.records("stages")):
            s = _Fields(raw_stage, f"{f.where}.stages{_label(raw_stage, j)}", problems, _STAGE_FIELDS)
            if not s.ok:
                continue
            low, high = _range(s, "duration_days", "min", "max", integer=True)
            stages.append(
                GrowthStage(
                    id=s.identifier("id"),
                    name=s.text("name"),
                    generic_stage=s.identifier("generic_stage"),
                    duration_days=DurationDays(min=int(low), max=int(high)),
                    visual_cues=s.text("visual_cues"),
                    care=s.text("care"),
                )
            )
        plants.append(PlantGrowth(plant_type=f.identifier("id"), name=f.text("name"), stages=tuple(stages)))
    return generic, plants
