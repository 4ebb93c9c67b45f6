"""Images are kept only with consent (local folder and S3 via moto), and always counted."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from sqlalchemy import text

from florai.consent import (
    ConsentService,
    LocalImageStore,
    S3ImageStore,
    open_image_store,
    retain_if_consented,
)
from florai.consent.image_store import user_segment
from florai.metrics import IMAGES_RETAINED
from florai.storage import Database, DatabaseUnavailable, upgrade

IMAGE = b"\x89PNG\r\n\x1a\n fake image bytes"
SHA = hashlib.sha256(IMAGE).hexdigest()


@pytest.fixture
def consent(tmp_path) -> Iterator[ConsentService]:
    url = f"sqlite:///{tmp_path / 'florai.db'}"
    upgrade(url)
    db = Database(url)
    yield ConsentService(db)
    db.dispose()


def _retain(consent, store, user="alice", task="identify"):
    return retain_if_consented(consent, store, user_id=user, task=task, sha256=SHA, data=IMAGE, ext="png")


def test_discarded_without_consent_but_counted(consent, tmp_path):
    store = LocalImageStore(tmp_path / "images")
    result = _retain(consent, store)
    assert (result.kept, result.storage_uri) == (False, None)
    assert not (tmp_path / "images").exists()
    assert consent.usage("alice").discarded == 1


def test_kept_with_consent_under_user_and_hash(consent, tmp_path):
    store = LocalImageStore(tmp_path / "images")
    consent.update("alice", "alice", {"store_images": True, "allow_training": True})
    before = IMAGES_RETAINED.labels(task="diagnose")._value.get()
    result = _retain(consent, store, task="diagnose")
    assert result.kept
    assert Path(result.storage_uri) == (tmp_path / "images" / "alice" / f"{SHA}.png").resolve()
    assert store.get(result.storage_uri) == IMAGE
    assert IMAGES_RETAINED.labels(task="diagnose")._value.get() == before + 1
    usage = consent.usage("alice")
    assert (usage.kept, usage.used_for_training) == (1, 1)
    assert list((tmp_path / "images" / "alice").iterdir()) == [Path(result.storage_uri)]  # no temp files left


def test_store_failure_discards_instead_of_failing(consent, tmp_path):
    blocker = tmp_path / "images"
    blocker.write_text("a file where the folder should be")  # every write under it fails
    consent.update("alice", "alice", {"store_images": True})
    result = _retain(consent, LocalImageStore(blocker))
    assert not result.kept
    assert consent.usage("alice").discarded == 1


def test_record_failure_removes_the_stored_image(consent, tmp_path):
    store = LocalImageStore(tmp_path / "images")
    consent.update("alice", "alice", {"store_images": True})

    with consent.db.engine.begin() as connection:
        connection.execute(text("DROP TABLE image_records"))  # the record write now really fails
    with pytest.raises(DatabaseUnavailable, match="image_records"):
        _retain(consent, store)
    assert list((tmp_path / "images" / "alice").iterdir()) == []


@pytest.mark.parametrize("user_id", ["../../etc", "a/b", ".hidden", "x" * 300, "用户"])
def test_user_ids_never_escape_the_store(tmp_path, user_id):
    store = LocalImageStore(tmp_path / "images")
    uri = store.put(user_id, SHA, IMAGE, "jpg")
    assert Path(uri).parent.parent == store.root
    assert user_segment(user_id).startswith("u-")
    with pytest.raises(ValueError, match="outside the image store"):
        store.get(str(tmp_path / "elsewhere.jpg"))


def test_bad_hash_or_extension_refused(tmp_path):
    store = LocalImageStore(tmp_path)
    with pytest.raises(ValueError, match="sha256"):
        store.put("alice", "../x", IMAGE, "png")
    with pytest.raises(ValueError, match="extension"):
        store.put("alice", SHA, IMAGE, "png/../../x")


@mock_aws
def test_s3_store_writes_with_sse_kms():
    s3 = boto3.client("s3", region_name="eu-west-1")
    s3.create_bucket(Bucket="model-store", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    key_id = boto3.client("kms", region_name="eu-west-1").create_key()["KeyMetadata"]["KeyId"]

    store = open_image_store("s3://model-store/consented/", kms_key_id=key_id, s3_client=s3)
    assert isinstance(store, S3ImageStore)
    uri = store.put("alice", SHA, IMAGE, "png")
    assert uri == f"s3://model-store/consented/alice/{SHA}.png"
    head = s3.head_object(Bucket="model-store", Key=f"consented/alice/{SHA}.png")
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"].endswith(key_id)
    assert store.get(uri) == IMAGE
    with pytest.raises(ValueError, match="outside the image store"):
        store.get("s3://other-bucket/consented/x.png")
    store.delete(uri)
    assert s3.list_objects_v2(Bucket="model-store").get("KeyCount") == 0


def test_local_path_opens_a_local_store(tmp_path):
    assert isinstance(open_image_store(str(tmp_path)), LocalImageStore)
