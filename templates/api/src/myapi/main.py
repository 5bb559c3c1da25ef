"""The ASGI entry point: `uvicorn myapi.main:create_app --factory`."""

from myapi.api.app import create_app

__all__ = ["create_app"]
