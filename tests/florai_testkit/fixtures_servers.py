"""Fixtures that start real PostgreSQL and Redis servers on loopback (see servers.py)."""
