"""Fixtures that build the reference models once per test session."""
