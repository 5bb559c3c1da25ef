"""checks/combinations: the one lock every combination check of riso's flake installs from.

Its dependency lists must be those of a render with every feature (each combination's
are a subset), and its uv.lock must be current for them.
"""

from __future__ import annotations

import shutil
import subprocess
import tomllib

import pytest

from riso import features, generate

from .conftest import REPO

COMBINATIONS = REPO / "checks" / "combinations"


@pytest.fixture(scope="session")
def full_render(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    dest = tmp_path_factory.mktemp("render") / "combo"
    answers = {"project_name": "combo", "features": sorted(features.FEATURES)}
    generate.render(dest, answers, src=str(REPO / "src" / "riso" / "blueprint"))
    return tomllib.loads((dest / "pyproject.toml").read_text())


def test_lists_equal_those_of_a_render_with_every_feature(full_render: dict[str, object]) -> None:
    ours = tomllib.loads((COMBINATIONS / "pyproject.toml").read_text())
    project = full_render["project"]
    assert isinstance(project, dict)
    assert sorted(ours["project"]["dependencies"]) == sorted(project["dependencies"])
    groups = full_render.get("dependency-groups", {})
    assert isinstance(groups, dict)
    assert sorted(ours["dependency-groups"]["dev"]) == sorted(groups.get("dev", []))
    assert ours["tool"]["uv"]["package"] is False  # virtual: the render's own code is on PYTHONPATH


def test_lock_is_current() -> None:
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not installed (pip install uv)")
    done = subprocess.run(
        [uv, "lock", "--check", "--project", str(COMBINATIONS)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
