"""age itself: pyrage when it is installed (pip and uv bring it with riso), else the `age` and
`age-keygen` binaries (riso's Nix package: nixpkgs has no pyrage, and the secrets feature puts `age`
in the dev shell). Both read and write the same files and keys."""

from __future__ import annotations

import importlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from riso.errors import RisoError

MEMORY = Path("/dev/shm")
RECIPIENT = re.compile(r"age1[ac-hj-np-z02-9]{58}")
TIMEOUT = 60.0


class BadKey(Exception):
    """Not an age secret key (the message never holds it)."""


class Undecryptable(Exception):
    """None of the identities can open the file."""


class Age(Protocol):
    def recipient_of(self, identity: str) -> str: ...
    def generate(self) -> str: ...
    def valid_recipient(self, recipient: str) -> bool: ...
    def encrypt(self, data: bytes, recipients: Sequence[str]) -> bytes: ...
    def decrypt(self, data: bytes, identities: Sequence[str]) -> bytes: ...


class Pyrage:
    def __init__(self) -> None:
        self.lib = importlib.import_module("pyrage")

    def recipient_of(self, identity: str) -> str:
        try:
            return str(self.lib.x25519.Identity.from_str(identity).to_public())
        except self.lib.IdentityError:
            raise BadKey from None

    def generate(self) -> str:
        return str(self.lib.x25519.Identity.generate())

    def valid_recipient(self, recipient: str) -> bool:
        try:
            self.lib.x25519.Recipient.from_str(recipient)
        except self.lib.RecipientError:
            return False
        return True

    def encrypt(self, data: bytes, recipients: Sequence[str]) -> bytes:
        parsed = [self.lib.x25519.Recipient.from_str(r) for r in recipients]
        return bytes(self.lib.encrypt(data, parsed))

    def decrypt(self, data: bytes, identities: Sequence[str]) -> bytes:
        parsed = [self.lib.x25519.Identity.from_str(i) for i in identities]
        try:
            return bytes(self.lib.decrypt(data, parsed))
        except self.lib.DecryptError:
            raise Undecryptable from None


class Binary:
    def __init__(self, age: str, keygen: str) -> None:
        self.age = age
        self.keygen = keygen

    def _run(self, argv: Sequence[str], data: bytes) -> subprocess.CompletedProcess[bytes]:
        try:
            return subprocess.run(list(argv), input=data, capture_output=True, timeout=TIMEOUT, check=False)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise RisoError(f"cannot run {argv[0]}: {error}") from None

    def recipient_of(self, identity: str) -> str:
        done = self._run([self.keygen, "-y"], identity.encode() + b"\n")
        if done.returncode != 0:
            raise BadKey
        return done.stdout.decode().strip()

    def generate(self) -> str:
        done = self._run([self.keygen], b"")
        lines = [line for line in done.stdout.decode().splitlines() if line.startswith("AGE-SECRET-KEY-")]
        if done.returncode != 0 or len(lines) != 1:
            raise RisoError(f"{self.keygen} made no key")
        return lines[0]

    def valid_recipient(self, recipient: str) -> bool:
        return RECIPIENT.fullmatch(recipient) is not None

    def encrypt(self, data: bytes, recipients: Sequence[str]) -> bytes:
        done = self._run([self.age, "--encrypt", *(f"--recipient={r}" for r in recipients)], data)
        if done.returncode != 0:
            raise RisoError(f"age could not encrypt: {done.stderr.decode().strip().splitlines()[-1:]}")
        return done.stdout

    def decrypt(self, data: bytes, identities: Sequence[str]) -> bytes:
        where = str(MEMORY) if MEMORY.is_dir() and os.access(MEMORY, os.W_OK | os.X_OK) else None
        with tempfile.TemporaryDirectory(prefix="riso-age-", dir=where) as folder:
            key_file = Path(folder) / "identities.txt"
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write("".join(f"{identity}\n" for identity in identities))
            done = self._run([self.age, "--decrypt", f"--identity={key_file}"], data)
        if done.returncode != 0:
            raise Undecryptable
        return done.stdout


def backend() -> Age:
    """pyrage, else the binaries on PATH, else one error naming both."""
    try:
        return Pyrage()
    except ImportError:
        pass
    age, keygen = shutil.which("age"), shutil.which("age-keygen")
    if age and keygen:
        return Binary(age, keygen)
    raise RisoError(
        "`riso secrets` needs the Python package pyrage or the age and age-keygen commands; neither is here",
        "install riso with pip or uv (they bring pyrage), or install age (apt-get install age, nix shell nixpkgs#age)",
    )
