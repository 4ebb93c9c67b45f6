"""FlorAI's reference catalogue: species, PlantVillage disease classes, growth stages, model labels.

Data lives in ``data/*.json`` (canonical form: see ``florai.catalogue.canonical``); it is loaded
and validated once with ``load_catalogue()``. Standard library only: importing it never pulls in torch.
"""

from florai.catalogue.catalogue import Catalogue, Index
from florai.catalogue.errors import CatalogueError, UnknownIdError
from florai.catalogue.loader import DATA_DIR, load_catalogue, read_catalogue
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

__all__ = [
    "DATA_DIR",
    "PATHOGEN_TYPES",
    "SEVERITIES",
    "Care",
    "Catalogue",
    "CatalogueError",
    "CommonIssues",
    "Disease",
    "DurationDays",
    "GenericStage",
    "GrowthStage",
    "Index",
    "Pathogen",
    "PlantGrowth",
    "Species",
    "TemperatureRange",
    "UnknownIdError",
    "load_catalogue",
    "read_catalogue",
]
