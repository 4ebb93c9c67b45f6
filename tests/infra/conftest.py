"""Fixtures for the infrastructure tests: each stack's offline plan, computed once per session."""

from __future__ import annotations

import time

import pytest

from florai_infra import STACKS
from florai_infra.offline.engine import run_stack
from florai_infra.offline.plan import Plan

_PLANS: dict[str, Plan] = {}
RUN_SECONDS: dict[str, float] = {}


def stack_plan(stack: str) -> Plan:
    """The plan of ``stack`` from its committed config; each stack runs once per session."""
    if stack not in _PLANS:
        started = time.perf_counter()
        _PLANS[stack] = run_stack(stack)
        RUN_SECONDS[stack] = time.perf_counter() - started
    return _PLANS[stack]


@pytest.fixture(scope="session", params=STACKS)
def plan(request) -> Plan:
    """Parametrises a test over every stack."""
    return stack_plan(request.param)


@pytest.fixture(scope="session")
def dev_plan() -> Plan:
    return stack_plan("dev")


@pytest.fixture(scope="session")
def staging_plan() -> Plan:
    return stack_plan("staging")


@pytest.fixture(scope="session")
def prod_plan() -> Plan:
    return stack_plan("prod")


@pytest.fixture(scope="session")
def run_seconds() -> dict[str, float]:
    """Wall-clock seconds of each stack's offline run in this session."""
    return RUN_SECONDS
