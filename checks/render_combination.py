"""Render the blueprint with some features into a folder (riso's flake combination checks).

python render_combination.py BLUEPRINT DEST [FEATURE ...]
"""

from __future__ import annotations

import sys
from pathlib import Path

from riso import generate


def main(argv: list[str]) -> int:
    blueprint, dest, *features = argv
    generate.render(Path(dest), {"project_name": "combo", "features": features}, src=blueprint)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
