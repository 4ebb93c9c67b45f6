"""The "My data" tab: consent settings (change them), the audit log, usage, and erasure when offered."""

from __future__ import annotations

import streamlit as st

from florai_ui.api_client import ApiCallError, ApiClient

KEY_STORE = "consent_store_images"
KEY_TRAIN = "consent_allow_training"
KEY_SAVE = "consent_save"
KEY_ERASE_CONFIRM = "erase_confirm"
KEY_ERASE = "erase"
SAVED = "Your consent settings were saved."
ERASED = "Your kept images and usage records were erased."


def settings(client: ApiClient) -> None:
    current = client.consent()
    st.subheader("Consent")
    store = st.toggle("Keep my photos in FlorAI's image store", value=current["store_images"], key=KEY_STORE)
    train = st.toggle(
        "Kept photos may be used to train better models", value=current["allow_training"], key=KEY_TRAIN
    )
    updated = current.get("updated_at") or "never"
    st.caption(f"Version {current['version']}, last changed {updated}")
    if st.button("Save consent", key=KEY_SAVE):
        client.set_consent(store_images=store, allow_training=train, expected_version=current["version"])
        st.success(SAVED)


def audit(client: ApiClient) -> None:
    st.subheader("Audit log")
    entries = client.audit().get("entries", [])
    if not entries:
        st.caption("No changes yet.")
        return
    st.dataframe(
        [{k: e[k] for k in ("changed_at", "field", "old_value", "new_value", "actor")} for e in entries],
        hide_index=True,
    )


def usage(client: ApiClient) -> None:
    st.subheader("Usage")
    record = client.usage()
    kept, discarded, trained = st.columns(3)
    kept.metric("Photos kept", record["kept"])
    discarded.metric("Photos discarded", record["discarded"])
    trained.metric("Used for training", record["used_for_training"])
    by_task = record.get("by_task") or {}
    if by_task:
        st.dataframe([{"task": task, **counts} for task, counts in by_task.items()], hide_index=True)


def erasure(client: ApiClient) -> None:
    if not client.offers_erasure():
        return
    st.subheader("Erase my data")
    confirmed = st.checkbox(
        "I understand that my kept photos and records are deleted for good", key=KEY_ERASE_CONFIRM
    )
    if st.button("Erase my data", key=KEY_ERASE, disabled=not confirmed):
        client.erase()
        st.success(ERASED)


def render(client: ApiClient) -> None:
    for part in (settings, audit, usage, erasure):
        try:
            part(client)
        except ApiCallError as problem:
            st.error(problem.message)
            return  # the next parts would fail the same way
