"""Helpers behind riso's pytest plugin: finding services, isolating databases, emptying Redis."""
