"""The bundled reference data: complete PlantVillage coverage, sound links, careful advice."""

from __future__ import annotations

import re

import pytest

from florai.catalogue import Catalogue, load_catalogue
from florai.catalogue.validate import BINOMIAL_PATTERN
from florai.contract import TASK_DIAGNOSE, TASK_GROWTH_STAGE, TASK_IDENTIFY

# The 38 class folder names of the PlantVillage dataset, spelled exactly as published
# (including its "Haunglongbing" typo): written out here independently of the data files.
PLANTVILLAGE_LABELS = (
    "Apple___Apple_scab",
    "Apple___Black_rot",
    "Apple___Cedar_apple_rust",
    "Apple___healthy",
    "Blueberry___healthy",
    "Cherry_(including_sour)___Powdery_mildew",
    "Cherry_(including_sour)___healthy",
    "Corn_(maize)___Cercospora_leaf_spot Gray_leaf_spot",
    "Corn_(maize)___Common_rust_",
    "Corn_(maize)___Northern_Leaf_Blight",
    "Corn_(maize)___healthy",
    "Grape___Black_rot",
    "Grape___Esca_(Black_Measles)",
    "Grape___Leaf_blight_(Isariopsis_Leaf_Spot)",
    "Grape___healthy",
    "Orange___Haunglongbing_(Citrus_greening)",
    "Peach___Bacterial_spot",
    "Peach___healthy",
    "Pepper,_bell___Bacterial_spot",
    "Pepper,_bell___healthy",
    "Potato___Early_blight",
    "Potato___Late_blight",
    "Potato___healthy",
    "Raspberry___healthy",
    "Soybean___healthy",
    "Squash___Powdery_mildew",
    "Strawberry___Leaf_scorch",
    "Strawberry___healthy",
    "Tomato___Bacterial_spot",
    "Tomato___Early_blight",
    "Tomato___Late_blight",
    "Tomato___Leaf_Mold",
    "Tomato___Septoria_leaf_spot",
    "Tomato___Spider_mites Two-spotted_spider_mite",
    "Tomato___Target_Spot",
    "Tomato___Tomato_Yellow_Leaf_Curl_Virus",
    "Tomato___Tomato_mosaic_virus",
    "Tomato___healthy",
)

# The PlantVillage crops and the binomials the catalogue must give them.
CROP_BINOMIALS = {
    "apple": "Malus domestica",
    "blueberry": "Vaccinium corymbosum",
    "cherry": "Prunus avium",
    "corn": "Zea mays",
    "grape": "Vitis vinifera",
    "orange": "Citrus sinensis",
    "peach": "Prunus persica",
    "bell-pepper": "Capsicum annuum",
    "potato": "Solanum tuberosum",
    "raspberry": "Rubus idaeus",
    "soybean": "Glycine max",
    "squash": "Cucurbita pepo",
    "strawberry": "Fragaria x ananassa",
    "tomato": "Solanum lycopersicum",
}

# Pathogen names for the classes where a wrong name would mislead most; checked against the data.
KEY_PATHOGENS = {
    "apple-scab": "Venturia inaequalis",
    "apple-cedar-rust": "Gymnosporangium juniperi-virginianae",
    "corn-common-rust": "Puccinia sorghi",
    "potato-late-blight": "Phytophthora infestans",
    "tomato-late-blight": "Phytophthora infestans",
    "tomato-septoria-leaf-spot": "Septoria lycopersici",
    "tomato-spider-mites": "Tetranychus urticae",
    "tomato-target-spot": "Corynespora cassiicola",
    "strawberry-leaf-scorch": "Diplocarpon earlianum",
    "orange-huanglongbing": "Candidatus Liberibacter asiaticus",
}

# Words that mean a treatment step names a chemical product, which then needs the label note.
CHEMICAL_WORDS = re.compile(
    r"fungicide|bactericide|insecticide|miticide|copper|sulphur|mancozeb|chlorothalonil"
)


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


def test_every_plantvillage_label_is_present_exactly_once(catalogue: Catalogue) -> None:
    labels = [d.plantvillage_label for d in catalogue.diseases.values()]
    assert sorted(labels) == sorted(PLANTVILLAGE_LABELS)
    assert len(catalogue.labels(TASK_DIAGNOSE)) == 38
    healthy = [d for d in catalogue.diseases.values() if d.healthy]
    assert len(healthy) == 12
    assert all(d.plantvillage_label.endswith("___healthy") for d in healthy)


def test_plantvillage_crops_have_correct_binomials(catalogue: Catalogue) -> None:
    for species_id, binomial in CROP_BINOMIALS.items():
        assert catalogue.species[species_id].scientific_name == binomial
    garden_plants = set(catalogue.species) - set(CROP_BINOMIALS)
    assert 10 <= len(garden_plants) <= 20


