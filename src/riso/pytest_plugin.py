"""Pytest fixtures for riso projects (entry point `pytest11`)."""
