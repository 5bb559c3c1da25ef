"""An ordinary (non-root) user for tests that must not run as root (Postgres refuses to)."""

from __future__ import annotations

import pwd
import subprocess
import sys

ORDINARY = "risotest"


def ordinary_user() -> pwd.struct_passwd:
    """The test user, made (without a home folder) when missing."""
    try:
        return pwd.getpwnam(ORDINARY)
    except KeyError:
        subprocess.run(["useradd", "--no-create-home", "--shell", "/bin/sh", ORDINARY], check=True)
        return pwd.getpwnam(ORDINARY)


def as_user(name: str, check: tuple[str, ...] = (sys.executable, "-c", "import riso.cli")) -> list[str]:
    """setpriv as `name`; when the program `check` runs sits somewhere that user cannot read (an
    interpreter under /root), the search-and-read capability lets it load; it grants no write access."""
    prefix = ["setpriv", f"--reuid={name}", f"--regid={name}", "--init-groups"]
    probe = subprocess.run([*prefix, *check], capture_output=True, check=False)
    if probe.returncode != 0:
        prefix += ["--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search"]
    return prefix
