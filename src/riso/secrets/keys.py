"""The age key (identity) riso decrypts with, where it comes from, and making a new one."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from riso.errors import RisoError
from riso.secrets.age import BadKey, backend

KEY_ENV = "AGE_KEY"
KEY_FILE_ENV = "AGE_KEY_FILE"
SECRET_PREFIX = "AGE-SECRET-KEY-"
RECIPIENT_PREFIX = "age1"


def default_key_path() -> Path:
    """SOPS's default age key file: `$XDG_CONFIG_HOME/sops/age/keys.txt` (`~/.config/...`)."""
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "sops" / "age" / "keys.txt"


def key_path() -> Path:
    """Where `riso secrets init` writes a key: `AGE_KEY_FILE`, else SOPS's default."""
    named = os.environ.get(KEY_FILE_ENV)
    return Path(named).expanduser() if named else default_key_path()


@dataclass(frozen=True)
class Key:
    """The identities found and a description of where (never their text)."""

    identities: tuple[str, ...] = field(repr=False)  # AGE-SECRET-KEY-1... lines, never shown
    recipients: tuple[str, ...]  # their public keys, in the same order
    source: str


def parse_key(text: str, source: str) -> Key:
    """The `AGE-SECRET-KEY-1...` lines of `text` (age-keygen's format: comments and blanks allowed)."""
    age = backend()
    found: list[str] = []
    public: list[str] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            public.append(age.recipient_of(line))
        except BadKey:
            raise RisoError(
                f"{source}: line {number} is not an age secret key",
                "it should hold lines like AGE-SECRET-KEY-1... as age-keygen writes them",
            ) from None
        found.append(line)
    if not found:
        raise RisoError(f"{source} holds no age secret key", "it should hold a line AGE-SECRET-KEY-1...")
    return Key(tuple(found), tuple(public), source)


def find_key() -> Key:
    """The identity from `AGE_KEY`, else `AGE_KEY_FILE`, else SOPS's default key file."""
    text = os.environ.get(KEY_ENV)
    if text:
        return parse_key(text, KEY_ENV)
    path = key_path()
    source = f"{path} (from {KEY_FILE_ENV})" if os.environ.get(KEY_FILE_ENV) else str(path)
    try:
        content = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RisoError(
            f"no age key: {KEY_ENV} is not set and {source} does not exist",
            f"run `riso secrets init`, or set {KEY_ENV} to the key text or {KEY_FILE_ENV} to its file",
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise RisoError(f"cannot read the age key {source}: {error.__class__.__name__}") from None
    return parse_key(content, source)


@dataclass(frozen=True)
class NewKey:
    path: Path
    recipient: str
    created: bool


def create_key(path: Path | None = None) -> NewKey:
    """A new key at `path` (default `key_path()`), mode 0600 from the start, never replacing a file
    already there: an existing key is read and its recipient returned instead."""
    path = path or key_path()
    if path.exists():
        key = parse_key(path.read_text(encoding="utf-8"), str(path))
        return NewKey(path, key.recipients[0], created=False)
    age = backend()
    identity = age.generate()
    recipient = age.recipient_of(identity)
    stamp = datetime.now(UTC).replace(microsecond=0).isoformat()
    body = f"# created: {stamp}\n# public key: {recipient}\n{identity}\n"
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # made meanwhile by another process: that one is the key
        return create_key(path)
    except OSError as error:
        raise RisoError(f"cannot create the age key {path}: {error.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(body)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as error:
        path.unlink(missing_ok=True)
        raise RisoError(f"cannot write the age key {path}: {error.strerror}") from None
    return NewKey(path, recipient, created=True)
