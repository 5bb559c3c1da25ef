"""The ASGI entry point: `uvicorn myapp.main:create_app --factory`."""

from myapp.api.app import create_app

__all__ = ["create_app"]
