"""Shared pytest fixtures for every suite (tests/ and apps/tests/), from florai_testkit."""

pytest_plugins = [
    "florai_testkit.fixtures_servers",
    "florai_testkit.fixtures_models",
]