def test_scientific_names_look_like_binomials(catalogue: Catalogue) -> None:
    for species in catalogue.species.values():
        genus, *rest = species.scientific_name.split(" ")
        assert BINOMIAL_PATTERN.match(species.scientific_name), species.id
        assert genus.istitle() and rest and rest[-1].islower(), species.id
        assert species.family.endswith("aceae"), species.id


def test_every_disease_crop_exists_and_links_back(catalogue: Catalogue) -> None:
    for disease in catalogue.diseases.values():
        crop = catalogue.species[disease.species_id]
        assert disease.id.startswith(f"{crop.id}-")
        if disease.healthy:
            assert disease.id not in crop.common_issues.disease_ids
        else:
            assert disease.id in crop.common_issues.disease_ids
    for species in catalogue.species.values():
        for disease_id in species.common_issues.disease_ids:
            assert not catalogue.diseases[disease_id].healthy


def test_each_crop_with_a_dataset_class_has_at_most_one_healthy_class(catalogue: Catalogue) -> None:
    crops = {d.species_id for d in catalogue.diseases.values()}
    assert crops == set(CROP_BINOMIALS)
    for crop in crops:
        healthy = [d for d in catalogue.diseases_of(crop) if d.healthy]
        # Orange and squash are the PlantVillage crops without a healthy class.
        assert len(healthy) == (0 if crop in ("orange", "squash") else 1), crop


def test_key_pathogens_are_named_correctly(catalogue: Catalogue) -> None:
    for disease_id, name in KEY_PATHOGENS.items():
        assert catalogue.diseases[disease_id].pathogen.scientific_name.startswith(name), disease_id
    hlb = catalogue.diseases["orange-huanglongbing"]
    assert hlb.pathogen.type == "bacterium" and "Diaphorina citri" in hlb.pathogen.vector
    tylcv = catalogue.diseases["tomato-yellow-leaf-curl-virus"]
    assert "Bemisia tabaci" in tylcv.pathogen.vector


def test_incurable_classes_say_so_plainly(catalogue: Catalogue) -> None:
    for disease in catalogue.diseases.values():
        if disease.pathogen.type == "virus" or disease.id in ("orange-huanglongbing", "grape-esca"):
            assert not disease.curable, disease.id
        if not disease.curable:
            assert "no cure" in disease.treatment[0].lower(), disease.id
            assert re.search(r"remove|replace|cut", " ".join(disease.treatment), re.I), disease.id
        if disease.healthy:
            assert disease.severity == "none" and disease.pathogen.scientific_name is None
        else:
            assert disease.severity != "none", disease.id


def test_chemical_advice_points_to_the_label(catalogue: Catalogue) -> None:
    for disease in catalogue.diseases.values():
        steps = [*disease.treatment, *disease.prevention]
        # A step that warns against a product ("Avoid broad-spectrum insecticides") recommends none.
        for step in (s for s in steps if not s.lower().startswith("avoid")):
            if CHEMICAL_WORDS.search(step.lower()):
                assert "follow the product label and local regulations" in step.lower(), (disease.id, step)
        if not disease.healthy:
            # Cultural control comes first: the first step never starts with a chemical product.
            assert not CHEMICAL_WORDS.match(disease.treatment[0].lower()), disease.id


def test_species_care_is_complete(catalogue: Catalogue) -> None:
    for species in catalogue.species.values():
        care = species.care
        assert 0 <= care.temperature.min_c < care.temperature.max_c <= 40, species.id
        assert all(text.strip() for text in (care.light, care.water, care.soil, care.fertiliser))
        assert species.common_issues.pests, species.id
        assert catalogue.stages_of_species(species.id).stages


def test_growth_stages_cover_crops_and_generic_plant_types(catalogue: Catalogue) -> None:
    assert set(CROP_BINOMIALS) | {"houseplant", "herb"} <= set(catalogue.growth_stages)
    generic = catalogue.labels(TASK_GROWTH_STAGE)
    assert generic[0] == "germination" and "flowering" in generic
    used = set()
    for plant in catalogue.growth_stages.values():
        positions = [generic.index(s.generic_stage) for s in plant.stages]
        assert positions == sorted(positions), plant.plant_type
        used.update(s.generic_stage for s in plant.stages)
        for stage in plant.stages:
            assert 0 < stage.duration_days.min <= stage.duration_days.max, (plant.plant_type, stage.id)
    assert used == set(generic), "every generic stage label is reachable from some plant type"
    tomato = catalogue.growth_stages["tomato"]
    assert [s.id for s in tomato.stages_for("flowering")] == ["flowering"]


def test_identify_labels_are_the_sorted_species_ids(catalogue: Catalogue) -> None:
    labels = catalogue.labels(TASK_IDENTIFY)
    assert labels == tuple(sorted(labels))
    assert {"tomato", "potato", "basil", "monstera"} <= set(labels)
