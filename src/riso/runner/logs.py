"""Reading services' logs: the last lines for error messages, and `riso logs [-f]`."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

LOG_TAIL_LINES = 10


def tail(path: Path, offset: int = 0, lines: int = LOG_TAIL_LINES) -> str:
    """The last `lines` non-empty lines written to `path` after `offset`."""
    try:
        with path.open("rb") as handle:
            handle.seek(offset)
            text = handle.read().decode(errors="replace")
    except FileNotFoundError:
        return "  (no log)"
    shown = [line for line in text.splitlines() if line.strip()][-lines:]
    return "\n".join(f"  | {line}" for line in shown) or "  (log is empty)"


def follow(files: list[tuple[str, Path]], keep_following: bool, poll: float = 0.2) -> Iterator[tuple[str, str]]:
    """(service, line) for every line of the logs; with keep_following, new lines as they come.

    A log that is truncated or replaced (rotated, recreated) is read again from its start.
    """
    offsets: dict[Path, tuple[int, int]] = {}  # path -> (inode, offset)
    while True:
        for name, path in files:
            try:
                with path.open("rb") as handle:
                    inode = os.fstat(handle.fileno()).st_ino
                    size = os.fstat(handle.fileno()).st_size
                    seen, offset = offsets.get(path, (inode, 0))
                    if seen != inode or size < offset:
                        offset = 0
                    handle.seek(offset)
                    chunk = handle.read()
            except FileNotFoundError:
                continue
            complete = chunk[: chunk.rfind(b"\n") + 1] if keep_following else chunk
            offsets[path] = (inode, offset + len(complete))
            for line in complete.decode(errors="replace").splitlines():
                yield name, line
        if not keep_following:
            return
        time.sleep(poll)
