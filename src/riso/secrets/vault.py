"""The encrypted files of one project: `secrets/<environment>.env.age` and `secrets/recipients.txt`.

Every change is made under a lock on the `secrets/` folder (two `riso secrets set` at once both
land) and written to a temporary file then renamed over the old one, so a file is always either
the old or the new one, never partly written (a full disk leaves the old one).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from riso.errors import RisoError
from riso.secrets import envfile
from riso.secrets.age import Undecryptable, backend
from riso.secrets.keys import RECIPIENT_PREFIX, Key

ENVIRONMENTS = ("local", "test", "staging", "production")
FOLDER = "secrets"
RECIPIENTS = "recipients.txt"
SUFFIX = ".env.age"


def check_environment(name: str) -> str:
    if name not in ENVIRONMENTS:
        raise RisoError(f"unknown environment {name!r}", "use one of: " + ", ".join(ENVIRONMENTS))
    return name


@dataclass(frozen=True)
class Vault:
    """The `secrets/` folder of the project at `root`."""

    root: Path

    @property
    def folder(self) -> Path:
        return self.root / FOLDER

    def path(self, environment: str) -> Path:
        return self.folder / f"{check_environment(environment)}{SUFFIX}"

    def relative(self, path: Path) -> str:
        return str(path.relative_to(self.root))

    def existing(self) -> list[str]:
        """The environments that have an encrypted file."""
        return [env for env in ENVIRONMENTS if (self.folder / f"{env}{SUFFIX}").is_file()]

    # Recipients

    def recipients(self) -> list[str]:
        """The public keys in `secrets/recipients.txt` (comments and blank lines skipped)."""
        age = backend()
        path = self.folder / RECIPIENTS
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        found: list[str] = []
        for number, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if not age.valid_recipient(line):
                raise RisoError(
                    f"{self.relative(path)}: line {number} is not an age public key",
                    f"each line is one key starting with {RECIPIENT_PREFIX} (as `age-keygen -y` prints it)",
                )
            found.append(line)
        return found

    def add_recipient(self, recipient: str) -> bool:
        """Add `recipient` to `secrets/recipients.txt`; False when it is there already."""
        path = self.folder / RECIPIENTS
        with self.locked():
            if recipient in self.recipients():
                return False
            text = path.read_text(encoding="utf-8") if path.exists() else ""
            if text and not text.endswith("\n"):
                text += "\n"
            self._write(path, (text + recipient + "\n").encode())
            return True

    # Reading and writing

    def plaintext(self, environment: str, key: Key) -> str:
        """The decrypted dotenv body of `environment` ("" when it has no file yet)."""
        age = backend()
        path = self.path(environment)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return ""
        try:
            plain = age.decrypt(data, key.identities)
        except Undecryptable:
            raise RisoError(
                f"cannot decrypt {self.relative(path)} with the key from {key.source}",
                "it was not encrypted to that key: someone who can decrypt it adds your public key to "
                f"{FOLDER}/{RECIPIENTS} and runs `riso secrets rekey`",
            ) from None
        try:
            return bytes(plain).decode("utf-8")
        except UnicodeDecodeError:
            raise RisoError(f"{self.relative(path)} does not hold UTF-8 text once decrypted") from None

    def values(self, environment: str, key: Key) -> dict[str, str]:
        path = self.path(environment)
        return envfile.parse(self.plaintext(environment, key), self.relative(path))

    def store(self, environment: str, text: str, key: Key) -> None:
        """Encrypt `text` to every recipient and replace the environment's file with it."""
        age = backend()
        envfile.parse(text, self.relative(self.path(environment)))
        recipients = self.recipients()
        if not recipients:
            raise RisoError(f"{FOLDER}/{RECIPIENTS} lists no public key", "run `riso secrets init`")
        mine = set(key.recipients)
        if not mine.intersection(recipients):
            raise RisoError(
                f"the key from {key.source} is not in {FOLDER}/{RECIPIENTS}: you could not read what you write",
                "run `riso secrets init` to add it",
            )
        self._write(self.path(environment), age.encrypt(text.encode("utf-8"), recipients))

    def change(self, environment: str, key: Key, edit: Callable[[str], str]) -> bool:
        """Under the lock: decrypt, `edit` the text, and re-encrypt when it changed. True if it did."""
        with self.locked():
            before = self.plaintext(environment, key) or envfile.empty()
            after = edit(before)
            if after == before:
                return False
            self.store(environment, after, key)
            return True

    def set(self, environment: str, name: str, value: str, key: Key) -> bool:
        envfile.check_name(name)
        return self.change(environment, key, lambda text: envfile.with_value(text, name, value))

    def remove(self, environment: str, name: str, key: Key) -> bool:
        envfile.check_name(name)
        if not self.path(environment).exists():
            return False
        return self.change(environment, key, lambda text: envfile.with_value(text, name, None))

    def rekey(self, key: Key) -> list[str]:
        """Re-encrypt every environment's file to the recipients listed now; the environments done."""
        with self.locked():
            done = []
            for environment in self.existing():
                self.store(environment, self.plaintext(environment, key), key)
                done.append(environment)
            return done

    # Files

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """An exclusive lock on the `secrets/` folder, held by one riso at a time."""
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.folder, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _write(self, path: Path, data: bytes) -> None:
        """Write `data` to a temporary file beside `path`, then rename it over `path`."""
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temp, 0o644)
            os.replace(temp, path)
        except OSError as error:
            Path(temp).unlink(missing_ok=True)
            raise RisoError(f"cannot write {self.relative(path)}: {error.strerror}; it was left as it was") from None
