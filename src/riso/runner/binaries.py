"""Finding server binaries on this machine (the Python side's stand-in for store paths)."""

from __future__ import annotations

import shutil
from pathlib import Path

# Debian and Ubuntu keep the Postgres server binaries off PATH.
POSTGRES_LIB = Path("/usr/lib/postgresql")


def postgres_dirs(version: str | None) -> list[Path]:
    """Debian's versioned Postgres bin folders, the requested version first, newest next."""
    if not POSTGRES_LIB.is_dir():
        return []
    found = sorted(
        (p for p in POSTGRES_LIB.iterdir() if (p / "bin").is_dir()),
        key=lambda p: int(p.name) if p.name.isdigit() else 0,
        reverse=True,
    )
    if version is not None:
        found = [p for p in found if p.name == version]
    return [p / "bin" for p in found]


def find(name: str, extra_dirs: list[Path] | None = None) -> str | None:
    """The absolute path of `name`: extra_dirs first (they pin a version), then PATH."""
    for folder in extra_dirs or []:
        candidate = folder / name
        if candidate.is_file():
            return str(candidate)
    return shutil.which(name)
