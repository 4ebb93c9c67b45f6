"""Read the three data files, parse, validate, and cache the result per folder."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from florai.catalogue.catalogue import Catalogue, Index
from florai.catalogue.errors import CatalogueError
from florai.catalogue.parse import parse_diseases, parse_growth, parse_species
from florai.catalogue.validate import validate

DATA_DIR = Path(__file__).resolve().parent / "data"
SPECIES_FILE = "species.json"
DISEASES_FILE = "diseases.json"
GROWTH_STAGES_FILE = "growth_stages.json"
DATA_FILES = (SPECIES_FILE, DISEASES_FILE, GROWTH_STAGES_FILE)


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.load keeps the last of two equal keys silently; a data file must not have any.
    keys = [k for k, _ in pairs]
    duplicated = sorted({k for k in keys if keys.count(k) > 1})
    if duplicated:
        raise ValueError(f"duplicate key(s) {', '.join(map(repr, duplicated))} in one object")
    return dict(pairs)


def _read(folder: Path, name: str, problems: list[str]) -> Any:
    path = folder / name
    try:
        with path.open(encoding="utf-8") as f:
            return json.load(f, object_pairs_hook=_reject_duplicate_keys)
    except FileNotFoundError:
        problems.append(f"{name}: file not found in {folder}")
    except (ValueError, UnicodeDecodeError) as exc:
        problems.append(f"{name}: not valid UTF-8 JSON: {exc}")
    return None


def read_catalogue(folder: Path) -> Catalogue:
    """Load and validate the catalogue in ``folder`` (uncached); raises CatalogueError listing problems."""
    problems: list[str] = []
    documents = {name: _read(folder, name, problems) for name in DATA_FILES}
    if problems:
        raise CatalogueError(problems)
    species = parse_species(documents[SPECIES_FILE], problems)
    diseases = parse_diseases(documents[DISEASES_FILE], problems)
    generic_stages, plants = parse_growth(documents[GROWTH_STAGES_FILE], problems)
    # Cross-record checks on half-parsed records would only repeat the shape problems.
    problems = problems or validate(species, diseases, generic_stages, plants)
    if problems:
        raise CatalogueError(problems)
    return Catalogue(
        species=Index("species", {s.id: s for s in species}),
        diseases=Index("disease", {d.id: d for d in diseases}),
        growth_stages=Index("plant type", {p.plant_type: p for p in plants}),
        generic_stages=tuple(generic_stages),
    )


@lru_cache(maxsize=8)
def _cached(folder: Path) -> Catalogue:
    return read_catalogue(folder)


def load_catalogue(path: str | Path | None = None) -> Catalogue:
    """The catalogue in ``path`` (a folder holding the data files; default: the bundled data), cached."""
    folder = DATA_DIR if path is None else Path(path).resolve()
    return _cached(folder)
