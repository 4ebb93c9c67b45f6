"""Execute the Pulumi program under the SDK's mocks and record what it declares.

The SDK's ``MockMonitor`` hands resource inputs to ``Mocks.new_resource`` but drops the
parent, the dependencies, the secret markers and the resource options; ``RecordingMonitor``
keeps them so the plan shows the component tree, the dependency graph, which values are
secret and which resources are protected or retained on delete.
"""

from __future__ import annotations

import asyncio
import logging
import runpy
from pathlib import Path
from typing import Any

import pulumi
import yaml
from google.protobuf import json_format
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc, run_in_stack
from pulumi.runtime import settings as pulumi_settings

from florai_infra import PROJECT
from florai_infra.config import ConfigError
from florai_infra.offline.calls import answer_call
from florai_infra.offline.outputs import fabricate_outputs, physical_id
from florai_infra.offline.placeholders import remember_account
from florai_infra.offline.plan import SECRET_MARK, STACK_TYPE, Plan, PlannedResource

REPO_ROOT = Path(__file__).resolve().parents[3]
PROGRAM = REPO_ROOT / "platform" / "__main__.py"
ACCOUNT_ID = "123456789012"

UNKNOWN_MARK = "[unknown]"


def _is_resource_reference(value: dict[str, Any]) -> bool:
    # The SDK has no public predicate for references (is_rpc_secret's sibling); its constant is
    # imported, not copied, and tests/infra/test_offline_engine.py pins the wire shape.
    return value.get(rpc._special_sig_key) == rpc._special_resource_sig


