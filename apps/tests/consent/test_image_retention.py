"""Images are kept only with consent (local folder and S3 via moto), and always counted."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from sqlalchemy import event, text

import florai.services.retention as retention_api
from florai.consent import (
    ConsentService,
    LocalImageStore,
    S3ImageStore,
    SentImage,
    open_image_store,
    retain_all,
    retain_if_consented,
)
from florai.consent.image_store import user_segment
from florai.consent.service import ImageUse
from florai.metrics import IMAGES_RETAINED
from florai.services.retention import RetentionWriter
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


@contextmanager
def counted_commits(consent: ConsentService) -> Iterator[list]:
    """The transactions committed on the consent database inside the block."""
    commits: list = []

    def on_commit(connection):
        commits.append(connection)

    event.listen(consent.db.engine, "commit", on_commit)
    try:
        yield commits
    finally:
        event.remove(consent.db.engine, "commit", on_commit)


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


def _sent(user: str, n: int, task: str = "identify") -> SentImage:
    data = IMAGE + bytes([n])
    return SentImage(user, task, hashlib.sha256(data).hexdigest(), data, "png")


def test_retain_all_decides_per_user_in_one_commit(consent, tmp_path):
    store = LocalImageStore(tmp_path / "images")
    consent.update("alice", "alice", {"store_images": True})
    consent.update("carol", "carol", {"store_images": True, "allow_training": True})
    images = [_sent("alice", 0), _sent("bob", 1), _sent("carol", 2), _sent("bob", 3), _sent("alice", 4)]
    with counted_commits(consent) as commits:
        results = retain_all(consent, store, images)
    # One read of the settings and one write of all five records: two transactions, not ten.
    assert len(commits) == 2
    assert [r.kept for r in results] == [True, False, True, False, True]
    assert len({r.record_id for r in results}) == 5
    for image, result in zip(images, results, strict=True):
        assert (store.get(result.storage_uri) == image.data) if result.kept else result.storage_uri is None
    assert (consent.usage("alice").kept, consent.usage("bob").discarded) == (2, 2)
    assert consent.usage("carol").used_for_training == 1 and consent.usage("alice").used_for_training == 0


def test_retain_all_without_consent_reads_and_records_in_one_transaction(consent, tmp_path):
    store = LocalImageStore(tmp_path / "images")
    consent.update("bob", "bob", {"allow_training": True})  # training alone keeps nothing
    images = [_sent("bob", 0), _sent("dave", 1), _sent("bob", 2)]
    with counted_commits(consent) as commits:
        results = retain_all(consent, store, images)
    assert len(commits) == 1
    assert [r.kept for r in results] == [False, False, False]
    assert [r.storage_uri for r in results] == [None, None, None]
    assert len({r.record_id for r in results}) == 3
    assert not (tmp_path / "images").exists() or not any((tmp_path / "images").rglob("*.*"))
    bob, dave = consent.usage("bob"), consent.usage("dave")
    assert (bob.discarded, bob.used_for_training, dave.discarded) == (2, 0, 1)


def test_settings_or_record_discarded_takes_discarded_images_only(consent):
    kept = ImageUse("alice", "identify", "0" * 64, kept=True, storage_uri="file:///x")
    with pytest.raises(ValueError, match="discarded images only"):
        consent.settings_or_record_discarded([kept])
    assert consent.usage("alice").kept == 0


def test_retain_all_failure_removes_every_stored_image(consent, tmp_path):
    store = LocalImageStore(tmp_path / "images")
    consent.update("alice", "alice", {"store_images": True})
    with consent.db.engine.begin() as connection:
        connection.execute(text("DROP TABLE image_records"))
    with pytest.raises(DatabaseUnavailable):
        retain_all(consent, store, [_sent("alice", 0), _sent("alice", 1)])
    assert list((tmp_path / "images" / "alice").iterdir()) == []


def test_writer_groups_what_arrives_during_a_write(consent, tmp_path, monkeypatch):
    store = LocalImageStore(tmp_path / "images")
    consent.update("alice", "alice", {"store_images": True})
    groups: list[int] = []

    def counting(consent_, store_, images):
        groups.append(len(images))
        return retain_all(consent_, store_, images)

    monkeypatch.setattr(retention_api, "retain_all", counting)
    writer = RetentionWriter(consent, store)
    images = [_sent("alice" if n % 2 else "bob", n) for n in range(40)]

    async def send_all():
        return await asyncio.gather(*(writer.submit(image) for image in images))

    results = asyncio.run(send_all())
    # Submitted together: written in fewer transactions than images, none twice, none lost.
    assert sum(groups) == 40 and len(groups) < 40
    assert [r.kept for r in results] == [n % 2 == 1 for n in range(40)]
    assert (consent.usage("alice").kept, consent.usage("bob").discarded) == (20, 20)


def test_writer_failure_fails_each_image_of_the_group_and_recovers(consent, tmp_path):
    store = LocalImageStore(tmp_path / "images")
    writer = RetentionWriter(consent, store)
    consent.db.engine.dispose()
    with consent.db.engine.begin() as connection:
        connection.execute(text("ALTER TABLE image_records RENAME TO image_records_away"))

    async def send(images):
        return await asyncio.gather(*(writer.submit(i) for i in images), return_exceptions=True)

    failed = asyncio.run(send([_sent("bob", n) for n in range(3)]))
    assert all(isinstance(outcome, DatabaseUnavailable) for outcome in failed)
    with consent.db.engine.begin() as connection:
        connection.execute(text("ALTER TABLE image_records_away RENAME TO image_records"))
    assert [r.kept for r in asyncio.run(send([_sent("bob", 9)]))] == [False]
    assert consent.usage("bob").discarded == 1
