"""Fixtures for the container tests; the helpers live in container_support (a unique module name, so
test files can import them whichever folders pytest is given)."""

from container_support import compose_schema, devcontainer_schema, render

__all__ = ["compose_schema", "devcontainer_schema", "render"]
