"""A tiny Copier template with the blueprint's question contract, for testing the generator alone.

`write(folder, readme_line)` writes it; two calls with different lines make two blueprint versions.
"""

from __future__ import annotations

from pathlib import Path

COPIER_YML = """\
_subdirectory: project
_answers_file: .copier-answers.yml
project_name:
  type: str
  help: distribution name
package_name:
  type: str
  default: "{{ project_name | lower | replace('-', '_') }}"
description:
  type: str
  default: A service
features:
  type: str
  multiselect: true
  choices: [api, cache, database, monitoring]
  default: []
python_version:
  type: str
  choices: ["3.11", "3.12", "3.13"]
  default: "3.11"
devcontainer_flavour:
  type: str
  choices: [compose, nix]
  default: compose
riso_requirement:
  type: str
  default: riso
"""

FILES = {
    "{{ _copier_conf.answers_file }}.jinja": (
        "# Changes here will be overwritten by Copier; NEVER EDIT MANUALLY\n{{ _copier_answers|to_nice_yaml -}}\n"
    ),
    "pyproject.toml.jinja": """\
[project]
name = "{{ project_name }}"
version = "0.1.0"
description = "{{ description }}"
requires-python = ">={{ python_version }}"

[dependency-groups]
dev = ["pytest>=8", "ruff>=0.6", "mypy>=1.11"]

[build-system]
requires = ["poetry-core>=2.0"]
build-backend = "poetry.core.masonry.api"

[tool.poetry]
packages = [{ include = "{{ package_name }}", from = "src" }]

[tool.riso]
features = {{ features | tojson }}

[tool.riso.devcontainer]
flavour = "{{ devcontainer_flavour }}"

[tool.ruff]
line-length = 100

[tool.mypy]
strict = true
files = ["src", "tests"]
""",
    "README.md.jinja": "# {{ project_name }}\n\n{{ readme_line }}\n\nFeatures: {{ features | join(', ') }}\n",
    "src/{{ package_name }}/__init__.py.jinja": (
        '"""{{ description }}"""\n\nFEATURES: list[str] = {{ features | tojson }}\n'
    ),
    "src/{{ package_name }}/{% if 'database' in features %}db.py{% endif %}.jinja": 'URL_ENV = "DATABASE_URL"\n',
    "src/{{ package_name }}/{% if 'cache' in features %}cache.py{% endif %}.jinja": 'URL_ENV = "REDIS_URL"\n',
    "tests/test_features.py.jinja": """\
import importlib
import tomllib
from pathlib import Path

import {{ package_name }}


def test_manifest_matches_code() -> None:
    root = Path(__file__).resolve().parents[1]
    manifest = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["riso"]["features"]
    assert manifest == {{ package_name }}.FEATURES
    for name, module in (("database", "db"), ("cache", "cache")):
        present = (root / "src" / "{{ package_name }}" / f"{module}.py").exists()
        assert present == (name in manifest)
        if present:
            importlib.import_module(f"{{ package_name }}.{module}")
""",
}


def write(folder: Path, readme_line: str = "Version one of the blueprint.") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "copier.yml").write_text(
        COPIER_YML + f"readme_line:\n  type: str\n  default: {readme_line!r}\n  when: false\n"
    )
    for rel, text in FILES.items():
        path = folder / "project" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder
