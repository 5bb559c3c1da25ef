"""Editing decrypted secrets in the user's editor: a file in a private temporary folder (mode
0700, in memory under /dev/shm where there is one), removed as soon as the editor exits."""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from pathlib import Path

from riso.errors import RisoError

MEMORY = Path("/dev/shm")


def editor_command() -> list[str]:
    """`$VISUAL`, else `$EDITOR`, else vi, split as a shell would."""
    return shlex.split(os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi")


def in_editor(text: str, name: str = "secrets.env") -> str:
    """What the editor left in a file that held `text`."""
    command = editor_command()
    where = str(MEMORY) if MEMORY.is_dir() and os.access(MEMORY, os.W_OK | os.X_OK) else None
    with tempfile.TemporaryDirectory(prefix="riso-secrets-", dir=where) as folder:
        path = Path(folder) / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        try:
            done = subprocess.run([*command, str(path)], check=False)
        except OSError as error:
            raise RisoError(
                f"cannot run the editor {command[0]!r}: {error.strerror}", "set EDITOR to an editor on PATH"
            ) from None
        if done.returncode != 0:
            raise RisoError(f"the editor exited with status {done.returncode}; nothing was changed")
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise RisoError("the editor removed the file; nothing was changed") from None
        except UnicodeDecodeError:
            raise RisoError("the edited file is not UTF-8 text; nothing was changed") from None
