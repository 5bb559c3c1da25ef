"""riso's own coordinates, in one place: every generated file takes them from here (via Copier).

Until riso is published, a project points them at a checkout (its README says how): `riso_pypi_name`
is what `uv tool install` / `pipx install` installs, `riso_flake_url` is the flake input of its flake.nix.
"""

from __future__ import annotations

PYPI_NAME = "riso"
FLAKE_URL = "github:riso-dev/riso"


def copier_data() -> dict[str, str]:
    """The coordinates as the Copier variables the blueprint renders them from."""
    return {"riso_pypi_name": PYPI_NAME, "riso_flake_url": FLAKE_URL}
