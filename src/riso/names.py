"""Project names: what `riso new` accepts, and the import package derived from it.

A project name is a distribution name (`my-app`); its import package (`my_app`) must be a Python
identifier that is not a keyword and does not shadow the standard library or a library the
generated project imports.
"""

from __future__ import annotations

import keyword
import re
import sys

from riso.errors import RisoError

# The generated code is ruff-clean (line length 100) for names up to this long; longer ones would put
# imports and docstrings past the limit.
MAX_LENGTH = 32

_DISTRIBUTION = re.compile(r"[A-Za-z](?:[A-Za-z0-9_-]*[A-Za-z0-9])?")

# Imported by generated projects: a package of the same name would hide them.
_TAKEN = frozenset(
    {
        "alembic",
        "asyncpg",
        "fastapi",
        "httpx",
        "opentelemetry",
        "prometheus_client",
        "pydantic",
        "pydantic_settings",
        "pytest",
        "redis",
        "riso",
        "sqlalchemy",
        "starlette",
        "tests",
        "uvicorn",
    }
)


def package_name(project_name: str) -> str:
    """The import package for a project name: lowercased, '-' -> '_'."""
    return project_name.lower().replace("-", "_")


def validate_project_name(name: str) -> str:
    """Return `name` if it is usable as a project name; raise one clear RisoError otherwise."""
    fix = "use letters, digits, '-' and '_', starting with a letter, e.g. my-app"
    if not name:
        raise RisoError("the project name is empty", fix)
    bad = sorted({c for c in name if not (c.isascii() and (c.isalnum() or c in "-_"))})
    if bad:
        raise RisoError(f"invalid project name {name!r}: character {bad[0]!r} is not allowed", fix)
    if len(name) > MAX_LENGTH:
        raise RisoError(
            f"invalid project name {name!r}: {len(name)} characters, at most {MAX_LENGTH}",
            "choose a shorter name (the generated code keeps lines under 100 characters)",
        )
    if not _DISTRIBUTION.fullmatch(name):
        rule = "start with a letter" if not name[0].isalpha() else "end with a letter or digit"
        raise RisoError(f"invalid project name {name!r}: it must {rule}", fix)
    package = package_name(name)
    shown = f"project name {name!r}" if package == name else f"project name {name!r} (import package {package!r})"
    validate_package_name(package, shown)
    return name


def validate_package_name(package: str, origin: str | None = None) -> str:
    """Return `package` if it can be the project's import package; raise a RisoError otherwise."""
    what = origin or f"package name {package!r}"
    if not package.isidentifier() or not package.isascii():
        raise RisoError(f"invalid {what}: not a Python identifier", "use letters, digits and '_'")
    if keyword.iskeyword(package):
        raise RisoError(f"invalid {what}: it is a Python keyword", "choose another name, e.g. my-app")
    if package in sys.stdlib_module_names:
        raise RisoError(f"invalid {what}: it would shadow the standard library module", "choose another name")
    if package in _TAKEN:
        raise RisoError(f"invalid {what}: it would shadow a library the project imports", "choose another name")
    return package
