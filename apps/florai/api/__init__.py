"""The HTTP API: ``create_app(settings)`` builds the FastAPI app for the enabled services."""

from florai.api.app import create_app

__all__ = ["create_app"]
