"""ASGI entry point for uvicorn: ``fitroom.api.main:app`` (settings from the environment)."""

from fitroom.api.app import create_app

app = create_app()
