"""pyrage, the age implementation riso uses, loaded on first use with one clear error when absent
(nixpkgs has no pyrage, so riso's Nix package lacks it)."""

from __future__ import annotations

import importlib
from types import ModuleType

from riso.errors import RisoError


def pyrage() -> ModuleType:
    try:
        return importlib.import_module("pyrage")
    except ImportError:
        raise RisoError(
            "`riso secrets` needs the Python package pyrage, which this installation of riso lacks",
            "install riso with pip or uv, which bring it (nixpkgs has no pyrage; see docs/secrets.md)",
        ) from None
