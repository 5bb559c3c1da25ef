"""Real projects, end to end: render (or copy), install, ruff, mypy, pytest against real services.

One matrix run, shared by the tests below: both starters (as committed, with their uv.lock), one
combination per feature, and a project made by `riso new --template minimal` + `riso add database cache`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from blueprint_helpers import REPO

from riso import generate, locking, matrix
from riso.features import implied_services

pytestmark = pytest.mark.slow

NEW_THEN_ADD = "new minimal + add database cache"


def _new_then_add(folder: Path, riso_source: Path) -> None:
    project = generate.new(folder, template="minimal", name="demo")
    assert (folder / "uv.lock").is_file()
    result = generate.add(project.path, ["database", "cache"])
    assert result.added == ["cache", "database"]
    assert locking.lock_matches(folder, "uv"), "`riso add` brings uv.lock along with pyproject.toml"


def targets() -> list[matrix.Target]:
    found = [
        matrix.copied(f"starter {name}", REPO / "templates" / name, implied_services(list(features)))
        for name, features in generate.TEMPLATES.items()
    ]
    found += [matrix.combination((feature,)) for feature in ("database", "cache", "monitoring")]
    found.append(matrix.Target(NEW_THEN_ADD, "new-then-add", _new_then_add, ("postgres", "redis"), weight=3))
    return found


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, matrix.ComboResult]:
    work = tmp_path_factory.mktemp("e2e")
    return {r.label: r for r in matrix.run(targets(), jobs=2, work=work)}


@pytest.mark.parametrize("label", [t.label for t in targets()])
def test_project_passes_lint_types_and_tests(results: dict[str, matrix.ComboResult], label: str) -> None:
    result = results[label]
    steps = [s.name for s in result.steps]
    assert result.ok, f"{label}: {result.failed_step.name if result.failed_step else '?'} failed:\n{result.tail()}"
    assert steps[-4:] == ["ruff check", "ruff format", "mypy", "pytest"]