def scrub(value: Any) -> Any:
    """Turn wire-format values into plain JSON: secrets masked, references as URNs."""
    if isinstance(value, dict):
        if rpc.is_rpc_secret(value):
            return SECRET_MARK
        if _is_resource_reference(value):
            return value.get("urn")
        return {k: scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    if value == rpc.UNKNOWN:
        return UNKNOWN_MARK
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _strip_provider_id(ref: str) -> str | None:
    return ref.rsplit("::", 1)[0] if ref else None


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """A MockMonitor that also records parent, dependencies, secrets and stack outputs."""

    def __init__(self, mocks: pulumi_mocks.Mocks):
        super().__init__(mocks)
        self.recorded: dict[str, PlannedResource] = {}
        self.stack_outputs: dict[str, Any] = {}

    def RegisterResource(self, request):  # noqa: N802 (gRPC method name)
        response = super().RegisterResource(request)
        if request.type == STACK_TYPE:
            return response
        self.recorded[response.urn] = PlannedResource(
            urn=response.urn,
            type=request.type,
            name=request.name,
            parent=request.parent or None,
            custom=bool(request.custom),
            dependencies=tuple(sorted(set(request.dependencies))),
            inputs=scrub(json_format.MessageToDict(request.object)),
            provider=_strip_provider_id(request.provider),
            # Unset options are off: the SDK has already applied what a parent passes down.
            protect=request.protect,
            retain_on_delete=request.retainOnDelete,
        )
        return response

    def RegisterResourceOutputs(self, request):  # noqa: N802
        if request.urn.split("::")[2] == STACK_TYPE:
            self.stack_outputs = scrub(json_format.MessageToDict(request.outputs))
        return super().RegisterResourceOutputs(request)


class OfflineMocks(pulumi_mocks.Mocks):
    """Deterministic, plausible outputs for resources and answers for data sources."""

    def __init__(self, stack: str, region: str, account_id: str = ACCOUNT_ID):
        self.stack = stack
        self.region = region
        self.account_id = account_id
        self.provider_regions: dict[str, str] = {}

    def new_resource(self, args: pulumi_mocks.MockResourceArgs):
        # A resource through an explicit provider (the DR region's) lives in that provider's region.
        region = self.provider_regions.get((args.provider or "").rsplit("::", 1)[-1], self.region)
        rid = physical_id(args.typ, args.name, args.inputs, region=region, account_id=self.account_id)
        outputs = fabricate_outputs(
            args.typ, args.name, args.inputs, rid, region=region, account_id=self.account_id
        )
        if args.typ == "pulumi:providers:aws":
            self.provider_regions[rid] = args.inputs.get("region") or self.region
        return rid, outputs

    def call(self, args: pulumi_mocks.MockCallArgs):
        return answer_call(args.token, args.args, region=self.region, account_id=self.account_id)


def stack_config_path(stack: str) -> Path:
    return REPO_ROOT / f"Pulumi.{stack}.yaml"


def load_stack_config(stack: str) -> dict[str, Any]:
    """The ``config:`` map of ``Pulumi.<stack>.yaml``, as the CLI would pass it."""
    path = stack_config_path(stack)
    if not path.exists():
        raise FileNotFoundError(f"stack {stack!r} has no config file {path.name}")
    return read_config_file(path, stack)


def read_config_file(path: Path, stack: str) -> dict[str, Any]:
    """The ``config:`` map of a Pulumi.<stack>.yaml-style file; a YAML error names the file and line."""
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"{path.name}, line {mark.line + 1}" if mark is not None else path.name
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise ConfigError(stack, [f"{where}: {problem}: fix the YAML syntax there"]) from None
    return dict(data.get("config") or {})


def stack_account_id(config: dict[str, Any]) -> str:
    """The stack's one account (``aws:allowedAccountIds``), so offline ARNs name the right account."""
    ids = config.get("aws:allowedAccountIds")
    if isinstance(ids, str):
        ids = yaml.safe_load(ids)
    return str(ids[0]) if isinstance(ids, list) and len(ids) == 1 else ACCOUNT_ID


def _wire_config(config: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    """Config values as the engine hands them to a program: strings, JSON for structures."""
    import json

    wire: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in config.items():
        full_key = key if ":" in key else f"{PROJECT}:{key}"
        if isinstance(value, dict) and set(value) == {"secure"}:
            wire[full_key] = SECRET_MARK  # ciphertext never leaves the config file offline
            secret_keys.append(full_key)
        elif isinstance(value, str):
            wire[full_key] = value
        else:
            wire[full_key] = json.dumps(value)
    return wire, secret_keys


def _current_event_loop() -> asyncio.AbstractEventLoop:
    try:
        loop = asyncio.get_event_loop()
    except RuntimeError:
        loop = None
    if loop is None or loop.is_closed():
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
    return loop


def run_stack(
    stack: str,
    config: dict[str, Any] | None = None,
    program: Path = PROGRAM,
) -> Plan:
    """Run ``program`` for ``stack`` under mocks and return everything it declared.

    ``config`` replaces the stack's config file (tests pass a modified copy of it).
    Errors the program raises (a ``ConfigError``, say) propagate unchanged.
    """
    config = load_stack_config(stack) if config is None else config
    wire, secret_keys = _wire_config(config)
    region = wire.get("aws:region", "us-east-1")

    # The SDK creates its futures on the thread's current event loop from set_mocks on, and the stack
    # runs to completion on it: make sure there is one (an earlier asyncio.run() leaves none behind).
    loop = _current_event_loop()
    account_id = stack_account_id(config)
    if "aws:allowedAccountIds" not in config:  # the stack names no account: the engine's is invented
        remember_account(account_id)
    mocks = OfflineMocks(stack=stack, region=region, account_id=account_id)
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_all_config(wire, secret_keys)
    pulumi_mocks.set_mocks(
        mocks,
        project=PROJECT,
        stack=stack,
        preview=False,
        monitor=monitor,
        logger=logging.getLogger("florai.offline"),
    )
    # One root stack per run: a previous run's (same process, e.g. the test suite) must go.
    pulumi_settings.set_root_resource(None)  # type: ignore[arg-type]

    def main() -> None:
        runpy.run_path(str(program), run_name="__main__")

    try:
        loop.run_until_complete(run_in_stack(main))
    finally:
        pulumi_settings.set_root_resource(None)  # type: ignore[arg-type]
    return Plan(
        project=PROJECT,
        stack=stack,
        resources=sorted(monitor.recorded.values(), key=lambda r: r.urn),
        outputs=monitor.stack_outputs,
    )
