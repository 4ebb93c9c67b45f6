"""What the catalogue says about the top answer: care, symptoms, treatment, prevention, stages."""

from __future__ import annotations

import streamlit as st

from florai import contract as api_contract
from florai_ui.api_client import ApiCallError, ApiClient

KEY_PLANT_TYPE = "plant_type"


def _bullets(title: str, items: object) -> None:
    if items:
        st.markdown(f"**{title}**")
        st.markdown("\n".join(f"- {item}" for item in items))


def _care(care: dict) -> None:
    temperature = care.get("temperature") or care.get("temperature_c") or {}
    low = temperature.get("min_c", temperature.get("min"))
    high = temperature.get("max_c", temperature.get("max"))
    rows = [
        ("Light", care.get("light")),
        ("Water", care.get("water")),
        ("Soil", care.get("soil")),
        ("Temperature", f"{low}–{high} °C" if low is not None else None),
        ("Feeding", care.get("fertiliser")),
        ("Pruning", care.get("pruning")),
    ]
    st.markdown("\n".join(f"- **{name}:** {value}" for name, value in rows if value))


def species(client: ApiClient, species_id: str) -> None:
    record = client.species(species_id)
    st.subheader(record.get("common_name") or record.get("name") or species_id)
    if record.get("scientific_name"):
        st.caption(f"*{record['scientific_name']}* ({record.get('family', '')})")
    st.write(record.get("description", ""))
    st.markdown("**Care**")
    _care(record.get("care") or {})
    issues = record.get("common_issues") or {}
    _bullets("Common pests", issues.get("pests"))
    _bullets("Other problems", issues.get("other_problems"))


def disease(client: ApiClient, disease_id: str) -> None:
    record = client.disease(disease_id)
    st.subheader(record.get("name", disease_id))
    pathogen = record.get("pathogen") or {}
    if pathogen.get("type") and pathogen["type"] != "none":
        agent = pathogen.get("scientific_name") or ""
        st.caption(f"{pathogen['type']}: {agent} · severity {record.get('severity')}")
    st.markdown(f"**Symptoms:** {record.get('symptoms', '')}")
    _bullets("Treatment", record.get("treatment"))
    _bullets("Prevention", record.get("prevention"))


def growth_stages(client: ApiClient, generic_stage: str) -> None:
    label = "Plant type for the stage timeline (for example tomato)"
    plant_type = st.text_input(label, key=KEY_PLANT_TYPE).strip()
    if not plant_type:
        return
    record = client.growth_stages(plant_type)
    st.subheader(record.get("name", plant_type))
    for stage in record.get("stages", []):
        days = stage.get("duration_days") or {}
        marker = "➤ " if stage.get("generic_stage") == generic_stage else ""
        st.markdown(
            f"{marker}**{stage.get('name')}** ({days.get('min')}–{days.get('max')} days): "
            f"{stage.get('visual_cues', '')} *Care:* {stage.get('care', '')}"
        )


def render(client: ApiClient, task: str, response: dict) -> None:
    predictions = response.get("predictions") or []
    if not predictions:
        return
    top = predictions[0]["id"]
    with st.expander("About the top answer", expanded=True):
        try:
            if task == api_contract.TASK_IDENTIFY:
                species(client, top)
            elif task == api_contract.TASK_DIAGNOSE:
                disease(client, top)
            else:
                growth_stages(client, top)
        except ApiCallError as problem:
            st.warning(problem.message)
