"""Configuration shared by every part of the service."""
