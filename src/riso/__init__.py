"""riso: declare a Python service project's features once; get its code, services and tests."""

__version__ = "0.1.0"
