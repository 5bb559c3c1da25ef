"""`riso up` is on the path of every `nix develop` and test session: its imports must stay light."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("copier", "jinja2", "httpx", "asyncpg", "testcontainers")


def imported_by(statement: str) -> list[str]:
    code = f"import sys; {statement}; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    return done.stdout.split()


def test_the_runner_imports_nothing_heavy() -> None:
    assert imported_by("import riso.runner, riso.doctor") == []


def test_the_cli_imports_no_generator_stack() -> None:
    # Every command (`riso up` too) loads riso.cli, which registers all command groups: a module
    # there that imports Copier at the top makes every `riso up` pay for it.
    assert imported_by("import riso.cli") == []
