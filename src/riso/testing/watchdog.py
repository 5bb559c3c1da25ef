"""`python -m riso.testing.watchdog PID ROOT`: when process PID is gone, stop ROOT's services.

The plugin stops its ephemeral services at session end; this covers a pytest killed with SIGKILL,
whose daemonised servers would otherwise outlive it. It exits as soon as ROOT is gone (normal cleanup).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

POLL = 0.5


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def main(argv: list[str]) -> int:
    pid, root = int(argv[0]), Path(argv[1])
    while alive(pid) and root.exists():
        time.sleep(POLL)
    if root.exists():
        from riso.testing.local import stop_root

        stop_root(root)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
