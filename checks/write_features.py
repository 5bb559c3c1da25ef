"""Write modules/features.json from src/riso/features.py (the one list of features).

    python checks/write_features.py [--check]

The Nix side reads the JSON: `modules/project.nix` (feature -> services) and riso's flake
checks (one `combo-...` check per valid combination). `--check` exits 1 when the file
differs from what features.py gives; tests/unit/test_features_json.py does the same.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET = REPO / "modules" / "features.json"


def expected() -> str:
    sys.path.insert(0, str(REPO / "src"))
    from riso import feature_table

    return feature_table.nix_json()


def main(argv: list[str]) -> int:
    text = expected()
    if "--check" in argv:
        if TARGET.read_text(encoding="utf-8") != text:
            print(f"{TARGET} is out of date: run python checks/write_features.py", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
