"""What the offline engine relies on in the Pulumi SDK, pinned: a new SDK that changes it fails here.

The engine uses the SDK's public API (``run_in_stack``, ``set_mocks``, ``rpc.is_rpc_secret``,
``rpc.UNKNOWN``, ``settings.set_root_resource``) and, where no public predicate exists, the
SDK's own resource-reference constant (imported, never copied). These tests serialize real SDK
values and run a real program, so they check the wire shapes, not our copy of them.
"""

from __future__ import annotations

import json
from pathlib import Path

from pulumi.runtime import rpc

from florai_infra.offline.engine import UNKNOWN_MARK, run_stack, scrub
from florai_infra.offline.plan import SECRET_MARK

PROGRAMS = Path(__file__).parent / "programs"


def test_a_wrapped_secret_is_what_the_sdk_calls_a_secret_and_scrub_masks_it():
    wire = rpc.wrap_rpc_secret("hunter2")
    assert rpc.is_rpc_secret(wire) and rpc.unwrap_rpc_secret(wire) == "hunter2"
    assert scrub({"password": wire}) == {"password": SECRET_MARK}


def test_the_unknown_sentinel_is_the_sdks():
    assert rpc.UNKNOWN == "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
    assert scrub(["a", rpc.UNKNOWN]) == ["a", UNKNOWN_MARK]


def test_resource_references_use_the_sdks_signature_key():
    reference = {rpc._special_sig_key: rpc._special_resource_sig, "urn": "urn:pulumi:dev::florai::t::n"}
    assert scrub({"ref": reference}) == {"ref": "urn:pulumi:dev::florai::t::n"}
    # Integral floats (the protobuf Struct has only doubles) come back as ints.
    assert scrub({"port": 5432.0, "ratio": 0.5}) == {"port": 5432, "ratio": 0.5}


def test_a_program_runs_twice_in_one_process_with_parents_dependencies_and_outputs():
    config = {"florai:environment": "dev", "aws:region": "eu-west-1", "florai:dbPassword": {"secure": "v1:x"}}
    first = run_stack("dev", config=config, program=PROGRAMS / "small_stack.py")
    second = run_stack("dev", config=config, program=PROGRAMS / "small_stack.py")
    assert [r.urn for r in first.resources] == [r.urn for r in second.resources]
    by_name = {r.name: r for r in first.resources}
    bucket = by_name["models-bucket"]
    assert bucket.parent is not None and bucket.parent.endswith("::models")
    sse = by_name["models-sse"]
    assert bucket.urn in sse.dependencies
    # The mock monitor supports secrets, so a secret config value reaches the plan masked.
    assert first.outputs["databasePassword"] == SECRET_MARK
    assert first.outputs["modelBucket"] == "florai-dev-models"
    assert "v1:x" not in json.dumps(first.outputs)


def test_a_run_after_asyncio_run_left_no_event_loop_still_works():
    """asyncio.run() (as async app tests use) leaves the thread without a loop; the engine makes one."""
    import asyncio

    async def nothing() -> None:
        return None

    asyncio.run(nothing())
    config = {"florai:environment": "dev", "aws:region": "eu-west-1", "florai:dbPassword": {"secure": "v1:x"}}
    plan = run_stack("dev", config=config, program=PROGRAMS / "small_stack.py")
    assert plan.outputs["modelBucket"] == "florai-dev-models"
