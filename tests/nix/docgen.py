"""Regenerate the generated part of docs/nix.md from the modules and checks/nixpkgs-attributes.nix.

    RISO_NIXPKGS_LIB=/path/to/nixpkgs.lib python tests/nix/docgen.py [--check]

The text between the markers comes from `checks/options-doc.nix`; the rest of the file is
written by hand. `--check` exits 1 when the file is out of date (the flake's `docs` check
and tests/nix/test_docs.py do the same comparison).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "nix.md"
BEGIN = "<!-- generated: begin -->"
END = "<!-- generated: end -->"
NIX_CONFIG = "experimental-features = nix-command flakes\nsubstituters =\n"


def generated(lib_path: Path) -> str:
    expr = f"import {REPO}/checks/options-doc.nix {{ lib = import {lib_path}/lib; }}"
    done = subprocess.run(
        ["nix", "eval", "--raw", "--impure", "--expr", expr],
        env={**os.environ, "NIX_CONFIG": NIX_CONFIG},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"evaluating checks/options-doc.nix failed: {done.stderr.strip()}")
    return done.stdout.strip()


def splice(text: str, part: str) -> str:
    """`text` with the part between the markers replaced by `part`."""
    head, sep, rest = text.partition(BEGIN)
    _, sep2, tail = rest.partition(END)
    if not sep or not sep2:
        raise ValueError(f"{DOC} lacks the markers {BEGIN} ... {END}")
    return f"{head}{BEGIN}\n{part}\n{END}{tail}"


def main(argv: list[str]) -> int:
    lib = os.environ.get("RISO_NIXPKGS_LIB")
    if not lib:
        print("error: set RISO_NIXPKGS_LIB to a nixpkgs.lib checkout (the modules need nixpkgs' lib)", file=sys.stderr)
        return 2
    current = DOC.read_text(encoding="utf-8")
    wanted = splice(current, generated(Path(lib)))
    if "--check" in argv:
        if wanted != current:
            print(f"{DOC} is out of date: run python tests/nix/docgen.py", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
