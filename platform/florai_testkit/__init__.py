"""Test support shared by every suite: real servers (PostgreSQL, Redis, ...) and fixtures."""
